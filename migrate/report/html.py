"""The run report `OUT/report.html`: the facts of run.json as one page a manager can read.

The page is rendered from run.json's document (its JSON twin) and from the already-masked
`value` column of rejects.csv (a few examples per reason) — nothing else from the data, so no
unmasked personal data can reach it. It is self-contained: inline CSS and an inline SVG chart,
no scripts, no fonts or images fetched from anywhere. Labels follow migrate.i18n.language().
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import polars as pl
from jinja2 import Environment, PackageLoader, StrictUndefined

from migrate.i18n import language, t
from migrate.read.fixed import file_sha256
from migrate.reconcile.reasons import REASONS, fix_side_label
from migrate.sinks.atomic import write_text_atomic

EXAMPLES_PER_REASON = 3
BAR_COLOUR = "#d9480f"  # used by the chart bars only (the screenshot test looks for it)

# Chart geometry (SVG user units = CSS px).
CHART_LABEL_WIDTH = 220
CHART_BAR_AREA = 500
CHART_VALUE_WIDTH = 70
CHART_ROW = 30
CHART_BAR = 20
CHART_TOP = 8


def write_report(document: dict[str, Any], out_dir: Path, *, rejects_csv: Path | None = None,
                 lang: str | None = None) -> Path:
    """Render OUT/report.html from a run.json document; atomic write, owner-only (0600).

    `rejects_csv` defaults to the rejects output named in the document (or OUT/rejects.csv);
    only its `reason`, `record`, `field`, `column` and (masked) `value` columns are read.
    """
    out_dir = Path(out_dir)
    if rejects_csv is None:
        named = document.get("outputs", {}).get("rejects", {}).get("path")
        rejects_csv = Path(named) if named else out_dir / "rejects.csv"
    examples = reject_examples(rejects_csv) if Path(rejects_csv).is_file() else {}
    ledger = _ledger_file(out_dir / "run.json", document)
    html = render_report(document, examples=examples, run_json=ledger, lang=lang)
    path = out_dir / "report.html"
    write_text_atomic(path, html)
    return path


def templates() -> Environment:
    """The report templates, with the number filter they use."""
    env = Environment(loader=PackageLoader("migrate.report", "templates"), autoescape=True,
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters["num"] = number_text
    env.filters["localtime"] = local_time
    return env


def render_report(document: dict[str, Any], *, examples: dict[str, list[dict]] | None = None,
                  run_json: dict[str, Any] | None = None, lang: str | None = None) -> str:
    """The HTML text of the report (no file access)."""
    lang = lang or language()
    template = templates().get_template("report.html.j2")
    return template.render(**_context(document, examples or {}, run_json, lang))


def reject_examples(path: Path, per_reason: int = EXAMPLES_PER_REASON) -> dict[str, list[dict]]:
    """Up to `per_reason` rows per reason from rejects.csv: record, column and masked value."""
    wanted = ["record", "field", "column", "reason", "value"]
    frame = (pl.scan_csv(path, infer_schema=False)
             .select(wanted)
             .group_by("reason", maintain_order=True)
             .head(per_reason)
             .collect())
    result: dict[str, list[dict]] = {}
    for row in frame.iter_rows(named=True):
        result.setdefault(row["reason"], []).append({
            "record": row["record"],
            "column": row["column"] or row["field"],
            "value": row["value"],
        })
    return result


# ---------------------------------------------------------------------------- building blocks


def local_time(value: Any) -> str:
    """A time of run.json (ISO 8601, UTC) in the reader's local time zone, with its offset:
    2026-12-04 04:55:21 JST (UTC+09:00). The zone is the one of the machine (or TZ) that
    writes the page."""
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        return str(value)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    local = moment.astimezone()
    offset = local.strftime("%z")
    offset = f"{offset[:3]}:{offset[3:]}" if offset else "+00:00"
    name = local.tzname() or ""
    zone = f"{name} (UTC{offset})" if name and not name.startswith(("+", "-", "UTC")) \
        else f"UTC{offset}"
    return f"{local:%Y-%m-%d %H:%M:%S} {zone}"


def value_lines(value: Any, lang: str) -> list[str]:
    """A check's figure as lines for people: numbers with separators, column totals in words
    (one per line), never a Python repr."""
    if isinstance(value, dict):
        labels = {"non_null": t("values", lang), "sum": t("sum", lang),
                  "min": t("earliest", lang), "max": t("latest", lang)}
        return [f"{labels.get(str(k), str(k))} {number_text(v)}" for k, v in value.items()]
    if isinstance(value, list | tuple):
        return [t(", ", lang).join(number_text(v) for v in value)]
    return [number_text(value)]


def number_text(value: Any) -> str:
    """A figure as the reports show it: thousands separated, — for none."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def _ledger_file(path: Path, document: dict[str, Any]) -> dict[str, Any] | None:
    """run.json with its SHA-256, only when the file on disk holds this very document."""
    try:
        on_disk = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if on_disk != json.loads(json.dumps(document, ensure_ascii=False)):
        return None
    return {"name": "run.json", "path": str(path), "sha256": file_sha256(path),
            "bytes": path.stat().st_size}


