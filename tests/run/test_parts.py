"""Workers write each chunk's rows as output parts; the main process settles on keys, problems
and counts only, and assembles the outputs byte-identically from the parts."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from migrate.run.chunkwork import ChunkContext, ChunkWorker, StoredOutcome
from migrate.run.parts import Piece, new_parts_folder, settle_columns, write_parts
from migrate.run.pipeline import Pipeline, RunOptions, run
from migrate.synth.generate import generate
from migrate.transform.mapper import RECORD_COL

ROWS = 2500
OUTPUTS = ("juki.csv", "juki.parquet", "rejects.csv", "warnings.csv")


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def generated(tmp_path_factory, juki_mapping) -> Path:
    path = tmp_path_factory.mktemp("parts") / "juki.dat"
    generate(juki_mapping, path, ROWS, seed=5, defects=40)
    return path


def test_a_worker_writes_the_rows_and_returns_only_what_the_main_process_settles_on(
        tmp_path, juki_mapping, generated):
    context = ChunkContext(juki_mapping, generated, 1 << 20, {}, parts_dir=tmp_path)
    worker = ChunkWorker(context)
    task = worker.reader.plan()[0]
    whole = worker.process(*task)
    outcome = worker.process(*task, part=7)
    assert outcome.parts is not None and outcome.parts.index == 7
    assert outcome.candidates.columns == settle_columns(juki_mapping.target)
    assert len(outcome.candidates.columns) < len(whole.candidates.columns)
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "part-000007.csv", "part-000007.outcome", "part-000007.parquet"]
    # the outcome itself is written once, by the worker: what a pool worker sends back is
    # where it is, and the main process reads the same outcome from there
    assert outcome.stored is not None and outcome.stored.name == "part-000007.outcome"
    loaded = StoredOutcome(tmp_path, outcome.stored).load()
    assert loaded.candidates.equals(outcome.candidates) and loaded.parts == outcome.parts
    assert loaded.errors.equals(outcome.errors) and loaded.stored == outcome.stored
    columns = juki_mapping.target.column_names
    piece = Piece(tmp_path, outcome.parts, None)
    assert piece.frame().equals(whole.candidates.select(columns))
    assert piece.csv_lines() == whole.candidates.select(columns).write_csv(
        include_header=False).encode()
    assert all((tmp_path / f.name).stat().st_mode & 0o777 == 0o600 for f in outcome.parts.files())


def test_rows_rejected_later_are_dropped_from_both_parts(tmp_path, juki_mapping):
    frame = pl.DataFrame({c: ["x" * (i % 3)] * 5 for i, c in enumerate(
        juki_mapping.target.column_names)}).with_columns(pl.Series(RECORD_COL, range(5)))
    frame = frame.with_columns(pl.Series("name", ["a", "b", "c", "d", "e"]))
    columns = ["name", RECORD_COL]
    parts = write_parts(tmp_path, 0, frame, columns)
    keep = np.array([True, False, True, True, False])
    piece = Piece(tmp_path, parts, keep)
    assert piece.frame()["name"].to_list() == ["a", "c", "d"]
    assert piece.csv_lines() == b"a,0\nc,2\nd,3\n"


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.text(alphabet="ab,名\"", max_size=4), st.booleans()), max_size=40))
def test_the_kept_csv_lines_are_exactly_those_of_the_kept_rows(tmp_path_factory, rows):
    folder = tmp_path_factory.mktemp("keep")
    frame = pl.DataFrame({"name": [name for name, _ in rows], RECORD_COL: range(len(rows))},
                         schema={"name": pl.Utf8, RECORD_COL: pl.Int64})
    parts = write_parts(folder, 0, frame, ["name", RECORD_COL])
    keep = np.array([kept for _, kept in rows], dtype=bool)
    lines = (folder / parts.csv.name).read_bytes().splitlines(keepends=True)
    assert Piece(folder, parts, keep).csv_lines() == b"".join(
        line for line, kept in zip(lines, keep, strict=True) if kept)


def test_outputs_are_byte_identical_whatever_the_workers_and_the_engine(
        tmp_path, juki_mapping, generated):
    """Duplicate keys (found only in the main process, after the workers wrote the rows) are
    in the input: their rows must leave the parts exactly as they left the outputs before."""
    chunk = juki_mapping.source.stride * 300  # 9 chunks
    variants = {"one": {"workers": 1}, "two": {"workers": 2},
                "dask": {"workers": 1, "engine": "dask"}}
    digests = {}
    for name, extra in variants.items():
        out = tmp_path / name
        result = run(RunOptions(juki_mapping, generated, out, db_url="none", chunk_bytes=chunk,
                                **extra))
        assert result.exit_code == 0, name
        assert result.ledger.problems_by_reason["duplicate_key"] > 0
        digests[name] = [sha(out / f) for f in OUTPUTS]
        assert not list(out.rglob("part-*")), "parts must never be published"
    assert digests["two"] == digests["one"]
    assert digests["dask"] == digests["one"]


def test_a_key_repeated_inside_a_chunk_is_rejected_by_the_worker(tmp_path, juki_mapping,
                                                                   generated):
    """The generator repeats the 宛名番号 of the record before: the worker finds it in its own
    chunk, so the chunk's parts hold only rows the main process keeps (copied, not encoded
    again), with the reason and detail the main process gives a repeated key."""
    defects = json.loads(generated.with_name(generated.name + ".defects.json").read_text())
    repeated = sorted(d["record"] for d in defects["defects"] if d["kind"] == "duplicate_key")
    assert repeated
    context = Pipeline(RunOptions(juki_mapping, generated, tmp_path / "out",
                                  chunk_bytes=1 << 30)).context  # with the header's values
    folder = new_parts_folder(context.parts_dir)
    worker = ChunkWorker(context)
    (task,) = worker.reader.plan()
    outcome = worker.process(*task, part=0)
    found = outcome.errors.filter(pl.col("reason") == "duplicate_key").sort("record")
    assert found["record"].to_list() == repeated
    assert found["field"].to_list() == ["atena_no"] * len(repeated)
    assert found["detail"].to_list() == [f"same key as record {r - 1}" for r in repeated]
    assert outcome.candidates["atena_no"].is_unique().all()
    assert not set(repeated) & set(outcome.candidates[RECORD_COL].to_list())
    frame = Piece(folder, outcome.parts, None).frame()
    assert frame.height == outcome.candidates.height and frame["atena_no"].is_unique().all()
