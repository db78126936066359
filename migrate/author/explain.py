"""`migrate explain REASON`: what a reject or warning reason means, whether its usual cause is
the data or the mapping, and the fix — from the same table rejects.csv takes its messages from
(`migrate.reconcile.reasons`), plus the rules and group checks of the bundled schemas, whose
names are reasons too."""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from pathlib import Path

from migrate.errors import UsageError
from migrate.i18n import language, t
from migrate.layouts.bundled import bundled_dir
from migrate.layouts.schema import load_schema
from migrate.reconcile.reasons import DATA, MAPPING, REASONS, USUAL_CAUSE


def cause_text(cause: str, lang: str | None = None) -> str:
    """The usual cause in words, in the user's language (or `lang`)."""
    if cause == DATA:
        return t("the data: the old system's record is wrong; correct it at the source", lang)
    if cause == MAPPING:
        return t("the mapping: one fix in the mapping repairs every record it rejects", lang)
    return t("the data or the mapping: when many records have it, suspect the mapping (look "
             "at a few of them with migrate preview --record N)", lang)


@dataclass(frozen=True)
class Explanation:
    """A reason in one language: what it means, its usual cause, and the fix."""

    reason: str
    what: str
    cause: str
    fix: str


def explain(reason: str, lang: str | None = None) -> Explanation:
    """The explanation of a reason code, or a UsageError naming the closest known codes."""
    if reason in REASONS:
        what, fix = REASONS[reason]
        return Explanation(reason, t(what, lang), cause_text(USUAL_CAUSE[reason], lang),
                           t(fix, lang))
    rules = _schema_rules()
    if reason in rules:
        schema, ja, en = rules[reason]
        ja_lang = (lang or language()) == "ja"
        return Explanation(reason, (ja if ja_lang else en) or reason,
                           cause_text(DATA, lang),
                           t("A rule of the standard layout {layout}: correct the record so "
                             "that it holds.", lang, layout=schema))
    close = difflib.get_close_matches(reason, sorted([*REASONS, *rules]), n=3)
    hint = "migrate explain with no reason lists them all."
    if close:
        hint = "Did you mean: {known}? migrate explain with no reason lists them all."
    raise UsageError("unknown reason '{reason}'", {"reason": reason}, hint=hint,
                     hint_params={"known": ", ".join(close)})


def all_reasons() -> list[str]:
    """Every reason code: the decoders', the mapper's and validation's, then the rules."""
    return [*REASONS, *sorted(_schema_rules())]


def _schema_rules() -> dict[str, tuple[str, str, str]]:
    """Rule and group-check names of the bundled schemas → (layout, ja, en)."""
    found: dict[str, tuple[str, str, str]] = {}
    root = bundled_dir("schemas")
    for path in sorted(root.rglob("v*.yaml")):
        schema = load_schema(Path(path))
        for item in (*schema.rules, *schema.group_checks):
            found.setdefault(item.name, (schema.id, item.ja, item.en))
    return found