def _labels(lang: str) -> dict[str, str]:
    """Every fixed text on the page (message ids are English; see migrate.po)."""
    return {
        "title": t("Migration run report", lang),
        "intro": t("This report shows that every record of the old system's export is "
                   "accounted for: each one was either written to the new system or listed "
                   "in rejects.csv with the reason and how to fix it. The same facts, for "
                   "machines, are in run.json.", lang),
        "status_ok": t("Reconciled", lang),
        "status_failed": t("Not reconciled", lang),
        "banner_ok": t("Every record read was either written or listed in rejects.csv with "
                       "its reason, and every check passed.", lang),
        "banner_failed": t("The run failed: the checks marked FAILED below must be resolved "
                           "before the data can be used.", lang),
        "run": t("Run", lang),
        "started": t("started", lang),
        "duration": t("duration", lang),
        "tool": t("tool", lang),
        "input": t("Input", lang),
        "file": t("file", lang),
        "size": t("size (bytes)", lang),
        "records": t("records", lang),
        "records_in_file": t("records in the file", lang),
        "sha256": t("SHA-256", lang),
        "header": t("header of the file", lang),
        "supplied": t("Values supplied by the mapping (not migrated from the file)", lang),
        "supplied_note": t("An auditor's list: these columns hold a constant, or a default where "
                           "the field was blank, written in the mapping rather than read from "
                           "the legacy file.", lang),
        "column": t("column", lang),
        "how": t("how", lang),
        "value": t("value", lang),
        "how_value": t("constant on every row", lang),
        "how_default": t("default where the field is blank", lang),
        "layouts": t("Mapping and standard layout", lang),
        "mapping": t("mapping", lang),
        "schema": t("standard layout", lang),
        "id": t("id", lang),
        "version": t("version", lang),
        "funnel": t("Where the records went", lang),
        "read": t("records read", lang),
        "accepted": t("accepted", lang),
        "rejected": t("rejected", lang),
        "rejected_to": t("listed in rejects.csv", lang),
        "written": t("written", lang),
        "funnel_equation": t("read = accepted + rejected", lang),
        "by_type": t("records in the file by type", lang),
        "rejects": t("Rejected records by reason", lang),
        "no_rejects": t("No record was rejected.", lang),
        "chart_label": t("Bar chart: rejected records by reason", lang),
        "reason": t("reason", lang),
        "rejected_records": t("rejected records", lang),
        "problems": t("problems found", lang),
        "meaning": t("what is wrong", lang),
        "fix": t("how to fix it", lang),
        "examples": t("examples (masked)", lang),
        "rejects_note": t("A record with several problems is counted once, under its first "
                          "problem; every problem is listed in rejects.csv. Personal data in "
                          "the examples is masked.", lang),
        "warnings": t("Warnings (values kept)", lang),
        "totals": t("Control totals", lang),
        "totals_note": t("The vendor's trailer states the totals; the sums are recomputed "
                         "from the records read and from the written output.", lang),
        "total": t("total", lang),
        "trailer": t("in the trailer", lang),
        "source": t("sum over the records read", lang),
        "in_rejected": t("in rejected records", lang),
        "in_output": t("in the written output", lang),
        "output_plus_rejected": t("output + rejected", lang),
        "record_count": t("record count", lang),
        "figures": t("Trailer figures", lang),
        "figures_note": t("Each figure a trailer states, against the records of its block "
                          "(the data records since the previous trailer).", lang),
        "figure": t("figure", lang),
        "trailer_record": t("trailer record", lang),
        "block_records": t("records", lang),
        "difference": t("difference", lang),
        "expected_values": t("Expected values", lang),
        "record_type": t("record type", lang),
        "field": t("field", lang),
        "expect": t("expected value", lang),
        "differing": t("records that differ", lang),
        "checks": t("Checks", lang),
        "check": t("check", lang),
        "expected": t("expected", lang),
        "actual": t("actual", lang),
        "result": t("result", lang),
        "pass": t("pass", lang),
        "fail": t("FAILED", lang),
        "outputs": t("Outputs", lang),
        "output": t("output", lang),
    }


