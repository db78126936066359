"""decode_text: whole-column cp932 decoding, exact reasons for bad cells, strip modes, gaiji;
and on arbitrary bytes in every supported encoding, one value or reason per row (fuzz)."""

from __future__ import annotations

import codecs

import numpy as np
import polars as pl
import pytest
from fuzz.budget import fuzz_settings
from fuzz.cells import cell_arrays, check_one_per_row
from hypothesis import given, settings
from hypothesis import strategies as st

import migrate.decode.text as text_module
from migrate.decode import decode_text
from migrate.decode.result import REASON_CODES

CP932_LEAD = set(range(0x81, 0xA0)) | set(range(0xE0, 0xFD))
STRIP_CHARS = {"both": " \u3000", "full": "\u3000", "half": " ", "none": ""}


def cells(rows: list[bytes]) -> np.ndarray:
    width = len(rows[0]) if rows else 0
    assert all(len(r) == width for r in rows)
    return np.frombuffer(b"".join(rows), np.uint8).reshape(len(rows), width)


def reference(
    cell: bytes, gaiji: dict[str, str] | None, strip: str
) -> tuple[str | None, str | None]:
    """Per-value reference: bytes.decode, then a character-by-character check."""
    try:
        text = cell.decode("cp932")
    except UnicodeDecodeError:
        try:
            cell[:-1].decode("cp932")
            rest_ok = True
        except UnicodeDecodeError:
            rest_ok = False
        if cell and cell[-1] in CP932_LEAD and rest_ok:
            return None, "split_character"
        return None, "undecodable_bytes"
    chars = STRIP_CHARS[strip]
    while text and text[-1] in chars:
        text = text[:-1]
    out = []
    unmapped = False
    for ch in text:
        cp = ord(ch)
        if cp < 0x20 or 0x7F <= cp <= 0x9F or 0xE758 <= cp <= 0xF8FF or cp >= 0xF0000:
            return None, "invalid_character"
        if 0xE000 <= cp <= 0xE757:
            if gaiji and ch in gaiji:
                out.append(gaiji[ch])
            else:
                unmapped = True
            continue
        out.append(ch)
    if unmapped:
        return None, "gaiji_unmapped"
    return ("".join(out) or None), None


def check_against_reference(rows: list[bytes], gaiji=None, strip="both") -> None:
    result = decode_text(cells(rows), gaiji=gaiji, strip=strip)
    expected = [reference(r, gaiji, strip) for r in rows]
    assert result.values.dtype == pl.Utf8
    assert result.errors.dtype == pl.Utf8
    assert result.values.to_list() == [v for v, _ in expected]
    assert result.errors.to_list() == [e for _, e in expected]
    assert result.warnings.null_count() == len(rows)


# ---------------------------------------------------------------- behaviour, case by case


def test_vendor_characters_decode_as_cp932_gives_them() -> None:
    raw = bytes.fromhex("fbfc fab1 8740 878d ed40 fa40 8160")
    result = decode_text(cells([raw]))
    assert result.values.to_list() == ["髙﨑①㍾纊ⅰ～"]
    assert result.errors.to_list() == [None]


def test_half_width_kana_stays_half_width() -> None:
    result = decode_text(cells(["ｶﾞｷﾞ ".encode("cp932")]))
    assert result.values.to_list() == ["ｶﾞｷﾞ"]


@pytest.mark.parametrize(
    ("strip", "expected"),
    [
        ("both", " 山\u3000田"),
        ("full", " 山\u3000田\u3000 "),
        ("half", " 山\u3000田\u3000 \u3000"),
        ("none", " 山\u3000田\u3000 \u3000"),
    ],
)
def test_strip_modes_only_touch_trailing_padding(strip: str, expected: str) -> None:
    raw = " 山　田　 　".encode("cp932")  # leading space kept in every mode
    result = decode_text(cells([raw]), strip=strip)
    assert result.values.to_list() == [expected]
    ends_in_space = {
        "both": " 山\u3000田",
        "full": " 山\u3000田\u3000 \u3000 ",
        "half": " 山\u3000田\u3000 \u3000",
        "none": " 山\u3000田\u3000 \u3000 ",
    }
    assert decode_text(cells([raw + b" "]), strip=strip).values.to_list() == [ends_in_space[strip]]


