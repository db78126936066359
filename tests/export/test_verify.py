"""migrate verify: an intact package passes; each kind of tampering fails and names the file."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import polars as pl
import pytest

from migrate.cli import main
from migrate.export.package import COVER_LIST, ExportOptions, export
from migrate.export.verify import verify


@pytest.fixture
def copy(package, tmp_path) -> Path:
    target = tmp_path / "package"
    shutil.copytree(package, target)
    return target


def _failed(package: Path) -> list[tuple[str, str]]:
    result = verify(package)
    assert not result.ok
    return [(f.check, f.file) for f in result.findings if not f.ok]


def _flip(path: Path) -> None:
    """Change one digit or letter in the second half of the file into another."""
    data = bytearray(path.read_bytes())
    for index in range(len(data) // 2, len(data)):
        if chr(data[index]).isalnum() and data[index] < 128:
            data[index] = ord("1") if data[index] != ord("1") else ord("2")
            break
    path.write_bytes(bytes(data))


def _reseal(package: Path) -> None:
    """What a careful tamperer does: restate bytes, hashes and rows everywhere, re-bag."""
    import bagit

    data = package / "data"
    descriptor = json.loads((data / "datapackage.json").read_text(encoding="utf-8"))
    cover = ["ファイル名,業務,レイアウト,件数,SHA-256,作成日時"]
    for resource in descriptor["resources"]:
        path = data / resource["path"]
        sha = hashlib.sha256(path.read_bytes()).hexdigest()
        rows = pl.read_csv(path, infer_schema=False).height
        resource.update(bytes=path.stat().st_size, hash=f"sha256:{sha}", rows=rows)
        cover.append(f"{resource['path']},x,{resource['standard_layout']['id']},{rows},{sha},x")
    (data / "datapackage.json").write_text(json.dumps(descriptor, ensure_ascii=False),
                                           encoding="utf-8")
    (data / COVER_LIST).write_text("\r\n".join(cover) + "\r\n", encoding="utf-8-sig")
    bagit.Bag(str(package)).save(manifests=True)


def _edit_csv(path: Path, change) -> None:
    frame = pl.read_csv(path, infer_schema=False)
    change(frame).write_csv(path)


def test_an_intact_package_passes_for_all_five_layouts(package):
    result = verify(package)
    assert result.ok, [f for f in result.findings if not f.ok]
    checks = {(f.check, f.file) for f in result.findings}
    assert ("references", "zeimu.csv") in checks and ("groups", "juki.csv") in checks
    assert ("cover", COVER_LIST) in checks


def test_one_layout_package_passes(plan_out, tmp_path):
    export(ExportOptions(plan_out, tmp_path / "p", layouts=["kokuho/v1"]))
    assert verify(tmp_path / "p").ok


def test_cp932_crlf_package_passes(plan_out, tmp_path):
    export(ExportOptions(plan_out, tmp_path / "p", layouts=["kokuho_setai/v1", "kokuho/v1"],
                         encoding="cp932", newline="crlf"))
    result = verify(tmp_path / "p")
    assert result.ok, [f for f in result.findings if not f.ok]


def test_parquet_package_passes_and_a_flipped_byte_fails(plan_out, tmp_path):
    export(ExportOptions(plan_out, tmp_path / "p", layouts=["juki/v1"], format="parquet"))
    assert verify(tmp_path / "p").ok
    _flip(tmp_path / "p" / "data" / "juki.parquet")
    assert ("bag", "data/juki.parquet") in _failed(tmp_path / "p")


@pytest.mark.parametrize("relative", [
    "data/juki.csv", "data/kokuho_fuka.csv", "data/datapackage.json",
    "data/schemas/juki/v1.yaml", "data/schemas/juki/codes/sex.csv", f"data/{COVER_LIST}",
    "bag-info.txt", "bagit.txt", "tagmanifest-sha256.txt",
])
def test_a_flipped_byte_in_each_file_kind_is_named(copy, relative):
    _flip(copy / relative)
    failed = _failed(copy)
    if relative == "tagmanifest-sha256.txt":  # names the tag file whose line was changed
        assert any(check == "bag" and not file.startswith("data/") for check, file in failed)
        return
    assert any(file == relative for _, file in failed) or \
        (relative == "bagit.txt" and ("bag", "bagit.txt") in failed), failed


def test_a_deleted_row_is_named(copy):
    path = copy / "data" / "zeimu.csv"
    lines = path.read_bytes().split(b"\n")
    path.write_bytes(b"\n".join(lines[:3] + lines[4:]))
    failed = _failed(copy)
    assert ("bag", "data/zeimu.csv") in failed and ("rows", "zeimu.csv") in failed


def test_a_deleted_row_is_found_even_after_the_manifest_is_rebuilt(copy):
    import bagit

    path = copy / "data" / "zeimu.csv"
    lines = path.read_bytes().split(b"\n")
    path.write_bytes(b"\n".join(lines[:3] + lines[4:]))
    bagit.Bag(str(copy)).save(manifests=True)
    failed = _failed(copy)
    assert ("rows", "zeimu.csv") in failed and ("file", "zeimu.csv") in failed
    assert not any(check == "bag" for check, _ in failed)


@pytest.mark.parametrize("bucket_rows", [None, 40], ids=["one-bucket", "many-buckets"])
def test_an_added_row_is_named(copy, monkeypatch, bucket_rows):
    if bucket_rows:  # keys spilled in buckets of ~40 rows: the repeat is still found
        monkeypatch.setattr("migrate.export.spill.BUCKET_ROWS", bucket_rows)
    path = copy / "data" / "juki.csv"
    lines = path.read_bytes().split(b"\n")
    path.write_bytes(path.read_bytes() + lines[5] + b"\n")
    failed = _failed(copy)
    assert ("bag", "data/juki.csv") in failed and ("rows", "juki.csv") in failed
    _reseal(copy)
    assert _failed(copy) == [("keys", "juki.csv")]  # the copy repeats a primary key


def test_an_edited_manifest_is_named(copy):
    manifest = copy / "manifest-sha256.txt"
    lines = manifest.read_text(encoding="utf-8").splitlines()
    target = next(i for i, line in enumerate(lines) if line.endswith("data/kokuho.csv"))
    digest, path = lines[target].split(maxsplit=1)
    lines[target] = ("0" if digest[0] != "0" else "1") + digest[1:] + "  " + path
    manifest.write_text("\n".join(lines) + "\n", encoding="utf-8")
    failed = _failed(copy)
    assert ("bag", "manifest-sha256.txt") in failed and ("bag", "data/kokuho.csv") in failed


def test_a_missing_file_is_named(copy):
    (copy / "data" / "kokuho_fuka.csv").unlink()
    failed = _failed(copy)
    assert ("bag", "data/kokuho_fuka.csv") in failed and ("file", "kokuho_fuka.csv") in failed


def test_an_extra_file_is_named(copy):
    (copy / "data" / "extra.csv").write_text("a,b\n1,2\n")
    failed = _failed(copy)
    assert ("bag", "data/extra.csv") in failed and ("package", "extra.csv") in failed
    _reseal(copy)
    assert _failed(copy) == [("package", "extra.csv")]


def test_a_row_that_fails_the_schema_is_named_with_its_column(copy):
    _edit_csv(copy / "data" / "juki.csv", lambda f: f.with_columns(
        pl.when(pl.int_range(pl.len()) == 6).then(pl.lit("7")).otherwise(pl.col("sex"))
        .alias("sex")))
    _reseal(copy)
    result = verify(copy)
    failed = [f for f in result.findings if not f.ok]
    assert [(f.check, f.file) for f in failed] == [("schema", "juki.csv")]
    assert failed[0].rows == [7] and "sex" in failed[0].detail


def test_a_wrongly_typed_cell_is_named(copy):
    _edit_csv(copy / "data" / "kokuho.csv", lambda f: f.with_columns(
        pl.when(pl.int_range(pl.len()) == 0).then(pl.lit("abc")).otherwise(pl.col("src_record"))
        .alias("src_record")))
    _reseal(copy)
    failed = [f for f in verify(copy).findings if not f.ok]
    assert failed[0].check == "schema" and "wrong_type" in failed[0].detail
    assert failed[0].rows == [1]


@pytest.mark.parametrize("bucket_rows", [None, 40], ids=["one-bucket", "many-buckets"])
def test_a_broken_reference_and_a_broken_group_are_named(copy, monkeypatch, bucket_rows):
    if bucket_rows:
        monkeypatch.setattr("migrate.export.spill.BUCKET_ROWS", bucket_rows)
    def orphan(frame: pl.DataFrame) -> pl.DataFrame:
        first = int((frame["juto_gai"] == "0").arg_true()[0])
        return frame.with_columns(pl.when(pl.int_range(pl.len()) == first)
                                  .then(pl.lit("999999999999")).otherwise(pl.col("atena_no"))
                                  .alias("atena_no"))

    _edit_csv(copy / "data" / "zeimu.csv", orphan)

    def demote_first_head(frame: pl.DataFrame) -> pl.DataFrame:
        head = (frame["zokugara"] == "世帯主") & (frame["jumin_jotai"] == "1")
        first = int(head.arg_true()[0])
        return frame.with_columns(pl.when(pl.int_range(pl.len()) == first).then(pl.lit("子"))
                                  .otherwise(pl.col("zokugara")).alias("zokugara"))

    _edit_csv(copy / "data" / "juki.csv", demote_first_head)
    _reseal(copy)
    failed = {(f.check, f.file) for f in verify(copy).findings if not f.ok}
    # the taxpayer's income records (zeimu_shotoku/v1, by tax_year and atena_no) lost it too
    assert failed == {("groups", "juki.csv"), ("references", "zeimu.csv"),
                      ("references", "zeimu_shotoku.csv")}


def test_cli_exit_codes_and_verify_json(runner, package, copy, tmp_path):
    report = tmp_path / "verify.json"
    done = runner.invoke(main, ["verify", str(package), "--out", str(report)])
    assert done.exit_code == 0, done.output
    assert json.loads(report.read_text())["ok"] is True
    assert report.stat().st_mode & 0o077 == 0
    (copy / "data" / "kokuho.csv").unlink()
    done = runner.invoke(main, ["verify", str(copy), "--out", str(report)])
    assert done.exit_code == 1 and "kokuho.csv" in done.output
    document = json.loads(report.read_text())
    assert document["ok"] is False and document["failed"]
    done = runner.invoke(main, ["verify", str(tmp_path / "nowhere"), "--out", str(report)])
    assert done.exit_code == 2 and "Traceback" not in done.output


def test_a_package_made_by_another_tool_following_the_readme_passes(plan_out, tmp_path):
    """Built by hand from the README's format with bagit alone: a minimal datapackage.json (no
    titles, constraints or keys), the layout YAML, the cover list in the documented columns,
    CRLF line ends and a file name of the vendor's choosing."""
    import bagit

    from migrate.layouts import load_schema

    root = tmp_path / "vendor_b"
    data = root
    (data / "schemas" / "kokuho_setai").mkdir(parents=True)
    schema = load_schema("kokuho_setai/v1")
    shutil.copy(schema.path, data / "schemas" / "kokuho_setai" / "v1.yaml")
    rows = pl.read_csv(plan_out / "kokuho_setai" / "kokuho_setai.csv", infer_schema=False)
    rows.write_csv(data / "setai.csv", line_terminator="\r\n")
    raw = (data / "setai.csv").read_bytes()
    sha = hashlib.sha256(raw).hexdigest()
    types = {"int": "integer", "flag": "integer", "decimal": "number", "date": "date"}
    descriptor = {"resources": [{
        "name": "setai", "path": "setai.csv", "format": "csv", "encoding": "utf-8",
        "bytes": len(raw), "hash": f"sha256:{sha}", "rows": rows.height,
        "schema": {"fields": [{"name": c.name, "type": types.get(c.dtype, "string")}
                              for c in schema.columns]},
        "standard_layout": {"id": "kokuho_setai/v1", "schema": "schemas/kokuho_setai/v1.yaml"},
    }]}
    (data / "datapackage.json").write_text(json.dumps(descriptor), encoding="utf-8")
    (data / COVER_LIST).write_text(
        f"ファイル名,業務,レイアウト,件数,SHA-256,作成日時\r\nsetai.csv,国保世帯,kokuho_setai/v1,"
        f"{rows.height},{sha},2027-03-31T17:00:00+09:00\r\n", encoding="utf-8-sig")
    bagit.make_bag(str(root), {"Source-Organization": "Vendor B"}, checksums=["sha256"])
    result = verify(root)
    assert result.ok, [f for f in result.findings if not f.ok]
