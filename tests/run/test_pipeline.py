"""End to end: generated legacy file → migrate run → outputs that reconcile."""

from __future__ import annotations

import hashlib
import json
import stat
from pathlib import Path

import polars as pl
import pytest
import sqlalchemy as sa

from migrate.errors import InputFormatError
from migrate.run.pipeline import RunOptions, run
from migrate.synth.generate import generate

ROWS = 3000
DEFECTS = 24


@pytest.fixture(scope="module")
def generated(tmp_path_factory, juki_mapping) -> Path:
    path = tmp_path_factory.mktemp("in") / "juki.dat"
    generate(juki_mapping, path, ROWS, seed=7, defects=DEFECTS)
    return path


@pytest.fixture(scope="module")
def result(tmp_path_factory, juki_mapping, generated):
    out = tmp_path_factory.mktemp("out")
    return out, run(RunOptions(juki_mapping, generated, out))


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_reconciles(result):
    out, res = result
    assert res.exit_code == 0
    ledger = res.ledger
    assert ledger.data_read == ROWS
    assert ledger.accepted + ledger.rejected == ROWS
    assert ledger.rejected == DEFECTS
    assert all(inv.ok for inv in ledger.invariants)
    names = {inv.name for inv in ledger.invariants}
    assert {"trailer_count", "control_total_source:atena_no", "control_total_output:atena_no",
            "sink_rows:csv", "sink_rows:parquet", "sink_rows:database"} <= names


def test_every_injected_defect_is_rejected_with_its_reason(result, generated):
    out, _ = result
    defects = json.loads(Path(f"{generated}.defects.json").read_text())["defects"]
    rejects = pl.read_csv(out / "rejects.csv", infer_schema=False)
    found = {(int(r), reason) for r, reason in rejects.select("record", "reason").iter_rows()}
    for defect in defects:
        assert (defect["record"], defect["expected_reason"]) in found, defect
    # and nothing else was rejected
    assert {int(r) for r in rejects["record"]} == {d["record"] for d in defects}


def test_reject_rows_are_precise_and_masked(result, juki_mapping):
    out, _ = result
    rejects = pl.read_csv(out / "rejects.csv", infer_schema=False)
    for row in rejects.iter_rows(named=True):
        record, offset = int(row["record"]), int(row["offset"])
        field = juki_mapping.fields[row["field"]]
        assert offset == (record - 1) * juki_mapping.source.stride + field.offset
        assert row["message"]
    my_numbers = rejects.filter(pl.col("reason") == "my_number_check_digit")["value"]
    assert all(v.startswith("********") for v in my_numbers)
    names = rejects.filter(pl.col("field") == "shimei")["value"]
    assert all(set(v) <= set("*<> 0123456789ABCDEF\u3000") for v in names), names.to_list()


def test_the_workbooks_hold_the_problem_lists_and_are_published_with_them(result, runner):
    """rejects.xlsx and warnings.xlsx: the CSVs' rows (values masked alike), hashed in run.json
    and checked by migrate reconcile like every output."""
    import openpyxl

    from migrate.cli import main

    out, _ = result
    for name in ("rejects", "warnings"):
        frame = pl.read_csv(out / f"{name}.csv", infer_schema=False)
        rows = list(openpyxl.load_workbook(out / f"{name}.xlsx").active.iter_rows(
            values_only=True))
        assert len(rows) == frame.height + 1
        assert [r[6] for r in rows[1:]] == frame["value"].to_list()  # the masked values
        assert [r[0] for r in rows[1:]] == [int(v) for v in frame["record"]]
        assert stat.S_IMODE((out / f"{name}.xlsx").stat().st_mode) == 0o600
    outputs = json.loads((out / "run.json").read_text())["outputs"]
    assert outputs["rejects_xlsx"]["sha256"] == sha(out / "rejects.xlsx")
    assert outputs["warnings_xlsx"]["sha256"] == sha(out / "warnings.xlsx")
    checked = runner.invoke(main, ["reconcile", str(out), "-v"])
    assert checked.exit_code == 0 and "(file:rejects_xlsx)" in checked.output, checked.output


def test_outputs_agree_with_each_other_and_run_json(result, juki_mapping):
    out, res = result
    columns = juki_mapping.target.column_names
    csv = pl.read_csv(out / "juki.csv", infer_schema=False)
    parquet = pl.read_parquet(out / "juki.parquet")
    assert csv.columns == columns and parquet.columns == columns
    assert csv.height == parquet.height == res.ledger.accepted
    assert csv["atena_no"].n_unique() == csv.height
    engine = sa.create_engine(f"sqlite:///{out / 'migrate.db'}")
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT COUNT(*) FROM juki")).scalar() == csv.height
        tables = set(sa.inspect(conn).get_table_names())
    engine.dispose()
    assert tables == {"juki", "migrate_columns"}  # no staging table left behind
    doc = json.loads((out / "run.json").read_text())
    assert doc["status"] == "reconciled" and doc["exit_code"] == 0
    for entry in doc["outputs"].values():
        assert entry["sha256"] == sha(Path(entry["path"]))
    assert doc["reconciliation"]["accepted"] == res.ledger.accepted
    assert doc["input"]["sha256"] == sha(Path(doc["input"]["path"]))


