"""Parquet parts encoded by workers join into one file: the pages are copied byte for byte, the
footer's offsets shifted, and every reader sees the concatenated table."""

from __future__ import annotations

import inspect
import io
import struct
from datetime import date
from decimal import Decimal

import polars as pl
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from migrate.sinks.parquetjoin import (
    BINARY,
    DOUBLE,
    FALSE,
    I8,
    I16,
    I32,
    I64,
    LIST,
    MAP,
    SET,
    STRUCT,
    TRUE,
    UUID,
    dump_struct,
    footer_start,
    join_parquet,
    parse_struct,
)

NAMES = ["山田 太郎", "佐藤 花子", None, "ｶﾞｯｺｳ", "東京都千代田区千代田1-1", "a", ""]


def sample(n: int = 60, start: int = 0) -> pa.Table:
    rows = range(start, start + n)
    schema = pa.schema(
        [("id", pa.int64()), ("code", pa.int32()), ("name", pa.string()),
         ("born", pa.date32()), ("amount", pa.decimal128(12, 2)), ("flag", pa.bool_())],
        metadata={"pandas": '{"index_columns": [], "columns": []}', "migrate": "juki/v1"})
    return pa.table({
        "id": [i * 1_000_003 - 7 if i % 5 else None for i in rows],
        "code": [i % 7 for i in rows],
        "name": [NAMES[i % len(NAMES)] for i in rows],
        "born": [date(1950 + i % 60, 1 + i % 12, 1 + i % 28) for i in rows],
        "amount": [Decimal(i * 37) / 100 - 5 if i % 3 else None for i in rows],
        "flag": [i % 2 == 0 for i in rows],
    }, schema=schema)


def encode(table: pa.Table, row_group_size: int | None = None, **options) -> bytes:
    sink = pa.BufferOutputStream()
    with pq.ParquetWriter(sink, table.schema, **options) as writer:
        writer.write_table(table, row_group_size=row_group_size)
    return sink.getvalue().to_pybytes()


def joined(parts) -> bytes:
    out = io.BytesIO()
    join_parquet(parts, out)
    return out.getvalue()


# Readers get a pyarrow buffer, not a Python file object: a threaded read through a Python
# file object can abort the interpreter at exit (apache/arrow#34314, #50482).
def read(data: bytes, **kwargs) -> pa.Table:
    return pq.read_table(pa.BufferReader(data), **kwargs)


def metadata(data: bytes) -> pq.FileMetaData:
    return pq.ParquetFile(pa.BufferReader(data)).metadata


def footer(data: bytes) -> list:
    return parse_struct(data[footer_start(data):-8])


def field(fields: list, fid: int):
    return next((value for f, _, value in fields if f == fid), None)


# ------------------------------------------------------------------------- the thrift codec

WIDE = pa.table({f"c{i}": pa.array(range(20), pa.int16()) for i in range(20)})  # lists >= 15
FOOTERS = {
    "defaults": (sample(), {}),
    "no dictionary": (sample(), {"use_dictionary": False}),
    "no statistics": (sample(), {"write_statistics": False}),
    "zstd": (sample(), {"compression": "zstd"}),
    "per column": (sample(), {"use_dictionary": ["name"], "write_statistics": ["id", "born"]}),
    "row groups": (sample(200), {"row_group_size": 7}),
    "data page v2": (sample(), {"data_page_version": "2.0", "write_page_checksum": True}),
    "sorted": (sample(), {"sorting_columns": [pq.SortingColumn(1, descending=True)]}),
    "page index": (sample(), {"write_page_index": True}),
    "wide": (WIDE, {}),
    "all null": (pa.table({"x": pa.nulls(10, pa.string())}), {}),
}


@pytest.mark.parametrize("case", FOOTERS)
def test_pyarrow_footers_parse_and_write_back_byte_for_byte(case):
    table, options = FOOTERS[case]
    data = encode(table, **options)
    raw = data[footer_start(data):-8]
    fields = parse_struct(raw)
    assert dump_struct(fields) == raw
    assert field(fields, 3) == table.num_rows  # num_rows, read as a plain int
    assert len(field(fields, 4)[1]) == metadata(data).num_row_groups


