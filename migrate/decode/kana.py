"""Half-width katakana → full-width, as a column operation with a table derived from jaconv.

NFKC is not a kana converter (it also turns ① into 1 and ２０１ into 201), so a targeted
table is used.  polars' replace_many does not prefer the longest match by default (ｶﾞｶ would
become カ゛カ), so it runs with leftmost=True and the two-character voiced pairs listed
before the single characters.
"""

from __future__ import annotations

import jaconv
import polars as pl

_HALFWIDTH = "".join(chr(c) for c in range(0xFF61, 0xFFA0))  # ｡ … ﾟ
_MARKS = "\uff9e\uff9f"  # ﾞ ﾟ
# jaconv 0.5 leaves a lone ﾞ/ﾟ half-width; the standard's kana fields want ゛/゜.
_LONE_MARKS = {"\uff9e": "\u309b", "\uff9f": "\u309c"}


def _h2z(text: str) -> str:
    return jaconv.h2z(text, kana=True, ascii=False, digit=False)


def _build_table() -> dict[str, str]:
    pairs: dict[str, str] = {}
    for base in _HALFWIDTH:
        for mark in _MARKS:
            full = _h2z(base + mark)
            if len(full) == 1:  # the mark merged with its base (ｶﾞ→ガ, ﾊﾟ→パ, ｳﾞ→ヴ)
                pairs[base + mark] = full
    singles: dict[str, str] = {}
    for char in _HALFWIDTH:
        full = _h2z(char)
        if full != char:
            singles[char] = full
    for mark, full in _LONE_MARKS.items():
        singles.setdefault(mark, full)
    return {**pairs, **singles}  # pairs first: the order replace_many sees them in


#: Half-width → full-width table: voiced/semi-voiced pairs first, then single characters.
KANA_TABLE: dict[str, str] = _build_table()


def to_fullwidth_kana(s: pl.Series) -> pl.Series:
    """Half-width katakana (and ｡｢｣､･ｰ, lone ﾞ/ﾟ) → full-width; everything else untouched."""
    return s.str.replace_many(KANA_TABLE, leftmost=True)
