"""migrate sniff: on generated files of every bundled mapping, with and without newlines, it
recovers the encoding and the framing exactly, and its draft mapping runs end to end."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from migrate.author.sniff import sniff
from migrate.author.sniff.encoding import detect_encoding
from migrate.author.sniff.fields import guess_fields, shape
from migrate.author.sniff.framing import detect_framing
from migrate.author.sniff.trailer import guess_trailer
from migrate.cli import main
from migrate.layouts import list_bundled_mappings, load_mapping
from migrate.synth.sets import generate_set

NEWLINES = {b"\r\n": "crlf", b"\n": "lf", b"": "none"}


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, Path]:
    """Every bundled mapping's generated file, and each fixed-width one without newlines."""
    folder = tmp_path_factory.mktemp("set")
    generate_set(folder, 60, seed=2)
    plan = {entry["mapping"]: folder / entry["input"] for entry in _plan(folder)}
    found = dict(plan)
    for ref, path in plan.items():
        source = load_mapping(ref).source
        if source.delimited or not source.newline:
            continue
        data = path.read_bytes()
        tail = b""
        if source.eof_marker is not None and data.endswith(bytes([source.eof_marker])):
            data, tail = data[:-1], data[-1:]
        rows = np.frombuffer(data, np.uint8).reshape(-1, source.stride)
        bare = folder / f"{path.stem}_no_newlines.dat"
        bare.write_bytes(rows[:, :source.record_length].tobytes() + tail)
        found[f"{ref}:none"] = bare
    return found


def _plan(folder: Path) -> list[dict[str, str]]:
    import yaml

    return yaml.safe_load((folder / "migration.yaml").read_text(encoding="utf-8"))["inputs"]


def _cases() -> list[str]:
    cases = []
    for ref in list_bundled_mappings():
        source = load_mapping(ref).source
        if source.record_types is not None and source.record_types.has_role("ignore"):
            continue  # reads some record types of a file another mapping describes whole
        cases.append(ref)
        if not source.delimited and source.newline:
            cases.append(f"{ref}:none")
    return cases


@pytest.mark.parametrize("case", _cases())
def test_encoding_and_framing_are_recovered_exactly(files, case):
    ref, _, variant = case.partition(":")
    source = load_mapping(ref).source
    report = sniff(files[case])
    assert report.encoding.encoding == source.encoding
    if source.delimited:
        assert report.framing.format == "delimited"
        assert report.framing.delimiter.encode() == source.delimiter
        assert report.framing.newline == NEWLINES[source.newline]
        assert report.cells is not None and report.cells.header_line == source.header_line
        return
    assert report.framing.format == "fixed"
    assert report.framing.record_length == source.record_length
    assert report.framing.newline == (variant or NEWLINES[source.newline])
    assert report.framing.eof_marker == (0x1A if files[case].read_bytes()[-1:] == b"\x1a"
                                         else None)
    rt = report.record_types
    assert rt is not None and source.record_types is not None
    assert rt.offset == source.record_types.offset
    assert rt.data == source.record_types.data[:rt.length]
    assert report.trailer is not None  # the record count, found by its value


@pytest.mark.parametrize("case", _cases())
def test_the_draft_runs_end_to_end(files, case, tmp_path):
    draft = tmp_path / "draft.yaml"
    runner = CliRunner()
    sniffed = runner.invoke(main, ["sniff", str(files[case]), "--write", str(draft)])
    assert sniffed.exit_code == 0, sniffed.output
    assert (tmp_path / "draft.schema.yaml").is_file()
    out = tmp_path / "out"
    done = runner.invoke(main, ["run", "-m", str(draft), str(files[case]), "--out", str(out),
                                "--db", "none", "--workers", "1"])
    assert done.exit_code == 0, done.output
    ledger = json.loads((out / "run.json").read_text(encoding="utf-8"))["reconciliation"]
    assert ledger["accepted"] + ledger["rejected"] == ledger["data_records_read"] > 0
    # the only rejects a draft may cause: 外字 its missing gaiji table cannot map, which the
    # draft points out
    reasons = {line.split(",")[4] for line in
               (out / "rejects.csv").read_text(encoding="utf-8-sig").splitlines()[1:]}
    assert reasons <= {"gaiji_unmapped"}
    if reasons:
        assert "source.gaiji" in draft.read_text(encoding="utf-8")


