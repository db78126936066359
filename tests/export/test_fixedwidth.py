"""migrate export --format fixed: the vendor's fixed-width layout written back from the
standard data, and the round trip legacy → run → export."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import polars as pl
import pytest

from migrate.cli import main
from migrate.errors import UsageError
from migrate.export.diff import DiffOptions, diff
from migrate.export.fixedwidth import child_groups, unkept_fields
from migrate.export.package import ExportOptions, export
from migrate.export.verify import verify
from migrate.layouts import load_mapping

# Characters the generated files spell in more than one way (NEC-selected or IBM extension
# code, or a 外字 code): they decode alike, so the way back picks one spelling.
SEVERAL_SPELLINGS = {"髙", "﨑"}


@pytest.fixture(scope="module")
def clean_set(tmp_path_factory) -> Path:
    """A defect-free vendor_a set, converted (files only): every record is accepted."""
    from migrate.layouts.plan import load_plan
    from migrate.run.plan import run_plan
    from migrate.synth.sets import generate_set

    root = tmp_path_factory.mktemp("fixed")
    generate_set(root / "input", 600, seed=7, defects=0)
    run_plan(load_plan(root / "input" / "migration.yaml"), root / "out", db_url="none",
             workers=1)
    return root / "out"


def _groups(path: Path, mapping) -> list[tuple[bytes, list[bytes]]]:
    """The file's records, each header, data or trailer record with the child records after it."""
    data, stride, rt = path.read_bytes(), mapping.source.stride, mapping.source.record_types
    out: list[tuple[bytes, list[bytes]]] = []
    for start in range(0, len(data), stride):
        record = data[start:start + stride]
        if record[rt.offset:rt.offset + rt.length].decode() in (rt.header, rt.data, rt.trailer):
            out.append((record, []))
        else:
            out[-1][1].append(record)
    return out


def _kept_differently(spec, before: bytes, after: bytes, encoding: str, gaiji) -> bool:
    """A text field holding a character the generator spells in several ways."""
    text = after.decode(encoding)
    return spec.type == "text" and bool(SEVERAL_SPELLINGS & set(text)) and \
        "".join(gaiji.get(c, c) for c in before.decode(encoding)) == text


def _differing(before: bytes, after: bytes, fields) -> list[str]:
    return [name for name, spec in fields.items()
            if before[spec.offset:spec.end] != after[spec.offset:spec.end]]


def _check_round_trip(original, written, mapping, name: str) -> dict[str, int]:
    """Every record the same, field for field, but for fields that feed no standard column and
    characters spelled several ways; zeimu's income records rebuilt from the columns (no
    zeimu_shotoku/v1 in the source) may be merged. Returns what it counted."""
    unkept = set(unkept_fields(mapping))
    groups = {(g.child.code, tuple(g.where.items())): g for g in child_groups(mapping)}
    encoding, gaiji = mapping.source.encoding, mapping.source.gaiji
    seen = dict.fromkeys(("merged", "identical", "spelled", "interest", "children"), 0)
    for (before, children_before), (after, children_after) in zip(original[1:-1],
                                                                   written[1:-1], strict=True):
        differing = _differing(before, after, mapping.fields)
        for field_name in differing:
            spec = mapping.fields[field_name]
            assert field_name in unkept or _kept_differently(
                spec, before[spec.offset:spec.end], after[spec.offset:spec.end], encoding,
                gaiji), field_name
        seen["identical"] += before == after
        seen["spelled"] += bool(differing) and not set(differing) & unkept
        seen["children"] += len(children_before)
        if len(children_after) != len(children_before):  # two salary records, summed
            seen["merged"] += len(children_before) - len(children_after)
            assert len(children_after) < len(children_before)
            continue
        for child_before, child_after in zip(children_before, children_after, strict=True):
            child = next(c for c in mapping.children.values()
                         if child_before.startswith(c.code.encode()))
            group = next(g for (code, where), g in groups.items() if code == child.code and all(
                child_before[child.fields[k].offset:child.fields[k].end] == v.encode()
                for k, v in where))
            by_rule = {n.split(".", 1)[1] for n, wb in mapping.write_back.items()
                       if wb.same_as and dict(wb.where) == group.where}
            seen["interest"] += bool(by_rule)
            for field_name in _differing(child_before, child_after, child.fields):
                assert field_name not in group.columns and field_name not in by_rule, (
                    child.name, field_name)
    return seen


