"""A whole migration: resident, tax and NHI files of one vendor converted together by a plan,
with the cross-file checks declared in the schemas."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from click.testing import CliRunner

from migrate.cli import main
from migrate.layouts.plan import load_plan
from migrate.run.plan import run_plan
from migrate.synth.sets import generate_set

FILES = {"juki.dat": "juki", "zeimu.dat": "zeimu", "kokuho_setai.dat": "kokuho_setai",
         "kokuho.csv": "kokuho", "kokuho_fuka.dat": "kokuho_fuka"}


def _rejects(out: Path, name: str) -> pl.DataFrame:
    return pl.read_csv(out / name / "rejects.csv", infer_schema=False)


@pytest.fixture(scope="module")
def defect_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Any]:
    folder = tmp_path_factory.mktemp("set")
    generate_set(folder, 3000, seed=11, defects=6)
    out = folder / "out"
    result = run_plan(load_plan(folder / "migration.yaml"), out, workers=1)
    return folder, out, result


def test_injected_cross_file_defects_are_rejected_where_listed_and_nothing_else(
        defect_run: tuple[Path, Path, Any]) -> None:
    folder, out, result = defect_run
    defects = json.loads((folder / "defects.json").read_text(encoding="utf-8"))
    expected = {(d["file"], d["record"], d["expected_reason"]) for d in defects}
    found = set()
    for file, name in FILES.items():
        for record, reason in _rejects(out, name).select("record", "reason").iter_rows():
            found.add((file, int(record), reason))
    assert found == expected
    kinds = {d["kind"] for d in defects}
    assert kinds == {"orphan_tax_record", "household_without_head", "nhi_head_not_resident"}
    assert result.exit_code == 0  # rejects are reported, and everything reconciles


def test_both_sides_are_named(defect_run: tuple[Path, Path, Any]) -> None:
    folder, out, _ = defect_run
    defects = json.loads((folder / "defects.json").read_text(encoding="utf-8"))
    for d in defects:
        rows = _rejects(out, FILES[d["file"]]).filter(pl.col("record") == str(d["record"]))
        detail = rows["detail"][0]
        if d["counterpart"]:
            assert f"record {d['counterpart']['record']}" in detail, (d, detail)
            if d["counterpart"]["file"] != d["file"]:
                assert d["counterpart"]["file"] in detail
        elif d["expected_reason"] == "orphan_reference":
            assert "juki.dat" in detail  # the file that was searched
    headless = {d["record"] for d in defects if d["kind"] == "household_without_head"}
    members = _rejects(out, "juki").filter(pl.col("reason") == "one_head_per_household")
    assert {int(r) for r in members["record"]} == headless
    assert all("no record of the group matches" in d for d in members["detail"])
    # every member of a household is listed under the same household number
    households = members.group_by("value").agg(pl.len())
    assert households.height == 2 and households["len"].sum() == len(headless)


def test_one_run_json_covers_every_file_and_the_cross_file_checks(
        defect_run: tuple[Path, Path, Any]) -> None:
    _, out, _ = defect_run
    document = json.loads((out / "run.json").read_text(encoding="utf-8"))
    assert document["status"] == "reconciled"
    assert document["order"] == ["juki/v1", "zeimu/v1", "kokuho_setai/v1", "kokuho/v1",
                                 "kokuho_fuka/v1", "zeimu_shotoku/v1"]
    assert [f["layout"] for f in document["files"]] == document["order"]
    assert all(f["reconciled"] for f in document["files"])
    checks = {(c["check"], c["layout"], c.get("column") or c.get("name")): c
              for c in document["cross_file"]}
    assert checks[("reference", "zeimu/v1", "atena_no")]["orphans_rejected"] >= 1
    assert checks[("group", "juki/v1", "one_head_per_household")]["records"] > 0
    assert checks[("reference", "kokuho_setai/v1", "setai_nushi_atena")]["checked"]
    assert checks[("reference", "kokuho_fuka/v1", "kokuho_setai_no")]["checked"]
    report = (out / "report.html").read_text(encoding="utf-8")
    for area in ("juki/v1", "zeimu/v1", "kokuho_setai/v1", "kokuho/v1", "kokuho_fuka/v1"):
        assert area in report
    zeimu = document["files"][1]
    assert zeimu["records_by_type"]["income"] > zeimu["records_by_type"]["data"] > 0
    assert zeimu["data_records_read"] == zeimu["accepted"] + zeimu["rejected"]


def test_all_tables_land_in_one_database(defect_run: tuple[Path, Path, Any]) -> None:
    _, out, _ = defect_run
    document = json.loads((out / "run.json").read_text(encoding="utf-8"))
    with sqlite3.connect(out / "migrate.db") as db:
        for f in document["files"]:
            table = f["layout"].split("/")[0]
            assert db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0] == f["rows"]
        # the unconditional reference became a foreign key, the conditional one did not
        fks = {row[2] for row in db.execute("PRAGMA foreign_key_list(kokuho)")}
        assert fks == {"kokuho_setai"}


def test_a_clean_set_has_no_rejects(tmp_path: Path) -> None:
    generate_set(tmp_path, 2000, seed=5)
    result = run_plan(load_plan(tmp_path / "migration.yaml"), tmp_path / "out", db_url="none")
    assert result.exit_code == 0
    for name in FILES.values():
        assert _rejects(tmp_path / "out", name).height == 0


def test_plan_order_follows_references_not_the_file(tmp_path: Path) -> None:
    (tmp_path / "migration.yaml").write_text(
        "migration: test\ninputs:\n"
        "  - {mapping: vendor_a/kokuho_fuka, input: kokuho_fuka.dat}\n"
        "  - {mapping: vendor_a/kokuho, input: kokuho.csv}\n"
        "  - {mapping: vendor_a/zeimu, input: zeimu.dat}\n"
        "  - {mapping: vendor_a/kokuho_setai, input: kokuho_setai.dat}\n"
        "  - {mapping: vendor_a/juki, input: juki.dat}\n", encoding="utf-8")
    plan = load_plan(tmp_path / "migration.yaml")
    assert [i.mapping.target.id for i in plan.inputs] == [
        "juki/v1", "zeimu/v1", "kokuho_setai/v1", "kokuho_fuka/v1", "kokuho/v1"]
    (tmp_path / "migration.yaml").write_text(
        "inputs:\n  - {mapping: vendor_a/juki, input: a.dat}\n"
        "  - {mapping: vendor_a/zeimu, input: zeimu.dat}\n"
        "  - {mapping: vendor_a/juki, input: b.dat}\n", encoding="utf-8")
    plan = load_plan(tmp_path / "migration.yaml")  # a layout is done when all its files are
    assert [i.name for i in plan.inputs] == ["juki/a", "juki/b", "zeimu"]


def test_two_files_of_one_layout_share_a_table_and_their_keys(tmp_path: Path, db_url: str,
                                                                juki_mapping) -> None:
    """E.g. current residents and removed residents exported separately: both load juki, a key
    in the second file that the first already had is a duplicate naming the first file."""
    import sqlalchemy as sa

    from migrate.synth.generate import generate

    generate(juki_mapping, tmp_path / "current.dat", 300, seed=1)
    generate(juki_mapping, tmp_path / "more.dat", 320, seed=1)  # its first 300 repeat them
    (tmp_path / "migration.yaml").write_text(
        "inputs:\n  - {mapping: vendor_a/juki, input: current.dat}\n"
        "  - {mapping: vendor_a/juki, input: more.dat}\n", encoding="utf-8")
    plan = load_plan(tmp_path / "migration.yaml")
    assert [i.name for i in plan.inputs] == ["juki/current", "juki/more"]
    for attempt in ("first", "again"):  # a second run replaces, then appends, again
        result = run_plan(plan, tmp_path / attempt, db_url=db_url, workers=1)
        assert result.exit_code == 0, attempt
    out = tmp_path / "again"
    rejects = _rejects(out, "juki/more")
    assert rejects.height == 300 and set(rejects["reason"]) == {"duplicate_key"}
    assert rejects["detail"][0] == "same key as current.dat record 2"
    assert _rejects(out, "juki/current").height == 0
    document = json.loads((out / "juki" / "more" / "run.json").read_text(encoding="utf-8"))
    invariants = {i["name"]: i for i in document["reconciliation"]["invariants"]}
    assert invariants["db_rows:juki"]["expected"] == 320 and invariants["db_rows:juki"]["ok"]
    assert invariants["sink_rows:database"]["actual"] == 20
    engine = sa.create_engine(db_url)
    try:
        with engine.connect() as conn:
            assert conn.exec_driver_sql("SELECT COUNT(*) FROM juki").scalar() == 320
    finally:
        engine.dispose()
    checked = CliRunner().invoke(main, ["reconcile", str(out), "--db", db_url])
    assert checked.exit_code == 0, checked.output


def test_cli_generates_and_runs_a_set(tmp_path: Path) -> None:
    runner = CliRunner()
    generated = runner.invoke(main, ["generate", "--set", "vendor_a", "--rows", "1500",
                                     "--out", str(tmp_path / "set")])
    assert generated.exit_code == 0, generated.output
    ran = runner.invoke(main, ["run", str(tmp_path / "set" / "migration.yaml"), "--out",
                               str(tmp_path / "out"), "--db", "none"])
    assert ran.exit_code == 0, ran.output
    assert (tmp_path / "out" / "zeimu" / "zeimu.parquet").is_file()
    missing = runner.invoke(main, ["run", str(tmp_path / "set" / "juki.dat"), "--out",
                                   str(tmp_path / "x")])
    assert missing.exit_code == 2 and "--mapping" in missing.output


def test_plan_into_one_database_twice(db_url: str, tmp_path: Path) -> None:
    """SQLite and PostgreSQL: every table loaded, foreign keys between the areas, and a second
    run of the same plan replaces the tables (dependents included) instead of failing."""
    import sqlalchemy as sa

    generate_set(tmp_path / "set", 1500, seed=2, defects=3)
    plan = load_plan(tmp_path / "set" / "migration.yaml")
    for attempt in ("first", "second"):
        result = run_plan(plan, tmp_path / attempt, db_url=db_url, workers=1)
        assert result.exit_code == 0, attempt
    engine = sa.create_engine(db_url)
    try:
        inspector = sa.inspect(engine)
        assert {"juki", "zeimu", "kokuho_setai", "kokuho", "kokuho_fuka"} <= set(
            inspector.get_table_names())
        targets = {fk["referred_table"] for fk in inspector.get_foreign_keys("kokuho_setai")}
        assert targets == {"juki"}
        assert inspector.get_foreign_keys("zeimu") == []  # conditional (住登外): no FK
        document = json.loads((tmp_path / "second" / "run.json").read_text(encoding="utf-8"))
        with engine.connect() as conn:
            for f in document["files"]:
                table = f["layout"].split("/")[0]
                count = conn.exec_driver_sql(f"SELECT COUNT(*) FROM {table}").scalar()
                assert count == f["rows"]
    finally:
        engine.dispose()


def _jutogai_member_who_is_a_resident(folder: Path) -> int:
    """Generate a set, then give one 住登外 NHI member (kokuho.csv) a resident's 宛名番号: the
    same person in two files. Returns that line's 0-based index."""
    generate_set(folder, 3000, seed=4)
    path = folder / "kokuho.csv"
    lines = path.read_bytes().split(b"\r\n")
    flag, person = lines[0].decode("cp932").split(",").index("住登外区分"), 1
    resident = next(line.split(b",")[person] for line in lines[1:]
                    if line.startswith(b"D,") and line.split(b",")[flag] == b"0")
    target = next(i for i, line in enumerate(lines) if line.startswith(b"D,")
                  and line.split(b",")[flag] == b"1")
    cells = lines[target].split(b",")
    cells[person] = resident
    lines[target] = b",".join(cells)
    path.write_bytes(b"\r\n".join(lines))
    return target


