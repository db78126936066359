"""The compiled decoders (migrate.decode.native) give exactly what the Python decoders give:
text — same values and reasons for every strip mode and Shift_JIS-family encoding, on text,
padding, 外字, controls, split and undecodable bytes, through tables that are Python's codec;
dates — same values, errors and warnings for 和暦 and YYYYMMDD cells near every era boundary,
with 不詳 parts, impossible days, lunisolar years and broken bytes (property tests)."""

from __future__ import annotations

import os

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import migrate.decode.dates as dates_module
import migrate.decode.text as text_module
from migrate.decode import decode_text, decode_wareki, decode_ymd, native, textcodec
from migrate.layouts.eras import DEFAULT_ERAS, TWO_DIGIT_ERAS

pytestmark = pytest.mark.skipif(native.library() is None and not os.environ.get("CI"),
                                reason="the compiled decoders were not built here")

FRAGMENTS = [c.encode("cp932") for c in "山田太郎髙﨑纊ｱｲｳ　 abcＡＢＣ①ⅰ"] + [
    b"\xf0\x40", b"\xf9\xfc", b"\x85\x40", b"\x81", b"\x0a", b"\x00", b"\x7f", b"\x80",
    b"\xa0", b"\xfd", b"\xff", b" ", b"\x81\x40"]
GAIJI = {"\ue000": "髙", "\ue001": "𠮷"}


def test_ci_builds_it():
    """CI installs migrate as a user does: the compiled decoders must be there."""
    assert native.library() is not None
    assert textcodec.available("cp932") and textcodec.available("shift_jis")
    assert not textcodec.available("euc_jp")  # three-byte sequences: the Python path


@settings(max_examples=150, deadline=None)
@given(width=st.integers(0, 14), data=st.data(),
       strip=st.sampled_from(["both", "full", "half", "none"]),
       encoding=st.sampled_from(["cp932", "shift_jis", "shift_jis_2004"]),
       gaiji=st.sampled_from([None, GAIJI]))
def test_compiled_and_python_paths_agree(width, data, strip, encoding, gaiji):
    rows = data.draw(st.lists(st.one_of(
        st.lists(st.sampled_from(FRAGMENTS), max_size=8).map(b"".join),
        st.binary(max_size=width)), min_size=1, max_size=12))
    rows = [(row + b" " * width)[:width] for row in rows]
    cells = np.frombuffer(b"".join(rows), np.uint8).reshape(len(rows), width)
    fast_values, fast_reasons = text_module._compiled_values(cells, encoding, gaiji, strip)
    values, reasons = text_module._python_values(cells, encoding, gaiji, strip)
    assert fast_values.to_list() == values.to_list()
    assert fast_reasons.tolist() == reasons.tolist()


def test_the_tables_are_the_codecs_own():
    single, pair = textcodec.tables("cp932")
    for code, text in ((b"\x82\xa0", "あ"), (b"\xed\x40", "纊"), (b"\x81\x40", "\u3000"),
                       (b"\x88\x9f", "亜")):
        entry = pair[code[0] * 256 + code[1]]
        assert bytes(entry[1:1 + (entry[0] & 0x0F)]).decode() == text
        assert single[code[0], 0] == textcodec.LEAD_BYTE
    assert pair[0xF040, 0] & textcodec.SUSPECT  # user-defined area: the 外字 table decides
    assert pair[0x8540, 0] == 0  # unassigned: decoded (and explained) in Python
    assert single[0x0A, 0] & textcodec.SUSPECT and single[ord("A"), 0] == 1
    assert bytes(single[0xB1, 1:4]).decode() == "ｱ"


def test_decode_text_takes_the_compiled_path(monkeypatch):
    calls = []
    original = textcodec.decode_column

    def counting(*args):
        calls.append(args[0].shape)
        return original(*args)

    monkeypatch.setattr(textcodec, "decode_column", counting)
    cells = np.frombuffer("山田\u3000太郎  ".encode("cp932") + b"\x85\x40" + b" " * 10,
                          np.uint8).reshape(2, 12)
    result = decode_text(cells)
    assert calls == [(2, 12)]
    assert result.values.to_list() == ["山田\u3000太郎", None]
    assert result.errors.to_list() == [None, "undecodable_bytes"]


