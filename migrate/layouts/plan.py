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
from migrate.layouts.shapes import ListOf, Obj, Value
from migrate.layouts.yamlpos import LocatedDict

# The keys of a plan file (shapes.py: the loaders' unknown-key check and the JSON Schema).
INPUT = Obj("One legacy file and the mapping that reads it.", {
    "mapping": Value("A mapping: a path relative to the plan or a bundled id (vendor_a/juki)."),
    "input": Value("The legacy file, relative to the plan.")}, required=("mapping", "input"))
PLAN = Obj("A migration plan (migrate): several legacy files, one run.", {
    "migration": Value("The migration's name."), "inputs": ListOf(item=INPUT)},
    required=("inputs",))


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


def load_plan(path: Path, problems: list[MigrateError] | None = None) -> Plan:
    """Read migration.yaml: its inputs with their mappings, ordered by their references.
    With `problems`, every problem found is noted there (an input that does not exist too:
    `migrate run` finds that out itself) and the loading goes on as far as it can."""
    ctx = _Ctx(path, problems)
    data = _read_yaml(path, ctx)
    ctx.only_keys(data, PLAN, "a migration plan")
    raw = ctx.require(data, "inputs", "the migration plan")
    if not isinstance(raw, list) or not raw:
        raise ctx.fail(data, "inputs", "'inputs' must be a non-empty list of "
                       "{mapping, input}")
    inputs = []
    for item in raw:
        with ctx.attempt(item if isinstance(item, LocatedDict) else data, "mapping",
                         rule="plan-missing"):
            inputs.append(_load_input(ctx, item, data, path))
    if problems is not None and len(inputs) < len(raw):
        raise problems[-1]
    inputs = _folders(inputs, path)
    return Plan(str(data.get("migration", path.stem)), path, tuple(_dependency_order(
        inputs, path)))


def _load_input(ctx: _Ctx, item: object, data: LocatedDict, path: Path) -> PlanInput:
    node = ctx.mapping(item, "inputs", data)
    ctx.only_keys(node, INPUT, "an input of the plan")
    ref = str(ctx.require(node, "mapping", "an input of the plan"))
    as_path = path.parent / ref
    mapping = load_mapping(as_path if as_path.suffix in (".yaml", ".yml")
                           and as_path.is_file() else ref, ctx.problems)
    legacy = path.parent / str(ctx.require(node, "input", "an input of the plan"))
    if ctx.problems is not None and not legacy.exists():
        ctx.report(ctx.fail(node, "input", "the input file {path} does not exist",
                            "Paths are relative to the plan file.", path=legacy))
        ctx.problems[-1].rule = "plan-input-missing"
    return PlanInput(mapping, legacy, node.line)


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
