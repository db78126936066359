"""The compiled one-pass text decoder gives exactly what the Python path gives: same values,
same reasons, for every strip mode and Shift_JIS-family encoding, on text, padding, 外字,
controls, split and undecodable bytes (property test); its tables are Python's codec."""

from __future__ import annotations

import os

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import migrate.decode.text as text_module
from migrate.decode import decode_text, textcodec

pytestmark = pytest.mark.skipif(not textcodec.available() and not os.environ.get("CI"),
                                reason="the text decoder was not compiled here")

FRAGMENTS = [c.encode("cp932") for c in "山田太郎髙﨑纊ｱｲｳ　 abcＡＢＣ①ⅰ"] + [
    b"\xf0\x40", b"\xf9\xfc", b"\x85\x40", b"\x81", b"\x0a", b"\x00", b"\x7f", b"\x80",
    b"\xa0", b"\xfd", b"\xff", b" ", b"\x81\x40"]
GAIJI = {"\ue000": "髙", "\ue001": "𠮷"}


def test_ci_builds_it():
    """CI installs migrate as a user does: the compiled decoder must be there."""
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