def test_every_compact_type_round_trips():
    fields = [
        (1, I8, -5), (2, I16, -300), (3, I32, 2**31 - 1), (4, I64, -(2**63)),
        (5, DOUBLE, struct.pack("<d", -1.5)), (6, BINARY, "日本語".encode()),
        (7, TRUE, True), (8, FALSE, False),
        (9, LIST, (TRUE, [1, 2, 1])),  # bool elements: one raw byte each
        (10, SET, (I32, list(range(-10, 10)))),  # 20 elements: the long list header
        (11, MAP, (BINARY, I64, [(b"k", -1), (b"l", 2**40)])), (12, MAP, (0, 0, [])),
        (30, STRUCT, [(1, STRUCT, []), (2, LIST, (STRUCT, [[(1, I32, 1)], []]))]),  # delta 18
        (29, I32, 7),  # a smaller id than the last: the long field header
        (31, UUID, bytes(range(16))),
    ]
    data = dump_struct(fields)
    assert parse_struct(data) == fields
    assert dump_struct(parse_struct(data)) == data


def test_the_bytes_follow_the_compact_protocol_spec():
    assert dump_struct([(1, I32, -1)]) == b"\x15\x01\x00"  # delta 1, i32; zigzag(-1) = 1
    assert dump_struct([(1, I64, 50399 // 2)]) == b"\x16\xde\x89\x03\x00"  # varint 50398
    assert dump_struct([(20, BINARY, b"ab")]) == b"\x08\x28\x02ab\x00"  # long form: id 20
    assert dump_struct([(1, TRUE, True), (2, FALSE, False)]) == b"\x11\x12\x00"
    assert dump_struct([(1, LIST, (I32, [0] * 15))]) == b"\x19\xf5\x0f" + bytes(15) + b"\x00"
    assert dump_struct([(1, MAP, (0, 0, []))]) == b"\x1b\x00\x00"


@pytest.mark.parametrize("bad", [b"", b"\x15", b"\x18\x05ab\x00", b"\x1d\x00", b"\x15\x02\x00\x00"])
def test_malformed_thrift_is_refused(bad):
    with pytest.raises(ValueError):
        parse_struct(bad)


# ------------------------------------------------------------------------------ the join

OPTIONS = {
    "defaults": {},
    "zstd, two row groups a part": {"compression": "zstd", "row_group_size": 25},
    "plain, no statistics": {"use_dictionary": False, "write_statistics": False},
}
if "bloom_filter_options" in inspect.signature(pq.ParquetWriter).parameters:  # 26 has it, 15 not
    OPTIONS["bloom filter"] = {"bloom_filter_options": {"name": {"ndv": 50, "fpp": 0.05}}}

SLICES = [sample(50, 0), sample(40, 50), sample(50, 90)]


def page_spans(data: bytes) -> list[list[tuple[str, int, int]]]:
    """Per row group: (what, offset, length) of each byte range its footer entry names."""
    groups = []
    for group in field(footer(data), 4)[1]:
        spans = [("row group", field(group, 5), field(group, 6) or 1)]
        for chunk in field(group, 1)[1]:
            if field(chunk, 2):  # older pyarrow (15, not 26): a ColumnChunk copy after the pages
                spans.append(("column chunk copy", field(chunk, 2), 1))
            meta = field(chunk, 3)
            size, data_page, dictionary = field(meta, 7), field(meta, 9), field(meta, 11)
            start = data_page if dictionary is None else dictionary
            spans += [("chunk", start, size), ("data pages", data_page, start + size - data_page)]
            if field(meta, 14) is not None:
                spans.append(("bloom filter", field(meta, 14), field(meta, 15) or 16))
        groups.append(spans)
    return groups


@pytest.mark.parametrize("case", OPTIONS)
def test_three_parts_join_into_their_concatenation(case):
    options = OPTIONS[case]
    parts = [encode(t, **options) for t in SLICES]
    data = joined(parts)
    expected = pa.concat_tables(SLICES)

    table = read(data)
    assert table.equals(expected)
    assert table.schema.equals(read(parts[0]).schema, check_metadata=True)
    assert table.schema.metadata[b"migrate"] == b"juki/v1" and b"pandas" in table.schema.metadata
    assert b"ARROW:schema" in metadata(data).metadata

    meta = metadata(data)
    part_meta = [metadata(p) for p in parts]
    assert meta.num_rows == expected.num_rows == 140
    assert meta.num_row_groups == sum(m.num_row_groups for m in part_meta)
    assert meta.schema.equals(part_meta[0].schema)

    # Every byte range the new footer names holds what the part's footer named: the part's
    # pages moved by the bytes of the parts before it.
    shifts = [0]
    for part in parts:
        shifts.append(shifts[-1] + footer_start(part) - 4)
    theirs = [(span, part, shift) for part, shift in zip(parts, shifts, strict=False)
              for span in page_spans(part)]
    ours = page_spans(data)
    assert len(ours) == len(theirs)
    for new, (old, part, shift) in zip(ours, theirs, strict=True):
        assert [(w, o + shift, n) for w, o, n in old] == new
        for (_, o, n), (_, o2, _) in zip(old, new, strict=True):
            assert data[o2:o2 + n] == part[o:o + n]
    offsets = [c.data_page_offset for i in range(meta.num_row_groups)
               for c in map(meta.row_group(i).column, range(meta.num_columns))]
    assert offsets == sorted(offsets) and offsets[0] >= 4 and offsets[-1] < footer_start(data)

    # Ordinals renumbered 0..k-1 where the writer writes them (pyarrow 15 does, 26 does not).
    groups = field(footer(data), 4)[1]
    if field(field(footer(parts[0]), 4)[1][0], 7) is not None:
        assert [field(g, 7) for g in groups] == list(range(len(groups)))

    # Readers: row group by row group, projected, polars, and statistics after the shift.
    starts = 0
    for i in range(meta.num_row_groups):
        group = pq.ParquetFile(pa.BufferReader(data)).read_row_group(i)
        assert group.equals(expected.slice(starts, group.num_rows))
        starts += group.num_rows
    assert starts == expected.num_rows
    assert read(data, columns=["name", "born"]).equals(expected.select(["name", "born"]))
    assert_frame_equal(pl.read_parquet(io.BytesIO(data)), pl.from_arrow(expected))
    assert_frame_equal(pl.read_parquet(io.BytesIO(data), columns=["amount"]),
                       pl.from_arrow(expected.select(["amount"])))
    last = meta.row_group(meta.num_row_groups - 1).column(0)
    theirs_last = part_meta[-1].row_group(part_meta[-1].num_row_groups - 1).column(0)
    if theirs_last.statistics is not None and theirs_last.statistics.has_min_max:
        assert (last.statistics.min, last.statistics.max, last.statistics.null_count) == (
            theirs_last.statistics.min, theirs_last.statistics.max,
            theirs_last.statistics.null_count)
    chosen = read(data, filters=[("id", ">", 100_000_000)])
    assert chosen.equals(expected.filter(pc.greater(expected["id"], 100_000_000)))


def with_ordinals(part: bytes, first: int) -> bytes:
    """The part re-footered with RowGroup.ordinal (field 7) numbered from first, as pyarrow 15
    writes it (pyarrow 26 leaves it out)."""
    start = footer_start(part)
    meta = parse_struct(part[start:-8])
    groups = field(meta, 4)[1]
    for n, group in enumerate(groups):
        group[:] = [(f, k, v) for f, k, v in group if f != 7] + [(7, I16, first + n)]
    raw = dump_struct(meta)
    return part[:start] + raw + struct.pack("<I", len(raw)) + b"PAR1"


def test_row_group_ordinals_are_renumbered_across_parts():
    parts = [with_ordinals(encode(t, row_group_size=20), 0) for t in SLICES]
    parts[1] = with_ordinals(parts[1], 9)  # whatever a part says, the join counts from 0
    data = joined(parts)
    groups = field(footer(data), 4)[1]
    assert [field(g, 7) for g in groups] == list(range(8))
    assert read(data).equals(pa.concat_tables(SLICES))


def test_the_join_is_deterministic_and_copies_chunks_as_encoded():
    parts = [encode(t, compression="zstd", row_group_size=20) for t in SLICES]
    data = joined(parts)
    assert joined(parts) == data
    assert joined(memoryview(p) for p in parts) == data
    meta = metadata(data)
    chunks = [(g.column(j).total_compressed_size, g.column(j).total_uncompressed_size,
               g.column(j).compression, g.column(j).encodings)
              for m in map(metadata, parts) for g in map(m.row_group, range(m.num_row_groups))
              for j in range(m.num_columns)]
    assert chunks == [(g.column(j).total_compressed_size, g.column(j).total_uncompressed_size,
                       g.column(j).compression, g.column(j).encodings)
                      for g in map(meta.row_group, range(meta.num_row_groups))
                      for j in range(meta.num_columns)]
    assert len(data) < sum(map(len, parts))  # two footers and four magics fewer


def test_one_part_is_refootered_to_itself():
    part = encode(sample(), row_group_size=15)
    assert joined([part]) == part


def test_empty_parts_are_skipped():
    schema = sample().schema
    no_rows = encode(sample(0))  # one row group of no rows
    never = pa.BufferOutputStream()
    pq.ParquetWriter(never, schema).close()  # no row group at all
    never = never.getvalue().to_pybytes()
    parts = [no_rows, encode(SLICES[0]), never, encode(SLICES[1]), no_rows]
    data = joined(parts)
    assert read(data).equals(pa.concat_tables(SLICES[:2]))
    assert metadata(data).num_row_groups == 2

    out = io.BytesIO()
    assert join_parquet([no_rows, never], out) == 0
    empty = out.getvalue()
    assert metadata(empty).num_rows == 0 and metadata(empty).num_row_groups == 0
    assert read(empty).schema.equals(read(no_rows).schema, check_metadata=True)
    assert read(empty).num_rows == 0


def test_parts_are_streamed_to_out_as_they_come():
    parts = [encode(t) for t in SLICES]
    out = io.BytesIO()
    seen: list[int] = []

    def produce():
        for part in parts:
            yield part
            seen.append(out.tell())  # after join_parquet has dealt with this part

    assert join_parquet(produce(), out) == 140
    assert seen[0] == footer_start(parts[0]) and seen[1] > seen[0] and seen[2] > seen[1]
    assert out.getvalue()[:seen[0]] == parts[0][:seen[0]]


# ------------------------------------------------------------------------------ refusals

def test_parts_with_different_schemas_are_refused():
    other = sample().set_column(1, "code", pa.array(range(60), pa.int64()))
    with pytest.raises(ValueError, match="different schemas"):
        joined([encode(sample()), encode(other)])
    renamed = sample().rename_columns(["id", "code", "shimei", "born", "amount", "flag"])
    with pytest.raises(ValueError, match="different schemas"):
        joined([encode(sample()), encode(renamed)])


def test_a_page_indexed_part_is_refused():
    with pytest.raises(ValueError, match="page index not supported"):
        joined([encode(sample()), encode(sample(), write_page_index=True)])


@pytest.mark.parametrize("bad", [
    b"", b"PAR1", b"not a parquet file at all", b"PAR1" + bytes(20) + b"PAR1",
    b"PAR1\x00\x00\x00\x00\x10\x00\x00\x00PAR1",  # footer longer than the file
    b"PAR1\x00\x00\x00\x00\x01\x00\x00\x00PAR1",  # a footer that is not a FileMetaData
])
def test_what_is_not_parquet_is_refused(bad):
    with pytest.raises(ValueError):
        joined([bad])


def test_an_encrypted_or_truncated_part_is_refused():
    part = encode(sample())
    with pytest.raises(ValueError, match="encrypted"):
        footer_start(b"PARE" + part[4:-4] + b"PARE")
    start = footer_start(part)
    cut = part[start:-9]  # the footer without its last byte (the final STOP)
    with pytest.raises(ValueError, match="truncated"):
        joined([encode(sample()), part[:start] + cut + struct.pack("<I", len(cut)) + b"PAR1"])
    with pytest.raises(ValueError, match="no Parquet parts"):
        joined([])


# ------------------------------------------------------------------------------ property

texts = st.text(alphabet=st.characters(exclude_categories=("Cs",)), max_size=8)


@settings(max_examples=60, deadline=None)
@given(ints=st.lists(st.one_of(st.none(), st.integers(-(2**63), 2**63 - 1)), max_size=40),
       strings=st.lists(st.one_of(st.none(), texts), min_size=40, max_size=40),
       cuts=st.lists(st.integers(0, 40), max_size=4),
       row_group_size=st.sampled_from([None, 3]))
def test_any_table_split_anywhere_joins_back_whole(ints, strings, cuts, row_group_size):
    whole = pa.table({"n": pa.array(ints, pa.int64()),
                      "s": pa.array(strings[:len(ints)], pa.string())})
    bounds = [0, *sorted(min(c, len(ints)) for c in cuts), len(ints)]
    parts = [encode(whole.slice(a, b - a), row_group_size=row_group_size)
             for a, b in zip(bounds, bounds[1:], strict=False)]
    out = io.BytesIO()
    assert join_parquet(parts, out) == len(ints)
    assert read(out.getvalue()).equals(whole)