@pytest.mark.parametrize("name", ["juki", "kokuho_setai", "kokuho_fuka", "zeimu"])
def test_round_trip_is_byte_identical_in_every_field_the_standard_data_keeps(
        clean_set, tmp_path, name):
    """legacy file → migrate run (the plan) → export --format fixed: every record the same,
    field for field, but for fields that feed no standard column and characters spelled several
    ways. zeimu's names come back from zeimu/v1 (住登外 taxpayers' too), its income records
    byte for byte from
    zeimu_shotoku/v1 (write_back records): both 給与 records of two employers, the 収入金額 of
    every category, the order; so the trailer is the same too."""
    mapping = load_mapping(f"vendor_a/{name}")
    run = json.loads((clean_set / name / "run.json").read_text(encoding="utf-8"))
    assert run["reconciliation"]["rejected"] == 0
    export(ExportOptions(clean_set, tmp_path / "p", format="fixed", mapping=f"vendor_a/{name}"))
    original = _groups(Path(run["input"]["path"]), mapping)
    written = _groups(tmp_path / "p" / "data" / f"{name}.dat", mapping)
    assert len(written) == len(original)
    assert written[0] == original[0]  # header
    # "filler": the trailing spaces each mapping declares as a field (written back blank)
    assert set(unkept_fields(mapping)) - {"filler"} == {
        "juki": set(), "kokuho_setai": set(),
        "kokuho_fuka": set(),
        "zeimu": set()}[name]
    # names no column of the file's own layout keeps come back from juki/v1 (write_back)
    assert set(mapping.write_back) == {"juki": set(), "kokuho_setai": {"setai_nushi_name"},
                                       "kokuho_fuka": {"setai_nushi_name"},
                                       "zeimu": {"income.shunyu", "income"}}[name]
    seen = _check_round_trip(original, written, mapping, name)
    assert seen["merged"] == 0
    if name == "zeimu":
        # every income record byte for byte, the trailer too (count and control total)
        assert [c for _, c in written[1:-1]] == [c for _, c in original[1:-1]]
        assert written[-1] == original[-1]
        assert any(before[16:17] == b"1" for before, _ in original[1:-1])  # 住登外 too
        # a taxpayer with two 給与 records (two employers) keeps both
        kyuyo = [sum(c[16:18] == b"01" for c in children) for _, children in original[1:-1]]
        assert max(kyuyo) >= 2
    else:
        assert written[-1] == original[-1]  # trailer
    # every data record byte for byte but those holding a name spelled several ways
    assert seen["identical"] + seen["spelled"] == len(original) - 2
    assert seen["identical"] > seen["spelled"]


def test_zeimu_without_its_income_records_layout_rebuilds_them_from_the_columns(
        clean_set, tmp_path):
    """Exported from zeimu's run folder alone (no zeimu_shotoku/v1): each income record is
    rebuilt from the taxpayer's columns, one per category, so two 給与 records come back as one
    holding their sum (the trailer count lower by as many, its control total the same), and 利子
    takes its 収入金額 from its 所得金額 (write_back same_as)."""
    mapping = load_mapping("vendor_a/zeimu")
    run = json.loads((clean_set / "zeimu" / "run.json").read_text(encoding="utf-8"))
    export(ExportOptions(clean_set / "zeimu", tmp_path / "p", format="fixed",
                         mapping="vendor_a/zeimu"))
    original = _groups(Path(run["input"]["path"]), mapping)
    written = _groups(tmp_path / "p" / "data" / "zeimu.dat", mapping)
    assert len(written) == len(original)
    seen = _check_round_trip(original, written, mapping, "zeimu-alone")
    assert seen["merged"] > 0 and seen["interest"] > 0
    count = mapping.trailer.count
    trailer_before, trailer_after = original[-1][0], written[-1][0]
    assert int(trailer_before[count.offset:count.end]) - seen["merged"] == \
        int(trailer_after[count.offset:count.end])
    assert _differing(trailer_before, trailer_after, mapping.trailer.control_totals) == []