def test_padding_only_is_null_and_none_keeps_it() -> None:
    rows = [b"\x81\x40\x81\x40", b"    ", b" \x81\x40 "]
    assert decode_text(cells(rows)).values.to_list() == [None, None, None]
    assert decode_text(cells(rows)).errors.to_list() == [None, None, None]
    assert decode_text(cells(rows), strip="none").values.to_list() == [
        "\u3000\u3000",
        "    ",
        " \u3000 ",
    ]
    assert decode_text(cells(rows), strip="half").values.to_list() == [
        "\u3000\u3000",
        None,
        " \u3000",
    ]


def test_split_character_at_field_end() -> None:
    rows = ["あい".encode("cp932") + b"\x82", b"abcd\x82", "ｱｲｳ".encode("cp932") + b"\xfc\x40"]
    result = decode_text(cells(rows))
    assert result.errors.to_list() == ["split_character", "split_character", None]
    assert result.values.to_list() == [None, None, "ｱｲｳ\u9adc"]  # FC40 is a whole character


def test_undecodable_bytes_and_lead_byte_before_padding() -> None:
    rows = [b"\x81\x7f  ", b"\x85\x40  ", b"a\x82  ", b"ab  "]
    result = decode_text(cells(rows))
    assert result.errors.to_list() == ["undecodable_bytes"] * 3 + [None]
    assert result.values.to_list() == [None, None, None, "ab"]


@pytest.mark.parametrize("byte", [0x80, 0xA0, 0xFD, 0xFE, 0xFF, 0x00, 0x09, 0x0D, 0x1B, 0x7F])
def test_codec_traps_and_controls_are_invalid_characters(byte: int) -> None:
    result = decode_text(cells([b"AB" + bytes([byte]) + b" ", b"ABC "]))
    assert result.errors.to_list() == ["invalid_character", None]
    assert result.values.to_list() == [None, "ABC"]


def test_cell_holding_the_separator_byte() -> None:
    rows = [b"AB\nC", b"ABCD", b"\x82\n  ", b"\n   ", b"xyz "]
    result = decode_text(cells(rows))
    assert result.errors.to_list() == [
        "invalid_character",
        None,
        "undecodable_bytes",
        "invalid_character",
        None,
    ]
    assert result.values.to_list() == [None, "ABCD", None, None, "xyz"]


def test_gaiji_resolved_through_the_table() -> None:
    rows = [b"\xf0\x40\x82\xa0", b"\xf9\xfc  ", b"\xf0\x41  ", b"ab  "]
    gaiji = {"\ue000": "𠮷", "\ue757": "髙"}
    result = decode_text(cells(rows), gaiji=gaiji)
    assert result.values.to_list() == ["𠮷あ", "髙", None, "ab"]
    assert result.errors.to_list() == [None, None, "gaiji_unmapped", None]
    unmapped = decode_text(cells(rows))
    assert unmapped.errors.to_list() == ["gaiji_unmapped"] * 3 + [None]


def test_invalid_character_wins_over_unmapped_gaiji() -> None:
    result = decode_text(cells([b"\xf0\x40\xfd "]))
    assert result.errors.to_list() == ["invalid_character"]


def test_never_question_mark_or_replacement_character() -> None:
    rng = np.random.default_rng(7)
    raw = rng.integers(0, 256, size=(2000, 9), dtype=np.uint8)
    result = decode_text(raw)
    joined = "".join(v for v in result.values.to_list() if v is not None)
    assert "\ufffd" not in joined
    source_question_marks = int((raw == ord("?")).sum())
    assert joined.count("?") <= source_question_marks


def test_non_contiguous_slice_of_records() -> None:
    records = np.frombuffer(
        b"01" + "山田".encode("cp932") + b"  X" + b"02" + "ｶﾅ".encode("cp932") + b"    X",
        np.uint8,
    ).reshape(2, 9)
    field = records[:, 2:8]
    assert not field.flags.c_contiguous
    assert decode_text(field).values.to_list() == ["山田", "ｶﾅ"]


def test_empty_column_and_zero_width() -> None:
    empty = decode_text(np.zeros((0, 10), np.uint8))
    assert len(empty.values) == len(empty.errors) == len(empty.warnings) == 0
    zero = decode_text(np.zeros((3, 0), np.uint8))
    assert zero.values.to_list() == [None] * 3
    assert zero.errors.to_list() == [None] * 3


