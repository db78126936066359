"""Mutation fuzz of every bundled mapping's generated file through the real `migrate run`.

A small consistent file is generated for each bundled mapping, then damaged the way real
exports get damaged (a flipped byte, bytes inserted or deleted, a cut-off end, a record written
twice, a wrong record-type code, a multi-byte character cut in half) and run through the CLI
exactly as staff would run it. Whatever the damage: the exit code is 0, 1 or 2 (never 3, the
"internal error" of a bug), no traceback reaches the screen, and a run that completes proves
that every data record read was either accepted or rejected (run.json's reconciliation).
The same damage also goes through the pipeline in chunks of a few records, and through a whole
migration plan into its SQLite database.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from fuzz.budget import fuzz_settings
from hypothesis import event, given, note
from hypothesis import strategies as st

from migrate.cli import main
from migrate.errors import MigrateError
from migrate.layouts import list_bundled_mappings, load_mapping
from migrate.synth.sets import generate_set

ROWS = 6


@dataclass(frozen=True)
class Mutation:
    """One kind of damage at a relative place in the file; `data` is the bytes it brings."""

    kind: str
    at: float   # 0 <= at < 1: where in the file (or in the list of records / characters)
    size: int   # how many bytes it removes or repeats
    data: bytes

    def apply(self, body: bytes, stride: int | None, code: tuple[int, int] | None) -> bytes:
        """The damaged bytes. stride is the record length on disk (None for lines); code is
        the record-type code's (offset, length) in a record."""
        n = len(body)
        pos = min(int(self.at * (n + 1)), n)
        if self.kind == "flip":
            if not n:
                return body
            pos = min(pos, n - 1)
            return body[:pos] + bytes([body[pos] ^ (self.data[0] or 0xFF)]) + body[pos + 1:]
        if self.kind == "overwrite":  # the length stays: fixed-width framing still holds
            return body[:pos] + self.data[:n - pos] + body[pos + len(self.data):]
        if self.kind == "insert":
            return body[:pos] + self.data + body[pos:]
        if self.kind == "delete":
            return body[:pos] + body[pos + self.size:]
        if self.kind == "truncate":
            return body[:pos]
        starts = _record_starts(body, stride)
        if self.kind == "duplicate_record":
            i = min(int(self.at * len(starts)), len(starts) - 1)
            start, end = starts[i], starts[i + 1] if i + 1 < len(starts) else n
            return body[:end] + body[start:end] + body[end:]
        if self.kind == "record_type":
            i = min(int(self.at * len(starts)), len(starts) - 1)
            offset = starts[i] + (code[0] if code else 0)
            if offset >= n:
                return body
            return body[:offset] + self.data[:1] + body[offset + 1:]
        if self.kind == "cut_character":
            high = [i for i, b in enumerate(body) if b >= 0x80]
            if not high:
                return body[:pos]
            i = high[min(int(self.at * len(high)), len(high) - 1)]
            # drop the lead byte, drop the byte after it, end the file inside the character,
            # or (keeping the length) turn the byte after it into a space
            return [body[:i] + body[i + 1:], body[:i + 1] + body[i + 2:], body[:i + 1],
                    body[:i + 1] + b" " + body[i + 2:]][self.size % 4]
        raise AssertionError(self.kind)


def reframe(body: bytes, stride: int, newline: bytes) -> bytes:
    """The damaged bytes made whole fixed-width records again (cut or padded with spaces, each
    record's line break restored), so that the damage reaches the decoders and checks instead
    of stopping at the framing check."""
    if not body:
        return body
    body = body[:len(body) - len(body) % stride] or body.ljust(stride, b" ")
    if not newline:
        return body
    records = [body[i:i + stride - len(newline)] + newline for i in range(0, len(body), stride)]
    return b"".join(records)


def _record_starts(body: bytes, stride: int | None) -> list[int]:
    if stride:
        return list(range(0, max(len(body), 1), stride))
    starts = [0]
    starts += [i + 1 for i, b in enumerate(body) if b == 0x0A and i + 1 < len(body)]
    return starts


KINDS = ["flip", "overwrite", "insert", "delete", "truncate", "duplicate_record", "record_type",
         "cut_character"]
