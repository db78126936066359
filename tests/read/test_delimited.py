"""The delimited reader: byte-level framing of cp932 / EUC-JP / UTF-8 CSV and TSV."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import migrate.read.delimited as rd
from migrate.errors import InputFormatError, UsageError
from migrate.read.delimited import DelimitedReader, Slot
from migrate.read.fixed import CHILD, DATA, HEADER, TRAILER, UNKNOWN


def write(tmp_path: Path, body: bytes, name: str = "in.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(body)
    return path


def reader(path: Path, slots: list[Slot], *, width: int | None = None, delimiter: bytes = b",",
           quote: bytes | None = b'"', newline: bytes = b"\r\n", header_line: bool = False,
           eof_marker: int | None = None, record_type=None, encoding: str = "cp932",
           chunk_bytes: int = 1 << 20, scan_block_bytes: int = 1 << 20) -> DelimitedReader:
    width = width if width is not None else max(s.offset + s.length for s in slots)
    return DelimitedReader(path, delimiter=delimiter, quote=quote, newline=newline,
                           header_line=header_line, eof_marker=eof_marker, slots=slots,
                           width=width, record_type=record_type, encoding=encoding,
                           chunk_bytes=chunk_bytes, scan_block_bytes=scan_block_bytes)


def column_slots(columns: list[int], length: int) -> list[Slot]:
    return [Slot(c, i * length, length) for i, c in enumerate(columns)]


def cells(chunk, slots: list[Slot]) -> list[list[bytes]]:
    """Each slot's bytes per row, trailing padding removed (test data has no trailing spaces)."""
    return [[row[s.offset:s.offset + s.length].tobytes().rstrip(b" ") for s in slots]
            for row in chunk.records]


def read_all(r: DelimitedReader):
    chunks = list(r.chunks())
    assert [c.first_record for c in chunks] == \
        [1, *np.cumsum([len(c.records) for c in chunks])[:-1] + 1]
    return chunks


def test_cp932_trail_bytes_are_not_framing(tmp_path):
    so, hyo, po = "ソ".encode("cp932"), "表".encode("cp932"), "ポ".encode("cp932")
    assert (so[1], hyo[1], po[1]) == (0x5C, 0x5C, 0x7C)
    body = "ソ表,ポ|,x\r\n表,\"ソ,ポ\",y\r\n".encode("cp932")
    slots = column_slots([0, 1, 2], 8)
    chunk = reader(write(tmp_path, body), slots).read_chunk(1, 2, 0, len(body))
    assert cells(chunk, slots) == [[so + hyo, po + b"|", b"x"], [hyo, so + b"," + po, b"y"]]
    assert (chunk.kinds == DATA).all()


def test_quoted_delimiter_crlf_and_doubled_quote(tmp_path):
    body = b'a,"x,y",1\r\nb,"multi\r\nline",2\r\nc,"say ""hi""",3\r\nd,"""",4\r\ne,"",5\r\n'
    slots = column_slots([0, 1, 2], 12)
    r = reader(write(tmp_path, body), slots)
    assert r.n_records == 5
    chunk = r.read_chunk(*r.plan()[0])
    assert cells(chunk, slots) == [[b"a", b"x,y", b"1"], [b"b", b"multi\r\nline", b"2"],
                                   [b"c", b'say "hi"', b"3"], [b"d", b'"', b"4"],
                                   [b"e", b"", b"5"]]
    assert not chunk.too_long.any() and not chunk.missing.any()


def test_doubled_quote_length_counts_unescaped_bytes(tmp_path):
    body = b'"ab""cd"\r\n"ab""cde"\r\n'        # 5 and 6 bytes after unescaping
    slots = [Slot(0, 0, 5)]
    chunk = reader(write(tmp_path, body), slots).read_chunk(1, 2, 0, len(body))
    assert list(chunk.too_long[:, 0]) == [False, True]
    assert chunk.records[0].tobytes() == b'ab"cd'
    assert chunk.records[1].tobytes() == b'ab"cd'  # truncated to the slot, then rejected


