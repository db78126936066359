"""to_fullwidth_kana: the jaconv-derived table applied as one polars column operation; any text
(fuzz) keeps its rows and its nulls and equals jaconv per value."""

from __future__ import annotations

import jaconv
import polars as pl
from fuzz.budget import fuzz_settings
from hypothesis import given, settings
from hypothesis import strategies as st

from migrate.decode import KANA_TABLE, to_fullwidth_kana

HALFWIDTH = "".join(chr(c) for c in range(0xFF61, 0xFFA0))


def reference(value: str) -> str:
    """jaconv per value; jaconv 0.5 leaves lone ﾞ/ﾟ half-width, the standard wants ゛/゜."""
    converted = jaconv.h2z(value, kana=True, ascii=False, digit=False)
    return converted.replace("\uff9e", "\u309b").replace("\uff9f", "\u309c")


def convert(values: list[str | None]) -> list[str | None]:
    return to_fullwidth_kana(pl.Series(values, dtype=pl.Utf8)).to_list()


def test_longest_match_trap() -> None:
    # Without leftmost=True and pairs first, polars gives カ゛カ here.
    assert convert(["ｶﾞｶ", "ｶｶﾞ", "ﾊﾞﾟ", "ｳﾞﾞ"]) == ["ガカ", "カガ", "バ゜", "ヴ゛"]


def test_punctuation_small_kana_and_marks() -> None:
    assert convert(["｡｢｣､･", "ｧｨｩｪｫｯｬｭｮ", "ｰ", "ﾞﾟ", "ﾜﾞ"]) == [
        "。「」、・",
        "ァィゥェォッャュョ",
        "ー",
        "゛゜",
        "ワ゛",  # jaconv does not merge ﾜﾞ into ヷ; neither do we
    ]


def test_non_kana_untouched_and_nulls_kept() -> None:
    values = ["ABC 123", "①２０１", "コーポ①２０１", "山田　太郎", "", None, "\\~"]
    assert convert(values) == values


# Written by hand, not derived from jaconv (which the table is built from): every half-width
# katakana character of U+FF61..U+FF9F, and the 26 two-character voiced spellings.
HAND_SINGLES = dict(zip(
    "｡｢｣､･ｦｧｨｩｪｫｬｭｮｯｰｱｲｳｴｵｶｷｸｹｺｻｼｽｾｿﾀﾁﾂﾃﾄﾅﾆﾇﾈﾉﾊﾋﾌﾍﾎﾏﾐﾑﾒﾓﾔﾕﾖﾗﾘﾙﾚﾛﾜﾝﾞﾟ",
    "。「」、・ヲァィゥェォャュョッーアイウエオカキクケコサシスセソタチツテトナニヌネノハヒフヘホ"
    "マミムメモヤユヨラリルレロワン゛゜", strict=True))
HAND_PAIRS = {
    "ｶﾞ": "ガ", "ｷﾞ": "ギ", "ｸﾞ": "グ", "ｹﾞ": "ゲ", "ｺﾞ": "ゴ",
    "ｻﾞ": "ザ", "ｼﾞ": "ジ", "ｽﾞ": "ズ", "ｾﾞ": "ゼ", "ｿﾞ": "ゾ",
    "ﾀﾞ": "ダ", "ﾁﾞ": "ヂ", "ﾂﾞ": "ヅ", "ﾃﾞ": "デ", "ﾄﾞ": "ド",
    "ﾊﾞ": "バ", "ﾋﾞ": "ビ", "ﾌﾞ": "ブ", "ﾍﾞ": "ベ", "ﾎﾞ": "ボ",
    "ﾊﾟ": "パ", "ﾋﾟ": "ピ", "ﾌﾟ": "プ", "ﾍﾟ": "ペ", "ﾎﾟ": "ポ",
    "ｳﾞ": "ヴ",
}


def test_table_equals_hand_written_pairs() -> None:
    assert len(HAND_SINGLES) == 63 and set(HAND_SINGLES) == set(HALFWIDTH)
    assert dict(KANA_TABLE) == {**HAND_PAIRS, **HAND_SINGLES}
    assert convert(["ﾀﾞ", "ｳﾞ", "ﾊﾟ", "ﾞ", "ﾟ", "ｰ", "｡｢｣､･"]) == \
        ["ダ", "ヴ", "パ", "゛", "゜", "ー", "。「」、・"]


def test_table_comes_from_jaconv_with_pairs_first() -> None:
    keys = list(KANA_TABLE)
    first_single = next(i for i, k in enumerate(keys) if len(k) == 1)
    assert all(len(k) == 2 for k in keys[:first_single])
    assert all(len(k) == 1 for k in keys[first_single:])
    assert len(keys[:first_single]) == 26  # 25 dakuten/handakuten pairs + ｳﾞ
    for half, full in KANA_TABLE.items():
        assert full == reference(half)
    assert set(keys[first_single:]) == set(HALFWIDTH)


def test_whole_column_at_once() -> None:
    s = pl.Series(["ﾀﾅｶ ﾀﾛｳ"] * 10_000)
    out = to_fullwidth_kana(s)
    assert out.dtype == pl.Utf8
    assert out.unique().to_list() == ["タナカ タロウ"]


ALPHABET = st.sampled_from(list(HALFWIDTH) + list("ABCabc 0１２①ー゛カ\u3000-"))


@settings(max_examples=500, deadline=None)
@given(st.lists(st.one_of(st.none(), st.text(ALPHABET, max_size=12)), max_size=30))
def test_equals_jaconv_per_value(values: list[str | None]) -> None:
    expected = [None if v is None else reference(v) for v in values]
    assert convert(values) == expected


@fuzz_settings()
@given(st.lists(st.one_of(st.none(), st.text(max_size=12),
                          st.text(ALPHABET, max_size=12)), max_size=30))
def test_fuzz_any_text_keeps_rows_and_equals_jaconv(values: list[str | None]) -> None:
    """Any characters at all (controls, private use, astral planes): one output per row."""
    got = convert(values)
    assert len(got) == len(values)
    assert got == [None if v is None else reference(v) for v in values]