def test_a_jutogai_member_found_among_residents_is_a_warning_with_both_records(
        tmp_path: Path) -> None:
    target = _jutogai_member_who_is_a_resident(tmp_path)
    out = tmp_path / "out"
    result = run_plan(load_plan(tmp_path / "migration.yaml"), out, db_url="none", workers=1)
    assert result.exit_code == 0
    warnings = pl.read_csv(out / "kokuho" / "warnings.csv", infer_schema=False)
    row = warnings.filter(pl.col("reason") == "jutogai_but_resident")
    assert row["record"].to_list() == [str(target + 1)]
    assert "juki.dat record" in row["detail"][0]
    assert _rejects(out, "kokuho").height == 0  # kept: a warning, not a reject


def test_unless_found_error_makes_the_same_person_in_both_files_a_reject(
        tmp_path: Path) -> None:
    from dataclasses import replace

    target = _jutogai_member_who_is_a_resident(tmp_path)
    plan = load_plan(tmp_path / "migration.yaml")
    strict = []
    for item in plan.inputs:
        schema = item.mapping.target
        columns = tuple(replace(c, references=replace(c.references, found="error"))
                        if c.references and c.references.unless else c for c in schema.columns)
        strict.append(replace(item, mapping=replace(item.mapping,
                                                    target=replace(schema, columns=columns))))
    plan = replace(plan, inputs=tuple(strict))  # as if the schemas said unless_found: error
    run_plan(plan, tmp_path / "out", db_url="none", workers=1)
    rejects = _rejects(tmp_path / "out", "kokuho")
    assert rejects.select("record", "reason").rows() == [(str(target + 1),
                                                          "jutogai_but_resident")]