@pytest.mark.parametrize("compiled", [False, True])
def test_one_codec_call_for_a_clean_column(monkeypatch: pytest.MonkeyPatch,
                                           compiled: bool) -> None:
    """In Python the column is decoded with one codec call; the compiled decoder (where it is
    built: migrate.decode.textcodec) needs none."""
    if compiled and not text_module.textcodec.available():
        pytest.skip("the text decoder was not compiled here")
    monkeypatch.setattr(text_module.textcodec, "available",
                        lambda encoding="cp932": compiled)
    calls = []
    real = codecs.getdecoder

    def counting(name: str):
        decoder = real(name)

        def wrapped(data, errors="strict"):
            calls.append(len(data))
            return decoder(data, errors)

        return wrapped

    monkeypatch.setattr(text_module.codecs, "getdecoder", counting)
    rows = ["山田　太郎".encode("cp932").ljust(12)] * 5000
    result = decode_text(cells(rows))
    assert result.values.unique().to_list() == ["山田\u3000太郎"]
    assert len(calls) == (0 if compiled else 1)


def test_many_bad_cells_stay_aligned(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(text_module, "_WINDOW_ROWS", 3)
    rng = np.random.default_rng(1)
    good = ["ﾀﾅｶ".encode("cp932").ljust(6), "東京".encode("cp932").ljust(6), b"ABCDEF"]
    bad = [b"\x81\x7f    ", b"ABCDE\x82", b"\x85\x40AB  "]
    rows = [(good if rng.random() < 0.6 else bad)[rng.integers(0, 3)] for _ in range(500)]
    check_against_reference(rows)


def test_other_encodings() -> None:
    assert decode_text(cells([b"\x81\x60"]), encoding="shift_jis").values.to_list() == ["\u301c"]
    assert decode_text(cells([b"\x81\x60"]), encoding="cp932").values.to_list() == ["\uff5e"]
    euc = "山田".encode("euc_jp") + b"\xa1\xa1"
    assert decode_text(cells([euc]), encoding="euc_jp").values.to_list() == ["山田"]
    assert decode_text(cells([b"\xa4"]), encoding="euc_jp").errors.to_list() == ["split_character"]
    utf8 = decode_text(cells(["é".encode() + b" "]), encoding="utf-8")
    assert utf8.values.to_list() == ["é"]


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match="unsupported text encoding"):
        decode_text(cells([b"ab"]), encoding="utf-16")
    with pytest.raises(ValueError, match="strip"):
        decode_text(cells([b"ab"]), strip="left")
    with pytest.raises(TypeError):
        decode_text(np.zeros((2, 2), np.int32))
    with pytest.raises(ValueError):
        decode_text(np.zeros(4, np.uint8))


def test_reason_codes_are_from_the_catalogue() -> None:
    raw = np.random.default_rng(3).integers(0, 256, size=(3000, 5), dtype=np.uint8)
    codes = set(decode_text(raw).errors.drop_nulls().unique().to_list())
    assert codes <= set(REASON_CODES)
    assert codes == {"undecodable_bytes", "split_character", "gaiji_unmapped", "invalid_character"}


# ---------------------------------------------------------------- properties

TOKENS = [
    b"A",
    b"z",
    b"0",
    b" ",
    b" ",
    b"\x81\x40",
    b"\x81\x40",
    "山".encode("cp932"),
    "あ".encode("cp932"),
    b"\xb6",  # ｶ
    b"\xde",  # ﾞ
    b"\xfb\xfc",
    b"\x87\x40",
    b"\xfa\x40",
    b"\x5c",
    b"\xf0\x40",
    b"\xf1\x55",
    b"\xf9\xfc",
    b"\x80",
    b"\xa0",
    b"\xfd",
    b"\x00",
    b"\x0a",
    b"\x7f",
    b"\x81\x7f",
    b"\x85\x40",
    b"\x82",
    b"\x83\x40",  # ァ: trail byte 0x40 must not be taken for padding
    b"\x82\x81",
]


@st.composite
def columns(draw: st.DrawFn) -> list[bytes]:
    width = draw(st.integers(0, 10))
    n = draw(st.integers(1, 25))
    rows = []
    for _ in range(n):
        if draw(st.booleans()):
            raw = b"".join(draw(st.lists(st.sampled_from(TOKENS), max_size=8)))
        else:
            raw = draw(st.binary(max_size=width))
        pad = draw(st.sampled_from([b" ", b"\x81\x40"]))
        rows.append((raw + pad * width)[:width])
    return rows


