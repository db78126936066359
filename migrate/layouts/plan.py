"""Migration plans (migration.yaml): which legacy files, read with which mappings, make one
migration, and the order they must run in (a layout before the layouts that refer to it).
Running a plan is migrate.run.plan's job; this module only loads and orders it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from migrate.errors import LayoutError, MigrateError
from migrate.layouts.loading import _Ctx, _read_yaml
from migrate.layouts.mapping import Mapping, load_mapping


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
        if item.input.stem.startswith(".") or not item.input.stem:
            raise LayoutError(
                "the input file name {name} cannot name an output folder",
                {"name": item.input.name}, file=path, line=item.line,
                hint="Several inputs of the layout {layout} get a folder named after each "
                     "file; rename the file so that it does not start with a dot.",
                hint_params={"layout": item.mapping.target.id})
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
    needs = {i.mapping.target.id: referenced_layouts(i) & layouts for i in inputs}
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


def referenced_layouts(item: PlanInput) -> set[str]:
    return {c.references.layout for c in item.mapping.target.columns
            if c.references and c.references.layout != item.mapping.target.id}
