"""A migration plan: several legacy files converted together, in dependency order, as one run.

`migration.yaml` lists the inputs and their mappings. Files run so that a layout is converted
before the layouts that refer to it (resident records before tax and NHI), sharing one database
and one set of key indexes, so references and duplicate keys are checked per record across
files. One run.json and one report.html at the top cover every file and the cross-file checks;
each file also keeps its own folder with its outputs, rejects and report.
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from migrate import __version__
from migrate.errors import MigrateError
from migrate.i18n import t
from migrate.layouts.plan import Plan, PlanInput, referenced_layouts
from migrate.read.fixed import DEFAULT_CHUNK_BYTES, file_sha256
from migrate.run.journal import ResumeRefused
from migrate.run.parts import PARTS_DIR
from migrate.run.pipeline import WORK_DIR, Pipeline, RunOptions, RunResult
from migrate.run.publishing import PublishPoint, output_error
from migrate.sinks.atomic import write_text_atomic
from migrate.sinks.sql import safe_url
from migrate.validate.crossfile import CrossFile


@dataclass
class PlanResult:
    """Every file's result and the plan's own run.json / report.html."""

    results: list[tuple[PlanInput, RunResult]]
    run_json: Path
    report: Path | None = None
    document: dict[str, Any] = field(default_factory=dict)  # what run.json holds
    failed: list[tuple[PlanInput, MigrateError]] = field(default_factory=list)
    skipped: list[tuple[PlanInput, str]] = field(default_factory=list)  # (input, failed layout)

    @property
    def exit_code(self) -> int:
        if self.failed or self.skipped:
            return max([2, *(error.exit_code for _, error in self.failed)])
        return max((r.exit_code for _, r in self.results), default=0)



def run_plan(plan: Plan, out_dir: Path, *, db_url: str | None = None,
             max_rejects: int | None = None, chunk_bytes: int = DEFAULT_CHUNK_BYTES,
             workers: int | None = None, engine: str = "local", scheduler: str | None = None,
             progress: Callable[[PlanInput], Callable[[int, int], None] | None] | None = None,
             on_done: Callable[[PlanInput, RunResult], None] | None = None,
             max_reject_rate: float | None = None, resume: bool = False) -> PlanResult:
    """Convert every file of the plan into OUT/<layout>/ and one database; write OUT/run.json.

    The plan has one publish point: every file's outputs and every table are published
    together when all files reconcile; otherwise nothing is, and the evidence goes to
    OUT.failed-<time>-<id>. A file whose input cannot be read is reported and the files that
    refer to its layout (directly or not) are skipped — their references could not be
    checked; the other files still run, so that the report shows every problem at once.

    Each file keeps its chunk journal until the plan ends: with `resume`, a killed plan
    replays the chunks every file had finished (those of the files it had completed too, so
    that the keys shared across files are rebuilt exactly) and converts the rest.
    """
    tables = sorted({item.mapping.target.name for item in plan.inputs})
    parts = tuple(f"{item.name}/{PARTS_DIR}" for item in plan.inputs)
    point = PublishPoint(out_dir, db_url, tables, resume=resume, parts=parts)
    stage = point.stage
    started = datetime.now(UTC)
    clock = time.perf_counter()
    results: list[tuple[PlanInput, RunResult]] = []
    failed: list[tuple[PlanInput, MigrateError]] = []
    skipped: list[tuple[PlanInput, str]] = []
    broken: set[str] = set()
    loaded: dict[str, list[Any]] = {}  # layout → what each of its files sent to the database
    cross = CrossFile(stage.path / WORK_DIR)
    try:
        for item in plan.inputs:
            layout = item.mapping.target.id
            blocked = sorted((referenced_layouts(item) | {layout}) & broken)
            if blocked:
                skipped.append((item, blocked[0]))
                broken.add(layout)
                continue
            earlier = loaded.setdefault(layout, [])
            last = item is [i for i in plan.inputs if i.mapping.target.id == layout][-1]
            options = RunOptions(item.mapping, item.input, stage.path / item.name, point.work_db,
                                 max_rejects, chunk_bytes, progress(item) if progress else None,
                                 workers, engine, scheduler, cross, db_append=bool(earlier),
                                 db_verify=last, db_proofs=tuple(earlier),
                                 published=point.published, run_id=point.run_id,
                                 private_db=point.private_db, max_reject_rate=max_reject_rate,
                                 resume=resume, area=item.name)
            try:
                result = Pipeline(options).run()
            except ResumeRefused:
                raise
            except MigrateError as error:
                failed.append((item, error))
                broken.add(item.mapping.target.id)
                continue
            results.append((item, result))
            if result.sql_sink is not None:
                earlier.append(result.sql_sink.proof)
            if on_done:
                on_done(item, result)
        cross.close()
        for folder in (WORK_DIR, *parts):  # temporary: never published
            shutil.rmtree(stage.path / folder, ignore_errors=True)
        result = PlanResult(results, stage.out / "run.json", failed=failed, skipped=skipped)
        label = (f"sqlite:///{stage.out / point.db_file}" if point.db_file else str(db_url))
        document = result.document = plan_document(plan, result, label, started,
                                                   time.perf_counter() - clock)
        write_text_atomic(stage.path / "run.json",
                          json.dumps(document, ensure_ascii=False, indent=2))
        from migrate.report.planreport import write_plan_report

        write_plan_report(document, stage.path)
    except ResumeRefused:
        cross.close()
        point.leave()  # the interrupted plan's journals stay for a resume with the right inputs
        raise
    except BaseException as error:
        cross.close()
        point.abandon()
        translated = output_error(error, stage.out)
        if translated is not None:
            raise translated from None
        raise
    folder = point.settle(result.exit_code == 0, [r.sql_sink for _, r in results])
    result.run_json = folder / "run.json"
    result.report = folder / "report.html"
    return result


def plan_document(plan: Plan, result: PlanResult, db_url: str, started: datetime,
                  seconds: float) -> dict[str, Any]:
    """The plan's run.json: per file the reconciliation figures, plus the cross-file checks."""
    files = []
    documents = {item.name: run_result.document for item, run_result in result.results}
    for item, run_result in result.results:
        doc = documents[item.name]
        rec = doc["reconciliation"]
        files.append({
            "name": item.name, "layout": item.mapping.target.id, "mapping": item.mapping.id,
            "input": str(item.input), "input_sha256": doc["input"]["sha256"],
            "status": doc["status"], "exit_code": doc["exit_code"],
            "run_json": str(run_result.run_json.relative_to(result.run_json.parent)),
            "report": f"{item.name}/report.html",
            "records_by_type": rec["records_by_type"],
            "data_records_read": rec["data_records_read"], "accepted": rec["accepted"],
            "rejected": rec["rejected"], "rows": rec.get("rows", rec["accepted"]),
            "rejected_records_by_reason": rec["rejected_records_by_reason"],
            "warnings_by_reason": rec["warnings_by_reason"],
            "reconciled": rec["reconciled"],
            "failed_invariants": [i["name"] for i in rec["invariants"] if not i["ok"]],
            **({"resumed": doc["resumed"]} if "resumed" in doc else {}),
        })
    def not_converted(item: PlanInput, exit_code: int, error: str) -> dict[str, Any]:
        return {"name": item.name, "layout": item.mapping.target.id, "mapping": item.mapping.id,
                "input": str(item.input), "status": "error", "exit_code": exit_code,
                "error": error}

    files += [not_converted(item, error.exit_code, str(error)) for item, error in result.failed]
    files += [not_converted(item, 2, t("not converted: it refers to {layout}, whose file could "
                                       "not be converted", layout=layout))
              for item, layout in result.skipped]
    return {
        "tool": {"name": "migrate", "version": __version__},
        "migration": plan.title,
        "plan": {"path": str(plan.path), "sha256": file_sha256(plan.path)},
        "status": "reconciled" if result.exit_code == 0 else "failed",
        "exit_code": result.exit_code,
        "started": started.isoformat(timespec="seconds"),
        "seconds": round(seconds, 3),
        "database": {"url": safe_url(db_url)} if db_url != "none" else None,
        "order": [i.mapping.target.id for i in plan.inputs],
        "files": files,
        "cross_file": cross_file_checks(plan, result, {
            name: doc["reconciliation"] for name, doc in documents.items()}),
    }