def test_income_records_of_another_taxpayer_stop_the_export(clean_set, tmp_path):
    """zeimu_shotoku/v1 rows that do not follow a taxpayer with the same 宛名番号 (rows of
    another run, or edited) are not written under the wrong person: the export stops."""
    folder = tmp_path / "mixed"
    shutil.copytree(clean_set, folder)
    parquet = folder / "zeimu_shotoku" / "zeimu_shotoku.parquet"
    rows = pl.read_parquet(parquet)
    other = rows["atena_no"][-1]
    rows = rows.with_columns(pl.when(pl.int_range(pl.len()) == 0).then(pl.lit(other))
                             .otherwise(pl.col("atena_no")).alias("atena_no"))
    rows.write_parquet(parquet)
    document = folder / "zeimu_shotoku" / "run.json"  # its outputs: the copy's
    run = json.loads(document.read_text(encoding="utf-8"))
    run["outputs"]["parquet"]["path"] = str(parquet)
    document.write_text(json.dumps(run), encoding="utf-8")
    with pytest.raises(UsageError, match="does not follow a parent record with the same "
                                         "atena_no"):
        export(ExportOptions(folder, tmp_path / "p", format="fixed", mapping="vendor_a/zeimu"))
    assert not (tmp_path / "p").exists()


@pytest.mark.parametrize("name", ["kokuho_setai", "kokuho_fuka", "zeimu"])
def test_round_trip_gives_the_same_standard_rows(clean_set, tmp_path, name):
    from migrate.run.pipeline import RunOptions, run

    export(ExportOptions(clean_set, tmp_path / "p", format="fixed", mapping=f"vendor_a/{name}"))
    legacy = tmp_path / "p" / "data" / f"{name}.dat"
    run(RunOptions(load_mapping(f"vendor_a/{name}"), legacy, tmp_path / "again",
                   db_url="none", workers=1))
    document = diff(DiffOptions(clean_set / name, tmp_path / "again")).document
    assert document["equal"] is True, document
    if name == "zeimu":  # and its income records, one row each
        run(RunOptions(load_mapping("vendor_a/zeimu_shotoku"), legacy, tmp_path / "shotoku",
                       db_url="none", workers=1))
        document = diff(DiffOptions(clean_set / "zeimu_shotoku", tmp_path / "shotoku")).document
        assert document["equal"] is True, document


def test_a_fixed_package_of_the_multi_record_tax_file_verifies(clean_set, tmp_path):
    """Its rows are the data records with their income records, as its trailer counts them;
    the mapping it writes income records by travels with it."""
    done = export(ExportOptions(clean_set, tmp_path / "p", format="fixed",
                                mapping="vendor_a/zeimu"))
    result = verify(tmp_path / "p")
    assert result.ok, [f for f in result.findings if not f.ok]
    assert (tmp_path / "p" / "data" / "mappings" / "zeimu_shotoku.yaml").is_file()
    persons = pl.read_parquet(clean_set / "zeimu" / "zeimu.parquet").height
    incomes = pl.read_parquet(clean_set / "zeimu_shotoku" / "zeimu_shotoku.parquet").height
    assert done.files[0].rows == persons + incomes


def test_a_fixed_package_verifies_and_a_flipped_byte_is_found(clean_set, tmp_path):
    export(ExportOptions(clean_set, tmp_path / "p", format="fixed",
                         mapping="vendor_a/kokuho_setai"))
    result = verify(tmp_path / "p")
    assert result.ok, [f for f in result.findings if not f.ok]
    rows = pl.read_csv(clean_set / "kokuho_setai" / "kokuho_setai.csv", infer_schema=False)
    assert next(f for f in result.findings if f.check == "rows").detail.startswith(
        str(rows.height))
    path = tmp_path / "p" / "data" / "kokuho_setai.dat"
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))
    failed = {(f.check, f.file) for f in verify(tmp_path / "p").findings if not f.ok}
    assert ("bag", "data/kokuho_setai.dat") in failed


