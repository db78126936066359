"""Wire the stages: read → decode/map → validate → keys → write → reconcile, chunk by chunk.

Memory is bounded by the chunk size. Everything a run writes goes into a staging folder and
staging tables, and is published at one point (migrate.run.publishing) only when the whole input
went through and reconciles; an input error mid-way leaves nothing that looks complete.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from migrate.errors import InputFormatError
from migrate.i18n import t
from migrate.problems import concat_problems
from migrate.read import open_reader
from migrate.read.fixed import END, IGNORE, TRAILER, file_sha256
from migrate.reconcile.diagnosis import SAMPLES, diagnose
from migrate.reconcile.framing import FramingCheck
from migrate.reconcile.ledger import Ledger
from migrate.reconcile.reasons import reason_message
from migrate.reconcile.verify_load import verify_staged
from migrate.report.html import write_report
from migrate.run.allocator import keep_freed_buffers
from migrate.run.chunkwork import (
    ChunkContext,
    ChunkOutcome,
    ChunkWorker,
    duplicate_key_problems,
    group_rejections,
    stop_resource_tracker,
)
from migrate.run.journal import ChunkJournal, ResumeRefused, run_identity
from migrate.run.options import RunOptions, RunResult, default_workers
from migrate.run.parts import (
    PARTS_DIR,
    PartCsvSink,
    PartFrameSink,
    PartParquetSink,
    Piece,
    new_parts_folder,
)
from migrate.run.pool import WorkerPool
from migrate.run.problemfiles import ProblemWriter, rule_messages
from migrate.run.progress import LiveCount
from migrate.run.publishing import PublishPoint, output_error
from migrate.run.rundocument import run_document
from migrate.sinks import BackgroundSink
from migrate.sinks.atomic import write_text_atomic
from migrate.sinks.publish import checkpoint
from migrate.sinks.sql import SqlSink, default_sqlite_url
from migrate.sinks.swap import publish_tables
from migrate.transform.lookups import lookup_columns
from migrate.transform.mapper import (
    OFFSET_COL,
    RECORD_COL,
    RUN_DATE,
    ChunkMapper,
    decode_header,
    field_offsets,
)
from migrate.validate.crossfile import FILE_SHIFT, CrossFile, check_references
from migrate.validate.groupcheck import find_failing_groups, group_problems, merge_partials

WORK_DIR = ".work"  # temporary files of a run, inside its staging folder
class Pipeline:
    """One run of one mapping over one input file."""

    def __init__(self, options: RunOptions):
        keep_freed_buffers()
        self.options = options
        self.mapping = options.mapping
        self.schema = self.mapping.target
        self.reader = open_reader(options.input, self.mapping, options.chunk_bytes)
        self.header = self._header()
        # workers write each chunk's rows into the staging folder (migrate.run.parts)
        self.parts_dir = options.out_dir / PARTS_DIR
        self.journal = ChunkJournal(self.parts_dir)
        self.own_cross = options.cross is None
        # temporary files (key indexes, group checks, lookup tables) live in the staging
        # folder: removed with it, never published
        self.work_dir = options.out_dir / WORK_DIR
        self.lookup_dir = (self.work_dir / "lookups").absolute() \
            if lookup_columns(self.mapping) else None  # absolute: Dask workers have another cwd
        self.context = ChunkContext(self.mapping, options.input, options.chunk_bytes,
                                    self.header, self.lookup_dir,
                                    Path(os.path.abspath(self.parts_dir)))
        self.cross = options.cross or CrossFile(self.work_dir)
        self.file_index = self.cross.add_file(options.input.name, self.schema.id)
        self.keys = self.cross.tracker(self.schema)
        self.failing_groups: list = []
        self.pool: WorkerPool | None = None
        self.converted = LiveCount()  # data records converted, counted inside chunks too
        self.ledger = Ledger()
        self.defaults: Counter = Counter()  # column → records that got the mapping's default
        self.gaiji: Counter = Counter()  # 外字 code → times replaced through the table
        self.framing = FramingCheck(self.mapping, options.input)
        self.unexpected_by_field: Counter = Counter()  # data fields: `expect` mismatches
        self.rejects_at: Counter = Counter()  # (field, reason) → records it rejected
        self.reject_offsets: dict[tuple[str, str], list[int]] = {}  # a few of their offsets
        field_to_column = {cm.source: cm.column for cm in self.mapping.columns
                           if cm.kind == "field"}
        # trailer control totals that are also output columns: re-summed from the CSV output
        totals = self.mapping.trailer.control_totals if self.mapping.trailer else {}
        self.output_total_columns = {name: field_to_column[name] for name in totals
                                     if name in field_to_column}
        key = self.schema.primary_key[0] if self.schema.primary_key else None
        self.locate = field_offsets(self.mapping)
        self.key_field = self.locate.get(key, (None, 0)) if key else (None, 0)

    def _header(self) -> dict[str, Any]:
        """The header record's values, and the run's date (md fields may take their year
        from it): decided once, so that every chunk sees the same, whenever it runs."""
        run_date = date.today()
        record = self.reader.header_record()
        if record is None or self.mapping.source.delimited:
            return {RUN_DATE: run_date}
        header = decode_header(self.mapping, record, run_date)
        for name, spec in self.mapping.header_fields.items():
            error = header.get(f"{name}.__error")
            if error:
                raise InputFormatError(
                    "the header record cannot be read: {reason}",
                    {"reason": reason_message(error).split(" — ")[0]},
                    file=self.options.input, record=1, offset=spec.offset, field_name=name,
                    hint="Check the header layout in the mapping.")
        return header

    # ------------------------------------------------------------------ chunks, in order

    def _outcomes(self, plan: list[tuple[int, ...]]) -> Iterator[ChunkOutcome]:
        """Chunk outcomes in input order: first the chunks an interrupted run journaled
        (--resume), then the others from the workers, ahead by a bounded window only."""
        reused = len(self.journal.reusable)
        for position in range(reused):
            yield self.journal.replay(position)
        todo = list(enumerate(plan))[reused:]
        if not todo:
            return
        if self.options.engine != "local":
            from migrate.run.engines import engine_outcomes

            yield from engine_outcomes(self.options, self.context, self.reader, todo)
            return
        pool = self._pool(len(todo))
        if pool is None:
            worker = ChunkWorker(self.context, self.converted.counter())
            for index, task in todo:
                yield worker.process(*task, part=index)
            return
        try:
            yield from pool.outcomes(
                todo, lambda: ChunkWorker(self.context, self.converted.counter(shared=True)))
        except BaseException:
            pool = None  # an error's traceback keeps this frame: the pool must not stay in it
            self._close_pool()
            raise

    def _pool(self, chunks: int) -> WorkerPool | None:
        """The process pool of the per-chunk work (None when one process is enough); built
        once per run, when it is set up, and shared by the group checks' first pass and the
        main pass (migrate.run.pool)."""
        workers = max(1, min(self.options.workers or default_workers(), chunks))
        if workers == 1 or self.options.engine != "local":
            return None
        if self.pool is None:  # this process is one of the workers (migrate.run.pool)
            self.pool = WorkerPool(self.context, self.converted.counter(shared=True),
                                   workers - 1)
        return self.pool

    def _close_pool(self) -> None:
        if self.pool is not None:
            self.pool.close()
            self.pool = None

    def _cross_checks(self, outcome: ChunkOutcome
                      ) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame, pl.Series]:
        """Checks that need more than the chunk: group checks decided by the first pass and
        references into files converted earlier in the run. Returns (candidates, errors,
        warnings, rejected records)."""
        candidates, errors, warnings = outcome.candidates, outcome.errors, outcome.warnings
        rejected = outcome.rejected_records
        group_errors, group_warnings = group_problems(candidates, self.failing_groups,
                                                      OFFSET_COL)
        ref_errors, ref_warnings = check_references(candidates, self.schema, self.cross,
                                                    RECORD_COL, OFFSET_COL, self.locate)
        new_errors = concat_problems([group_errors, ref_errors])
        if new_errors.height:
            bad = new_errors["record"].unique(maintain_order=True)
            candidates = candidates.filter(~pl.col(RECORD_COL).is_in(bad.implode()))
            errors = concat_problems([errors, new_errors])
            rejected = pl.concat([rejected, bad]).unique(maintain_order=True)
        if group_warnings.height or ref_warnings.height:
            warnings = concat_problems([warnings, group_warnings, ref_warnings])
        return candidates, errors, warnings, rejected

    def _settle(self, outcome: ChunkOutcome
                ) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
        """Cross-chunk checks and counting, in input order; returns (accepted, errors,
        warnings): the accepted rows hold the settle columns (migrate.run.parts)."""
        candidates, errors, warnings, rejected = self._cross_checks(outcome)
        self.defaults.update(outcome.defaults or {})
        self.gaiji.update(outcome.gaiji or {})
        dup_rows, earlier = self.keys.duplicates(
            candidates, self.cross.encode(self.file_index, candidates[RECORD_COL].to_numpy()))
        if len(dup_rows):
            dup = candidates[dup_rows]
            errors = concat_problems([errors, duplicate_key_problems(
                dup, self.schema.primary_key, self.key_field,
                [self._earlier(int(r)) for r in earlier])])
            keep = np.ones(candidates.height, dtype=bool)
            keep[dup_rows] = False
            candidates = candidates.filter(pl.Series(keep))
            rejected = pl.concat([rejected, dup[RECORD_COL]])
        self._remember_rejected(outcome, candidates)
        accepted_records = candidates.height
        if outcome.groups is not None:  # a parent rejected here takes its child records along
            taken = group_rejections(errors, outcome.groups)  # only records not yet in errors
            if taken.height:
                errors = concat_problems([errors, taken])
                rejected = errors["record"].unique(maintain_order=True)
            accepted_records = outcome.groups.filter(pl.col("parent").is_in(
                candidates[RECORD_COL].implode())).height
        self._frame(outcome, errors)
        first_reason = errors.group_by("record", maintain_order=True).agg(pl.first("reason"))
        source_totals, rejected_totals = {}, {}
        for name, values in outcome.control_values.items():
            # summed in 128 bits: an Int64 sum wraps silently past 9.2×10^18 (a hash total)
            wide = values.with_columns(pl.col("value").cast(pl.Int128))
            source_totals[name] = int(wide["value"].sum() or 0)
            rejected_totals[name] = int(wide.filter(pl.col("record").is_in(
                rejected.implode()))["value"].sum() or 0)
        self.ledger.add(
            kinds=outcome.kinds, data_read=outcome.data_read,
            accepted=accepted_records, rejected=rejected.len(),
            rows=candidates.height,
            problem_reasons=Counter(dict(errors["reason"].value_counts().iter_rows())),
            record_reasons=Counter(dict(first_reason["reason"].value_counts().iter_rows())),
            warning_reasons=Counter(dict(warnings["reason"].value_counts().iter_rows())),
            source_totals=source_totals, rejected_totals=rejected_totals)
        return candidates, errors, warnings

    def _piece(self, outcome: ChunkOutcome, accepted: pl.DataFrame) -> Piece:
        """The chunk's parts, less the rows rejected here (duplicate keys, references, groups)."""
        if outcome.parts is None:
            raise RuntimeError("a chunk came back without its output parts")
        keep = None
        if accepted.height != outcome.candidates.height:
            keep = outcome.candidates[RECORD_COL].is_in(
                accepted[RECORD_COL].implode()).to_numpy()
        return Piece(self.parts_dir, outcome.parts, keep)

    def _open_journal(self, input_sha: Future[str]) -> int:
        """The chunk journal (migrate.run.journal): with --resume, the chunks an interrupted
        run finished are reused (how many); its header waits for the input's hash."""
        new_parts_folder(self.parts_dir)
        options = self.options

        def identity() -> dict[str, Any]:
            return run_identity(self.mapping, options.input, input_sha.result(),
                                options.chunk_bytes)

        reused = self.journal.resume(identity(), options.input) if options.resume else 0
        self.journal.begin(identity)
        return reused

    def _frame(self, outcome: ChunkOutcome, errors: pl.DataFrame) -> None:
        """The chunk's framing records and trailer figure rows, in record order."""
        values = dict(outcome.figure_values or {})
        values.update({name: frame for name, frame in outcome.control_values.items()
                       if name not in values})
        self.framing.feed(outcome.first_record, outcome.records, outcome.framing, values)
        unexpected = errors.filter(pl.col("reason") == "unexpected_value")
        if unexpected.height:
            self.unexpected_by_field.update(
                dict(unexpected["field"].value_counts().iter_rows()))
        at = errors.filter(pl.col("field").is_not_null()).group_by(
            "field", "reason", maintain_order=True).agg(
            pl.col("record").n_unique().alias("n"), pl.col("offset").head(SAMPLES))
        for field, reason, n, offsets in at.iter_rows():
            self.rejects_at[(field, reason)] += n
            kept = self.reject_offsets.setdefault((field, reason), [])
            kept.extend(offsets[:SAMPLES - len(kept)])

    def _remember_rejected(self, outcome: ChunkOutcome, accepted: pl.DataFrame) -> None:
        """Keys of this chunk's rejected rows, so a later file's reference to one of them says
        that it was rejected here (and where) rather than that it does not exist."""
        key = list(self.schema.primary_key)
        if not key or outcome.rejected_keys is None:
            return
        late = outcome.candidates.join(accepted.select(RECORD_COL), on=RECORD_COL, how="anti")
        frames = [f.select(*key, RECORD_COL) for f in (outcome.rejected_keys, late) if f.height]
        if not frames:
            return
        rows = pl.concat(frames)
        self.cross.rejected_tracker(self.schema).duplicates(
            rows, self.cross.encode(self.file_index, rows[RECORD_COL].to_numpy()))

    def _earlier(self, code: int) -> str:
        """Detail of a duplicate: the record that had the key first (naming its file when it
        is another file of the run)."""
        if code >> FILE_SHIFT == self.file_index:
            return t("same key as record {record}", record=code & ((1 << FILE_SHIFT) - 1))
        return t("same key as {where}", where=self.cross.describe(code))

    # ------------------------------------------------------------------ the run

    def run(self) -> RunResult:
        options = self.options
        out = options.out_dir
        out.mkdir(parents=True, exist_ok=True)
        started = datetime.now(UTC)
        clock = time.perf_counter()
        name = self.schema.name
        columns = self.schema.column_names
        empty = ChunkMapper(self.mapping, self.header).map_empty()
        hasher = ThreadPoolExecutor(1)
        input_sha = hasher.submit(file_sha256, options.input)  # hashlib releases the GIL
        summed = tuple(self.output_total_columns.values())
        plan = self.reader.plan()
        reused = self.reused = self._open_journal(input_sha)
        self.chunks = len(plan)
        sinks = [BackgroundSink(PartCsvSink(out / f"{name}.csv", columns, summed)),
                 BackgroundSink(PartParquetSink(out / f"{name}.parquet", empty.select(columns),
                                                self.schema))]
        db_url = self.db_url = options.db_url or default_sqlite_url(out)
        messages = rule_messages(self.mapping)
        rejects = ProblemWriter(out / "rejects.csv", messages, t("rejects"))
        warnings_out = ProblemWriter(out / "warnings.csv", messages, t("warnings"))
        staged = [*sinks, rejects, warnings_out]
        chunks = self._outcomes(plan)
        try:
            first_pass = self.schema.group_checks or self.lookup_dir
            self._pool(len(plan) if first_pass else len(plan) - reused)  # workers start now
            if db_url != "none":
                sinks.append(BackgroundSink(PartFrameSink(SqlSink(
                    db_url, self.schema,
                    foreign_keys={self.schema.id} | self.cross.layouts_done,
                    append=options.db_append, run_id=options.run_id))))
                staged.append(sinks[-1])
            done = 0
            if self.schema.group_checks or self.lookup_dir:
                self._phase(t("Group checks"))
            self.failing_groups = self._group_pass()
            total = self._data_records()
            self._phase(t("Converting") if not reused else
                        t("Converting (resumed: {chunks} of {total} chunks were done)",
                          chunks=reused, total=len(plan)), total)
            with self.converted.shown(options.progress, total):
                for index, outcome in enumerate(chunks):
                    accepted, errors, warnings = self._settle(outcome)
                    piece = self._piece(outcome, accepted)
                    for sink in sinks:
                        sink.write(piece)
                    rejects.write(errors)
                    warnings_out.write(warnings)
                    if index >= reused:
                        self.journal.commit(index, plan[index], outcome)
                        checkpoint(f"{options.area or ''}:chunk-{index}".lstrip(":"))
                    done += outcome.data_read  # data records, as the summary counts them
                    self.converted.settle(done)
            self._phase(t("Writing the outputs") if db_url == "none"
                        else t("Writing the outputs and loading the database"))
            for item in staged:
                item.commit()
            self.journal.close()
            if options.area is None:  # a plan's parts stay until it ends (its --resume)
                shutil.rmtree(self.parts_dir, ignore_errors=True)  # never published
            self.cross.layouts_done.add(self.schema.id)
        except BaseException:
            self._close_pool()
            for item in staged:
                item.abort()
            raise
        finally:
            chunks.close()  # the workers end (a pool, a Dask cluster), then the resource tracker
            self._close_pool()  # a pool whose work is done has been ending in the background
            self.converted.release()
            stop_resource_tracker()
            self.journal.close()
            hasher.shutdown(wait=True)
            for found in self.failing_groups:
                found.close()
            if self.own_cross:
                self.cross.close()
        self.input_sha256 = input_sha.result()
        return self._reconcile(sinks, started, time.perf_counter() - clock)

    def _phase(self, label: str, total: int | None = None) -> None:
        """Tell the progress display (migrate.run.progress) that a phase starts."""
        phase = getattr(self.options.progress, "phase", None)
        if phase is not None:
            phase(label, total)

    def _data_records(self) -> int:
        """Data records in the input (child records included), for the progress bar: all but
        the header and the trailer, end and ignored records at the end of the file."""
        n = self.reader.n_records
        if n == 0:
            return 0
        if self.mapping.source.delimited:
            tail = self.reader.read_chunk(*self.reader.plan()[-1]).kinds
        else:
            tail = self.reader.read_chunk(max(1, n - 63), min(n, 64)).kinds
        framing = 0
        for kind in tail[::-1]:
            if kind not in (TRAILER, END, IGNORE):
                break
            framing += 1
        return max(n - (self.reader.header_record() is not None) - framing, 0)

    def _group_pass(self) -> list:
        """First pass for the group checks of the target layout and the lookup columns of the
        mapping (nothing when there are none)."""
        if not self.schema.group_checks and self.lookup_dir is None:
            return []
        plan = self.reader.plan()
        pool = self._pool(len(plan))
        spill = self.work_dir
        if pool is None:
            chunks = (self.reader.read_chunk(*task) for task in plan)
            return find_failing_groups(self.mapping, self.header, chunks, spill, self.lookup_dir)
        try:
            parts = pool.group_partials(plan, self.mapping, self.header, self.reader)
            return merge_partials(self.mapping, parts, spill, self.lookup_dir)
        except BaseException:
            self._close_pool()
            raise

    def _reconcile(self, sinks: list, started: datetime, seconds: float) -> RunResult:
        ledger = self.ledger
        out = self.options.out_dir
        final_path = self.options.final_path
        ledger.check_counts()
        figures = self.framing.finish(ledger)
        stated = self.framing.first_trailer()
        trailer_spec = self.mapping.trailer
        count = _whole(stated.get("count")) if trailer_spec and trailer_spec.count else None
        totals = {name: _whole(stated.get(name))
                  for name in (trailer_spec.control_totals if trailer_spec else ())}
        csv_sink = sinks[0]
        ledger.check_output_totals({name: csv_sink.column_sum(column)
                                    for name, column in self.output_total_columns.items()
                                    if name in totals})
        sql_sink = None
        for sink in sinks:
            ledger.check_sink(sink.name, sink.count())
            if getattr(sink, "url", None):
                sql_sink = sink.sink.sink  # BackgroundSink(PartFrameSink(SqlSink))
            if getattr(sink, "url", None) and self.options.db_verify:
                self._phase(t("Verifying the database"))
                # a database: the staging table's count, totals and row-hash sums against
                # what was sent to it, before it replaces anything
                sent = sink.proof
                for earlier in self.options.db_proofs:
                    sent = sent.merge(earlier)
                ledger.invariants += verify_staged(
                    sql_sink, sent, ledger.rows + sum(p.rows for p in self.options.db_proofs))
        for sink in sinks:
            if hasattr(sink, "close"):
                sink.close()
        max_rejects = self.options.max_rejects
        rate = self.options.max_reject_rate
        exceeded = (max_rejects is not None and ledger.rejected > max_rejects) or (
            rate is not None and ledger.data_read > 0
            and ledger.rejected / ledger.data_read > rate)
        diagnosis = diagnose(self.mapping, ledger.data_read, ledger.accepted, self.rejects_at,
                             self._reject_samples(), rate)
        outputs, digests = {}, {}
        for sink in sinks:
            for path in sink.outputs():
                outputs[sink.name] = path
            if getattr(sink, "sha256", None):  # the CSV, hashed as its recount read it
                digests[sink.path] = sink.sha256
        outputs["rejects"] = out / "rejects.csv"
        outputs["warnings"] = out / "warnings.csv"
        outputs["rejects_xlsx"] = out / "rejects.xlsx"
        outputs["warnings_xlsx"] = out / "warnings.xlsx"
        result = RunResult(ledger, final_path(out / "run.json"),
                           {key: final_path(path) for key, path in outputs.items()},
                           exceeded, sql_sink, diagnosis=diagnosis)
        if sql_sink is not None and self.options.private_db and result.exit_code == 0 \
                and self.options.db_verify:
            # the staging folder's own database: nobody sees it before the folder is published,
            # so the table is put in place as soon as it verifies (and the file hashed below)
            publish_tables(sql_sink.url, [sql_sink])
        document = run_document(
            self, result, outputs, started, seconds,
            trailer={"count": count, "control_totals": totals}, figures=figures,
            exceeded=exceeded, diagnosis=diagnosis, digests=digests)
        if self.options.resume:
            document["resumed"] = {"chunks_reused": self.reused, "chunks": self.chunks}
        result.document = document
        result.written_to = out
        write_text_atomic(out / "run.json", json.dumps(document, ensure_ascii=False, indent=2))
        self._phase(t("Writing the report"))
        write_report(document, out, rejects_csv=outputs["rejects"])
        result.outputs["report"] = final_path(out / "report.html")
        return result

    def _reject_samples(self) -> dict[tuple[str, str], list[bytes]]:
        """The field's bytes in a few records of each (field, reason), read back from the
        input, so that a probable mapping error can name its fix."""
        samples = {}
        with open(self.options.input, "rb") as handle:
            for (field, reason), offsets in self.reject_offsets.items():
                try:
                    length = self.mapping.field_spec(field).length
                except KeyError:
                    continue
                samples[(field, reason)] = [os.pread(handle.fileno(), length, offset)
                                            for offset in offsets]
        return samples