def cross_file_checks(plan: Plan, result: PlanResult, ran: dict[str, dict[str, Any]]
                      ) -> list[dict[str, Any]]:
    """What was checked across files, and how many records each check rejected or flagged
    (`ran`: each converted file's reconciliation, by its output folder name)."""
    layouts_ran = {item.mapping.target.id for item, _ in result.results}
    planned = {item.mapping.target.id for item in plan.inputs}
    checks = []
    for item in plan.inputs:
        schema = item.mapping.target
        rec = ran.get(item.name)
        problems = rec["problems_by_reason"] if rec else {}
        warnings = rec["warnings_by_reason"] if rec else {}
        for column in schema.columns:
            ref = column.references
            if ref is None or ref.layout == schema.id:
                continue
            checked = ref.layout in layouts_ran and rec is not None
            entry: dict[str, Any] = {
                "check": "reference", "layout": schema.id, "file": item.name,
                "column": column.name,
                "references": ref.describe(), "checked": checked,
                "unless": {k: list(v) for k, v in ref.unless.items()} or None}
            if not checked:
                entry["why"] = ("file not converted" if rec is None else
                                "referenced file not converted" if ref.layout in planned
                                else "layout not in this run")
            if checked:
                entry["orphans_rejected"] = _column_count(
                    item, result, ("orphan_reference", "reference_rejected"), column.name)
                if ref.unless:
                    entry["exempt_but_found_warnings"] = warnings.get("jutogai_but_resident", 0)
            checks.append(entry)
        for group in schema.group_checks:
            checks.append({"check": "group", "layout": schema.id, "file": item.name,
                           "name": group.name,
                           "group_by": list(group.group_by), "severity": group.severity,
                           "checked": rec is not None,
                           "records": (problems if group.severity == "error" else warnings)
                           .get(group.name, 0)})
        if schema.primary_key:
            checks.append({"check": "primary_key", "layout": schema.id, "file": item.name,
                           "key": list(schema.primary_key), "checked": rec is not None,
                           "duplicates_rejected": problems.get("duplicate_key", 0)})
    return checks


def _column_count(item: PlanInput, result: PlanResult, reasons: tuple[str, ...],
                  column: str) -> int:
    """Records of one file rejected for `reasons` on `column` (read from its rejects.csv)."""
    import polars as pl

    for done, run_result in result.results:
        if done is item:
            path = (run_result.written_to or run_result.run_json.parent) / "rejects.csv"
            if not path.is_file():
                return 0
            frame = pl.read_csv(path, columns=["reason", "column"], infer_schema=False)
            return frame.filter(pl.col("reason").is_in(reasons)
                                & (pl.col("column") == column)).height
    return 0


