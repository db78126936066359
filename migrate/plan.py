"""A migration plan: several legacy files converted together, in dependency order, as one run.

`migration.yaml` lists the inputs and their mappings. Files run so that a layout is converted
before the layouts that refer to it (resident records before tax and NHI), sharing one database
and one set of key indexes, so references and duplicate keys are checked per record across
files. One run.json and one report.html at the top cover every file and the cross-file checks;
each file also keeps its own folder with its outputs, rejects and report.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from migrate import __version__
from migrate.atomic import write_text_atomic
from migrate.crossfile import CrossFile
from migrate.errors import LayoutError, MigrateError
from migrate.i18n import t
from migrate.layouts import Mapping, _Ctx, _read_yaml, load_mapping
from migrate.pipeline import RunOptions, RunResult, run
from migrate.read import DEFAULT_CHUNK_BYTES, file_sha256
from migrate.sinks.sql import default_sqlite_url, safe_url


@dataclass(frozen=True)
class PlanInput:
    """One legacy file of the plan and the mapping that reads it."""

    mapping: Mapping
    input: Path
    line: int = 0
    folder: str = ""  # output folder under OUT: the layout's name, plus the file's stem when
    #                   several files load that layout (juki/juki_removed)

    @property
    def name(self) -> str:
        return self.folder or self.mapping.target.name


@dataclass(frozen=True)
class Plan:
    """The files of one migration, in the order they must run."""

    title: str
    path: Path
    inputs: tuple[PlanInput, ...]


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


def is_plan(path: Path) -> bool:
    """A YAML file with `inputs:` is a plan (a legacy export never parses as one)."""
    if path.suffix.lower() not in (".yaml", ".yml") or not path.is_file():
        return False
    try:
        data = _read_yaml(path)
    except MigrateError:
        return False
    return "inputs" in data


def load_plan(path: Path) -> Plan:
    """Read migration.yaml: its inputs with their mappings, ordered by their references."""
    ctx = _Ctx(path)
    data = _read_yaml(path)
    ctx.only_keys(data, ("migration", "inputs"), "a migration plan")
    raw = ctx.require(data, "inputs", "the migration plan")
    if not isinstance(raw, list) or not raw:
        raise ctx.fail(data, "inputs", "'inputs' must be a non-empty list of "
                       "{mapping, input}")
    inputs = []
    for item in raw:
        node = ctx.mapping(item, "inputs", data)
        ctx.only_keys(node, ("mapping", "input"), "an input of the plan")
        ref = str(ctx.require(node, "mapping", "an input of the plan"))
        as_path = path.parent / ref
        mapping = load_mapping(as_path if as_path.suffix in (".yaml", ".yml")
                               and as_path.is_file() else ref)
        inputs.append(PlanInput(mapping, path.parent / str(ctx.require(
            node, "input", "an input of the plan")), node.line))
    inputs = _folders(inputs, path)
    return Plan(str(data.get("migration", path.stem)), path, tuple(_dependency_order(
        inputs, path)))


def _folders(inputs: list[PlanInput], path: Path) -> list[PlanInput]:
    """Each input's output folder: the layout's name, or layout/stem when several files load
    the same layout (their rows go into one table; keys must be unique across them)."""
    by_layout: dict[str, list[PlanInput]] = {}
    for item in inputs:
        by_layout.setdefault(item.mapping.target.id, []).append(item)
    named = []
    for item in inputs:
        same = by_layout[item.mapping.target.id]
        if len(same) == 1:
            named.append(item)
            continue
        stems = [i.input.stem for i in same]
        if len(set(stems)) != len(stems):
            raise LayoutError(
                "two inputs of the layout {layout} have the same file name {stem}",
                {"layout": item.mapping.target.id, "stem": item.input.stem}, file=path,
                line=item.line, hint="Give the files of one layout different names.")
        named.append(replace(item, folder=f"{item.mapping.target.name}/{item.input.stem}"))
    return named


def _dependency_order(inputs: list[PlanInput], path: Path) -> list[PlanInput]:
    """Referenced layouts first (a layout counts as done when all its files are); otherwise
    the order of the plan file (stable), files of one layout kept in that order."""
    layouts = {i.mapping.target.id for i in inputs}
    needs = {i.mapping.target.id: _references(i) & layouts for i in inputs}
    ordered: list[PlanInput] = []
    done: set[str] = set()
    pending = list(inputs)
    while pending:
        ready = [i for i in pending if needs[i.mapping.target.id] <= done]
        if not ready:
            cycle = ", ".join(i.mapping.target.id for i in pending)
            raise LayoutError("the layouts {layouts} refer to each other in a cycle",
                              {"layouts": cycle}, file=path,
                              hint="A reference must point to a layout that does not refer "
                                   "back to it.")
        ordered.append(ready[0])
        pending.remove(ready[0])
        layout = ready[0].mapping.target.id
        if not any(i.mapping.target.id == layout for i in pending):
            done.add(layout)
    return ordered


def run_plan(plan: Plan, out_dir: Path, *, db_url: str | None = None,
             max_rejects: int | None = None, chunk_bytes: int = DEFAULT_CHUNK_BYTES,
             workers: int | None = None, engine: str = "local", scheduler: str | None = None,
             progress: Callable[[PlanInput], Callable[[int, int], None] | None] | None = None,
             on_done: Callable[[PlanInput, RunResult], None] | None = None) -> PlanResult:
    """Convert every file of the plan into OUT/<layout>/ and one database; write OUT/run.json.

    A file whose input cannot be read is reported and the files that refer to its layout
    (directly or not) are skipped — their references could not be checked; the other files
    still run, and files already converted keep their committed outputs.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    started = datetime.now(UTC)
    clock = time.perf_counter()
    db_url = db_url or default_sqlite_url(out_dir)
    cross = CrossFile(out_dir)
    results: list[tuple[PlanInput, RunResult]] = []
    failed: list[tuple[PlanInput, MigrateError]] = []
    skipped: list[tuple[PlanInput, str]] = []
    broken: set[str] = set()
    loaded: dict[str, list[tuple[Path, int]]] = {}  # layout → (Parquet, rows) of its files
    try:
        for item in plan.inputs:
            layout = item.mapping.target.id
            blocked = sorted((_references(item) | {layout}) & broken)
            if blocked:
                skipped.append((item, blocked[0]))
                broken.add(layout)
                continue
            earlier = loaded.setdefault(layout, [])
            last = item is [i for i in plan.inputs if i.mapping.target.id == layout][-1]
            options = RunOptions(item.mapping, item.input, out_dir / item.name, db_url,
                                 max_rejects, chunk_bytes, progress(item) if progress else None,
                                 workers, engine, scheduler, cross, db_append=bool(earlier),
                                 db_verify=last, db_parts=tuple(earlier))
            try:
                result = run(options)
            except MigrateError as error:
                failed.append((item, error))
                broken.add(item.mapping.target.id)
                continue
            results.append((item, result))
            earlier.append((out_dir / item.name / f"{item.mapping.target.name}.parquet",
                            result.ledger.rows))
            if on_done:
                on_done(item, result)
    finally:
        cross.close()
    result = PlanResult(results, out_dir / "run.json", failed=failed, skipped=skipped)
    document = result.document = plan_document(plan, result, db_url, started,
                                               time.perf_counter() - clock)
    write_text_atomic(result.run_json, json.dumps(document, ensure_ascii=False, indent=2))
    from migrate.report import write_plan_report

    result.report = write_plan_report(document, out_dir)
    return result


def _references(item: PlanInput) -> set[str]:
    return {c.references.layout for c in item.mapping.target.columns
            if c.references and c.references.layout != item.mapping.target.id}


def plan_document(plan: Plan, result: PlanResult, db_url: str, started: datetime,
                  seconds: float) -> dict[str, Any]:
    """The plan's run.json: per file the reconciliation figures, plus the cross-file checks."""
    files = []
    documents = {item.name: json.loads(run_result.run_json.read_text(encoding="utf-8"))
                 for item, run_result in result.results}
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
                "references": f"{ref.layout}.{ref.column}", "checked": checked,
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
            path = run_result.outputs.get("rejects")
            if path is None or not Path(path).is_file():
                return 0
            frame = pl.read_csv(path, columns=["reason", "column"], infer_schema=False)
            return frame.filter(pl.col("reason").is_in(reasons)
                                & (pl.col("column") == column)).height
    return 0


