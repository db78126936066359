"""Chunk-level fuzz of read → decode → map → validate for every bundled mapping.

The whole-run fuzz (test_fuzz_mutations.py) costs a run per example; here many bytes of a
generated file are overwritten at once (the framing kept, so every record reaches the decoders
and the mapper) and the file's chunks go straight through the worker's per-chunk work. Any bytes:
the project's own error or an outcome in which every data record read is accounted for — a row
that goes on, or a rejected record with a reason — never another exception.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
import yaml
from fuzz.budget import fuzz_settings
from hypothesis import event, given, note
from hypothesis import strategies as st

from migrate.errors import MigrateError
from migrate.layouts import Mapping, list_bundled_mappings, load_mapping
from migrate.read import open_reader
from migrate.read.fixed import DATA, UNKNOWN
from migrate.run.chunkwork import ChunkContext, ChunkWorker
from migrate.synth.sets import generate_set
from migrate.transform.mapper import decode_header

ROWS = 12
PATCH = st.one_of(
    st.sampled_from([b" ", b"0", b"9", b"}", b"J", b"\x00", b"\xff", b"\x81", b"\x82\xa0",
                     b"\x0a", b"\x0d", b"\x1a", b"\xf0\x40", b"\xe0", b"13", b"99", b"00",
                     b"\x0c", b"\x1c", b"\x9f", b",", b'"', b"-", b".", b"4310229", b"\xa4"]),
    st.binary(min_size=1, max_size=6))


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> dict[str, tuple[Mapping, bytes]]:
    folder = tmp_path_factory.mktemp("set")
    generate_set(folder, ROWS, seed=1)
    plan = yaml.safe_load((folder / "migration.yaml").read_text(encoding="utf-8"))
    return {item["mapping"]: (load_mapping(item["mapping"]), (folder / item["input"]).read_bytes())
            for item in plan["inputs"]}


def patched(body: bytes, patches: list[tuple[float, bytes]], mapping: Mapping) -> bytes:
    """Overwrite bytes in place (same length); fixed-width records keep their line breaks and
    the first record its header code, so that the damage reaches the chunks."""
    out = bytearray(body)
    source = mapping.source
    # the header line of a delimited file names the columns: damage the lines after it
    start = body.index(b"\n") + 1 if source.delimited and source.header_line else 0
    for at, data in patches:
        pos = min(start + int(at * (len(out) - start)), len(out) - 1)
        out[pos:pos + len(data)] = data[:len(out) - pos]
    rt = source.record_types
    if not source.delimited and rt is not None and rt.header:  # the header code stays: a
        code = slice(rt.offset, rt.offset + rt.length)          # file without one is refused
        out[code] = body[code]                                  # before any chunk
    if not source.delimited and source.newline:
        nl, stride = source.newline, source.stride
        for start in range(source.record_length, len(out), stride):
            out[start:start + len(nl)] = nl
    return bytes(out)


def header_of(reader, mapping: Mapping) -> dict:
    record = reader.header_record()
    if record is None or mapping.source.delimited:
        return {}
    return decode_header(mapping, record)


@pytest.mark.parametrize("mapping_id", list_bundled_mappings())
@fuzz_settings("medium")
@given(patches=st.lists(st.tuples(st.floats(0, 1, exclude_max=True), PATCH), min_size=1,
                        max_size=40),
       chunk_bytes=st.sampled_from([1, 700, 1 << 20]))
def test_fuzz_damaged_chunks_keep_every_record(generated, mapping_id: str,
                                              patches: list[tuple[float, bytes]],
                                              chunk_bytes: int) -> None:
    mapping, body = generated[mapping_id]
    body = patched(body, patches, mapping)
    note(repr(body[:200]))
    with tempfile.TemporaryDirectory(prefix="migrate-fuzz-") as folder:
        path = Path(folder) / "in.dat"
        path.write_bytes(body)
        try:
            reader = open_reader(path, mapping, chunk_bytes)
            worker = ChunkWorker(ChunkContext(mapping, path, chunk_bytes,
                                              header_of(reader, mapping)))
            plan = reader.plan()
            outcomes = [worker.process(*where) for where in plan]
            chunks = [reader.read_chunk(*where) for where in plan]
        except MigrateError as error:
            event(f"refused: {error.message}")
            assert str(error)
            return
    event("mapped")
    for chunk, outcome in zip(chunks, outcomes, strict=True):
        rejected = set(outcome.rejected_records.to_list())
        kept = set(outcome.candidates["__record"].to_list())
        assert not rejected & kept
        assert outcome.errors["reason"].null_count() == 0
        assert set(outcome.errors["record"].to_list()) == rejected
        numbers = chunk.record_numbers
        # every data record goes on as a row or is rejected with a reason; a record of an
        # unknown type is rejected; nothing else becomes a row
        assert set(numbers[chunk.kinds == DATA].tolist()) <= kept | rejected
        assert set(numbers[chunk.kinds == UNKNOWN].tolist()) <= rejected
        assert kept <= set(numbers[chunk.kinds == DATA].tolist())
