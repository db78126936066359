"""migrate export --format fixed: the vendor's fixed-width layout written back from the
standard data, and the round trip legacy → run → export."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest

from migrate.cli import main
from migrate.errors import UsageError
from migrate.export.diff import DiffOptions, diff
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


def _records(path: Path, stride: int) -> list[bytes]:
    data = path.read_bytes()
    return [data[i:i + stride] for i in range(0, len(data), stride)]


def test_juki_round_trip_is_byte_identical_but_for_alternative_spellings(clean_set, tmp_path):
    mapping = load_mapping("vendor_a/juki")
    run = json.loads((clean_set / "juki" / "run.json").read_text(encoding="utf-8"))
    assert run["reconciliation"]["rejected"] == 0
    export(ExportOptions(clean_set, tmp_path / "p", format="fixed", mapping="vendor_a/juki"))
    original = _records(Path(run["input"]["path"]), mapping.source.stride)
    written = _records(tmp_path / "p" / "data" / "juki.dat", mapping.source.stride)
    assert len(written) == len(original)
    assert written[0] == original[0] and written[-1] == original[-1]  # header, trailer
    differing = [(a, b) for a, b in zip(original[1:-1], written[1:-1], strict=True) if a != b]
    assert len(differing) < len(original) // 20
    for before, after in differing:
        for name, spec in mapping.fields.items():
            a, b = before[spec.offset:spec.end], after[spec.offset:spec.end]
            if a != b:
                assert spec.type == "text", name
                text = b.decode("cp932")
                assert SEVERAL_SPELLINGS & set(text), (name, a, b)
                gaiji = mapping.source.gaiji
                assert "".join(gaiji.get(c, c) for c in a.decode("cp932")) == text


@pytest.mark.parametrize("name", ["kokuho_setai", "kokuho_fuka"])
def test_round_trip_gives_the_same_standard_rows(clean_set, tmp_path, name):
    from migrate.run.pipeline import RunOptions, run

    export(ExportOptions(clean_set, tmp_path / "p", format="fixed", mapping=f"vendor_a/{name}"))
    legacy = tmp_path / "p" / "data" / f"{name}.dat"
    run(RunOptions(load_mapping(f"vendor_a/{name}"), legacy, tmp_path / "again",
                   db_url="none", workers=1))
    document = diff(DiffOptions(clean_set / name, tmp_path / "again")).document
    assert document["equal"] is True, document


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


def test_mappings_that_cannot_be_reversed_are_refused(clean_set, tmp_path):
    with pytest.raises(UsageError, match="child records"):
        export(ExportOptions(clean_set, tmp_path / "z", format="fixed",
                             mapping="vendor_a/zeimu"))
    with pytest.raises(UsageError, match="fixed-width"):
        export(ExportOptions(clean_set, tmp_path / "k", format="fixed",
                             mapping="vendor_a/kokuho"))
    assert not (tmp_path / "z").exists() and not (tmp_path / "k").exists()


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