def test_reconcile_a_plan_folder_checks_every_area(defect_run: tuple[Path, Path, Any]) -> None:
    _, out, _ = defect_run
    runner = CliRunner()
    whole = runner.invoke(main, ["reconcile", str(out)])
    assert whole.exit_code == 0, whole.output
    for table in ("juki", "zeimu", "kokuho_setai", "kokuho"):
        assert f"table {table}" in whole.output
    one = runner.invoke(main, ["reconcile", str(out / "zeimu")])  # finds the plan's database
    assert one.exit_code == 0 and "table zeimu" in one.output


def test_a_household_with_two_heads_names_both(tmp_path: Path, juki_mapping) -> None:
    from migrate.run.pipeline import RunOptions, run
    from migrate.synth.generate import generate

    path = tmp_path / "juki.dat"
    generate(juki_mapping, path, 400, seed=9)
    clean = run(RunOptions(juki_mapping, path, tmp_path / "clean", db_url="none", workers=1))
    assert clean.exit_code == 0
    rows = pl.read_csv(tmp_path / "clean" / "juki.csv", infer_schema=False)
    current = rows.filter(pl.col("jumin_jotai") == "1")
    sizes = current.group_by("setai_no").agg(pl.len(), pl.col("src_record"),
                                             pl.col("zokugara"))
    household = sizes.filter(pl.col("len") >= 3).row(0, named=True)
    setai, records, relations = (household["setai_no"], household["src_record"],
                                 household["zokugara"])
    head = int(records[relations.index("世帯主")])
    other = int(next(r for r, z in zip(records, relations, strict=True) if z != "世帯主"))
    spec = juki_mapping.fields["zokugara"]
    stride = juki_mapping.source.stride
    data = bytearray(path.read_bytes())
    start = (other - 1) * stride + spec.offset
    data[start:start + spec.length] = b"01".ljust(spec.length)
    path.write_bytes(bytes(data))
    result = run(RunOptions(juki_mapping, path, tmp_path / "out", db_url="none", workers=1))
    rejects = pl.read_csv(tmp_path / "out" / "rejects.csv", infer_schema=False)
    assert set(rejects["reason"]) == {"one_head_per_household"}
    assert {int(r) for r in rejects["record"]} == {int(r) for r in records}
    detail = rejects["detail"][0]
    assert f"records {min(head, other)}, {max(head, other)}" in detail
    assert set(rejects["value"]) == {setai}
    assert result.exit_code == 0 and result.ledger.ok


