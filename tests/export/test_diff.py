"""migrate diff: exactly the injected deleted, added and changed rows, counted per column."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest

from migrate.cli import main
from migrate.errors import UsageError
from migrate.export.diff import DiffOptions, diff


@pytest.fixture(scope="module")
def sides(plan_out, tmp_path_factory) -> tuple[Path, Path, dict]:
    """A = the run's juki Parquet; B = its CSV with 3 rows deleted, 2 added, and changes."""
    root = tmp_path_factory.mktemp("diff")
    a = plan_out / "juki"
    rows = pl.read_csv(plan_out / "juki" / "juki.csv", infer_schema=False)
    deleted = rows["atena_no"].slice(10, 3).to_list()
    b = rows.filter(~pl.col("atena_no").is_in(deleted))
    added = b.head(2).with_columns(pl.Series("atena_no", ["900000001", "900000002"]))
    index = pl.int_range(pl.len())
    b = pl.concat([b.with_columns(
        pl.when(index.is_in([20, 21, 22])).then(pl.lit("ヘンコウ")).otherwise(
            pl.col("shimei_kana")).alias("shimei_kana"),
        pl.when(index == 22).then(pl.lit("1999-01-01")).otherwise(pl.col("birth_date"))
        .alias("birth_date"),
        pl.when(index == 30).then(pl.col("src_record").cast(pl.Int64) + 1)
        .otherwise(pl.col("src_record").cast(pl.Int64)).cast(pl.Utf8).alias("src_record")),
        added])
    changed = b["atena_no"].gather([20, 21, 22, 30]).to_list()
    b.write_csv(root / "b.csv")
    return a, root / "b.csv", {"deleted": deleted, "added": ["900000001", "900000002"],
                               "changed": changed}


@pytest.mark.parametrize("bucket_rows", [None, 40], ids=["one-bucket", "many-buckets"])
def test_finds_exactly_the_injected_changes(sides, monkeypatch, bucket_rows):
    if bucket_rows:  # keys spilled in buckets of ~40 rows, rows compared in small batches
        monkeypatch.setattr("migrate.export.spill.BUCKET_ROWS", bucket_rows)
        monkeypatch.setattr("migrate.export.diff.KEY_BATCH", 2)
    a, b, injected = sides
    document = diff(DiffOptions(a, b, layout="juki/v1")).document
    assert document["key"] == ["atena_no"]
    assert document["only_in_a"]["count"] == 3
    assert sorted(document["only_in_a"]["sample"]) == sorted(injected["deleted"])
    assert document["only_in_b"]["count"] == 2
    assert sorted(document["only_in_b"]["sample"]) == injected["added"]
    assert document["changed"]["count"] == 4
    assert sorted(document["changed"]["sample"]) == sorted(injected["changed"])
    by_column = {c: v["count"] for c, v in document["changed"]["by_column"].items()}
    assert by_column == {"shimei_kana": 3, "birth_date": 1, "src_record": 1}
    assert document["equal"] is False


def test_ignored_columns_and_equal_sides(sides, plan_out):
    a, b, _ = sides
    document = diff(DiffOptions(a, b, layout="juki/v1",
                                ignore=["shimei_kana", "birth_date", "src_record"])).document
    assert document["changed"]["count"] == 0 and document["only_in_a"]["count"] == 3
    same = diff(DiffOptions(plan_out / "juki", plan_out / "juki" / "juki.csv",
                            layout="juki/v1")).document
    assert same["equal"] is True and same["a"]["rows"] == same["b"]["rows"]


def test_numeric_tolerance(plan_out, tmp_path):
    rows = pl.read_csv(plan_out / "kokuho_fuka" / "kokuho_fuka.csv", infer_schema=False)
    bumped = rows.with_columns((pl.col("nengaku").cast(pl.Int64) + 1).cast(pl.Utf8))
    bumped.write_csv(tmp_path / "b.csv")
    strict = diff(DiffOptions(plan_out / "kokuho_fuka", tmp_path / "b.csv",
                              layout="kokuho_fuka/v1")).document
    assert strict["changed"]["by_column"]["nengaku"]["count"] == rows.height
    loose = diff(DiffOptions(plan_out / "kokuho_fuka", tmp_path / "b.csv",
                             layout="kokuho_fuka/v1", tolerance=1)).document
    assert loose["equal"] is True


def test_personal_keys_are_masked(plan_out, tmp_path):
    rows = pl.read_csv(plan_out / "juki" / "juki.csv", infer_schema=False) \
        .filter(pl.col("kojin_no").is_not_null())
    rows.write_csv(tmp_path / "a.csv")
    rows.head(rows.height - 1).write_csv(tmp_path / "b.csv")
    document = diff(DiffOptions(tmp_path / "a.csv", tmp_path / "b.csv", key=["kojin_no"],
                                layout="juki/v1")).document
    [sample] = document["only_in_a"]["sample"]
    last = rows["kojin_no"][-1]
    assert sample == "********" + last[-4:] and last not in json.dumps(document)


def test_usage_errors(plan_out, tmp_path):
    with pytest.raises(UsageError):
        diff(DiffOptions(plan_out, plan_out))  # five layouts: which one?
    with pytest.raises(UsageError):
        diff(DiffOptions(plan_out / "juki", plan_out / "juki", key=["nope"]))


def test_cli_writes_json_and_html_and_exit_codes(runner, sides, plan_out, tmp_path):
    a, b, _ = sides
    done = runner.invoke(main, ["diff", str(a), str(b), "--layout", "juki/v1", "--out",
                                str(tmp_path)])
    assert done.exit_code == 1, done.output
    document = json.loads((tmp_path / "diff.json").read_text(encoding="utf-8"))
    html = (tmp_path / "diff.html").read_text(encoding="utf-8")
    assert 'id="changes-chart"' in html and 'data-column="shimei_kana"' in html
    assert "<script" not in html and "http://" not in html.replace(
        'xmlns="http://www.w3.org/2000/svg"', "")
    assert document["changed"]["count"] == 4
    assert (tmp_path / "diff.html").stat().st_mode & 0o077 == 0
    done = runner.invoke(main, ["diff", str(plan_out / "zeimu"), str(plan_out / "zeimu"),
                                "--out", str(tmp_path / "same")])
    assert done.exit_code == 0, done.output
    done = runner.invoke(main, ["diff", str(tmp_path / "x"), str(a)])
    assert done.exit_code == 2 and "Traceback" not in done.output


def test_a_database_table_against_its_run_folder(db_out):
    document = diff(DiffOptions(f"sqlite:///{db_out / 'migrate.db'}", db_out,
                                layout="kokuho_fuka/v1")).document
    assert document["equal"] is True and document["a"]["rows"] > 0