def _sink_label(sink: str, lang: str) -> str:
    labels = {"csv": t("CSV file", lang), "parquet": t("Parquet file", lang),
              "database": t("database", lang), "rejects": t("rejects", lang),
              "warnings": t("warnings", lang),
              "rejects_xlsx": t("rejects (Excel)", lang),
              "warnings_xlsx": t("warnings (Excel)", lang)}
    return labels.get(sink, sink)


def _describe(name: str, detail: str, lang: str) -> str:
    """The localized sentence of an invariant (unknown ones keep run.json's own text)."""
    kind, _, arg = name.partition(":")
    if kind == "read_equals_accepted_plus_rejected":
        return t("data records read = records accepted + records rejected", lang)
    if kind == "trailer_present":
        return t("the file has a trailer record", lang)
    if kind == "trailer_count":
        return t("record count in the trailer = data records read", lang)
    if kind == "control_total_source":
        return t("trailer control total of {name} = sum over the records read", lang, name=arg)
    if kind == "control_total_output":
        return t("sum of {name} in the output + in rejected records = sum read", lang, name=arg)
    if kind == "end_present":
        return t("the file ends with an end record", lang)
    if kind == "trailer_figure":
        name, _, block = arg.partition("@")
        return t("trailer figure {name} = what the records of its block add up to", lang,
                 name=name) + (t(" (block {block})", lang, block=block) if block else "")
    if kind == "sink_rows":
        return t("rows re-counted in {sink} = records accepted", lang,
                 sink=_sink_label(arg, lang))
    if kind == "db_table":
        return t("table {table} is in the database", lang, table=arg)
    if kind == "db_rows":
        return t("rows in the database table {table} = records accepted", lang, table=arg)
    if kind == "parquet_rows":
        return t("rows in the Parquet file = records accepted", lang)
    if kind == "db_totals":
        return t("column {column}: database = Parquet (count, sum, earliest and latest)", lang,
                 column=arg)
    if kind == "db_row_hash":
        return t("every row of {table}: database = Parquet (row hash)", lang, table=arg)
    if kind == "db_load_totals":
        return t("column {column}: database = rows sent (count, sum, earliest and latest)",
                 lang, column=arg)
    if kind == "db_load_hash":
        return t("every row of {table}: database = rows sent (row hash)", lang, table=arg)
    return detail or name


def _reason_texts(reason: str, lang: str) -> tuple[str, str]:
    what, fix = REASONS.get(reason, (reason, ""))
    return t(what, lang), (t(fix, lang) if fix else "")


def _reasons(rec: dict[str, Any], examples: dict[str, list[dict]], lang: str) -> list[dict]:
    by_record: dict[str, int] = rec.get("rejected_records_by_reason", {}) or {}
    by_problem: dict[str, int] = rec.get("problems_by_reason", {}) or {}
    codes = sorted(set(by_record) | set(by_problem),
                   key=lambda r: (-by_record.get(r, 0), -by_problem.get(r, 0), r))
    rows = []
    for code in codes:
        what, fix = _reason_texts(code, lang)
        shown = [{**e, "where": t("record {record}", lang, record=e["record"])}
                 for e in examples.get(code, [])[:EXAMPLES_PER_REASON]]
        rows.append({"code": code, "records": by_record.get(code, 0),
                     "problems": by_problem.get(code, 0), "what": what, "fix": fix,
                     "side": fix_side_label(code, lang),
                     "examples": shown})
    return rows


def _chart(reasons: list[dict]) -> dict[str, Any]:
    bars = [r for r in reasons if r["records"] > 0]
    top = max((r["records"] for r in bars), default=0)
    rows = []
    for i, r in enumerate(bars):
        y = CHART_TOP + i * CHART_ROW
        width = max(2, round(CHART_BAR_AREA * r["records"] / top)) if top else 0
        rows.append({"code": r["code"], "count": r["records"], "what": r["what"], "y": y,
                     "width": width, "text_y": y + CHART_BAR / 2,
                     "value_x": CHART_LABEL_WIDTH + width + 8})
    return {"bars": rows, "colour": BAR_COLOUR, "label_width": CHART_LABEL_WIDTH,
            "bar_height": CHART_BAR,
            "width": CHART_LABEL_WIDTH + CHART_BAR_AREA + CHART_VALUE_WIDTH,
            "height": CHART_TOP * 2 + len(rows) * CHART_ROW}


