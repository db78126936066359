"""Wire the stages: read → decode/map → validate → keys → write → reconcile, chunk by chunk.

Memory is bounded by the chunk size. Outputs are staged under temporary names and committed only
when the whole input went through; an input error mid-way leaves nothing that looks complete.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from migrate import __version__
from migrate.atomic import commit, discard, private_open, temp_path, write_text_atomic
from migrate.errors import InputFormatError
from migrate.i18n import language, t
from migrate.keys import KeyTracker
from migrate.layouts import Mapping
from migrate.mapping import OFFSET_COL, RECORD_COL, ChunkMapper, MappedChunk, decode_header
from migrate.problems import concat_problems, problems_frame
from migrate.read import DATA, DEFAULT_CHUNK_BYTES, KIND_NAMES, FixedWidthReader, file_sha256
from migrate.reasons import reason_message
from migrate.reconcile import Ledger
from migrate.sinks.csv import CsvSink
from migrate.sinks.parquet import ParquetSink
from migrate.sinks.sql import SqlSink, default_sqlite_url

PROBLEM_COLUMNS = ["record", "offset", "field", "column", "reason", "message", "value", "detail"]


@dataclass
class RunOptions:
    """What `migrate run` was asked to do."""

    mapping: Mapping
    input: Path
    out_dir: Path
    db_url: str | None = None
    max_rejects: int | None = None
    chunk_bytes: int = DEFAULT_CHUNK_BYTES
    progress: Callable[[int, int], None] | None = None  # (bytes done, bytes total)


@dataclass
class RunResult:
    """The ledger and where the outputs went."""

    ledger: Ledger
    run_json: Path
    outputs: dict[str, Path] = field(default_factory=dict)
    max_rejects_exceeded: bool = False

    @property
    def exit_code(self) -> int:
        return 0 if self.ledger.ok and not self.max_rejects_exceeded else 1


class ProblemWriter:
    """rejects.csv / warnings.csv, streamed with a localized message per reason."""

    def __init__(self, path: Path, messages: dict[str, str]):
        self.path = path
        self.temp = temp_path(path)
        self.handle = private_open(self.temp, "wb")
        self.messages = messages
        self.lang = language()
        pl.DataFrame(schema={c: pl.Utf8 for c in PROBLEM_COLUMNS}).write_csv(self.handle)

    def write(self, problems: pl.DataFrame) -> None:
        if problems.is_empty():
            return
        reasons = problems["reason"].unique().to_list()
        lookup = {r: self.messages.get(r) or reason_message(r, self.lang) for r in reasons}
        problems.with_columns(
            pl.col("reason").replace_strict(lookup, return_dtype=pl.Utf8).alias("message")
        ).select(PROBLEM_COLUMNS).write_csv(self.handle, include_header=False)

    def commit(self) -> None:
        self.handle.close()
        commit(self.temp, self.path)

    def abort(self) -> None:
        self.handle.close()
        discard(self.temp)


def _field_offsets(mapping: Mapping) -> dict[str, tuple[str | None, int]]:
    result: dict[str, tuple[str | None, int]] = {}
    for cm in mapping.columns:
        if cm.kind == "field":
            result[cm.column] = (cm.source, mapping.fields[cm.source].offset)
    return result


def _rule_messages(mapping: Mapping) -> dict[str, str]:
    lang = language()
    return {r.name: (r.ja if lang == "ja" else r.en) or r.name for r in mapping.target.rules}


class Pipeline:
    """One run of one mapping over one input file."""

    def __init__(self, options: RunOptions):
        from migrate.validate import Validator  # pandera import is slow; only when running

        self.options = options
        self.mapping = options.mapping
        self.schema = self.mapping.target
        self.reader = FixedWidthReader(options.input, self.mapping.source, options.chunk_bytes)
        self.header = self._header()
        self.mapper = ChunkMapper(self.mapping, self.header)
        self.validator = Validator(self.schema, _field_offsets(self.mapping))
        self.keys = KeyTracker(self.schema.primary_key)
        self.ledger = Ledger()
        self.field_to_column = {cm.source: cm.column for cm in self.mapping.columns
                                if cm.kind == "field"}

    def _header(self) -> dict[str, Any]:
        record = self.reader.header_record()
        if record is None:
            return {}
        header = decode_header(self.mapping, record)
        for name, spec in self.mapping.header_fields.items():
            error = header.get(f"{name}.__error")
            if error:
                raise InputFormatError(
                    "the header record cannot be read: {reason}",
                    {"reason": reason_message(error).split(" — ")[0]},
                    file=self.options.input, record=1, offset=spec.offset, field_name=name,
                    hint="Check the header layout in the mapping.")
        return header

    # ------------------------------------------------------------------ per chunk

    def _process(self, mapped: MappedChunk, chunk_kinds: np.ndarray) -> tuple[
            pl.DataFrame, pl.DataFrame, pl.DataFrame]:
        rows = mapped.rows
        v_errors, v_warnings = self.validator.validate(rows)
        # A value that failed to decode is already a problem; don't report its null again.
        decoded_bad = mapped.errors.select("record", "column").drop_nulls()
        if decoded_bad.height:
            v_errors = v_errors.join(decoded_bad.unique(), on=["record", "column"], how="anti")
        errors = concat_problems([mapped.errors, v_errors])
        bad_records = errors["record"].unique()
        ok = ~rows[RECORD_COL].is_in(bad_records.implode())
        candidates = rows.filter(ok)
        dup_rows, earlier = self.keys.duplicates(candidates, candidates[RECORD_COL].to_numpy())
        if len(dup_rows):
            dup = candidates[dup_rows]
            key = self.schema.primary_key[0]
            field, offset = _field_offsets(self.mapping).get(key, (None, 0))
            errors = concat_problems([errors, problems_frame(
                dup[RECORD_COL].to_numpy(), dup[OFFSET_COL].to_numpy() + offset, field=field,
                column=",".join(self.schema.primary_key), reasons="duplicate_key",
                values=dup[key].cast(pl.Utf8).to_list(),
                detail=[t("same key as record {record}", record=int(r)) for r in earlier])])
            keep = np.ones(candidates.height, dtype=bool)
            keep[dup_rows] = False
            candidates = candidates.filter(pl.Series(keep))
        warnings = concat_problems([mapped.warnings, v_warnings])
        return candidates, errors, warnings

    def _count(self, mapped: MappedChunk, kinds: np.ndarray, accepted: pl.DataFrame,
               errors: pl.DataFrame, warnings: pl.DataFrame) -> None:
        rejected_records = errors["record"].unique()
        first_reason = errors.group_by("record", maintain_order=True).agg(pl.first("reason"))
        rejected_totals = {}
        source_totals = {}
        for name, values in mapped.control_values.items():
            source_totals[name] = int(values.sum() or 0)
            rejected_mask = mapped.rows[RECORD_COL].is_in(rejected_records.implode())
            rejected_totals[name] = int(values.filter(rejected_mask).sum() or 0)
        data_read = int(np.count_nonzero(kinds == DATA)) + mapped.unknown_records
        self.ledger.add(
            kinds=Counter({KIND_NAMES[int(k)]: int(c) for k, c in
                           zip(*np.unique(kinds, return_counts=True), strict=True)}),
            data_read=data_read, accepted=accepted.height, rejected=rejected_records.len(),
            problem_reasons=Counter(dict(errors["reason"].value_counts().iter_rows())),
            record_reasons=Counter(dict(first_reason["reason"].value_counts().iter_rows())),
            warning_reasons=Counter(dict(warnings["reason"].value_counts().iter_rows())),
            source_totals=source_totals, rejected_totals=rejected_totals)

    # ------------------------------------------------------------------ the run

    def run(self) -> RunResult:
        options = self.options
        out = options.out_dir
        out.mkdir(parents=True, exist_ok=True)
        started = datetime.now(UTC)
        clock = time.perf_counter()
        name = self.schema.name
        columns = self.schema.column_names
        empty = self.mapper.map_empty()
        sinks = [CsvSink(out / f"{name}.csv", columns),
                 ParquetSink(out / f"{name}.parquet", empty.select(columns))]
        db_url = options.db_url or default_sqlite_url(out)
        messages = _rule_messages(self.mapping)
        rejects = ProblemWriter(out / "rejects.csv", messages)
        warnings_out = ProblemWriter(out / "warnings.csv", messages)
        staged = [*sinks, rejects, warnings_out]
        try:
            sinks.append(SqlSink(db_url, self.schema))
            staged.append(sinks[-1])
            done = 0
            for chunk in self.reader.chunks():
                mapped = self.mapper.map(chunk)
                accepted, errors, warnings = self._process(mapped, chunk.kinds)
                self._count(mapped, chunk.kinds, accepted, errors, warnings)
                for sink in sinks:
                    sink.write(accepted)
                rejects.write(errors)
                warnings_out.write(warnings)
                done += len(chunk.records) * chunk.stride
                if options.progress:
                    options.progress(done, self.reader.data_size)
            for item in staged:
                item.commit()
        except BaseException:
            for item in staged:
                item.abort()
            raise
        return self._reconcile(sinks, started, time.perf_counter() - clock)

    def _trailer(self) -> tuple[int | None, dict[str, int | None]]:
        trailer = self.mapping.trailer
        record = self.reader.trailer_record()
        if trailer is None or record is None:
            return None, {}
        from migrate.mapping import decode_field

        row = np.frombuffer(record, dtype=np.uint8).reshape(1, -1)

        def value(spec):
            result = decode_field(spec, row[:, spec.offset:spec.end], self.mapping.source)
            v = result.values[0]
            return None if v is None else int(v)

        count = value(trailer.count) if trailer.count else None
        return count, {n: value(s) for n, s in trailer.control_totals.items()}

    def _reconcile(self, sinks: list, started: datetime, seconds: float) -> RunResult:
        ledger = self.ledger
        out = self.options.out_dir
        ledger.check_counts()
        count, totals = self._trailer()
        ledger.check_trailer(count, totals, self.mapping.trailer is not None)
        csv_sink = sinks[0]
        output_totals = {}
        for name in totals:
            column = self.field_to_column.get(name)
            if column:
                output_totals[name] = csv_sink.column_sum(column)
        ledger.check_output_totals(output_totals)
        for sink in sinks:
            ledger.check_sink(sink.name, sink.count())
        for sink in sinks:
            if hasattr(sink, "close"):
                sink.close()
        max_rejects = self.options.max_rejects
        exceeded = max_rejects is not None and ledger.rejected > max_rejects
        outputs = {}
        for sink in sinks:
            for path in sink.outputs():
                outputs[sink.name] = path
        outputs["rejects"] = out / "rejects.csv"
        outputs["warnings"] = out / "warnings.csv"
        result = RunResult(ledger, out / "run.json", outputs, exceeded)
        document = {
            "tool": {"name": "migrate", "version": __version__},
            "status": "reconciled" if result.exit_code == 0 else "failed",
            "exit_code": result.exit_code,
            "started": started.isoformat(timespec="seconds"),
            "seconds": round(seconds, 3),
            "input": {"path": str(self.options.input), "bytes": self.reader.file_size,
                      "sha256": self.reader.sha256.hexdigest(),
                      "records": self.reader.n_records},
            "mapping": {"id": self.mapping.id, "version": self.mapping.version,
                        "path": str(self.mapping.path),
                        "sha256": file_sha256(self.mapping.path)},
            "schema": {"id": self.schema.id, "path": str(self.schema.path),
                       "sha256": file_sha256(self.schema.path)},
            "header": {k: (str(v) if v is not None else None) for k, v in self.header.items()
                       if not k.endswith(".__error")},
            "trailer": {"count": count, "control_totals": totals},
            "max_rejects": max_rejects,
            "max_rejects_exceeded": exceeded,
            "reconciliation": ledger.as_dict(),
            "outputs": {
                key: {"path": str(path), "sha256": file_sha256(path),
                      "bytes": path.stat().st_size}
                for key, path in outputs.items()
            },
        }
        write_text_atomic(result.run_json, json.dumps(document, ensure_ascii=False, indent=2))
        return result


def run(options: RunOptions) -> RunResult:
    """Convert one legacy file; raises MigrateError for input errors before any commit."""
    return Pipeline(options).run()
