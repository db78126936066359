"""migrate layout from-copybook: golden layouts and mappings of copybooks that cover every
construct (tests/author/copybooks/*.cpy); MIGRATE_UPDATE_GOLDEN=1 rewrites the golden files."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from migrate.author.copybook import read_copybook
from migrate.author.copybook.layout import read_picture
from migrate.author.copybook.parser import parse_copybook
from migrate.cli import main
from migrate.errors import UsageError
from migrate.layouts import load_mapping

FOLDER = Path(__file__).parent / "copybooks"
GOLDEN = ("juki", "constructs", "records")


def _layout_text(name: str) -> str:
    lines = []
    for record in read_copybook(FOLDER / f"{name}.cpy"):
        lines.append(f"{record.name} {record.length}")
        for item in record.items:
            lines.append(f"  {item.path} {item.offset + 1} {item.end} {item.length} "
                         f"{item.type} scale={item.scale}")
        lines += [f"  note: {note}" for note in record.notes]
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("name", GOLDEN)
def test_layout_and_mapping_match_the_golden_files(name, tmp_path):
    written = tmp_path / f"{name}.yaml"
    done = CliRunner().invoke(main, ["layout", "from-copybook", str(FOLDER / f"{name}.cpy"),
                                     "--write", str(written)])
    assert done.exit_code == 0, done.output
    texts = {f"{name}.layout.txt": _layout_text(name),
             f"{name}.mapping.yaml": written.read_text(encoding="utf-8"),
             f"{name}.schema.yaml": (tmp_path / f"{name}.schema.yaml").read_text(
                 encoding="utf-8")}
    for file, text in texts.items():
        golden = FOLDER / "golden" / file
        if os.environ.get("MIGRATE_UPDATE_GOLDEN"):
            golden.parent.mkdir(exist_ok=True)
            golden.write_text(text, encoding="utf-8")
        assert text == golden.read_text(encoding="utf-8"), file
    mapping = load_mapping(written)  # the mapping loads, with its companion schema
    assert mapping.source.record_length == max(r.length for r in read_copybook(
        FOLDER / f"{name}.cpy"))


def test_each_construct_gets_its_size_and_type():
    records = read_copybook(FOLDER / "constructs.cpy")
    items = {item.name: item for item in records[0].items}
    assert (items["SHIMEI"].length, items["SHIMEI-G"].length) == (20, 10)  # N, G: DBCS
    assert (items["NENGAKU"].type, items["NENGAKU"].length) == ("zoned", 9)
    assert (items["ZEIGAKU"].type, items["ZEIGAKU"].length, items["ZEIGAKU"].scale) == \
        ("packed", 5, 2)
    assert (items["FUKA-KAISU"].type, items["FUKA-KAISU"].length) == ("binary", 2)
    assert (items["GOKEI-BIN"].type, items["GOKEI-BIN"].length) == ("binary", 4)
    assert items["SMALL-RATE"].scale == 4 and items["SMALL-RATE"].length == 2
    assert items["SEN-EN"].length == 5 and "10^3" in items["SEN-EN"].notes[0]
    assert [items[f"KI-GAKU_{i}"].offset for i in range(1, 5)] == [64, 76, 88, 100]
    assert items["SHOWN-AMOUNT"].type == "text"
    assert (items["SIGNED-SEP"].type, items["SIGNED-SEP"].length) == ("decimal", 6)
    assert items["FILLER"].type == "filler"
    notes = " ".join(records[0].notes)
    assert "REDEFINES KIBETSU" in notes and "level 88 FLAG-ON" in notes and "level 66" in notes


def test_redefines_at_level_01_become_record_types():
    records = read_copybook(FOLDER / "records.cpy")
    assert [r.name for r in records] == ["HEADER-REC", "PERSON-REC", "INCOME-REC",
                                         "TRAILER-REC"]
    mapping = load_mapping_from(FOLDER / "records.cpy")
    rt = mapping.source.record_types
    assert (rt.header, rt.data, rt.trailer) == ("1", "2", "9")
    assert [code for code, _ in rt.children] == ["3"]
    assert mapping.trailer.count.offset == 1 and mapping.trailer.count.length == 9


def load_mapping_from(copybook: Path):
    import tempfile

    folder = Path(tempfile.mkdtemp())
    target = folder / "m.yaml"
    done = CliRunner().invoke(main, ["layout", "from-copybook", str(copybook), "--write",
                                     str(target), "--newline", "none"])
    assert done.exit_code == 0, done.output
    return load_mapping(target)


def test_occurs_depending_on_is_a_clear_error():
    done = CliRunner().invoke(main, ["layout", "from-copybook", str(FOLDER / "odo.cpy")])
    assert done.exit_code == 2 and "OCCURS DEPENDING ON" in done.output
    assert "Traceback" not in done.output


@pytest.mark.parametrize(("picture", "digits", "scale", "signed"), [
    ("9(5)", 5, 0, False), ("S9(7)V99", 9, 2, True), ("PP99", 2, 4, False),
    ("9(3)PP", 3, 0, False), ("SV9(3)", 3, 3, True)])
def test_pictures(picture, digits, scale, signed):
    read = read_picture(picture)
    assert (read.digits, read.scale, read.signed) == (digits, scale, signed)


def test_free_format_comments_and_a_missing_level_are_handled():
    entries = parse_copybook("*> free format\n01 A.\n  05 B PIC X(3). *> a comment\n")
    assert entries[0].children[0].picture == "X(3)"
    with pytest.raises(UsageError):
        parse_copybook("05 B PIC X.\n")
    with pytest.raises(UsageError):
        parse_copybook("just words.\n")


def test_the_layout_table_is_1_based_and_inclusive():
    done = CliRunner().invoke(main, ["layout", "from-copybook", str(FOLDER / "juki.cpy"),
                                     "--layout"], env={"COLUMNS": "200"})
    assert done.exit_code == 0, done.output
    line = next(x for x in done.output.splitlines() if "JUKI-DATA.ATENA-NO" in x)
    assert [cell.strip() for cell in line.split("│")[2:5]] == ["2", "9", "8"]


def test_the_subcommand_help_is_japanese_under_lang_ja():
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k not in ("LANGUAGE", "LC_ALL", "LC_MESSAGES")}
    env.update(LANG="ja_JP.UTF-8", COLUMNS="100")
    done = subprocess.run([sys.executable, "-m", "migrate.cli", "layout", "from-copybook",
                           "--help"], env=env, capture_output=True, text=True, timeout=120)
    assert "使い方" in done.stdout and "コピー句" in done.stdout, done.stdout + done.stderr


def test_a_comp_field_is_read_as_binary_end_to_end(tmp_path):
    copybook = tmp_path / "comp.cpy"
    copybook.write_text("01 R.\n  05 CODE PIC X(2).\n  05 KAISU PIC S9(4) COMP.\n"
                        "  05 GAKU PIC 9(7)V99 BINARY.\n", encoding="utf-8")
    mapping = tmp_path / "comp.yaml"
    runner = CliRunner()
    done = runner.invoke(main, ["layout", "from-copybook", str(copybook), "--write",
                                str(mapping), "--newline", "lf"])
    assert done.exit_code == 0, done.output
    data = tmp_path / "comp.dat"
    data.write_bytes(b"AB" + (-2).to_bytes(2, "big", signed=True)
                     + (12345).to_bytes(4, "big") + b"\n"
                     + b"CD" + (300).to_bytes(2, "big") + (99).to_bytes(4, "big") + b"\n")
    out = tmp_path / "out"
    ran = runner.invoke(main, ["run", "-m", str(mapping), str(data), "--out", str(out),
                               "--db", "none", "--workers", "1"])
    assert ran.exit_code == 0, ran.output
    lines = (out / "comp.csv").read_text(encoding="utf-8").splitlines()
    assert lines[1:] == ["1,AB,-2,123.45", "2,CD,300,0.99"]