def test_without_the_library_the_python_path_runs(monkeypatch):
    monkeypatch.setattr(textcodec, "available", lambda encoding="cp932": False)
    monkeypatch.setattr(textcodec, "decode_column", None)  # would fail if called
    cells = np.frombuffer("ｱｲｳ ".encode("cp932"), np.uint8).reshape(1, 4)
    assert decode_text(cells).values.to_list() == ["ｱｲｳ"]


def _date_cells(draw, width: int, era_codes: list[bytes]) -> bytes:
    """A GYYMMDD / YYYYMMDD cell: mostly plausible dates near the edges, some broken."""
    kind = draw(st.integers(0, 9))
    if kind == 0:
        return draw(st.sampled_from([b"0" * width, b" " * width]))
    if kind == 1:
        return draw(st.binary(min_size=width, max_size=width))
    two = st.integers(0, 99).map(lambda v: f"{v:02d}".encode())
    month = st.one_of(st.integers(0, 13).map(lambda v: f"{v:02d}".encode()), two)
    day = st.one_of(st.sampled_from([b"00", b"01", b"28", b"29", b"30", b"31", b"32"]), two)
    if era_codes:
        head = draw(st.sampled_from([*era_codes, b"9" * len(era_codes[0])]))
        year = draw(st.one_of(st.sampled_from([b"00", b"01", b"02", b"05", b"06", b"15", b"45",
                                               b"63", b"64", b"99"]), two))
    else:
        head = b""
        year = draw(st.one_of(st.sampled_from([b"0000", b"1872", b"1900", b"2000", b"2024",
                                               b"9999"]),
                              st.integers(0, 9999).map(lambda v: f"{v:04d}".encode())))
    return head + year + draw(month) + draw(day)


@settings(max_examples=150, deadline=None)
@given(data=st.data(), eras=st.sampled_from([DEFAULT_ERAS, TWO_DIGIT_ERAS, None]),
       lenient=st.booleans(), unknown=st.sampled_from([("00",), ("00", "99"), ("99",), ()]))
def test_compiled_and_numpy_dates_agree(data, eras, lenient, unknown):
    codes = [e.code.encode() for e in eras.eras] if eras is not None else []
    width = eras.code_width + 6 if eras is not None else 8
    cell = st.composite(lambda draw: _date_cells(draw, width, codes))()
    rows = data.draw(st.lists(cell, min_size=1, max_size=20))
    cells = np.frombuffer(b"".join(rows), np.uint8).reshape(len(rows), width)
    if eras is not None:
        fast = decode_wareki(cells, eras=eras, lenient_calendar=lenient, unknown=unknown)
        slow = dates_module._wareki(cells, eras, lenient, unknown)
    else:
        fast = decode_ymd(cells, lenient_calendar=lenient, unknown=unknown)
        slow = dates_module._ymd(cells, lenient, unknown)
    assert fast.values.to_list() == slow.values.to_list()
    assert fast.errors.to_list() == slow.errors.to_list()
    assert fast.warnings.to_list() == slow.warnings.to_list()


def test_dates_take_the_compiled_path_for_plain_dates(monkeypatch):
    seen = []
    original = dates_module._wareki

    def counting(cells, *args):
        seen.append(len(cells))
        return original(cells, *args)

    monkeypatch.setattr(dates_module, "_wareki", counting)
    cells = np.frombuffer(b"5060501" b"4310430" b"5060500" b"1010101", np.uint8).reshape(4, 7)
    result = decode_wareki(cells)
    assert seen == [2]  # the 不詳 day and the lunisolar 明治元年 only
    assert result.values.to_list() == ["2024-05-01", "2019-04-30", "2024-05", "1868-01-01"]
    assert result.warnings.to_list() == [None, None, None, "lunisolar_date"]
