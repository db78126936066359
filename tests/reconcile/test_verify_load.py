"""A run confirms its staging table against what it sent before publishing: a staged row
changed between the load and the verification is caught, and nothing is published."""

from __future__ import annotations

import sqlalchemy as sa

import migrate.run.pipeline as pipeline
from migrate.reconcile.verify_load import verify_staged
from migrate.run.pipeline import RunOptions, run
from migrate.synth.generate import generate


def _names(url: str, table: str = "juki") -> list[str]:
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        names = conn.exec_driver_sql(f"SELECT shimei FROM {table} ORDER BY atena_no"
                                     ).scalars().all()
    engine.dispose()
    return names


def test_a_staged_row_changed_before_the_verification_is_caught(db_url, tmp_path,
                                                                 juki_mapping, monkeypatch):
    data = tmp_path / "juki.dat"
    generate(juki_mapping, data, 400, seed=4)
    out = tmp_path / "out"
    assert run(RunOptions(juki_mapping, data, out, db_url=db_url, workers=1)).exit_code == 0
    before = _names(db_url)

    def tamper_then_verify(sink, sent, accepted):
        engine = sa.create_engine(sink.url)
        with engine.begin() as conn:  # same length, same totals: only the row hash can tell
            conn.exec_driver_sql(
                f"UPDATE {sink.staging.name} SET shimei = '改竄\u3000太郎' WHERE atena_no = "
                f"(SELECT min(atena_no) FROM {sink.staging.name} WHERE shimei IS NOT NULL "
                "AND shimei <> '改竄\u3000太郎')")
        engine.dispose()
        return verify_staged(sink, sent, accepted)

    monkeypatch.setattr(pipeline, "verify_staged", tamper_then_verify)
    result = run(RunOptions(juki_mapping, data, out, db_url=db_url, workers=1))
    failed = [i.name for i in result.ledger.invariants if not i.ok]
    assert result.exit_code == 1
    assert failed == ["db_load_hash:juki"]
    assert _names(db_url) == before  # the tampered staging table replaced nothing
    assert "改竄\u3000太郎" not in before


def test_a_run_records_the_load_verification_in_run_json(tmp_path, juki_mapping):
    data = tmp_path / "juki.dat"
    generate(juki_mapping, data, 300, seed=5, defects=5)
    result = run(RunOptions(juki_mapping, data, tmp_path / "out", workers=1))
    checks = {i.name: i for i in result.ledger.invariants}
    assert result.exit_code == 0
    assert checks["db_rows:juki"].actual == result.ledger.rows
    assert checks["db_load_hash:juki"].ok
    assert checks["db_load_hash:juki"].expected.startswith(f"{result.ledger.rows}:")
    assert checks["db_load_totals:juki.setai_order"].expected["non_null"] > 0