def _invariants(document: dict[str, Any], rec: dict[str, Any], lang: str) -> list[dict]:
    rows = [{"name": inv["name"], "ok": bool(inv.get("ok")),
             "description": _describe(inv["name"], inv.get("detail", ""), lang),
             "expected": value_lines(inv.get("expected"), lang),
             "actual": value_lines(inv.get("actual"), lang)}
            for inv in rec.get("invariants", [])]
    limit = document.get("max_rejects")
    if limit is not None:
        rows.append({"name": "max_rejects", "ok": not document.get("max_rejects_exceeded"),
                     "description": t("records rejected ≤ the limit --max-rejects", lang),
                     "expected": [f"≤ {number_text(limit)}"],
                     "actual": value_lines(rec.get("rejected"), lang)})
    return rows


def _control_totals(document: dict[str, Any], rec: dict[str, Any], lang: str) -> list[dict]:
    trailer = document.get("trailer") or {}
    totals = rec.get("control_totals") or {}
    source = totals.get("source") or {}
    rejected = totals.get("rejected") or {}
    output = totals.get("output") or {}
    invariants = {inv["name"]: inv for inv in rec.get("invariants", [])}
    read, accepted, rejected_n = (rec.get("data_records_read"), rec.get("accepted"),
                                  rec.get("rejected"))
    rows = [{"name": t("record count", lang), "id": "count", "trailer": trailer.get("count"),
             "source": read, "rejected": rejected_n, "output": accepted,
             "sum": _add(accepted, rejected_n),
             "ok": _ok(trailer.get("count"), read) and _ok(read, _add(accepted, rejected_n))}]
    names = list(dict.fromkeys([*(trailer.get("control_totals") or {}), *source]))
    for name in names:
        in_trailer = (trailer.get("control_totals") or {}).get(name)
        written = output.get(name)
        check = invariants.get(f"control_total_output:{name}")
        if written is None and check is not None and isinstance(check.get("actual"), int):
            written = check["actual"] - (rejected.get(name) or 0)
        total = _add(written, rejected.get(name))
        rows.append({"name": name, "id": name, "trailer": in_trailer,
                     "source": source.get(name), "rejected": rejected.get(name),
                     "output": written, "sum": total,
                     "ok": _ok(in_trailer, source.get(name)) and _ok(source.get(name), total)})
    return rows


def _figures(document: dict[str, Any], lang: str) -> list[dict]:
    """Every trailer figure of run.json, as the report's table shows it."""
    rows = []
    for f in document.get("trailer_figures") or []:
        if f["figure"] == "count":
            what = (t("count of data records", lang) if f["of"] == "data"
                    else t("count of {record} records", lang, record=f["of"]))
        else:
            what = t("sum of {field}", lang, field=f["of"])
        where = f.get("where") or {}
        if where:
            what += t(" where {condition}", lang, condition=t(", ", lang).join(
                f"{k} = {'/'.join(v)}" for k, v in where.items()))
        rows.append({**f, "what": what, "note": figure_note(f, lang)})
    return rows


def figure_note(figure: dict[str, Any], lang: str | None = None) -> str:
    """Why a trailer figure is not checked, or not fully ("" when it is)."""
    if figure.get("trailer_error"):
        return t("not checked: the trailer's value cannot be read ({reason})", lang,
                 reason=figure["trailer_error"])
    if figure.get("expected") is None:
        return t("not checked: the trailer field is empty", lang)
    if figure.get("unreadable"):
        return t("{n} of the records have a value that cannot be read (see rejects.csv)",
                 lang, n=figure["unreadable"])
    return ""


def _add(a: int | None, b: int | None) -> int | None:
    return None if a is None else a + (b or 0)


def _ok(a: Any, b: Any) -> bool:
    """Equal, or not stated (a missing figure is not a failure of its own)."""
    return a is None or b is None or a == b


def _funnel(document: dict[str, Any], rec: dict[str, Any], lang: str) -> dict[str, Any]:
    invariants = {inv["name"]: inv for inv in rec.get("invariants", [])}
    sinks = []
    for name, inv in invariants.items():
        if name.startswith("sink_rows:"):
            sink = name.split(":", 1)[1]
            sinks.append({"id": sink, "label": _sink_label(sink, lang), "count": inv["actual"],
                          "ok": bool(inv["ok"])})
    read = rec.get("data_records_read", 0)
    rejected = rec.get("rejected", 0)
    share = f"{100 * rejected / read:.2f} %" if read else "—"
    kinds = {"header": t("header records", lang), "data": t("data records", lang),
             "trailer": t("trailer records", lang), "end": t("end records", lang),
             "ignore": t("ignored records", lang),
             "unknown": t("records of an unknown type", lang)}
    by_type = [{"type": kinds.get(k, k), "count": v}
               for k, v in (rec.get("records_by_type") or {}).items()]
    return {"read": read, "accepted": rec.get("accepted", 0), "rejected": rejected,
            "rejected_share": share, "sinks": sinks, "by_type": by_type,
            "balanced": read == rec.get("accepted", 0) + rejected}


