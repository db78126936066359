"""Per-stage benchmarks of the hot path on generated vendor_a/juki data."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from migrate.read.fixed import FixedWidthReader
from migrate.sinks.csv import CsvSink
from migrate.sinks.parquet import ParquetSink
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


@pytest.mark.parametrize("field", ["shimei", "shimei_kana", "addr_town"])
def test_decode_text(benchmark, bench_mapping, chunk, field):
    spec = bench_mapping.fields[field]
    cells = chunk.records[1:-1, spec.offset:spec.end]
    result = benchmark(decode_field, spec, cells, bench_mapping.source)
    assert result.values.len() == len(cells)


@pytest.mark.parametrize("field", ["atena_no", "setai_order", "birth", "shori_date"])
def test_decode_numbers_and_dates(benchmark, bench_mapping, chunk, field):
    spec = bench_mapping.fields[field]
    cells = chunk.records[1:-1, spec.offset:spec.end]
    result = benchmark(decode_field, spec, cells, bench_mapping.source)
    assert result.values.len() == len(cells)


def test_map(benchmark, mapper, chunk):
    result = benchmark(mapper.map, chunk)
    assert result.rows.height == len(chunk.records) - 2


def test_validate(benchmark, bench_mapping, mapped):
    validator = Validator(bench_mapping.target, {})
    errors, _ = benchmark(validator.validate, mapped.rows)
    assert errors.height < mapped.rows.height


def test_sink_csv(benchmark, bench_mapping, mapped, tmp_path):
    def write():
        sink = CsvSink(tmp_path / "juki.csv", bench_mapping.target.column_names)
        sink.write(mapped.rows)
        sink.commit()
        return sink.count()

    assert benchmark(write) == mapped.rows.height


def test_sink_parquet(benchmark, bench_mapping, mapper, mapped, tmp_path):
    columns = bench_mapping.target.column_names

    def write():
        sink = ParquetSink(tmp_path / "juki.parquet", mapper.map_empty().select(columns))
        sink.write(mapped.rows)
        sink.commit()
        return sink.count()

    assert benchmark(write) == mapped.rows.height


def test_sink_sqlite(benchmark, bench_mapping, mapped, tmp_path):
    bad = mapped.errors["record"].implode()
    accepted = mapped.rows.filter(~pl.col(RECORD_COL).is_in(bad)) \
        .unique("atena_no", keep="first", maintain_order=True)

    def write():
        sink = SqlSink(f"sqlite:///{tmp_path / 'bench.db'}", bench_mapping.target)
        sink.write(accepted)
        load_table(sink)
        count = sink.count()
        sink.close()
        return count

    assert benchmark(write) == accepted.height
