"""`source.strict_chars`: decoded text must keep to a declared character repertoire.

- `jis_x0208`: ASCII and JIS X 0208 (what ISO-2022-JP can encode): no half-width katakana, no
  JIS X 0213 additions, no variation selectors.
- `jis_x0213`: ASCII, half-width katakana and JIS X 0213:2004 planes 1 and 2 (what
  EUC-JIS-2004 can encode), which include all of JIS X 0208.
- `mj`: JIS X 0213 and, beyond it, the characters and IVS sequences (base character + variation
  selector) of the mapping's 外字 table: the MJ 文字 (文字情報基盤) it identifies. The full MJ
  list (58,862 characters) is not bundled; characters of it outside JIS X 0213 are accepted
  only through the 外字 table, never guessed.

Python's own codecs decide membership (no hand-written tables); each distinct value is looked
at once.
"""

from __future__ import annotations

import re
from functools import lru_cache

import numpy as np
import polars as pl

from migrate.layouts.characters import SELECTORS

_CODEC = {"jis_x0208": "iso2022_jp", "jis_x0213": "euc_jis_2004", "mj": "euc_jis_2004"}
_SEQUENCE = re.compile(f"[^{SELECTORS}][{SELECTORS}]?|.", re.S)


@lru_cache(maxsize=65536)
def _encodable(char: str, codec: str) -> bool:
    try:
        char.encode(codec)
    except UnicodeEncodeError:
        return False
    return True


def first_outside(text: str, repertoire: str, extra: frozenset[str] = frozenset()) -> str | None:
    """The first character (or character + variation selector) of `text` outside the
    repertoire, or None."""
    codec = _CODEC[repertoire]
    for match in _SEQUENCE.finditer(text):
        sequence = match.group()
        if repertoire == "mj" and sequence in extra:
            continue
        if len(sequence) > 1 or not _encodable(sequence, codec):
            return sequence
    return None


def outside(values: pl.Series, repertoire: str, extra: frozenset[str] = frozenset()
            ) -> tuple[np.ndarray, list[str]]:
    """Rows of a text column holding a character outside the repertoire, and that character
    written as code points (U+845B U+E0100) for the detail of the reject."""
    distinct = values.drop_nulls().unique().to_list()
    found = {v: first_outside(v, repertoire, extra) for v in distinct}
    bad_values = [v for v, char in found.items() if char is not None]
    if not bad_values:
        return np.empty(0, np.int64), []
    rows = np.flatnonzero(values.is_in(bad_values).fill_null(False).to_numpy())
    chars = [" ".join(f"U+{ord(c):04X}" for c in found[v]) for v in values.gather(rows).to_list()]
    return rows, chars