@pytest.mark.parametrize(("change", "reason"), [
    ('{from: income.amount, where: {category: "03"}, aggregate: sum}',
     '{from: income.amount, where: {category: ["03", "04"]}, aggregate: sum}',),
    ('{from: income.amount, where: {category: "03"}, aggregate: sum}',
     '{from: income.amount, where: {category: "03"}, aggregate: count}'),
], ids=["where-of-two-values", "count"])
def test_child_columns_that_cannot_be_reversed_are_refused(clean_set, tmp_path, change, reason):
    source = Path(load_mapping("vendor_a/zeimu").path)
    folder = tmp_path / "m"
    shutil.copytree(source.parent, folder)
    text = (folder / source.name).read_text(encoding="utf-8")
    assert change in text
    (folder / source.name).write_text(text.replace(change, reason), encoding="utf-8")
    expected = "several category values" if "[" in reason else "counts child records"
    with pytest.raises(UsageError, match=expected):
        export(ExportOptions(clean_set, tmp_path / "z", format="fixed",
                             mapping=str(folder / source.name)))
    assert not (tmp_path / "z").exists()


def test_a_mapping_that_skips_record_types_is_refused(clean_set, tmp_path):
    """vendor_a/zeimu_shotoku reads only the income records of zeimu.dat: the file cannot be
    written back from it; vendor_a/zeimu writes them from its rows."""
    with pytest.raises(UsageError, match="skips the records of type 2"):
        export(ExportOptions(clean_set, tmp_path / "s", format="fixed",
                             mapping="vendor_a/zeimu_shotoku"))
    assert not (tmp_path / "s").exists()


def test_a_delimited_mapping_is_refused(clean_set, tmp_path):
    with pytest.raises(UsageError, match="fixed-width"):
        export(ExportOptions(clean_set, tmp_path / "k", format="fixed",
                             mapping="vendor_a/kokuho"))
    assert not (tmp_path / "k").exists()


def test_cli_needs_format_and_mapping_together(runner, clean_set, tmp_path):
    done = runner.invoke(main, ["export", "--from", str(clean_set), "--to", str(tmp_path / "a"),
                                "--format", "fixed"])
    assert done.exit_code == 2 and "--mapping" in done.output
    done = runner.invoke(main, ["export", "--from", str(clean_set), "--to", str(tmp_path / "b"),
                                "--format", "fixed", "--mapping", "vendor_a/kokuho_fuka"])
    assert done.exit_code == 0, done.output
    assert (tmp_path / "b" / "data" / "kokuho_fuka.dat").is_file()


def test_a_fixed_package_is_not_read_as_rows(runner, clean_set, tmp_path):
    export(ExportOptions(clean_set, tmp_path / "p", format="fixed",
                         mapping="vendor_a/kokuho_fuka"))
    done = runner.invoke(main, ["diff", str(tmp_path / "p"), str(clean_set / "kokuho_fuka"),
                                "--out", str(tmp_path)])
    assert done.exit_code == 2 and "migrate run" in done.output
    done = runner.invoke(main, ["export", "--from", str(tmp_path / "p"), "--to",
                                str(tmp_path / "again")])
    assert done.exit_code == 2 and "Traceback" not in done.output


def test_vendor_b_with_split_addresses_and_composite_codes_is_refused() -> None:
    from migrate.export.fixedwidth import check_reversible

    mapping = load_mapping(Path(__file__).parents[1] / "run" / "vendor_b" / "juki.yaml")
    with pytest.raises(UsageError, match="code table keyed by several fields|address field"):
        check_reversible(mapping)


