"""migrate export: a BagIt bag with datapackage.json, the layout YAML and the cover list."""

from __future__ import annotations

import csv
import hashlib
import json
import subprocess
from pathlib import Path

import polars as pl
import pytest

from migrate.cli import main
from migrate.errors import UsageError
from migrate.export.package import COVER_LIST, ExportOptions, export, parse_info


def _descriptor(package: Path) -> dict:
    return json.loads((package / "data" / "datapackage.json").read_text(encoding="utf-8"))


def test_the_package_is_a_valid_bag_with_every_layout(package):
    import bagit

    bag = bagit.Bag(str(package))
    bag.validate()
    assert bag.info["External-Identifier"] == "R7-契約-001"
    assert "migrate" in bag.info["Bag-Software-Agent"]
    names = {r["name"] for r in _descriptor(package)["resources"]}
    assert names == {"juki", "zeimu", "zeimu_shotoku", "kokuho_setai", "kokuho", "kokuho_fuka"}
    done = subprocess.run(["sha256sum", "-c", "--quiet", "manifest-sha256.txt"], cwd=package,
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def test_files_are_owner_only(package):
    for path in [package, *package.rglob("*")]:
        assert path.stat().st_mode & 0o077 == 0, path


def test_descriptor_gives_bytes_hash_rows_and_explicit_types(package, plan_out):
    data = package / "data"
    for resource in _descriptor(package)["resources"]:
        path = data / resource["path"]
        assert resource["bytes"] == path.stat().st_size
        assert resource["hash"] == "sha256:" + hashlib.sha256(path.read_bytes()).hexdigest()
        assert resource["rows"] == pl.read_csv(path, infer_schema=False).height
        layout = resource["standard_layout"]
        assert (data / layout["schema"]).is_file()
        assert layout["id"] == f"{resource['name']}/v1"
        fields = {f["name"]: f for f in resource["schema"]["fields"]}
        assert set(fields) == set(pl.read_csv(path, n_rows=0).columns)
    juki = next(r for r in _descriptor(package)["resources"] if r["name"] == "juki")
    fields = {f["name"]: f for f in juki["schema"]["fields"]}
    assert fields["atena_no"]["type"] == "string"  # zero-padded ids stay strings
    assert fields["atena_no"]["constraints"]["pattern"] == "^[0-9]+$"
    assert fields["birth_date"]["type"] in ("string", "date")
    assert fields["src_record"]["type"] == "integer"
    assert juki["schema"]["primaryKey"] == ["atena_no"]
    setai = next(r for r in _descriptor(package)["resources"] if r["name"] == "kokuho_setai")
    assert setai["schema"]["foreignKeys"] == [{"fields": ["setai_nushi_atena"],
                                               "reference": {"resource": "juki",
                                                             "fields": ["atena_no"]}}]
    # the code table of kokuho_fuka lives in ../kokuho/codes: it travels too
    assert (data / "schemas" / "kokuho" / "codes" / "zei_or_ryo.csv").is_file()


def test_frictionless_reads_the_package_and_keeps_leading_zeros(package):
    from frictionless import Package

    resource = Package(str(package / "data" / "datapackage.json")).get_resource("juki")
    with resource:
        row = next(iter(resource.row_stream))
    assert isinstance(row["setai_no"], str) and row["setai_no"].startswith("0")


def test_cover_list_names_every_file(package):
    text = (package / "data" / COVER_LIST).read_bytes()
    assert text.startswith(b"\xef\xbb\xbf") and b"\r\n" in text
    rows = list(csv.reader(text.decode("utf-8-sig").splitlines()))
    assert rows[0] == ["ファイル名", "業務", "レイアウト", "件数", "SHA-256", "作成日時"]
    by_name = {r[0]: r for r in rows[1:]}
    for resource in _descriptor(package)["resources"]:
        row = by_name[resource["path"]]
        assert int(row[3]) == resource["rows"]
        assert "sha256:" + row[4] == resource["hash"]
    assert by_name["juki.csv"][1] == "住民記録（個人）"


def test_one_layout_of_a_run_folder(plan_out, tmp_path):
    result = export(ExportOptions(plan_out / "juki", tmp_path / "p"))
    assert [f.layout for f in result.files] == ["juki/v1"]
    original = json.loads((plan_out / "juki" / "run.json").read_text())
    assert result.files[0].rows == original["reconciliation"]["rows"]


def test_layout_filter_and_crlf_cp932(plan_out, tmp_path):
    result = export(ExportOptions(plan_out, tmp_path / "p", layouts=["kokuho_fuka/v1"],
                                  encoding="cp932", newline="crlf"))
    path = tmp_path / "p" / "data" / "kokuho_fuka.csv"
    raw = path.read_bytes()
    assert raw.count(b"\r\n") == result.files[0].rows + 1
    assert raw.decode("cp932").startswith("src_record,")


def test_unencodable_value_stops_and_names_row_and_column(plan_out, tmp_path):
    source = tmp_path / "rows.csv"
    rows = pl.read_csv(plan_out / "juki" / "juki.csv", infer_schema=False).head(5)
    rows = rows.with_columns(pl.when(pl.int_range(pl.len()) == 3).then(pl.lit("𠮷田　太郎"))
                             .otherwise(pl.col("shimei")).alias("shimei"))
    rows.write_csv(source)
    from migrate.layouts import load_schema

    schema = load_schema("juki/v1")
    from migrate.export import source as source_module

    datasets = source_module.find_datasets(source, layout=schema)
    assert datasets[0].schema is schema
    runner_out = tmp_path / "p"
    from migrate.export.package import _write_csv

    with pytest.raises(UsageError) as caught:
        _write_csv(datasets[0], schema.column_names, tmp_path / "x.csv",
                   ExportOptions(source, runner_out, encoding="cp932"))
    error = caught.value
    assert error.field_name == "shimei" and "row 4" in str(error.file)
    assert "U+20BB7" in str(error) and "太郎" not in str(error)  # masked


def test_cli_refuses_a_non_empty_target_and_bad_info(runner, plan_out, tmp_path):
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x").write_text("x")
    done = runner.invoke(main, ["export", "--from", str(plan_out), "--to",
                                str(tmp_path / "full")])
    assert done.exit_code == 2 and "not empty" in done.output
    with pytest.raises(UsageError):
        parse_info(["no-equals"])
    done = runner.invoke(main, ["export", "--from", str(tmp_path / "nowhere"), "--to",
                                str(tmp_path / "p")])
    assert done.exit_code == 2 and "Traceback" not in done.output
    done = runner.invoke(main, ["export", "--from", str(plan_out), "--to", str(tmp_path / "p"),
                                "--layout", "juki/v1", "--info", "Contact-Name=山田"])
    assert done.exit_code == 0, done.output
    assert not list(tmp_path.glob(".p.tmp-*"))


def test_export_from_the_database_equals_the_export_from_the_files(db_out, tmp_path):
    from migrate.export.verify import verify

    url = f"sqlite:///{db_out / 'migrate.db'}"
    from_db = export(ExportOptions(url, tmp_path / "db"))
    from_files = export(ExportOptions(db_out, tmp_path / "files"))
    assert {f.path: f.sha256 for f in from_db.files} == \
        {f.path: f.sha256 for f in from_files.files}
    assert verify(tmp_path / "db").ok
    one = export(ExportOptions(url, tmp_path / "one", layouts=["zeimu/v1"]))
    assert [f.layout for f in one.files] == ["zeimu/v1"]


def test_a_missing_database_is_a_usage_error(runner, tmp_path):
    done = runner.invoke(main, ["export", "--from", f"sqlite:///{tmp_path / 'no.db'}", "--to",
                                str(tmp_path / "p")])
    assert done.exit_code == 2 and "does not exist" in done.output
    assert not (tmp_path / "no.db").exists()
