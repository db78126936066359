"""The findings of `migrate check` in the forms CI systems read: a human list, JSON, GitHub
workflow annotations, SARIF 2.1.0 (code scanning; written with sarif-pydantic's object model)
and JUnit XML (GitLab / Jenkins test reports; written with junitparser)."""

from __future__ import annotations

import json

from migrate import __version__
from migrate.check.lint import Report
from migrate.check.problem import Problem
from migrate.check.sample import SampleResult
from migrate.i18n import t

FORMATS = ("human", "json", "github", "sarif", "junit")


def render(report: Report, fmt: str, lang: str | None = None, strict: bool = False) -> str:
    """The report as text in `fmt` (one of FORMATS)."""
    return {"human": human, "json": as_json, "github": github, "sarif": as_sarif,
            "junit": junit}[fmt](report, lang, strict)


def human(report: Report, lang: str | None = None, strict: bool = False) -> str:
    """`path:line:col: error|warning: message [rule-id]`, its hint indented below, a summary."""
    lines = []
    for problem in report.problems:
        lines.append(problem.line_text(lang))
        if problem.hint:
            lines.append("    " + problem.hint_text(lang))
    lines.append(t("{files} file(s) checked: {count} error(s), {n} warning(s)", lang,
                   files=len(report.files), count=report.count("error"),
                   n=report.count("warning")))
    return "\n".join(lines) + "\n"


def as_json(report: Report, lang: str | None = None, strict: bool = False) -> str:
    problems = [{"path": p.path, "line": p.line, "col": p.col, "severity": p.severity,
                 "rule": p.rule, "message": p.text(lang), "hint": p.hint_text(lang) or None}
                for p in report.problems]
    return json.dumps({"files": report.files, "errors": report.count("error"),
                       "warnings": report.count("warning"), "problems": problems},
                      ensure_ascii=False, indent=2) + "\n"


def _escape(text: str, property_value: bool = False) -> str:
    """GitHub's workflow-command escaping (data, and property values)."""
    text = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    if property_value:
        text = text.replace(":", "%3A").replace(",", "%2C")
    return text


def github(report: Report, lang: str | None = None, strict: bool = False) -> str:
    """`::error file=…,line=…,col=…,title=rule::message` per finding."""
    lines = []
    for p in report.problems:
        level = "error" if p.severity == "error" or strict else "warning"
        message = p.text(lang) + (f" {p.hint_text(lang)}" if p.hint else "")
        lines.append(f"::{level} file={_escape(p.path, True)},line={p.line},col={p.col},"
                     f"title={_escape(p.rule, True)}::{_escape(message)}")
    return "\n".join(lines) + ("\n" if lines else "")


def as_sarif(report: Report, lang: str | None = None, strict: bool = False) -> str:
    """One SARIF 2.1.0 run: a rule per rule id seen, a result per finding."""
    import sarif_pydantic as sarif  # pydantic: imported only for this format

    rule_ids = sorted({p.rule for p in report.problems})
    results = [sarif.Result(
        rule_id=p.rule, rule_index=rule_ids.index(p.rule),
        level=sarif.Level.ERROR if p.severity == "error" or strict else sarif.Level.WARNING,
        message=sarif.Message(text=_sarif_text(p, lang)),
        locations=[sarif.Location(physical_location=sarif.PhysicalLocation(
            artifact_location=sarif.ArtifactLocation(uri=p.path.replace("\\", "/")),
            region=sarif.Region(start_line=p.line, start_column=p.col)))])
        for p in report.problems]
    log = sarif.Sarif(
        version="2.1.0",
        schema_uri="https://json.schemastore.org/sarif-2.1.0.json",
        runs=[sarif.Run(
            tool=sarif.Tool(driver=sarif.ToolDriver(
                name="migrate check", version=__version__,
                rules=[sarif.ReportingDescriptor(id=r) for r in rule_ids])),
            results=results)])
    return log.model_dump_json(by_alias=True, exclude_none=True, indent=2) + "\n"


def _sarif_text(problem: Problem, lang: str | None) -> str:
    return problem.text(lang) + (f" {problem.hint_text(lang)}" if problem.hint else "")


def junit(report: Report, lang: str | None = None, strict: bool = False) -> str:
    """A test case per file checked; each error (and each warning with --strict) a failure."""
    import junitparser

    suite = junitparser.TestSuite("migrate check")
    by_path: dict[str, list[Problem]] = {}
    for p in report.problems:
        by_path.setdefault(p.path, []).append(p)
    for path in sorted(set(report.files) | set(by_path)):
        case = junitparser.TestCase(path, classname="migrate.check")
        failures, notes = [], []
        for p in by_path.get(path, []):
            if p.severity == "error" or strict:
                failure = junitparser.Failure(p.line_text(lang), p.rule)
                failure.text = p.hint_text(lang)
                failures.append(failure)
            else:
                notes.append(p.line_text(lang))
        case.result = failures
        if notes:
            case.system_out = "\n".join(notes)
        suite.add_testcase(case)
    xml = junitparser.JUnitXml()
    xml.add_testsuite(suite)
    return xml.tostring().decode("utf-8") + "\n"


def sample_text(result: SampleResult, lang: str | None = None) -> str:
    """What `--sample` found: records read, rejected, and the reasons by field (no values)."""
    lines = [t("{records} record(s) sampled: {rejected} would be rejected", lang,
               records=result.records, rejected=result.rejected)]
    for title, counter in ((t("rejects", lang), result.errors),
                           (t("warnings", lang), result.warnings)):
        if counter:
            lines.append(f"{title}:")
            lines.extend(f"  {reason} {name}: {n:,}" for (reason, name), n in counter.most_common())
    return "\n".join(lines) + "\n"