def test_the_draft_shows_no_personal_value(files, tmp_path):
    path = files["vendor_a/juki"]
    draft = tmp_path / "juki.yaml"
    assert CliRunner().invoke(main, ["sniff", str(path), "--write", str(draft)]).exit_code == 0
    text = draft.read_text(encoding="utf-8") + (tmp_path / "juki.schema.yaml").read_text(
        encoding="utf-8")
    rows = np.frombuffer(path.read_bytes()[:432 * 30], np.uint8).reshape(30, 432)[1:]
    names = {bytes(r[50:90]).decode("cp932").split("\u3000")[0] for r in rows}
    numbers = {bytes(r[35:47]).decode("ascii") for r in rows}
    assert not [v for v in names | numbers if v.strip() and v in text]
    assert "type: packed" in text and "type: wareki" in text and "kana: fullwidth" in text


def test_shape_masks_every_character_but_its_kind():
    assert shape("山田　ﾀﾛｳ 12-AB") == "漢漢　ｶｶｶ 99-XX"
    assert shape(None) == "∅"


def test_periodicity_finds_the_record_length_of_records_without_newlines(tmp_path):
    rng = np.random.default_rng(1)
    rows = np.full((300, 37), 0x20, np.uint8)
    rows[:, 0] = ord("2")
    rows[:, 1:9] = rng.integers(0x30, 0x3A, (300, 8))
    rows[:, 9:12] = [0x00, 0x12, 0x3C]
    path = tmp_path / "x.dat"
    path.write_bytes(rows.tobytes())
    framing = detect_framing(path, path.read_bytes())
    assert (framing.newline, framing.record_length, framing.records) == ("none", 37, 300)


def test_a_packed_field_ends_at_its_sign_and_digits_stay_digits():
    rng = np.random.default_rng(2)
    rows = np.full((50, 12), 0x20, np.uint8)
    rows[:, 0:4] = rng.integers(0x30, 0x3A, (50, 4))
    values = rng.integers(0, 99999, 50)
    for i, value in enumerate(values):
        digits = f"{value:05d}C"
        rows[i, 4:7] = [int(digits[j:j + 2], 16) for j in range(0, 6, 2)]
    fields = guess_fields(rows, "cp932")
    assert [(f.offset, f.length, f.type) for f in fields][:2] == [(0, 4, "digits"),
                                                                  (4, 3, "packed")]


def test_euc_jp_and_cp932_are_told_apart():
    text = "長井市本町一丁目　山田　太郎\n" * 50
    assert detect_encoding(text.encode("euc_jp")).encoding == "euc_jp"
    assert detect_encoding(text.encode("cp932")).encoding == "cp932"
    assert detect_encoding(text.encode("utf-8")).encoding == "utf-8"


def test_the_trailer_count_is_found_by_its_value_zoned_or_not():
    assert guess_trailer(b"9000000123000000000000456789", 123, (0, 1)).length == 9
    zoned = guess_trailer(b"90000001{000000000000000045", 10, (0, 1))
    assert (zoned.offset, zoned.length, zoned.type) == (1, 8, "zoned")
    assert guess_trailer(b"9" + b" " * 20, 5, (0, 1)) is None


def test_a_missing_file_is_a_usage_error(tmp_path):
    done = CliRunner().invoke(main, ["sniff", str(tmp_path / "nothing.dat")])
    assert done.exit_code == 2 and "Traceback" not in done.output