@pytest.mark.parametrize("newline", [b"\r\n", b"\n"])
@pytest.mark.parametrize("last_newline", [True, False])
def test_newlines_and_last_line(tmp_path, newline, last_newline):
    lines = [b"a,1", b'b,"2' + newline + b'"', b"c,3"]
    body = newline.join(lines) + (newline if last_newline else b"")
    slots = column_slots([0, 1], 4)
    r = reader(write(tmp_path, body), slots, newline=newline)
    assert r.n_records == 3
    chunk = r.read_chunk(*r.plan()[0])
    assert cells(chunk, slots) == [[b"a", b"1"], [b"b", b"2" + newline], [b"c", b"3"]]
    nl = len(newline)
    assert list(chunk.record_offsets) == [0, 3 + nl, 3 + nl + 5 + 2 * nl]


def test_eof_marker_is_ignored(tmp_path):
    body = b"a,1\r\nb,2\r\n\x1a"
    slots = column_slots([0, 1], 2)
    r = reader(write(tmp_path, body), slots, eof_marker=0x1A)
    assert r.n_records == 2 and r.plan() == [(1, 2, 0, 10)]
    assert cells(r.read_chunk(*r.plan()[0]), slots) == [[b"a", b"1"], [b"b", b"2"]]
    body = b"a,1\r\nb,2\x1a"              # no final line break before the marker
    r = reader(write(tmp_path, body, "b.csv"), slots, eof_marker=0x1A)
    assert cells(r.read_chunk(*r.plan()[0]), slots) == [[b"a", b"1"], [b"b", b"2"]]


def test_header_line_names_and_kind(tmp_path):
    body = '番号,"氏名",住所\r\n1,山田,東京\r\n'.encode("cp932")
    slots = column_slots([1, 0], 6)
    r = reader(write(tmp_path, body), slots, header_line=True)
    assert r.header_names == ["番号", "氏名", "住所"]
    assert r.header_record() == "氏名".encode("cp932") + b"  " + "番号".encode("cp932") + b"  "
    chunk = r.read_chunk(*r.plan()[0])
    assert list(chunk.kinds) == [HEADER, DATA]
    assert reader(write(tmp_path, body, "b.csv"), slots).header_names is None


def test_utf8_bom_is_skipped(tmp_path):
    body = b"\xef\xbb\xbf" + "名前,x\n花子,1\n".encode()
    slots = column_slots([0, 1], 6)
    r = reader(write(tmp_path, body), slots, header_line=True, newline=b"\n", encoding="utf-8")
    assert r.header_names == ["名前", "x"]
    chunk = r.read_chunk(*r.plan()[0])
    assert chunk.record_offsets[0] == 3 and cells(chunk, slots)[1] == ["花子".encode(), b"1"]


def test_tsv(tmp_path):
    body = 'ソ\t"a\tb"\t,\n表\t\t"x"\n'.encode("cp932")
    slots = column_slots([0, 1, 2], 4)
    r = reader(write(tmp_path, body), slots, delimiter=b"\t", newline=b"\n")
    assert cells(r.read_chunk(*r.plan()[0]), slots) == [
        ["ソ".encode("cp932"), b"a\tb", b","], ["表".encode("cp932"), b"", b"x"]]


def test_columns_out_of_order_and_repeated(tmp_path):
    body = b"a,bb,ccc\r\n1,22,333\r\n"
    slots = [Slot(2, 0, 3), Slot(0, 3, 1), Slot(2, 4, 5), Slot(1, 9, 2)]
    chunk = reader(write(tmp_path, body), slots, width=12).read_chunk(1, 2, 0, len(body))
    assert chunk.records[0].tobytes() == b"cccaccc  bb "
    assert chunk.records[1].tobytes() == b"3331333  22 "


