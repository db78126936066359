"""Batches (towns.yaml): many migrations run as one batch, each into an output folder of its
own — one town's migration plan, or one export file with its mapping. Running a batch is
migrate.run.batch's job; this module only loads and checks it (every plan and mapping is loaded
here, so a mistake is reported with its file and line before anything runs).

    batch: 2026 rehearsal            # a title (optional)
    runs:
      - {name: nagai, plan: nagai/migration.yaml}
      - {name: sakata_juki, mapping: vendor_a/juki, input: sakata/juki.dat, db: none}

Paths are relative to the batch file. `name` becomes the run's folder under `--out`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from migrate.layouts.loading import _Ctx, _read_yaml
from migrate.layouts.mapping import load_mapping
from migrate.layouts.plan import load_plan
from migrate.layouts.shapes import ListOf, Obj, Value

# The keys of a batch file (shapes.py: the loaders' unknown-key check and the JSON Schema).
BATCH_RUN = Obj("One migration of the batch: a plan, or one file and its mapping.", {
    "name": Value("The run's folder under --out."),
    "plan": Value("A migration plan, relative to the batch file."),
    "mapping": Value("A mapping: a path relative to the batch file or a bundled id."),
    "input": Value("The legacy file, relative to the batch file."),
    "db": Value("The database URL; without it the run folder's own migrate.db.")},
    required=("name",))
BATCH = Obj("A batch of migrations (migrate batch).", {
    "batch": Value("The batch's title."), "runs": ListOf(item=BATCH_RUN)},
    required=("runs",))


@dataclass(frozen=True)
class BatchRun:
    """One migration of the batch: a plan, or one file and its mapping."""

    name: str
    plan: Path | None = None
    mapping: str | None = None
    input: Path | None = None
    db: str | None = None  # the database URL; None: the run folder's own migrate.db
    line: int = 0


@dataclass(frozen=True)
class Batch:
    """The runs of one batch, in the order of the file."""

    title: str
    path: Path
    runs: tuple[BatchRun, ...]


def load_batch(path: Path) -> Batch:
    """Read a batch file; every plan and mapping it names is loaded (and so checked)."""
    ctx = _Ctx(path)
    data = _read_yaml(path)
    ctx.only_keys(data, BATCH, "a batch")
    raw = ctx.require(data, "runs", "the batch")
    if not isinstance(raw, list) or not raw:
        raise ctx.fail(data, "runs", "'runs' must be a non-empty list of runs, each with a name "
                       "and a plan, or a name, a mapping and an input")
    runs: list[BatchRun] = []
    for item in raw:
        node = ctx.mapping(item, "runs", data)
        ctx.only_keys(node, BATCH_RUN, "a run of the batch")
        name = ctx.identifier(node, "name", ctx.require(node, "name", "a run of the batch"),
                              "the run name")
        if any(run.name == name for run in runs):
            raise ctx.fail(node, "name", "two runs of the batch are named {name}",
                           "Each run writes the folder named after it: give each its own "
                           "name.", name=name)
        db = node.get("db")
        db = None if db is None else str(db)
        if ("plan" in node) == ("mapping" in node or "input" in node):
            raise ctx.fail(node, None, "the run {name} needs either plan, or mapping and input",
                           "A run converts a migration plan (plan: migration.yaml) or one "
                           "file (mapping: vendor_a/juki, input: juki.dat).", name=name)
        if "plan" in node:
            plan = path.parent / str(node["plan"])
            load_plan(plan)
            runs.append(BatchRun(name, plan=plan, db=db, line=node.line))
            continue
        ref = str(ctx.require(node, "mapping", "a run of the batch"))
        as_path = path.parent / ref
        mapping = str(as_path) if as_path.suffix in (".yaml", ".yml") and as_path.is_file() \
            else ref
        load_mapping(mapping)
        source = path.parent / str(ctx.require(node, "input", "a run of the batch"))
        runs.append(BatchRun(name, mapping=mapping, input=source, db=db, line=node.line))
    return Batch(str(data.get("batch", path.stem)), path, tuple(runs))
