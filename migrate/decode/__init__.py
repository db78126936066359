"""Decode: one column of cells in, one typed column out. May import only `layouts` (era table,
encodings), `errors` and `i18n`; never `validate`, `sinks`, `run` or `cli`.

Field decoders: one fixed-width column of bytes in, one typed polars column out.

Each decoder takes a uint8 (n, width) array (one field sliced out of n records) and returns a
FieldResult (values, errors, warnings), vectorized over the whole column.
"""

from migrate.decode.dates import decode_md, decode_wareki, decode_ym, decode_ymd
from migrate.decode.kana import KANA_TABLE, to_fullwidth_kana
from migrate.decode.numbers import (
    decode_binary,
    decode_decimal,
    decode_digits,
    decode_packed,
    decode_zoned,
)
from migrate.decode.result import REASON_CODES, FieldResult
from migrate.decode.text import decode_text
from migrate.layouts.eras import DEFAULT_ERAS, Era, EraTable

__all__ = [
    "DEFAULT_ERAS",
    "KANA_TABLE",
    "REASON_CODES",
    "Era",
    "EraTable",
    "FieldResult",
    "decode_binary",
    "decode_decimal",
    "decode_digits",
    "decode_md",
    "decode_packed",
    "decode_text",
    "decode_wareki",
    "decode_ym",
    "decode_ymd",
    "decode_zoned",
    "to_fullwidth_kana",
]