def _whole(value: Any) -> int | None:
    return None if value is None else int(value)


def run(options: RunOptions) -> RunResult:
    """Convert one legacy file and publish all its outputs (files, run.json, report, database
    table) at one point when it reconciles; a run that does not publishes nothing and keeps
    its evidence in OUT.failed-<time>-<id>. MigrateError for input errors, nothing published."""
    point = PublishPoint(options.out_dir, options.db_url, [options.mapping.target.name],
                         resume=options.resume)
    try:
        work = replace(options, out_dir=point.stage.path, db_url=point.work_db if
                       point.private_db else options.db_url, published=point.published,
                       run_id=point.run_id, private_db=point.private_db)
        result = Pipeline(work).run()
        shutil.rmtree(point.stage.path / WORK_DIR, ignore_errors=True)  # never published
    except ResumeRefused:
        point.leave()  # the interrupted run's journal stays for a resume with the right input
        raise
    except BaseException as error:
        point.abandon()
        translated = output_error(error, point.stage.out)
        if translated is not None:
            raise translated from None
        raise
    folder = point.settle(result.exit_code == 0, [result.sql_sink])
    if folder != point.stage.out:
        result.run_json = folder / "run.json"
        result.outputs = {key: folder / path.name for key, path in result.outputs.items()
                          if (folder / path.name).is_file()}
    return result