GAIJI_TABLES = st.sampled_from(
    [None, {}, {"\ue000": "𠮷"}, {"\ue000": "𠮷", "\ue155": "", "\ue757": "X"}]
)


@settings(max_examples=300, deadline=None)
@given(columns(), GAIJI_TABLES, st.sampled_from(sorted(STRIP_CHARS)))
def test_vectorized_equals_per_cell_reference(rows, gaiji, strip) -> None:
    check_against_reference(rows, gaiji=gaiji, strip=strip)


@settings(max_examples=100, deadline=None)
@given(columns())
def test_small_windows_equal_reference(rows) -> None:
    original = text_module._WINDOW_ROWS
    text_module._WINDOW_ROWS = 1
    try:
        check_against_reference(rows)
    finally:
        text_module._WINDOW_ROWS = original


def test_copy_rows_copies_a_strided_field_exactly():
    """The row-as-one-item copy (used for every field's cells) equals numpy's plain copy,
    into an array of its own or into the first columns of a wider one."""
    from migrate.decode.result import copy_rows

    records = np.random.default_rng(7).integers(0, 256, (1000, 57), dtype=np.uint8)
    cells = records[:, 11:29]
    assert np.array_equal(copy_rows(cells), cells)
    wider = np.full((1000, 19), 0x0A, np.uint8)
    copy_rows(cells, wider)
    assert np.array_equal(wider[:, :18], cells) and (wider[:, 18] == 0x0A).all()
    assert copy_rows(records[:, 5:5]).shape == (1000, 0)
    reversed_bytes = records[:, 29:11:-1]  # not contiguous within a row: numpy copies it
    assert np.array_equal(copy_rows(reversed_bytes), reversed_bytes)


# ---------------------------------------------------------------- fuzz: arbitrary bytes

ENCODINGS = ["cp932", "shift_jis", "shift_jis_2004", "shift_jisx0213", "euc_jp", "euc_jis_2004",
             "euc_jisx0213", "utf-8", "ascii"]


@fuzz_settings()
@given(cell_arrays(max_rows=30), st.sampled_from(ENCODINGS), GAIJI_TABLES,
       st.sampled_from(sorted(STRIP_CHARS)))
def test_fuzz_any_bytes_in_any_encoding(array: np.ndarray, encoding: str, gaiji, strip) -> None:
    """Any bytes, any supported encoding: one value or reason per row; a value is exactly the
    cell decoded on its own (nothing replaced), the same for a strided view."""
    result = decode_text(array, encoding=encoding, gaiji=gaiji, strip=strip)
    got = check_one_per_row(result, len(array))
    for row, (value, error) in zip(array, got, strict=True):
        if value is not None:
            assert error is None
            text = bytes(row).decode(encoding)
            assert value == (text.rstrip(STRIP_CHARS[strip]) if not gaiji else value)
    again = decode_text(np.ascontiguousarray(array), encoding=encoding, gaiji=gaiji, strip=strip)
    assert check_one_per_row(again, len(array)) == got


@fuzz_settings()
@given(cell_arrays(max_rows=30), GAIJI_TABLES, st.sampled_from(sorted(STRIP_CHARS)))
def test_fuzz_cp932_any_bytes_equal_reference(array: np.ndarray, gaiji, strip) -> None:
    check_against_reference([bytes(row) for row in array], gaiji=gaiji, strip=strip)


def test_euc_jp_user_defined_area_goes_through_the_gaiji_table() -> None:
    import numpy as np

    from migrate.decode.text import decode_text

    cells = np.frombuffer(b"\xf5\xa1\xc5\xc4" + b"\xfe\xfe  " + b"\xf5\xa2  " + b"\xa4\xa2 \xf5",
                          np.uint8).reshape(4, 4)
    table = {"\ue000": "𠮷", chr(0xE000 + 9 * 94 + 93): "髙"}
    result = decode_text(cells, encoding="euc_jp", gaiji=table)
    assert result.values.to_list() == ["𠮷田", "髙", None, None]
    assert result.errors.to_list() == [None, None, "gaiji_unmapped", "split_character"]
    without = decode_text(cells, encoding="euc_jp")
    assert without.errors.to_list()[:3] == ["undecodable_bytes"] * 3