def test_names_stay_blank_when_the_source_holds_no_juki(clean_set, tmp_path):
    """kokuho_setai exported from its own run folder: no juki/v1 to take the heads' names from.
    zeimu's names are its own layout's (zeimu/v1 shimei): they come back from its folder."""
    for name, field, code in (("kokuho_setai", "setai_nushi_name", b"D"),
                              ("zeimu", "shimei", b"2")):
        mapping = load_mapping(f"vendor_a/{name}")
        export(ExportOptions(clean_set / name, tmp_path / name, format="fixed",
                             mapping=f"vendor_a/{name}"))
        spec, encoding = mapping.fields[field], mapping.source.encoding
        data = (tmp_path / name / "data" / f"{name}.dat").read_bytes()
        stride = mapping.source.stride
        records = [data[i:i + stride] for i in range(0, len(data), stride)
                   if data[i:i + 1] == code]
        names = [r[spec.offset:spec.end].decode(encoding).strip() for r in records]
        assert records and (all(names) if name == "zeimu" else not any(names)), name


SETAI_NAME = ('  setai_nushi_name: {from: juki/v1.shimei, match: {setai_nushi_atena: atena_no}, '
              'missing: "〓"}\n')
ZEIMU_WRITE_BACK = ('  income.shunyu: {same_as: amount, where: {category: "06"}}\n',
                    "  income: {records: zeimu_shotoku.yaml, match: {tax_year: tax_year, "
                    "atena_no: atena_no}}\n")


@pytest.mark.parametrize(("name", "write_back", "message"), [
    ("kokuho_setai", "setai_nushi_name: {from: juki/v1.nai, match: {setai_nushi_atena: atena_no}}",
     "juki/v1 has no column nai"),
    ("kokuho_setai", "setai_nushi_name: {from: juki/v1.shimei, match: {nai: atena_no}}",
     "kokuho_setai/v1 has no column nai"),
    ("kokuho_setai", "setai_no: {from: juki/v1.setai_no, match: {setai_nushi_atena: atena_no}}",
     "feeds a column"),
    ("kokuho_setai", "nai: {from: juki/v1.shimei, match: {setai_nushi_atena: atena_no}}",
     "not a data field"),
    ("kokuho_setai", "setai_nushi_name: {from: juki/v1.shimei, match: {setai_nushi_atena: "
     "atena_no}, missing: 𠮷}", "cannot be written in euc_jp"),
    ("zeimu", "income.shunyu: {same_as: amount, where: {category: \"01\"}}", "feeds a column"),
    ("zeimu", "income.shunyu: {same_as: shunyu, where: {category: \"11\"}}", "no column keeps"),
    ("kokuho_setai", "setai_nushi_name: {from: juki/v1.shimei, match: {setai_nushi_atena: "
     "atena_no}, same_as: x}", "is for a child record's field"),
    ("zeimu", "income: {records: juki.yaml, match: {atena_no: atena_no}}",
     "vendor_a/juki does not read the records income"),
    ("zeimu", "income: {records: zeimu_shotoku.yaml, match: {nai: atena_no}}",
     "zeimu/v1 has no column nai"),
    ("zeimu", "income: {records: nai.yaml, match: {atena_no: atena_no}}", "unknown mapping"),
    ("zeimu", "shimei: {records: zeimu_shotoku.yaml, match: {atena_no: atena_no}}",
     "is for a child record type"),
], ids=["column", "match", "fed", "field", "missing", "child-fed", "child-unkept", "same-as",
        "records-mapping", "records-match", "records-unknown", "records-not-a-record"])
def test_write_back_is_checked_when_the_mapping_loads(tmp_path, name, write_back, message):
    from migrate.errors import LayoutError

    source = Path(load_mapping(f"vendor_a/{name}").path)
    folder = tmp_path / "m"
    shutil.copytree(source.parent, folder)
    text = (folder / source.name).read_text(encoding="utf-8")
    lines = ZEIMU_WRITE_BACK if name == "zeimu" else (SETAI_NAME,)
    assert all(line in text for line in lines)
    for line in lines[1:]:
        text = text.replace(line, "")
    text = text.replace(lines[0], "  " + write_back + "\n")
    (folder / source.name).write_text(text, encoding="utf-8")
    with pytest.raises(LayoutError, match=message):
        load_mapping(folder / source.name)
