"""migrate preview: records decoded field by field, with offsets, hex and status; masked."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from migrate.author.preview import preview
from migrate.cli import main
from migrate.errors import UsageError
from migrate.layouts import load_mapping
from migrate.layouts.bundled import bundled_dir
from migrate.synth.generate import generate
from migrate.synth.sets import generate_set


@pytest.fixture(scope="module")
def juki(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("juki") / "juki.dat"
    generate(load_mapping("vendor_a/juki"), path, 30, seed=3)
    return path


def _fields(view):
    return {f.name: f for f in view.fields}


def test_a_data_record_field_by_field_with_offsets_and_masked_personal_values(juki):
    mapping = load_mapping("vendor_a/juki")
    header, data = preview(mapping, juki, 1, 2)
    assert (header.kind, data.kind, data.number, data.file_offset) == ("header", "data", 2, 432)
    fields = _fields(data)
    shimei = fields["shimei"]
    assert (shimei.offset, shimei.file_offset, shimei.length) == (50, 432 + 50, 40)
    assert shimei.masked and shimei.status == "ok" and shimei.columns == ("shimei",)
    assert set(shimei.value) <= {"*", "\u3000", " "}
    assert "81 40" in shimei.hex and "**" in shimei.hex  # padding visible, the name not
    assert fields["record_type"].value == "2"
    setai = fields["setai_no"]
    assert not setai.masked and setai.value.isdigit() and setai.hex.startswith("3")
    assert fields["atena_no"].type == "packed" and fields["atena_no"].hex.endswith("C")
    raw = juki.read_bytes()[432:432 + 430]
    unmasked = _fields(preview(mapping, juki, 2, 1, unmask=True)[0])
    assert unmasked["shimei"].value == raw[50:90].decode("cp932").rstrip("\u3000 ")
    assert unmasked["shimei"].hex.startswith(" ".join(f"{b:02X}" for b in raw[50:52]))
    assert _fields(header)["lg_code"].status == "ok"
    # every byte is in a field: juki declares its trailing spaces as the field filler
    assert not [f for f in data.fields if f.type == "gap"]
    assert (fields["filler"].offset, fields["filler"].length, fields["filler"].status) == (
        423, 7, "ok")


def _shifted_copy(tmp_path: Path, old: str, new: str) -> Path:
    folder = tmp_path / "vendor_a"
    shutil.copytree(bundled_dir("mappings") / "vendor_a", folder)
    path = folder / "juki.yaml"
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")
    return path


def test_an_offset_off_by_one_shows_in_the_status_and_the_gap(juki, tmp_path):
    path = _shifted_copy(tmp_path, "shimei:           {offset: 50,",
                         "shimei:           {offset: 51,")
    view = preview(load_mapping(path), juki, 2, 1)[0]
    gap = next(f for f in view.fields if f.type == "gap" and f.offset == 50)
    assert gap.status == "data_in_gap" and gap.hex == "**"


@pytest.fixture(scope="module")
def vendor_set(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("set")
    generate_set(folder, 30, seed=1)
    return folder


def test_child_records_and_the_trailer(vendor_set):
    mapping = load_mapping("vendor_a/zeimu")
    path = vendor_set / "zeimu.dat"
    views = preview(mapping, path, 1, 100)
    kinds = {v.kind for v in views}
    assert {"header", "data", "income", "trailer"} <= kinds
    income = next(v for v in views if v.kind == "income")
    assert _fields(income)["amount"].columns  # the columns that take income.amount
    trailer = views[-1]
    assert trailer.kind == "trailer" and int(_fields(trailer)["count"].value) == len(views) - 2


def test_a_delimited_file_points_at_each_cell(vendor_set):
    mapping = load_mapping("vendor_a/kokuho")
    path = vendor_set / "kokuho.csv"
    raw = path.read_bytes()
    view = preview(mapping, path, 2, 1)[0]
    atena = _fields(view)["atena_no"]
    assert raw[atena.file_offset:atena.file_offset + len(atena.value)].decode() == atena.value


def test_a_record_past_the_end_is_a_usage_error(juki):
    with pytest.raises(UsageError):
        preview(load_mapping("vendor_a/juki"), juki, 10_000, 1)


def test_the_command_masks_by_default_and_warns_when_unmasked(juki):
    runner = CliRunner()
    args = ["preview", "-m", "vendor_a/juki", str(juki), "--record", "2"]
    masked = runner.invoke(main, args, env={"COLUMNS": "200"})
    assert masked.exit_code == 0, masked.output
    assert "shimei" in masked.output and "personal data" not in masked.output
    shown = runner.invoke(main, [*args, "--unmask"], env={"COLUMNS": "200"})
    assert shown.exit_code == 0 and "personal data" in shown.output
