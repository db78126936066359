"""A database as the source of export and diff: the tables `migrate run --db` loaded, read in
batches and typed by their layouts, on SQLite (test_package, test_diff) and here PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from migrate.cli import main
from migrate.export.diff import DiffOptions, diff
from migrate.export.package import ExportOptions, export
from migrate.export.verify import verify


@pytest.fixture
def pg_out(pg_url, tmp_path) -> tuple[str, Path]:
    """A vendor_a set (five files, six layouts) converted into a fresh PostgreSQL database (and its files)."""
    from migrate.layouts.plan import load_plan
    from migrate.run.plan import run_plan
    from migrate.synth.sets import generate_set

    generate_set(tmp_path / "input", 120, seed=11, defects=0)
    run_plan(load_plan(tmp_path / "input" / "migration.yaml"), tmp_path / "out",
             db_url=pg_url, workers=1)
    return pg_url, tmp_path / "out"


def test_export_from_postgresql_equals_the_export_from_the_files(pg_out, tmp_path):
    url, out = pg_out
    from_db = export(ExportOptions(url, tmp_path / "db"))
    from_files = export(ExportOptions(out, tmp_path / "files"))
    assert len(from_db.files) == 6
    assert {f.path: f.sha256 for f in from_db.files} == \
        {f.path: f.sha256 for f in from_files.files}
    assert verify(tmp_path / "db").ok
    parquet = export(ExportOptions(url, tmp_path / "pq", layouts=["zeimu/v1"],
                                   format="parquet"))
    assert [f.layout for f in parquet.files] == ["zeimu/v1"] and verify(tmp_path / "pq").ok


def test_diff_of_a_postgresql_table_finds_a_changed_and_a_deleted_row(pg_out, tmp_path,
                                                                        runner):
    url, out = pg_out
    same = diff(DiffOptions(url, out, layout="juki/v1")).document
    assert same["equal"] is True and same["a"]["rows"] == same["b"]["rows"] > 0
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        first, second = conn.execute(sa.text(
            "SELECT atena_no FROM juki ORDER BY atena_no LIMIT 2")).scalars().all()
        conn.execute(sa.text("DELETE FROM juki WHERE atena_no = :a"), {"a": first})
        conn.execute(sa.text("UPDATE juki SET shimei_kana = 'ヘンコウ' WHERE atena_no = :a"),
                     {"a": second})
    engine.dispose()
    document = diff(DiffOptions(out, url, layout="juki/v1")).document
    assert document["only_in_a"]["count"] == 1 and document["only_in_b"]["count"] == 0
    assert document["changed"]["count"] == 1
    assert list(document["changed"]["by_column"]) == ["shimei_kana"]
    done = runner.invoke(main, ["diff", out.as_posix(), url, "--layout", "juki/v1", "--out",
                                str(tmp_path / "d")])
    assert done.exit_code == 1, done.output
    assert (tmp_path / "d" / "diff.json").is_file() and (tmp_path / "d" / "diff.html").is_file()
