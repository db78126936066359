"""diff.html: the result of `migrate diff` (diff.json's document) as one self-contained page —
summary, changes per column as an inline SVG bar chart, and samples of keys (already masked by
migrate.export.diff; no other value of the data reaches the page). No scripts, nothing fetched.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined

from migrate.i18n import language, t
from migrate.sinks.atomic import write_text_atomic

BAR_COLOUR = "#1864ab"
LABEL_WIDTH, BAR_AREA, VALUE_WIDTH, ROW, BAR, TOP = 220, 480, 80, 28, 18, 6


def _chart(by_column: dict[str, dict[str, Any]]) -> dict[str, Any]:
    items = sorted(by_column.items(), key=lambda kv: (-kv[1]["count"], kv[0]))
    largest = max((v["count"] for _, v in items), default=0) or 1
    bars = []
    for index, (column, value) in enumerate(items):
        y = TOP + index * ROW
        bars.append({"column": column, "count": value["count"], "y": y,
                     "text_y": y + BAR / 2, "width": max(2, round(BAR_AREA * value["count"]
                                                                   / largest)),
                     "value_x": LABEL_WIDTH + BAR_AREA + 8})
    return {"bars": bars, "height": TOP * 2 + ROW * len(bars),
            "width": LABEL_WIDTH + BAR_AREA + VALUE_WIDTH, "label_width": LABEL_WIDTH,
            "bar_height": BAR, "colour": BAR_COLOUR}


def _labels(lang: str) -> dict[str, str]:
    """Every fixed text on the page (message ids are English; see migrate.po)."""
    return {
        "title": t("Comparison of two datasets", lang), "equal": t("equal", lang),
        "different": t("different", lang), "rows": t("rows", lang), "key": t("key", lang),
        "only_a": t("only in A", lang), "only_b": t("only in B", lang),
        "changed": t("changed rows", lang), "per_column": t("changes per column", lang),
        "samples": t("sample keys", lang), "column": t("column", lang),
        "ignored": t("ignored columns", lang), "tolerance": t("numeric tolerance", lang),
        "columns_a": t("columns only in A", lang), "columns_b": t("columns only in B", lang),
        "duplicates": t("duplicate keys", lang),
    }


def render_diff(document: dict[str, Any], lang: str | None = None) -> str:
    lang = lang or language()
    env = Environment(loader=PackageLoader("migrate.report", "templates"), autoescape=True,
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters["num"] = lambda value: f"{value:,}" if isinstance(value, int) else str(value)
    template = env.get_template("diff.html.j2")
    return template.render(d=document, L=_labels(lang), lang=lang,
                           chart=_chart(document["changed"]["by_column"]))


def write_diff_html(document: dict[str, Any], path: Path, lang: str | None = None) -> Path:
    write_text_atomic(path, render_diff(document, lang))
    return path