def _inputs(document: dict[str, Any]) -> list[dict]:
    items = document.get("inputs") or document.get("input") or []
    if isinstance(items, dict):
        items = [items]
    return [{"path": i.get("path"), "name": Path(i.get("path") or "").name,
             "bytes": i.get("bytes"), "sha256": i.get("sha256"), "records": i.get("records")}
            for i in items]


def _outputs(document: dict[str, Any], run_json: dict[str, Any] | None,
             lang: str) -> list[dict]:
    rows = [{"id": key, "label": _sink_label(key, lang), "path": o.get("path"),
             "name": Path(o.get("path") or "").name, "bytes": o.get("bytes"),
             "sha256": o.get("sha256")}
            for key, o in (document.get("outputs") or {}).items() if key != "report"]
    if run_json:
        rows.append({"id": "run_json", "label": "run.json", "path": run_json["path"],
                     "name": "run.json", "bytes": run_json["bytes"],
                     "sha256": run_json["sha256"]})
    return rows


def _failures(document: dict[str, Any], invariants: list[dict], lang: str) -> list[str]:
    failures = [f"{inv['description']} ({t('expected', lang)} {number_text(inv['expected'])}, "
                f"{t('actual', lang)} {number_text(inv['actual'])})"
                for inv in invariants if not inv["ok"] and inv["name"] != "max_rejects"]
    verdict = document.get("verdict")
    if verdict:
        failures.insert(0, _verdict_text(verdict, lang))
    if document.get("max_rejects_exceeded"):
        failures.append(t("{rejected} records were rejected, more than --max-rejects "
                          "allows ({limit}).", lang,
                          rejected=number_text(document["reconciliation"].get("rejected")),
                          limit=number_text(document.get("max_rejects"))))
    return failures


def _verdict_text(verdict: dict[str, Any], lang: str) -> str:
    """A probable mapping error (or nothing accepted), with its mapping-side fix."""
    if verdict.get("field") is None:
        return t("No data record was accepted.", lang)
    return t("Probable mapping error: {reason} at field {field} rejects {share} of the data "
             "records ({records} of {read}).", lang, reason=verdict["reason"],
             field=verdict["field"], share=f"{verdict['share']:.0%}",
             records=number_text(verdict["records"]), read=number_text(verdict["read"])) + " " + \
        t(verdict.get("fix_id") or "", lang, **(verdict.get("fix_params") or {}))


def _context(document: dict[str, Any], examples: dict[str, list[dict]],
             run_json: dict[str, Any] | None, lang: str) -> dict[str, Any]:
    rec = document.get("reconciliation") or {}
    reasons = _reasons(rec, examples, lang)
    invariants = _invariants(document, rec, lang)
    ok = document.get("status") == "reconciled"
    tool = document.get("tool") or {}
    labels = _labels(lang)
    labels["footer"] = t("Generated by {tool} {version}. This page reads only run.json and the "
                         "masked values of rejects.csv.", lang, tool=tool.get("name", "migrate"),
                         version=tool.get("version", ""))
    warnings = [{"code": code, "count": count, "what": _reason_texts(code, lang)[0]}
                for code, count in (rec.get("warnings_by_reason") or {}).items()]
    return {
        "lang": lang,
        "L": labels,
        "ok": ok,
        "failures": [] if ok else _failures(document, invariants, lang),
        "document": document,
        "seconds": t("{seconds} s", lang, seconds=document.get("seconds", "—")),
        "inputs": _inputs(document),
        "header": document.get("header") or {},
        "supplied": document.get("supplied") or [],
        "mapping": document.get("mapping") or {},
        "schema": document.get("schema") or {},
        "funnel": _funnel(document, rec, lang),
        "reasons": reasons,
        "chart": _chart(reasons),
        "warnings": warnings,
        "totals": _control_totals(document, rec, lang),
        "figures": _figures(document, lang),
        "expected_values": document.get("expected_values") or [],
        "invariants": invariants,
        "outputs": _outputs(document, run_json, lang),
    }