def test_too_long_missing_and_offsets(tmp_path):
    #       0         1           2
    #       0123456789012345 6 7 8901234567
    body = b'ab,"cdef",g\r\nhij\r\n"k",,lmn\r\n'
    slots = [Slot(0, 0, 2), Slot(1, 2, 3), Slot(2, 5, 3)]
    r = reader(write(tmp_path, body), slots)
    chunk = r.read_chunk(1, 3, 0, len(body))
    assert chunk.records[0].tobytes() == b"abcdeg  "
    assert chunk.records[1].tobytes() == b"hi      "
    assert chunk.records[2].tobytes() == b"k    lmn"
    assert chunk.too_long.tolist() == [[False, True, False], [True, False, False],
                                       [False, False, False]]
    assert chunk.missing.tolist() == [[False, False, False], [False, True, True],
                                      [False, False, False]]
    assert chunk.record_offsets.tolist() == [0, 13, 18]
    # the opening quote's offset for quoted cells; the line end for missing ones
    assert chunk.cell_offsets.tolist() == [[0, 3, 10], [13, 16, 16], [18, 22, 23]]


def test_spaces_inside_cells_are_kept(tmp_path):
    body = b' a ," b "\r\n'
    slots = column_slots([0, 1], 5)
    chunk = reader(write(tmp_path, body), slots).read_chunk(1, 1, 0, len(body))
    assert chunk.records[0].tobytes() == b" a  " + b" " + b" b   "


def test_record_types_header_trailer_and_padding(tmp_path):
    body = b"H,x\r\nD,1\r\n D ,2\r\nT,3\r\nX,4\r\nT,5\r\n"
    codes = {b"H": HEADER, b"D": DATA, b"T": TRAILER}
    slots = [Slot(0, 0, 3), Slot(1, 3, 1)]
    r = reader(write(tmp_path, body), slots, record_type=(0, codes))
    chunk = r.read_chunk(*r.plan()[0])
    # kinds by code only: whether a trailer may stand on line 4 is the run's framing check
    assert list(chunk.kinds) == [HEADER, DATA, DATA, TRAILER, UNKNOWN, TRAILER]
    assert chunk.records[-1].tobytes() == b"T  5"
    assert r.header_record() is None
    body = b"D,1\r\nDD,2\r\n"                 # a code longer than its slot is no code
    r = reader(write(tmp_path, body, "b.csv"), [Slot(0, 0, 1)], record_type=(0, codes))
    assert list(r.read_chunk(*r.plan()[0]).kinds) == [DATA, UNKNOWN]


def test_chunks_equal_one_read(tmp_path):
    rows = [f'{i},"ソ{i}\r\n,""{i}""",表{i % 7}' for i in range(300)]
    body = ("\r\n".join(rows) + "\r\n").encode("cp932")
    slots = column_slots([2, 1, 0], 16)
    whole = reader(write(tmp_path, body), slots, chunk_bytes=1 << 30)
    assert len(whole.plan()) == 1
    one = whole.read_chunk(*whole.plan()[0])
    for chunk_bytes, block in ((1, 7), (50, 13), (333, 64), (4096, 1000)):
        r = reader(write(tmp_path, body), slots, chunk_bytes=chunk_bytes,
                   scan_block_bytes=block)
        plan = r.plan()
        assert r.n_records == 300 and sum(n for _, n, _, _ in plan) == 300
        assert [s for _, _, s, _ in plan] == [0, *np.cumsum([z for *_, z in plan])[:-1]]
        assert plan[-1][2] + plan[-1][3] == len(body)
        chunks = read_all(r)
        for field in ("records", "kinds", "record_offsets", "cell_offsets", "too_long",
                      "missing"):
            joined = np.concatenate([getattr(c, field) for c in chunks])
            assert (joined == getattr(one, field)).all(), (chunk_bytes, field)
        # every chunk starts at a real line start (never inside a quoted line break)
        starts = {int(o) for o in one.record_offsets}
        assert all(s in starts for _, _, s, _ in plan)


def test_quoted_newline_across_block_and_chunk_boundary(tmp_path):
    body = b'a,"' + b"x" * 20 + b"\r\n" + b"y" * 20 + b'"\r\nb,2\r\nc,3'
    slots = column_slots([0, 1], 50)
    for block in range(1, 30):
        r = reader(write(tmp_path, body), slots, chunk_bytes=10, scan_block_bytes=block)
        assert r.plan() == [(1, 1, 0, 48), (2, 2, 48, 8)]
        rows = [row for c in read_all(r) for row in cells(c, slots)]
        assert rows == [[b"a", b"x" * 20 + b"\r\n" + b"y" * 20], [b"b", b"2"], [b"c", b"3"]]