def test_outputs_are_owner_only_and_no_temp_files(result):
    out, _ = result
    for path in out.iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
        assert not path.name.startswith("."), path


def test_standard_values(result):
    out, _ = result
    csv = pl.read_csv(out / "juki.csv", infer_schema=False)
    assert set(csv["sex"].unique()) <= {"0", "1", "2", "9"}
    assert csv["birth_date"].str.contains(r"^\d{4}(-\d{2}(-\d{2})?)?$").all()
    assert csv["idou_date"].str.contains(r"^\d{4}-\d{2}-\d{2}$").all()
    kana = csv["shimei_kana"].drop_nulls()
    assert not kana.str.contains("[\uff61-\uff9f]").any()  # no half-width kana left
    assert not csv["shimei"].str.contains("[\ue000-\uf8ff]").any()  # no PUA leaked
    assert (csv["lg_code"].str.len_chars() == 6).all()


def test_pii_not_in_run_json(result):
    out, _ = result
    text = (out / "run.json").read_text()
    csv = pl.read_csv(out / "juki.csv", infer_schema=False)
    for value in csv["kojin_no"].drop_nulls().head(50):
        assert value not in text
    for value in csv["shimei"].head(50):
        assert value not in text


def test_parquet_footer_has_no_personal_data(result, juki_mapping):
    """Min/max statistics are kept for dates and numbers only, never for a personal column
    (the footer of a names column would show two residents' names to any metadata dump);
    dictionary encoding is left out where values do not repeat."""
    import pyarrow.parquet as pq

    out, _ = result
    meta = pq.ParquetFile(out / "juki.parquet").metadata
    columns = {meta.row_group(0).column(i).path_in_schema: meta.row_group(0).column(i)
               for i in range(meta.num_columns)}
    assert not columns["shimei"].is_stats_set and not columns["kojin_no"].is_stats_set
    assert columns["shori_date"].is_stats_set and columns["setai_order"].is_stats_set
    assert "RLE_DICTIONARY" in columns["addr_city"].encodings
    assert "RLE_DICTIONARY" not in columns["atena_no"].encodings
    assert "RLE_DICTIONARY" not in columns["shimei"].encodings


def test_chunking_does_not_change_results(tmp_path, juki_mapping, generated, result):
    out, res = result
    small = run(RunOptions(juki_mapping, generated, tmp_path, chunk_bytes=432 * 97))
    assert small.ledger.as_dict()["rejected_records_by_reason"] == \
        res.ledger.as_dict()["rejected_records_by_reason"]
    assert sha(tmp_path / "juki.csv") == sha(out / "juki.csv")
    assert sha(tmp_path / "rejects.csv") == sha(out / "rejects.csv")


def test_rerun_replaces_database_rows(tmp_path, juki_mapping, generated):
    first = run(RunOptions(juki_mapping, generated, tmp_path))
    second = run(RunOptions(juki_mapping, generated, tmp_path))
    assert first.exit_code == second.exit_code == 0
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'migrate.db'}")
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT COUNT(*) FROM juki")).scalar() == \
            second.ledger.accepted
    engine.dispose()


def _patch(path: Path, offset: int, data: bytes) -> None:
    raw = bytearray(path.read_bytes())
    raw[offset:offset + len(data)] = data
    path.write_bytes(bytes(raw))


def test_trailer_count_mismatch_fails(tmp_path, juki_mapping):
    path = tmp_path / "in.dat"
    generate(juki_mapping, path, 50, seed=3)
    stride = juki_mapping.source.stride
    _patch(path, 51 * stride + 1, b"000000049")  # trailer says 49
    res = run(RunOptions(juki_mapping, path, tmp_path / "out"))
    assert res.exit_code == 1
    failed = [inv for inv in res.ledger.invariants if not inv.ok]
    assert [inv.name for inv in failed] == ["trailer_count"]
    # nothing is published: the evidence is in the failed-run folder beside OUT
    assert not (tmp_path / "out").exists()
    assert res.run_json.parent.name.startswith("out.failed-")
    assert json.loads(res.run_json.read_text())["status"] == "failed"
    assert sorted(p.name for p in res.run_json.parent.iterdir()) == [
        "rejects.csv", "rejects.xlsx", "report.html", "run.json", "warnings.csv",
        "warnings.xlsx"]