def test_a_broken_file_skips_only_the_files_that_refer_to_it(tmp_path: Path) -> None:
    generate_set(tmp_path, 1500, seed=3)
    (tmp_path / "zeimu.dat").write_bytes((tmp_path / "zeimu.dat").read_bytes()[:1000])
    result = run_plan(load_plan(tmp_path / "migration.yaml"), tmp_path / "out", db_url="none")
    assert result.exit_code == 2
    assert [item.mapping.target.id for item, _ in result.failed] == ["zeimu/v1"]
    assert "zeimu/v1" not in {item.mapping.target.id for item, _ in result.results}
    assert "kokuho/v1" in {item.mapping.target.id for item, _ in result.results}
    # one publish point: nothing is published, the evidence is in the failed-run folder
    assert not (tmp_path / "out").exists()
    assert result.run_json.parent.name.startswith("out.failed-")
    document = json.loads(result.run_json.read_text(encoding="utf-8"))
    assert document["status"] == "failed"
    assert not list(result.run_json.parent.rglob("*.csv")) or all(
        p.name in ("rejects.csv", "warnings.csv") for p in result.run_json.parent.rglob("*.csv"))
    zeimu = next(c for c in document["cross_file"] if c["layout"] == "zeimu/v1"
                 and c["check"] == "reference")
    assert (zeimu["checked"], zeimu["why"]) == (False, "file not converted")
    # the resident file itself broken: everything that refers to it is skipped
    (tmp_path / "juki.dat").write_bytes((tmp_path / "juki.dat").read_bytes()[:1000])
    again = run_plan(load_plan(tmp_path / "migration.yaml"), tmp_path / "out2", db_url="none")
    inputs = load_plan(tmp_path / "migration.yaml").inputs  # zeimu.dat twice
    assert again.results == [] and len(again.skipped) == len(inputs) - 1 == len(FILES)
    document = json.loads(again.run_json.read_text(encoding="utf-8"))
    assert all(f["status"] == "error" for f in document["files"])


def test_bad_plans_give_a_clear_error_and_no_traceback(tmp_path: Path, runner) -> None:
    plan = tmp_path / "migration.yaml"
    plan.write_text("inputs:\n  - {mapping: vendor_a/juki, input: juki.dat, colour: red}\n",
                    encoding="utf-8")
    typo = runner.invoke(main, ["run", str(plan), "--out", str(tmp_path / "a")])
    assert typo.exit_code == 2 and "migration.yaml:2" in typo.output
    assert "unknown key 'colour'" in typo.output and "Traceback" not in typo.output
    plan.write_text("inputs:\n  - {mapping: vendor_a/juki, input: nowhere.dat}\n",
                    encoding="utf-8")
    missing = runner.invoke(main, ["run", str(plan), "--out", str(tmp_path / "b")])
    assert missing.exit_code == 2 and "nowhere.dat" in missing.output
    assert "Traceback" not in missing.output
    assert not (tmp_path / "b").exists()  # nothing that looks complete
    failed = next(tmp_path.glob("b.failed-*"))
    assert not (failed / "juki" / "juki.csv").exists()
    document = json.loads((failed / "run.json").read_text(encoding="utf-8"))
    assert document["status"] == "failed" and document["files"][0]["status"] == "error"