def test_euc_jp(tmp_path):
    body = '氏名,"ソ,表"\n山田,ﾎﾟ\n'.encode("euc_jp")
    slots = column_slots([0, 1], 8)
    r = reader(write(tmp_path, body), slots, newline=b"\n", encoding="euc_jp",
               header_line=True)
    assert r.header_names == ["氏名", "ソ,表"]
    assert cells(r.read_chunk(*r.plan()[0]), slots)[1] == \
        ["山田".encode("euc_jp"), "ﾎﾟ".encode("euc_jp")]


def test_child_records_stay_with_their_parent(tmp_path):
    lines = []
    for p in range(20):
        lines.append(f"P,{p}")
        lines.extend(f"C,{p}-{c}" for c in range(p % 4))
    body = ("\r\n".join(lines) + "\r\n").encode()
    codes = {b"P": DATA, b"C": CHILD}
    slots = [Slot(0, 0, 1), Slot(1, 1, 6)]
    r = reader(write(tmp_path, body), slots, record_type=(0, codes), chunk_bytes=12,
               scan_block_bytes=16)
    chunks = read_all(r)
    assert sum(len(c.records) for c in chunks) == len(lines)
    assert all(c.kinds[0] == DATA for c in chunks)
    assert len(chunks) > 5


def test_unterminated_quote(tmp_path):
    body = b'a,1\r\nb,"2\r\nc,3\r\n'
    with pytest.raises(InputFormatError) as info:
        reader(write(tmp_path, body), [Slot(0, 0, 1)])
    assert (info.value.record, info.value.offset) == (2, 7)
    assert "never closed" in str(info.value)


def test_unterminated_quote_in_a_huge_line(tmp_path, monkeypatch):
    monkeypatch.setattr(rd, "MAX_LINE_BYTES", 100)
    body = b'a,1\r\nb,"2' + b"x\r\n" * 100
    with pytest.raises(InputFormatError) as info:
        reader(write(tmp_path, body), [Slot(0, 0, 1)], scan_block_bytes=32)
    assert (info.value.record, info.value.offset) == (2, 7)


def test_line_too_long(tmp_path, monkeypatch):
    monkeypatch.setattr(rd, "MAX_LINE_BYTES", 100)
    body = b"a,1\r\n" + b"x" * 300
    with pytest.raises(InputFormatError) as info:
        reader(write(tmp_path, body), [Slot(0, 0, 1)], scan_block_bytes=32)
    assert info.value.record == 2


@pytest.mark.parametrize("body, offset", [(b'a,b"c\r\n', 3), (b'a,"b"c\r\n', 4),
                                          (b'x\r\n"a" ,b\r\n', 5)])
def test_stray_quote(tmp_path, body, offset):
    with pytest.raises(InputFormatError) as info:
        reader(write(tmp_path, body), [Slot(0, 0, 1)])
    assert info.value.offset == offset
    assert "middle of a cell" in str(info.value)


def test_quote_none_takes_quotes_as_data(tmp_path):
    body = b'a"b,"c\r\n'
    slots = column_slots([0, 1], 3)
    r = reader(write(tmp_path, body), slots, quote=None)
    assert cells(r.read_chunk(*r.plan()[0]), slots) == [[b'a"b', b'"c']]


@pytest.mark.parametrize("body, newline, record", [(b"a\r\nb\nc\r\n", b"\r\n", 2),
                                                   (b"a\nb\r\n", b"\n", 2)])
def test_wrong_line_break(tmp_path, body, newline, record):
    with pytest.raises(InputFormatError) as info:
        reader(write(tmp_path, body), [Slot(0, 0, 1)], newline=newline)
    assert info.value.record == record
    assert "newline" in str(info.value)


