"""OUT/report.html of a migration plan: each business area's figures (linking to its own
report), a chart of records accepted and rejected by area, and the cross-file checks. Shares
the templates, chart sizes and number format of the single-run report (migrate.report.html)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from migrate.errors import MigrateError
from migrate.i18n import language, t
from migrate.layouts import load_schema
from migrate.report.html import (
    CHART_BAR,
    CHART_BAR_AREA,
    CHART_LABEL_WIDTH,
    CHART_ROW,
    CHART_TOP,
    CHART_VALUE_WIDTH,
    number_text,
    templates,
)
from migrate.sinks.atomic import write_text_atomic

# Short names of the bundled layouts for the chart; any other layout (a town's own) is named
# by its title.
AREA_NAMES = {"ja": {"juki/v1": "住民記録", "zeimu/v1": "個人住民税", "kokuho_setai/v1": "国保（世帯）",
                     "kokuho/v1": "国保（被保険者）", "kokuho_fuka/v1": "国保（賦課）",
                     "zeimu_shotoku/v1": "住民税（所得明細）"},
              "en": {"juki/v1": "Resident records", "zeimu/v1": "Individual resident tax",
                     "kokuho_setai/v1": "NHI households", "kokuho/v1": "NHI insured persons",
                     "kokuho_fuka/v1": "NHI levy", "zeimu_shotoku/v1": "Tax income records"}}


def _area_names(document: dict[str, Any], lang: str) -> dict[str, str]:
    """Each file's layout → the name the plan report gives its area."""
    short = AREA_NAMES.get(lang, AREA_NAMES["en"])
    names = {}
    for f in document.get("files", []):
        layout = str(f.get("layout", ""))
        if layout in short or layout in names:
            continue
        try:
            schema = load_schema(layout)
            names[layout] = schema.title_ja if lang == "ja" else schema.title_en
        except MigrateError:
            names[layout] = layout
    return {**short, **names}


def _rows_notes(document: dict[str, Any], lang: str) -> list[str]:
    """Why a file's records are not one row each (the tax file's income records become
    columns of the person's row): the same sentence as on screen."""
    notes = []
    for f in document.get("files", []):
        if f.get("status") == "error" or f.get("rows") == f.get("accepted"):
            continue
        kinds = [k for k in (f.get("records_by_type") or {})
                 if k not in ("data", "header", "trailer", "unknown", "end", "ignore")]
        notes.append(t("{layout}: {accepted} records accepted make {rows} rows: its {names} "
                       "records are columns of the row of the person they belong to.", lang,
                       layout=f["layout"], accepted=number_text(f.get("accepted")),
                       rows=number_text(f.get("rows")), names=t(", ", lang).join(kinds)))
    return notes


PLAN_ACCEPTED = "#2b8a3e"  # the plan chart's colours (the screenshot test looks for them)
PLAN_REJECTED = "#c92a2a"


def _area_chart(document: dict[str, Any], lang: str) -> dict[str, Any]:
    """Records by area and outcome: one bar per file, accepted then rejected, scaled to the
    largest file."""
    files = [f for f in document.get("files", []) if f.get("status") != "error"]
    largest = max([int(f.get("data_records_read") or 0) for f in files] + [1])
    names = _area_names(document, lang)
    bars = []
    for index, f in enumerate(files):
        accepted, rejected = int(f.get("accepted") or 0), int(f.get("rejected") or 0)
        width_a = CHART_BAR_AREA * accepted / largest
        width_r = CHART_BAR_AREA * rejected / largest
        y = CHART_TOP + index * CHART_ROW
        bars.append({"layout": f["layout"], "accepted": accepted, "rejected": rejected,
                     "label": names.get(f["layout"], f["layout"]),
                     "y": y, "text_y": y + CHART_BAR / 2, "width_a": round(width_a, 2),
                     "width_r": round(max(width_r, 2 if rejected else 0), 2),
                     "value_x": CHART_LABEL_WIDTH + width_a + width_r + 8})
    return {"bars": bars, "label_width": CHART_LABEL_WIDTH, "bar_height": CHART_BAR,
            "width": CHART_LABEL_WIDTH + CHART_BAR_AREA + CHART_VALUE_WIDTH + 120,
            "height": CHART_TOP * 2 + CHART_ROW * len(bars),
            "accepted": PLAN_ACCEPTED, "rejected": PLAN_REJECTED}


def write_plan_report(document: dict[str, Any], out_dir: Path, lang: str | None = None) -> Path:
    """OUT/report.html of a migration plan: each area's figures (linking to its own report)
    and the cross-file checks."""
    lang = lang or language()
    labels = {
        "title": t("Migration report", lang), "order": t("order", lang),
        "ok": t("Reconciled", lang), "failed": t("NOT reconciled", lang),
        "areas": t("Business areas", lang), "area": t("area", lang),
        "layout": t("layout", lang), "input": t("input", lang), "read": t("read", lang),
        "accepted": t("accepted", lang), "rejected": t("rejected", lang),
        "rows": t("rows", lang), "status": t("status", lang), "error": t("error", lang),
        "cross": t("Cross-file checks", lang), "check": t("check", lang),
        "what": t("what", lang), "records": t("records", lang), "unless": t("except", lang),
        "not_checked": t("not checked (layout not in this run)", lang),
        "warnings": t("warnings", lang),
        "chart": t("Records by area: accepted and rejected", lang),
        "ledger_note": t("every figure above, per file and per check", lang)}
    names = {"reference": t("reference", lang), "group": t("group check", lang),
             "primary_key": t("unique primary key", lang)}
    html = templates().get_template("plan_report.html.j2").render(
        document=document, L=labels, lang=lang, check_names=names,
        area_names=_area_names(document, lang),
        rows_notes=_rows_notes(document, lang), chart=_area_chart(document, lang))
    path = Path(out_dir) / "report.html"
    write_text_atomic(path, html)
    return path