def test_missing_trailer_fails(tmp_path, juki_mapping):
    path = tmp_path / "in.dat"
    generate(juki_mapping, path, 20, seed=3)
    data = path.read_bytes()
    path.write_bytes(data[:-juki_mapping.source.stride])
    res = run(RunOptions(juki_mapping, path, tmp_path / "out"))
    assert res.exit_code == 1
    assert any(inv.name == "trailer_present" and not inv.ok for inv in res.ledger.invariants)


def test_max_rejects(tmp_path, juki_mapping, generated):
    res = run(RunOptions(juki_mapping, generated, tmp_path, max_rejects=DEFECTS - 1))
    assert res.max_rejects_exceeded and res.exit_code == 1
    res = run(RunOptions(juki_mapping, generated, tmp_path, max_rejects=DEFECTS))
    assert res.exit_code == 0


def test_broken_framing_mid_file_commits_nothing(tmp_path, juki_mapping):
    path = tmp_path / "in.dat"
    generate(juki_mapping, path, 400, seed=3)
    stride = juki_mapping.source.stride
    _patch(path, 300 * stride - 2, b"XX")  # record 300 loses its CRLF
    out = tmp_path / "out"
    with pytest.raises(InputFormatError) as info:
        run(RunOptions(juki_mapping, path, out, chunk_bytes=stride * 64))
    assert info.value.record == 300
    assert not out.exists()  # nothing published, and no staging folder left behind
    assert sorted(p.name for p in tmp_path.iterdir() if p.name != "in.dat.defects.json") \
        == [".out.lock", "in.dat"]


def test_failed_rerun_keeps_previous_outputs(tmp_path, juki_mapping, generated):
    out = tmp_path / "out"
    good = run(RunOptions(juki_mapping, generated, out))
    before = sha(out / "juki.csv")
    broken = tmp_path / "broken.dat"
    data = bytearray(generated.read_bytes())
    data[1000 * juki_mapping.source.stride - 1] = ord("X")
    broken.write_bytes(bytes(data))
    with pytest.raises(InputFormatError):
        run(RunOptions(juki_mapping, broken, out, chunk_bytes=432 * 100))
    assert sha(out / "juki.csv") == before
    engine = sa.create_engine(f"sqlite:///{out / 'migrate.db'}")
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT COUNT(*) FROM juki")).scalar() == \
            good.ledger.accepted
    engine.dispose()


def test_workers_do_not_change_outputs(tmp_path, juki_mapping, generated, result):
    """Two worker processes, many small chunks: byte-identical outputs and the same ledger."""
    out, res = result
    parallel = run(RunOptions(juki_mapping, generated, tmp_path, chunk_bytes=432 * 250,
                              workers=2))
    assert parallel.exit_code == 0
    assert parallel.ledger.as_dict() == res.ledger.as_dict()
    for name in ("juki.csv", "rejects.csv", "warnings.csv"):
        assert sha(tmp_path / name) == sha(out / name), name
    assert pl.read_parquet(tmp_path / "juki.parquet").equals(pl.read_parquet(out / "juki.parquet"))


def test_worker_input_error_is_reported_precisely(tmp_path, juki_mapping):
    path = tmp_path / "in.dat"
    generate(juki_mapping, path, 2000, seed=3)
    stride = juki_mapping.source.stride
    _patch(path, 1500 * stride - 2, b"XX")
    with pytest.raises(InputFormatError) as info:
        run(RunOptions(juki_mapping, path, tmp_path / "out", chunk_bytes=stride * 300,
                       workers=2))
    assert info.value.record == 1500
    assert not (tmp_path / "out" / "juki.csv").exists()


def test_chunk_outcome_travels_between_processes_unchanged(tmp_path, juki_mapping,
                                                           generated):
    """Outcomes cross the process boundary as Arrow tables: every frame, series and count
    must come back equal, with the same column types."""
    import pickle

    from migrate.run.chunkwork import ChunkWorker
    from migrate.run.pipeline import Pipeline

    pipeline = Pipeline(RunOptions(juki_mapping, generated, tmp_path, chunk_bytes=1 << 20))
    outcome = ChunkWorker(pipeline.context).process(*pipeline.reader.plan()[0])
    assert outcome.errors.height and outcome.candidates.height  # the file has defects
    back = pickle.loads(pickle.dumps(outcome))
    for name, value in vars(outcome).items():
        other = vars(back)[name]
        if isinstance(value, pl.DataFrame):
            assert value.schema == other.schema and value.equals(other), name
        elif isinstance(value, dict):
            assert value.keys() == other.keys()
            assert all(v.equals(other[k]) if isinstance(v, pl.DataFrame) else v == other[k]
                       for k, v in value.items()), name
        elif isinstance(value, pl.Series):
            assert value.equals(other), name
        else:
            assert value == other, name