def test_empty_and_missing_files(tmp_path):
    with pytest.raises(InputFormatError):
        reader(write(tmp_path, b""), [Slot(0, 0, 1)])
    with pytest.raises(InputFormatError):
        reader(write(tmp_path, b"\x1a"), [Slot(0, 0, 1)], eof_marker=0x1A)
    with pytest.raises(UsageError):
        reader(tmp_path / "nope.csv", [Slot(0, 0, 1)])


def test_empty_lines_are_records(tmp_path):
    body = b"a,1\r\n\r\nb,2\r\n"
    slots = column_slots([0, 1], 1)
    chunk = reader(write(tmp_path, body), slots).read_chunk(1, 3, 0, len(body))
    assert cells(chunk, slots) == [[b"a", b"1"], [b"", b""], [b"b", b"2"]]
    assert chunk.missing.tolist() == [[False, False], [False, True], [False, False]]


def test_delimiter_that_can_be_a_trail_byte_is_refused(tmp_path):
    with pytest.raises(ValueError):
        reader(write(tmp_path, b"a|b\r\n"), [Slot(0, 0, 1)], delimiter=b"|")
    r = reader(write(tmp_path, b"a|b\r\n"), [Slot(1, 0, 1)], delimiter=b"|", encoding="euc_jp")
    assert r.read_chunk(*r.plan()[0]).records[0].tobytes() == b"b"


ALPHABET = ["a", "1", " ", ",", '"', "\r\n", "\n", "\t", "ソ", "表", "ポ", "能", "｡", "|"]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.lists(st.lists(st.sampled_from(ALPHABET), max_size=5).map("".join),
                              min_size=1, max_size=5), min_size=1, max_size=8),
       last_newline=st.booleans(), chunk_bytes=st.integers(1, 64),
       block=st.integers(1, 64))
def test_matches_python_csv(tmp_path, rows, last_newline, chunk_bytes, block):
    out = io.StringIO(newline="")
    csv.writer(out, lineterminator="\r\n").writerows(rows)
    text = out.getvalue()
    if not last_newline:
        text = text[:-2]
    body = text.encode("cp932")
    expected = list(csv.reader(io.StringIO(text, newline="")))
    width = 5 * 3
    slots = column_slots(list(range(5)), width)
    r = reader(write(tmp_path, body), slots, chunk_bytes=chunk_bytes, scan_block_bytes=block)
    assert r.n_records == len(expected)
    chunks = read_all(r)
    records = np.concatenate([c.records for c in chunks])
    missing = np.concatenate([c.missing for c in chunks])
    for i, row in enumerate(expected):
        for j, slot in enumerate(slots):
            got = records[i, slot.offset:slot.offset + slot.length].tobytes()
            if j < len(row):
                want = row[j].encode("cp932")
                assert got == want + b" " * (width - len(want))
                assert not missing[i, j]
            else:
                assert missing[i, j] and got == b" " * width


def test_missing_header_line_shows_no_cell_of_line_one(tmp_path, inline_mapping):
    """Without its header line, line 1 is a resident's record: the error names the missing
    column and the count of cells, never the cells themselves (both languages)."""
    from migrate.errors import format_error
    from migrate.read import open_reader

    mapping = inline_mapping("""
layout: list_test/v1
primary_key: [atena_no]
columns:
  - {name: atena_no, ja: 宛名番号, en: Person id, dtype: digits, max_length: 8, required: true}
  - {name: shimei, ja: 氏名, en: Name, dtype: str, max_length: 10, pii: name}
""", """
mapping: test/list
target: schema.yaml
source: {format: delimited, encoding: cp932, newline: crlf, header_line: true}
fields:
  atena_no: {column: 0, length: 8, type: digits}
  shimei: {name: "氏名", length: 20, type: text}
columns:
  atena_no: atena_no
  shimei: shimei
""")
    path = write(tmp_path, "1,山田太郎,東京都千代田区\r\n2,佐藤花子,大阪市\r\n".encode("cp932"))
    with pytest.raises(InputFormatError) as caught:
        open_reader(path, mapping, 1 << 20)
    for lang in ("en", "ja"):
        text = format_error(caught.value, lang)
        assert "氏名" in text and "3" in text
        assert "山田太郎" not in text and "東京都" not in text