# Record-type codes and bytes that mean something to a reader or decoder.
SPECIAL = st.sampled_from([b"1", b"2", b"3", b"7", b"8", b"9", b"0", b"D", b"T", b"H", b" ", b"\n", b"\r", b",",
                           b'"', b"\x1a", b"\x00", b"\x81", b"\x82\xa0", b"\xff", b"\x8e",
                           b"\r\n", b'""', b"-", b"}"])
MUTATIONS = st.builds(
    Mutation,
    kind=st.sampled_from(KINDS),
    at=st.floats(0, 1, exclude_max=True, allow_nan=False),
    size=st.integers(1, 40),
    data=st.one_of(SPECIAL, st.binary(min_size=1, max_size=8)),
)


@pytest.fixture(scope="module")
def set_folder(tmp_path_factory) -> Path:
    """The bundled vendor set with its migration plan, generated once."""
    folder = tmp_path_factory.mktemp("set")
    generate_set(folder, ROWS, seed=0)
    return folder


@pytest.fixture(scope="module")
def generated(set_folder: Path) -> dict[str, Path]:
    """One small consistent file per mapping of the bundled set."""
    plan = yaml.safe_load((set_folder / "migration.yaml").read_text(encoding="utf-8"))
    return {item["mapping"]: set_folder / item["input"] for item in plan["inputs"]}


def test_every_bundled_mapping_has_a_generated_file(generated) -> None:
    """The fuzz below covers every bundled mapping: a new one must join the synthetic set."""
    assert sorted(generated) == sorted(list_bundled_mappings())


def run_cli(path: Path, mapping_id: str, out: Path):
    runner = CliRunner(env={"LANG": "C.UTF-8", "LANGUAGE": None, "LC_ALL": None,
                            "LC_MESSAGES": None, "MIGRATE_DEBUG": None})
    return runner.invoke(main, ["run", str(path), "-m", mapping_id, "--out", str(out),
                                "--db", "none", "--workers", "1"])


def check_run(result, out: Path) -> None:
    """Exit 0, 1 or 2 with a message, never a traceback; a run that completed reconciles."""
    output = result.output
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    assert result.exit_code in (0, 1, 2), output
    assert "Traceback" not in output and "internal error" not in output, output
    if result.exit_code == 2:
        assert "error" in output, output
    if result.exit_code == 2:
        return
    # a run that reconciles is published in OUT; one that does not (exit 1) leaves its
    # evidence in a failed-run folder beside OUT
    found = [out / "run.json", *out.parent.glob(f"{out.name}.failed-*/run.json")]
    found = [path for path in found if path.exists()]
    assert len(found) == 1, (found, output)
    document = json.loads(found[0].read_text(encoding="utf-8"))
    ledger = document["reconciliation"]
    assert ledger["data_records_read"] == ledger["accepted"] + ledger["rejected"], output
    invariant = {i["name"]: i for i in ledger["invariants"]}["read_equals_accepted_plus_rejected"]
    assert invariant["ok"], invariant
    assert document["exit_code"] == result.exit_code


@pytest.mark.parametrize("mapping_id", list_bundled_mappings())
def test_generated_file_runs_clean(generated, tmp_path, mapping_id: str) -> None:
    """The undamaged file: exit 0 and nothing rejected (so the fuzz starts from a good file)."""
    result = run_cli(generated[mapping_id], mapping_id, tmp_path / "out")
    check_run(result, tmp_path / "out")
    assert result.exit_code == 0, result.output


def damage(path: Path, mapping_id: str, mutations: list[Mutation], keep_framing: bool) -> bytes:
    """The file's bytes after the mutations (re-framed as whole records when asked)."""
    source = load_mapping(mapping_id).source
    stride = None if source.delimited else source.stride
    rt = source.record_types
    code = (rt.offset, rt.length) if rt is not None and not source.delimited else None
    body = original = path.read_bytes()
    for mutation in mutations:
        body = mutation.apply(body, stride, code)
    if keep_framing and stride:
        body = reframe(body, stride, source.newline)
    elif keep_framing and source.header_line:  # keep the header line: its names find fields
        header = original.split(b"\n", 1)[0]
        body = header + (b"\n" + body.split(b"\n", 1)[1] if b"\n" in body else b"")
    return body


@pytest.mark.parametrize("mapping_id", list_bundled_mappings())
@fuzz_settings("heavy")
@given(mutations=st.lists(MUTATIONS, min_size=1, max_size=3),
       keep_framing=st.sampled_from([True, True, False]))
