"""`--engine dask`: the same per-chunk work on a Dask cluster gives the same outputs and ledger."""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner

from migrate.cli import main
from migrate.errors import InputFormatError, UsageError, format_error
from migrate.run.chunkwork import ChunkContext
from migrate.run.engines import dask as dask_engine
from migrate.run.pipeline import RunOptions, run
from migrate.synth.generate import generate

ROWS = 3000
DEFECTS = 24
CHUNK_RECORDS = 250  # 13 chunks: several in flight on each worker


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def generated(tmp_path_factory, juki_mapping) -> Path:
    path = tmp_path_factory.mktemp("in") / "juki.dat"
    generate(juki_mapping, path, ROWS, seed=11, defects=DEFECTS)
    return path


@pytest.fixture(scope="module")
def cluster():
    """A 2-worker LocalCluster the tests connect to with --scheduler."""
    from distributed import LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                      dashboard_address=None) as local:
        yield local


@pytest.fixture(scope="module")
def runs(tmp_path_factory, juki_mapping, generated):
    """The same file through the local engine (1 and 2 workers) and a 2-worker Dask cluster."""
    chunk = juki_mapping.source.stride * CHUNK_RECORDS
    variants = {"local-1": {"workers": 1}, "local-2": {"workers": 2},
                "dask-2": {"workers": 2, "engine": "dask"}}  # no scheduler: its own cluster
    results = {}
    for name, extra in variants.items():
        out = tmp_path_factory.mktemp(name)
        results[name] = out, run(RunOptions(juki_mapping, generated, out, db_url="none",
                                            chunk_bytes=chunk, **extra))
    return results


def test_engines_give_identical_outputs_and_ledgers(runs):
    out1, res1 = runs["local-1"]
    assert res1.exit_code == 0
    assert res1.ledger.rejected == DEFECTS
    reference = json.loads((out1 / "run.json").read_text())["reconciliation"]
    for name in ("local-2", "dask-2"):
        out, res = runs[name]
        assert res.exit_code == 0, name
        assert res.ledger.as_dict() == res1.ledger.as_dict(), name
        assert json.loads((out / "run.json").read_text())["reconciliation"] == reference, name
        for file in ("juki.csv", "rejects.csv", "warnings.csv"):
            assert sha(out / file) == sha(out1 / file), (name, file)
        assert pl.read_parquet(out / "juki.parquet").equals(
            pl.read_parquet(out1 / "juki.parquet")), name


def test_input_error_mid_file_surfaces_as_with_the_local_engine(tmp_path, juki_mapping,
                                                                 cluster):
    path = tmp_path / "broken.dat"
    generate(juki_mapping, path, 2000, seed=3)
    stride = juki_mapping.source.stride
    raw = bytearray(path.read_bytes())
    raw[1500 * stride - 2:1500 * stride] = b"XX"  # record 1500 loses its CRLF
    path.write_bytes(bytes(raw))
    errors = {}
    for engine, scheduler in (("local", None), ("dask", cluster.scheduler_address)):
        out = tmp_path / f"out-{engine}"
        with pytest.raises(InputFormatError) as info:
            run(RunOptions(juki_mapping, path, out, db_url="none", chunk_bytes=stride * 300,
                           workers=2, engine=engine, scheduler=scheduler))
        assert not (out / "juki.csv").exists()
        errors[engine] = info.value
    assert errors["dask"].record == 1500
    assert errors["dask"].offset == 1500 * stride - 2
    assert format_error(errors["dask"], "en") == format_error(errors["local"], "en")
    assert format_error(errors["dask"], "ja") == format_error(errors["local"], "ja")


def test_unreachable_scheduler_is_a_usage_error(tmp_path, juki_mapping, generated, monkeypatch):
    monkeypatch.setattr(dask_engine, "CONNECT_TIMEOUT", 1.0)
    for address in ("tcp://127.0.0.1:1", "no-port-here"):
        with pytest.raises(UsageError) as info:
            run(RunOptions(juki_mapping, generated, tmp_path / "out", db_url="none",
                           engine="dask", scheduler=address))
        assert info.value.message.startswith("cannot reach the Dask scheduler")
        assert "--scheduler" in info.value.hint
        assert not (tmp_path / "out" / "juki.csv").exists()


def test_worker_that_cannot_see_the_input_says_so(tmp_path, juki_mapping, generated):
    """The first task on a worker checks the shared input (called here outside Dask)."""
    context = ChunkContext(juki_mapping, generated, 1 << 20, {})
    size = generated.stat().st_size
    missing = dask_engine.ChunkJob("t-missing", replace(context, input=tmp_path / "nowhere.dat"),
                                   size, dask_engine.__version__)
    failed = dask_engine.process_chunk(missing, 1, 10)
    assert isinstance(failed, dask_engine.ChunkFailed)
    assert isinstance(failed.error, UsageError)
    assert "cannot be read on Dask worker" in failed.error.message
    assert "same path" in failed.error.hint
    other = dask_engine.ChunkJob("t-other", context, size + 432, dask_engine.__version__)
    failed = dask_engine.process_chunk(other, 1, 10)
    assert isinstance(failed, dask_engine.ChunkFailed)
    assert "bytes this machine sees" in failed.error.message
    fine = dask_engine.ChunkJob("t-fine", context, size, dask_engine.__version__)
    assert dask_engine.process_chunk(fine, 2, 10).data_read == 10
    dask_engine.forget("t-fine")


def test_scheduler_needs_the_dask_engine(tmp_path, generated):
    result = CliRunner().invoke(main, ["run", "-m", "vendor_a/juki", str(generated),
                                       "--out", str(tmp_path / "out"),
                                       "--scheduler", "tcp://127.0.0.1:8786"])
    assert result.exit_code == 2
    assert "--scheduler needs --engine dask" in result.output


def test_its_local_cluster_workers_end_with_this_process(monkeypatch, tmp_path, juki_mapping,
                                                        generated):
    """The engine's own LocalCluster registers the parent guard: every worker process is tied to
    this one (tests/run/test_orphans.py kills a real run to see them end)."""
    import os

    import distributed

    def state() -> tuple[int, bool]:
        import multiprocessing

        from migrate.run import chunkwork

        return multiprocessing.parent_process().pid, chunkwork._GUARDED

    seen = {}
    register = distributed.Client.register_plugin

    def spy(client, plugin, *args, **kwargs):
        answer = register(client, plugin, *args, **kwargs)
        seen[plugin.name] = client.run(state)
        return answer

    monkeypatch.setattr(distributed.Client, "register_plugin", spy)
    chunk = juki_mapping.source.stride * CHUNK_RECORDS * 4
    result = run(RunOptions(juki_mapping, generated, tmp_path / "out", db_url="none",
                            chunk_bytes=chunk, workers=2, engine="dask"))
    assert result.exit_code == 0
    workers = seen["migrate-parent-guard"]
    assert len(workers) == 2
    assert set(workers.values()) == {(os.getpid(), True)}
