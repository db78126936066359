"""Which files `migrate check` reads and how: each YAML file by its kind (mapping, schema,
plan), each CSV by its columns (code table, 外字 table), every loader collecting its problems,
then the rules of `rules`; findings deduplicated (a schema is read by every mapping of it) and
sorted by place."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from migrate.check import rules
from migrate.check.problem import Problem, display_path, from_error
from migrate.errors import MigrateError, UsageError
from migrate.layouts import load_mapping, load_plan, load_schema
from migrate.layouts.bundled import bundled_dir
from migrate.layouts.tables import load_code_table, load_gaiji_table
from migrate.layouts.yamlpos import LocatedDict, load_yaml

YAML_SUFFIXES = (".yaml", ".yml")


@dataclass
class Report:
    """The files checked and what was found in them."""

    files: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    def count(self, severity: str) -> int:
        return sum(p.severity == severity for p in self.problems)

    def failed(self, strict: bool = False) -> bool:
        """Errors fail a check; warnings only with --strict."""
        return any(p.severity == "error" or strict for p in self.problems)


def default_paths() -> list[Path]:
    """With no paths: the bundled mappings and schemas."""
    return [bundled_dir("mappings"), bundled_dir("schemas")]


def check_paths(paths: Iterable[Path], all_codes: bool = False) -> Report:
    """Check every file under `paths` (a folder: everything in it, hidden entries aside)."""
    files = list(_files(paths))
    report = Report(files=[display_path(f) for f in files])
    found: dict[tuple[object, ...], Problem] = {}
    for path in files:
        for problem in _check_file(path, all_codes):
            found.setdefault(problem.key, problem)
    report.problems = sorted(found.values(), key=lambda p: (p.path, p.line, p.col, p.rule))
    return report


def _files(paths: Iterable[Path]) -> Iterator[Path]:
    for path in paths:
        if path.is_dir():
            yield from sorted(
                p for p in path.rglob("*") if p.is_file()
                and p.suffix.lower() in (*YAML_SUFFIXES, ".csv")
                and not any(part.startswith(".") for part in p.relative_to(path).parts))
        elif path.is_file():
            yield path
        else:
            raise UsageError("{path} does not exist", {"path": path},
                             hint="Give mapping, schema or plan files, or folders of them.")


def _check_file(path: Path, all_codes: bool) -> list[Problem]:
    problems: list[MigrateError] = []
    extra: list[Problem] = []
    try:
        if path.suffix.lower() == ".csv":
            _check_table(path, problems)
        else:
            extra = _check_yaml(path, problems, all_codes)
    except MigrateError as error:  # what stopped the loading; often noted already
        if not any(error is p for p in problems):
            problems.append(error)
    return [from_error(e, path) for e in problems] + extra


def kind_of(data: LocatedDict) -> str | None:
    """mapping, schema or plan, by the keys at the top of the file."""
    if "inputs" in data:
        return "plan"
    if "layout" in data or isinstance(data.get("columns"), list):
        return "schema"
    if {"mapping", "source", "fields"} & set(data):
        return "mapping"
    return None


def _check_yaml(path: Path, problems: list[MigrateError], all_codes: bool) -> list[Problem]:
    try:
        data = load_yaml(path, [])
    except Exception:  # noqa: BLE001 - the loader below reports it with its place
        data = None
    kind = kind_of(data) if isinstance(data, LocatedDict) else "mapping"
    if kind == "plan":
        load_plan(path, problems)
    elif kind == "schema":
        load_schema(path, problems=problems)
    elif kind == "mapping":
        mapping = load_mapping(path, problems)
        assert isinstance(data, LocatedDict)
        found = [*rules.byte_layout(mapping, data), *rules.transforms(mapping, data)]
        if all_codes:
            found.extend(rules.unreached_codes(mapping, data))
        return found
    return []  # another YAML file (a CI workflow…): not ours


def _check_table(path: Path, problems: list[MigrateError]) -> None:
    with open(path, encoding="utf-8-sig", errors="replace", newline="") as handle:
        header = next(csv.reader(handle), [])
    if {"source", "standard"} <= set(header):
        load_code_table(path, problems)
    elif {"code", "char"} <= set(header):
        load_gaiji_table(path, problems=problems)
