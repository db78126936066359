"""The standard Parquet file: parts encoded with the layout's options, joined page for page."""

from __future__ import annotations

import polars as pl
import pyarrow.parquet as pq

from migrate.sinks.parquet import ParquetJoinSink, encode_part


def test_parts_join_into_one_file_with_the_layouts_options(tmp_path, juki_mapping):
    schema = juki_mapping.target
    names = [c.name for c in schema.columns]
    personal = next(c.name for c in schema.columns if c.pii and c.name in names)
    frame = pl.DataFrame({c: [f"{c}{i % 7}" for i in range(300)] for c in names})
    frame = frame.cast({c.name: pl.Int64 for c in schema.columns if c.dtype == "integer"})
    sink = ParquetJoinSink(tmp_path / "out.parquet", frame.head(0), schema)
    for start in (0, 100, 250):
        sink.write(encode_part(frame.slice(start, {0: 100, 100: 150, 250: 50}[start]), schema))
    sink.write(encode_part(frame.head(0), schema))  # a chunk whose rows were all rejected
    sink.commit()
    assert sink.count() == 300
    assert pl.read_parquet(tmp_path / "out.parquet").equals(frame)
    meta = pq.ParquetFile(tmp_path / "out.parquet").metadata
    assert meta.num_row_groups == 3
    index = names.index(personal)
    # no min/max of a personal column in the footer, in any row group
    assert all(meta.row_group(g).column(index).statistics is None
               or not meta.row_group(g).column(index).statistics.has_min_max
               for g in range(meta.num_row_groups))
    assert (tmp_path / "out.parquet").stat().st_mode & 0o777 == 0o600


def test_no_part_at_all_gives_an_empty_file_of_the_layouts_columns(tmp_path, juki_mapping):
    empty = pl.DataFrame(schema={"a": pl.Utf8, "b": pl.Int64})
    sink = ParquetJoinSink(tmp_path / "out.parquet", empty, None)
    sink.commit()
    back = pl.read_parquet(tmp_path / "out.parquet")
    assert back.height == 0 and back.schema == empty.schema


def test_an_aborted_sink_leaves_nothing(tmp_path):
    empty = pl.DataFrame(schema={"a": pl.Utf8})
    sink = ParquetJoinSink(tmp_path / "out.parquet", empty)
    sink.write(encode_part(pl.DataFrame({"a": ["x"]})))
    sink.abort()
    assert list(tmp_path.iterdir()) == []
