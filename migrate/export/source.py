"""Where standardized data is: a run's output folder, a plan's output folder, an exported package,
or a single Parquet / CSV file. Each becomes a list of `Dataset`s (one per standard-layout file).

Run folders are read through run.json (its `schema` and `outputs`), never by guessing file names;
an output path recorded there that no longer exists is looked for beside run.json (the folder
may have been moved or copied).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from migrate.errors import UsageError
from migrate.export.tables import typed_batches
from migrate.layouts import Schema, load_schema

PACKAGE_DESCRIPTOR = "datapackage.json"


@dataclass(frozen=True)
class Dataset:
    """One standard-layout file: its layout (None when unknown), path and format."""

    name: str
    schema: Schema | None
    path: Path
    format: str  # parquet | csv
    encoding: str = "utf-8"
    rows: int | None = None
    url: str | None = None  # format "database": the tables of this database URL
    header: dict[str, Any] | None = None  # the legacy header values a run recorded

    @property
    def layout(self) -> str:
        return self.schema.id if self.schema is not None else self.name


def _read_json(path: Path) -> dict[str, Any]:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise UsageError("cannot read {path}: {error}", {"path": path, "error": str(error)}
                         ) from None
    if not isinstance(document, dict):
        raise UsageError("cannot read {path}: {error}", {"path": path, "error": "not an object"})
    return document


def _resolve(recorded: str, base: Path) -> Path:
    path = Path(recorded)
    if not path.is_absolute():
        path = base / path
    if path.exists():
        return path
    return base / Path(recorded).name


def _schema(doc: dict[str, Any], base: Path) -> Schema:
    info = doc.get("schema") or {}
    recorded = info.get("path")
    if recorded and Path(recorded).is_file():
        return load_schema(Path(recorded))
    return load_schema(str(info.get("id") or ""), base)


def run_dataset(run_json: Path) -> Dataset:
    """The standard data of one run (its Parquet output, else its CSV)."""
    doc = _read_json(run_json)
    base = run_json.parent
    outputs = doc.get("outputs") or {}
    schema = _schema(doc, base)
    rows = (doc.get("reconciliation") or {}).get("rows")
    for fmt in ("parquet", "csv"):
        entry = outputs.get(fmt)
        if isinstance(entry, dict) and entry.get("path"):
            path = _resolve(str(entry["path"]), base)
            if path.is_file():
                return Dataset(schema.name, schema, path, fmt, rows=rows,
                               header=doc.get("header"))
    raise UsageError("the run in {path} has no standard-layout output to export (status "
                     "{status})", {"path": base, "status": doc.get("status", "?")},
                     hint="Export a run that finished: its run.json lists a Parquet or CSV "
                          "output.")


def _package_datasets(root: Path) -> list[Dataset]:
    descriptor = root / "data" / PACKAGE_DESCRIPTOR
    if not descriptor.is_file():
        descriptor = root / PACKAGE_DESCRIPTOR
    doc = _read_json(descriptor)
    datasets = []
    for resource in doc.get("resources") or []:
        layout = resource.get("standard_layout") or {}
        schema = None
        if layout.get("schema"):
            schema = load_schema(descriptor.parent / str(layout["schema"]))
        path = descriptor.parent / str(resource.get("path"))
        datasets.append(Dataset(str(resource.get("name")), schema, path,
                                str(resource.get("format", "csv")),
                                str(resource.get("encoding", "utf-8")), resource.get("rows")))
    return datasets


def readable(dataset: Dataset) -> Dataset:
    """The dataset itself when its rows can be read here (CSV, Parquet, a database table)."""
    if dataset.format not in ("csv", "parquet", "database"):
        raise UsageError("{path} is a {format} file, not standard-layout rows",
                         {"path": dataset.path, "format": dataset.format},
                         hint="Convert it with migrate run and its mapping first.")
    return dataset


def batches(dataset: Dataset) -> Iterator[pl.DataFrame]:
    """The rows of a dataset, typed by its layout, in batches."""
    readable(dataset)
    if dataset.format == "database":
        from migrate.export.database import database_batches

        assert dataset.url is not None and dataset.schema is not None
        return database_batches(dataset.url, dataset.schema)
    return typed_batches(dataset.path, dataset.format, dataset.schema)


def find_datasets(source: Path | str, layouts: list[str] | None = None,
                  layout: Schema | None = None) -> list[Dataset]:
    """The standard-layout files of SOURCE, in the order of the run (a plan's dependency order).

    SOURCE may also be a database URL (sqlite:///…, postgresql+psycopg://…). `layouts` keeps
    only those layout ids; `layout` types a bare CSV or Parquet file."""
    from migrate.export.database import is_database_url

    if is_database_url(source):
        from migrate.export.database import database_layouts

        url = str(source)
        return [Dataset(schema.name, schema, Path(schema.name), "database", url=url)
                for schema in database_layouts(url, layouts)]
    source = Path(source)
    if not source.exists():
        raise UsageError("{path} does not exist", {"path": source})
    if source.is_file():
        fmt = "parquet" if source.suffix.lower() == ".parquet" else "csv"
        name = layout.name if layout is not None else source.stem
        found = [Dataset(name, layout, source, fmt)]
    elif (source / "run.json").is_file():
        doc = _read_json(source / "run.json")
        if "files" in doc:
            found = []
            for entry in doc["files"]:
                if layouts and entry.get("layout") not in layouts:
                    continue
                if not entry.get("run_json"):
                    raise UsageError("{layout} was not converted in the run in {path} (status "
                                     "{status})", {"layout": entry.get("layout"),
                                                   "path": source,
                                                   "status": entry.get("status", "?")},
                                     hint="Leave it out with --layout, or run the plan again.")
                found.append(run_dataset(_resolve(str(entry["run_json"]), source)))
        else:
            found = [run_dataset(source / "run.json")]
    elif (source / "data" / PACKAGE_DESCRIPTOR).is_file() or \
            (source / PACKAGE_DESCRIPTOR).is_file():
        found = _package_datasets(source)
    else:
        raise UsageError("{path} is not a run folder, a plan's output folder or a package",
                         {"path": source},
                         hint="Give the folder given to migrate run --out (it holds run.json), "
                              "or a package written by migrate export.")
    if layouts:
        missing = [lid for lid in layouts if lid not in {d.layout for d in found}]
        if missing:
            raise UsageError("{path} holds no {layouts}", {"path": source,
                                                           "layouts": ", ".join(missing)},
                             hint="It holds: {held}.",
                             hint_params={"held": ", ".join(d.layout for d in found)})
        found = [d for d in found if d.layout in layouts]
    return found
