"""Per-stage benchmarks of the hot path on generated vendor_a/juki data.

Each one also checks its stage's output against the plain test path on the same rows (the
`reference` fixture, benchmarks/oracle.py), so a wrong output fails; no timing is asserted."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from oracle import frame_fingerprint, table_fingerprint

from migrate.decode import to_fullwidth_kana
from migrate.read.fixed import FixedWidthReader
from migrate.sinks.csv import CsvSink
from migrate.sinks.parquet import ParquetJoinSink, encode_part
from migrate.sinks.sql import SqlSink
from migrate.sinks.swap import load_table
from migrate.transform.mapper import RECORD_COL, ChunkMapper, decode_field, decode_header
from migrate.validate.rows import Validator


@pytest.fixture(scope="module")
def chunk(bench_mapping, bench_file):
    reader = FixedWidthReader(bench_file, bench_mapping.source, chunk_bytes=1 << 40)
    return next(reader.chunks())


@pytest.fixture(scope="module")
def mapper(bench_mapping, bench_file):
    reader = FixedWidthReader(bench_file, bench_mapping.source)
    return ChunkMapper(bench_mapping, decode_header(bench_mapping, reader.header_record()))


@pytest.fixture(scope="module")
def mapped(mapper, chunk):
    return mapper.map(chunk)


def test_read_and_slice(benchmark, bench_mapping, bench_file):
    def read():
        reader = FixedWidthReader(bench_file, bench_mapping.source)
        return sum(int(np.count_nonzero(c.records[:, 0])) for c in reader.chunks())

    assert benchmark(read) > 0


def _same_as_reference(mapping, mapped, reference, field, values):
    """The decoded cells of `field` (one per data record, in order) are the values the plain
    path wrote for its column, on every accepted record."""
    column = next(cm for cm in mapping.columns if cm.kind == "field" and cm.source == field)
    assert column.codes is None
    if column.kana == "fullwidth":
        values = to_fullwidth_kana(values)
    frame = pl.DataFrame([mapped.rows["src_record"], values.alias(column.column)])
    reference.expect(frame, [column.column])


@pytest.mark.parametrize("field", ["shimei", "shimei_kana", "addr_town"])
def test_decode_text(benchmark, bench_mapping, chunk, mapped, reference, field):
    spec = bench_mapping.fields[field]
    cells = chunk.records[1:-1, spec.offset:spec.end]
    result = benchmark(decode_field, spec, cells, bench_mapping.source)
    assert result.values.len() == len(cells) == mapped.rows.height
    _same_as_reference(bench_mapping, mapped, reference, field, result.values)


@pytest.mark.parametrize("field", ["shimei", "shimei_kana", "addr_town"])
def test_text_codec_alone(benchmark, bench_mapping, chunk, field):
    """The codec's own time on the same cells (one call, padding included): what
    test_decode_text is measured against (decode, separators, UTF-8, strip, checks)."""
    spec = bench_mapping.fields[field]
    data = np.ascontiguousarray(chunk.records[1:-1, spec.offset:spec.end]).tobytes()
    text = benchmark(data.decode, bench_mapping.source.encoding, "replace")
    assert len(text) >= len(data) // 2


@pytest.mark.parametrize("field", ["atena_no", "setai_order", "birth", "shori_date"])
def test_decode_numbers_and_dates(benchmark, bench_mapping, chunk, mapped, reference, field):
    spec = bench_mapping.fields[field]
    cells = chunk.records[1:-1, spec.offset:spec.end]
    result = benchmark(decode_field, spec, cells, bench_mapping.source)
    assert result.values.len() == len(cells) == mapped.rows.height
    _same_as_reference(bench_mapping, mapped, reference, field, result.values)


def test_map(benchmark, bench_mapping, mapper, chunk, reference):
    result = benchmark(mapper.map, chunk)
    assert result.rows.height == len(chunk.records) - 2
    reference.expect(result.rows, bench_mapping.target.column_names)
    assert set(result.errors["record"].to_list()) <= reference.rejected_records


def test_validate(benchmark, bench_mapping, mapped, reference):
    validator = Validator(bench_mapping.target, {})
    errors, _ = benchmark(validator.validate, mapped.rows)
    # every record the plain path rejected, but for keys repeated across chunks (not a row check)
    rejected = set(errors["record"].to_list()) | set(mapped.errors["record"].to_list())
    later = set(reference.rejects.filter(pl.col("reason") == "duplicate_key")["record"]
                .cast(pl.Int64).to_list())
    assert rejected == reference.rejected_records - later


def test_sink_csv(benchmark, bench_mapping, mapped, tmp_path):
    def write():
        sink = CsvSink(tmp_path / "juki.csv", bench_mapping.target.column_names)
        sink.write(mapped.rows)
        sink.commit()
        return sink.count()

    assert benchmark(write) == mapped.rows.height
    written = pl.read_csv(tmp_path / "juki.csv", infer_schema=False)
    columns = bench_mapping.target.column_names
    assert written.equals(mapped.rows.select(pl.col(c).cast(pl.Utf8) for c in columns))


def test_sink_parquet(benchmark, bench_mapping, mapper, mapped, tmp_path):
    columns = bench_mapping.target.column_names

    def write():
        sink = ParquetJoinSink(tmp_path / "juki.parquet", mapper.map_empty().select(columns),
                               bench_mapping.target)
        sink.write(encode_part(mapped.rows.select(columns), bench_mapping.target))
        sink.commit()
        return sink.count()

    assert benchmark(write) == mapped.rows.height
    assert pl.read_parquet(tmp_path / "juki.parquet").equals(mapped.rows.select(columns))


def test_sink_sqlite(benchmark, bench_mapping, mapped, tmp_path):
    bad = mapped.errors["record"].implode()
    accepted = mapped.rows.filter(~pl.col(RECORD_COL).is_in(bad)) \
        .unique("atena_no", keep="first", maintain_order=True)
    url = f"sqlite:///{tmp_path / 'bench.db'}"

    def write():
        sink = SqlSink(url, bench_mapping.target)
        sink.write(accepted)
        load_table(sink)
        count = sink.count()
        sink.close()
        return count

    assert benchmark(write) == accepted.height
    columns = bench_mapping.target.column_names
    assert table_fingerprint(url, bench_mapping.target.name, columns) == \
        frame_fingerprint(accepted.select(columns))
