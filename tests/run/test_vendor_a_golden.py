"""Converting vendor_a stays byte for byte what it was: committed inputs (a generated set of all
five files, zeimu.dat read twice, and a resident file with one defect of every kind the
generator makes), converted, and every output compared with the committed result.

The rows (CSV, and the Parquet file's content and types) are compared by SHA-256 in
golden/vendor_a/outputs.json; rejects.csv and warnings.csv are committed as text, so a
deliberate change of a reason or message shows as a diff. After a deliberate change run
`MIGRATE_UPDATE_GOLDEN=1 python -m pytest tests/run/test_vendor_a_golden.py` and review
the diff of golden/.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import shutil
from pathlib import Path

import polars as pl
import pytest

from migrate.layouts import load_mapping
from migrate.layouts.plan import load_plan
from migrate.run.pipeline import RunOptions, run
from migrate.run.plan import run_plan

GOLDEN = Path(__file__).parent / "golden" / "vendor_a"
UPDATE = os.environ.get("MIGRATE_UPDATE_GOLDEN") == "1"
LAYOUTS = ("juki", "zeimu", "kokuho_setai", "kokuho", "kokuho_fuka", "zeimu_shotoku")


def _unpack(folder: Path) -> None:
    folder.mkdir(parents=True)
    for packed in GOLDEN.glob("*.gz"):
        (folder / packed.name.removesuffix(".gz")).write_bytes(gzip.decompress(
            packed.read_bytes()))
    shutil.copy(GOLDEN / "migration.yaml", folder / "migration.yaml")


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _fingerprints(folder: Path, name: str) -> dict[str, str]:
    frame = pl.read_parquet(folder / f"{name}.parquet")
    return {f"{name}.csv": _sha((folder / f"{name}.csv").read_bytes()),
            f"{name}.parquet": _sha(frame.write_csv().encode() + str(frame.schema).encode())}


@pytest.fixture(scope="module")
def converted(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Every output folder, by the name its golden files carry."""
    mp = pytest.MonkeyPatch()
    mp.setenv("LANG", "C.UTF-8")
    for var in ("LANGUAGE", "LC_ALL", "LC_MESSAGES"):
        mp.delenv(var, raising=False)
    try:
        base = tmp_path_factory.mktemp("golden")
        _unpack(base / "in")
        plan_out = base / "plan"
        result = run_plan(load_plan(base / "in" / "migration.yaml"), plan_out, db_url="none",
                          workers=1)
        assert result.exit_code == 0
        single = run(RunOptions(load_mapping("vendor_a/juki"), base / "in" / "juki_defects.dat",
                                base / "single", db_url="none", workers=1))
        assert single.exit_code == 0
    finally:
        mp.undo()
    folders = {layout: plan_out / layout for layout in LAYOUTS}
    folders["juki_defects"] = single.run_json.parent
    return folders


def test_vendor_a_rows_are_unchanged(converted: dict[str, Path]) -> None:
    found = {}
    for label, folder in converted.items():
        name = "juki" if label == "juki_defects" else label
        found.update({f"{label}/{k}": v for k, v in _fingerprints(folder, name).items()})
    manifest = GOLDEN / "outputs.json"
    if UPDATE:
        manifest.write_text(json.dumps(found, indent=1, sort_keys=True) + "\n")
    assert found == json.loads(manifest.read_text())


@pytest.mark.parametrize("label", [*LAYOUTS, "juki_defects"])
@pytest.mark.parametrize("problems", ["rejects.csv", "warnings.csv"])
def test_vendor_a_rejects_and_warnings_are_unchanged(converted: dict[str, Path], label: str,
                                                     problems: str) -> None:
    written = (converted[label] / problems).read_text(encoding="utf-8-sig")
    golden = GOLDEN / "problems" / label / problems
    if UPDATE:
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(written, encoding="utf-8")
    assert written == golden.read_text(encoding="utf-8")