def test_mutated_file_never_crashes(generated, mapping_id: str, mutations: list[Mutation],
                                    keep_framing: bool) -> None:
    body = damage(generated[mapping_id], mapping_id, mutations, keep_framing)
    note(f"{len(body)} bytes: {body[:120]!r}…")
    work = Path(tempfile.mkdtemp(prefix="migrate-fuzz-"))
    try:
        path = work / generated[mapping_id].name
        path.write_bytes(body)
        result = run_cli(path, mapping_id, work / "out")
        event(f"exit {result.exit_code}")  # shown by --hypothesis-show-statistics
        check_run(result, work / "out")
    finally:
        shutil.rmtree(work, ignore_errors=True)


@pytest.mark.parametrize("mapping_id", list_bundled_mappings())
@fuzz_settings("heavy")
@given(mutations=st.lists(MUTATIONS, min_size=1, max_size=3),
       chunk_bytes=st.sampled_from([1, 300, 900]))
def test_mutated_file_in_small_chunks(generated, mapping_id: str, mutations: list[Mutation],
                                      chunk_bytes: int) -> None:
    """The same damage through `migrate.run.pipeline.run` with chunks of a few records (the
    CLI's smallest chunk is a megabyte): chunk boundaries, children kept with their parent and
    the key check across chunks see damaged records too."""
    from migrate.run.pipeline import RunOptions, run

    mapping = load_mapping(mapping_id)
    body = damage(generated[mapping_id], mapping_id, mutations, keep_framing=True)
    work = Path(tempfile.mkdtemp(prefix="migrate-fuzz-"))
    try:
        path = work / generated[mapping_id].name
        path.write_bytes(body)
        try:
            result = run(RunOptions(mapping, path, work / "out", db_url="none",
                                    chunk_bytes=chunk_bytes, workers=1))
        except MigrateError as error:
            event(f"refused: {error.message}")
            assert str(error)
            return
        event(f"exit {result.exit_code}")
        ledger = json.loads(result.run_json.read_text(encoding="utf-8"))["reconciliation"]
        assert ledger["data_records_read"] == ledger["accepted"] + ledger["rejected"]
    finally:
        shutil.rmtree(work, ignore_errors=True)


@fuzz_settings("heavy")
@given(mapping_id=st.sampled_from(list_bundled_mappings()),
       mutations=st.lists(MUTATIONS, min_size=1, max_size=3),
       keep_framing=st.sampled_from([True, True, False]))
def test_mutated_file_in_its_plan_with_a_database(set_folder: Path, mapping_id: str,
                                                  mutations: list[Mutation],
                                                  keep_framing: bool) -> None:
    """One damaged file among the others of its migration plan, loaded into the default SQLite
    database: references across files, the database load and the plan's commit see it too."""
    plan = yaml.safe_load((set_folder / "migration.yaml").read_text(encoding="utf-8"))
    name = next(item["input"] for item in plan["inputs"] if item["mapping"] == mapping_id)
    work = Path(tempfile.mkdtemp(prefix="migrate-fuzz-"))
    try:
        folder = work / "set"
        shutil.copytree(set_folder, folder)
        (folder / name).write_bytes(damage(set_folder / name, mapping_id, mutations,
                                           keep_framing))
        runner = CliRunner(env={"LANG": "C.UTF-8", "LANGUAGE": None, "LC_ALL": None,
                                "LC_MESSAGES": None, "MIGRATE_DEBUG": None})
        result = runner.invoke(main, ["run", str(folder / "migration.yaml"), "--out",
                                      str(work / "out"), "--workers", "1"])
        event(f"exit {result.exit_code}")
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            raise result.exception
        assert result.exit_code in (0, 1, 2), result.output
        assert "Traceback" not in result.output and "internal error" not in result.output
        if result.exit_code == 2:
            return
        found = [p for p in [work / "out" / "run.json",
                             *work.glob("out.failed-*/run.json")] if p.exists()]
        assert len(found) == 1, (found, result.output)
        for item in json.loads(found[0].read_text(encoding="utf-8"))["files"]:
            if "data_records_read" in item:
                assert item["data_records_read"] == item["accepted"] + item["rejected"], item
    finally:
        shutil.rmtree(work, ignore_errors=True)
