"""`migrate export`: the contract deliverable as a BagIt bag (RFC 8493, the `bagit` library).

    DIR/
      bagit.txt  bag-info.txt  manifest-sha256.txt  tagmanifest-sha256.txt
      data/
        datapackage.json       Frictionless Data Package: per file its bytes, sha256, rows,
                               Table Schema and `standard_layout` (id, schema YAML, its sha256)
        <name>.csv | .parquet  one file per standard layout
        schemas/<id>.yaml      the layout YAML files and their code tables, as they were used
        送付ファイル一覧.csv     the cover list a clerk signs off (UTF-8 with BOM, CRLF)

Files are streamed batch by batch (memory does not grow with rows) into a staging folder next to
DIR, which is renamed to DIR once the bag is complete: a failed export leaves nothing behind.
A value that cannot be written in the chosen encoding stops the export and names the row and
column; nothing is ever replaced with '?'.
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow.parquet as pq

from migrate import __version__
from migrate.errors import UsageError
from migrate.export.fixedwidth import (
    check_reversible,
    write_back_records,
    write_back_tables,
    write_fixed,
)
from migrate.export.seal import SUFFIX, recipients, seal
from migrate.export.source import PACKAGE_DESCRIPTOR, Dataset, batches, find_datasets
from migrate.export.tables import UTF8_BOM
from migrate.export.tableschema import table_schema
from migrate.layouts import Mapping, Schema, load_mapping
from migrate.pii import mask
from migrate.sinks.atomic import private_open
from migrate.sinks.parquet import encodings

COVER_LIST = "送付ファイル一覧.csv"
COVER_HEADER = ("ファイル名", "業務", "レイアウト", "件数", "SHA-256", "作成日時")
SCHEMAS_DIR = "schemas"
ENCODINGS = ("utf-8", "cp932")
NEWLINES = {"lf": "\n", "crlf": "\r\n"}
FORMATS = ("csv", "parquet", "fixed")
MAPPINGS_DIR = "mappings"


@dataclass(frozen=True)
class ExportOptions:
    source: Path | str  # a folder, or a database URL
    to: Path
    layouts: list[str] | None = None
    format: str = "csv"
    encoding: str = "utf-8"
    newline: str = "lf"
    bom: bool = False
    info: dict[str, str] = field(default_factory=dict)
    mapping: str | None = None  # --format fixed: the mapping whose layout is written
    encrypt_to: list[str] = field(default_factory=list)  # age / SSH public keys


@dataclass(frozen=True)
class ExportedFile:
    path: str  # relative to data/
    layout: str
    title: str
    rows: int
    bytes: int
    sha256: str


@dataclass(frozen=True)
class ExportResult:
    path: Path
    files: list[ExportedFile]
    seconds: float

    @property
    def rows(self) -> int:
        return sum(f.rows for f in self.files)


def sealed_path(options: ExportOptions) -> Path:
    """Where an encrypted package goes: --to R7-handover → R7-handover.tar.age."""
    return options.to.with_name(options.to.name + SUFFIX)


def parse_info(pairs: tuple[str, ...] | list[str]) -> dict[str, str]:
    """`--info KEY=VALUE` pairs for bag-info.txt."""
    info = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip() or ":" in key:
            raise UsageError("--info {pair} is not KEY=VALUE", {"pair": pair},
                             hint="For example --info Source-Organization=ExampleVendor "
                                  "--info External-Identifier=R7-0123 (the contract).")
        info[key.strip()] = value.strip()
    return info


def check_options(options: ExportOptions) -> None:
    if options.format not in FORMATS:
        raise UsageError("unknown export format '{format}'", {"format": options.format})
    if options.bom and options.encoding != "utf-8":
        raise UsageError("--bom needs --encoding utf-8",
                         hint="A byte order mark only exists in UTF-8; leave --bom out.")
    if options.format != "csv" and (options.encoding != "utf-8" or options.bom
                                    or options.newline != "lf"):
        raise UsageError("--encoding, --newline and --bom apply to CSV only",
                         hint="Parquet stores text as UTF-8, and a fixed-width file is encoded "
                              "and framed as its mapping says; leave these options out.")
    if (options.format == "fixed") != (options.mapping is not None):
        raise UsageError("--format fixed and --mapping go together",
                         hint="--format fixed --mapping vendor_a/juki writes that vendor's "
                              "fixed-width layout.")
    target = options.to
    if options.encrypt_to:
        target = sealed_path(options)
        if target.exists():
            raise UsageError("{path} already exists and is not empty", {"path": target},
                             hint="Give a new folder: a package is never written over "
                                  "another.")
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise UsageError("{path} already exists and is not empty", {"path": target},
                         hint="Give a new folder: a package is never written over another.")


class _Digest:
    """A binary file being written, with its size and SHA-256 kept as it goes."""

    def __init__(self, handle: Any):
        self.handle = handle
        self.hash = hashlib.sha256()
        self.bytes = 0

    def write(self, data: bytes) -> int:
        self.handle.write(data)
        self.hash.update(data)
        self.bytes += len(data)
        return len(data)

    def flush(self) -> None:
        self.handle.flush()


def _unencodable(frame: pl.DataFrame, before: int, dataset: Dataset, encoding: str
                 ) -> UsageError:
    """Name the first cell of a batch that the encoding cannot hold (masked if personal)."""
    first: tuple[int, str, str, int] | None = None
    for column in frame.columns:
        if frame.schema[column] != pl.Utf8:
            continue
        for index, value in enumerate(frame[column].to_list()):
            if first is not None and index >= first[0]:
                break
            if value is None:
                continue
            try:
                value.encode(encoding)
            except UnicodeEncodeError as error:
                first = (index, column, value, error.start)
                break
    assert first is not None, "an encode error without an unencodable cell"
    index, column, value, position = first
    spec = dataset.schema.column(column) if dataset.schema is not None else None
    pii = spec.pii if spec is not None else None
    source_record = frame["src_record"][index] if "src_record" in frame.columns else None
    return UsageError(
        "the value {value} holds {char}, which {encoding} cannot encode",
        {"value": mask(value, pii), "char": f"U+{ord(value[position]):04X}",
         "encoding": encoding},
        file=f"{dataset.name} row {before + index + 1}", record=source_record,
        field_name=column,
        hint="Export in UTF-8 (leave --encoding out), or correct the value at the source and "
             "run again: a character is never replaced with '?'.")


def _write_csv(dataset: Dataset, columns: list[str], target: Path,
               options: ExportOptions) -> tuple[int, int, str]:
    newline = NEWLINES[options.newline]
    rows = 0
    with private_open(target, "wb") as handle:
        out = _Digest(handle)
        if options.bom:
            out.write(UTF8_BOM)
        header = True
        for frame in batches(dataset):
            frame = frame.select(columns)
            if options.encoding == "utf-8":  # straight into the file: no text copy of a batch
                frame.write_csv(out, include_header=header, line_terminator=newline)
            else:
                text = frame.write_csv(include_header=header, line_terminator=newline)
                try:
                    data = text.encode(options.encoding)
                except UnicodeEncodeError:
                    raise _unencodable(frame, rows, dataset, options.encoding) from None
                out.write(data)
            rows += frame.height
            header = False
        if header:
            out.write((",".join(columns) + newline).encode(options.encoding))
    return rows, out.bytes, out.hash.hexdigest()


def _write_parquet(dataset: Dataset, columns: list[str], target: Path,
                   options: ExportOptions) -> tuple[int, int, str]:
    rows = 0
    writer = None
    with private_open(target, "wb") as handle:
        for frame in batches(dataset):
            frame = frame.select(columns)
            if writer is None:
                extra = encodings(dataset.schema, frame) if dataset.schema else {}
                writer = pq.ParquetWriter(handle, frame.to_arrow().schema, compression="zstd",
                                          **extra)
            writer.write_table(frame.to_arrow())
            rows += frame.height
        if writer is not None:
            writer.close()
    if writer is None:  # no rows: an empty file with the columns
        pl.DataFrame(schema=dict.fromkeys(columns, pl.Utf8)).write_parquet(target)
    digest = hashlib.sha256()
    with open(target, "rb") as handle:
        while block := handle.read(1 << 20):
            digest.update(block)
    return rows, target.stat().st_size, digest.hexdigest()


def _schema_files(schemas: list[Schema]) -> tuple[Path, list[Path]]:
    """The layout YAML files and the code tables they name, and the folder they share."""
    files: list[Path] = []
    for schema in schemas:
        for path in (schema.path, *(c.code_table for c in schema.columns if c.code_table)):
            resolved = Path(os.path.realpath(path))
            if resolved not in files:
                files.append(resolved)
    root = Path(os.path.commonpath([p.parent for p in files]))
    return root, files


def _copy_tree(files: list[Path], staging: Path, folder: str, root: Path | None = None
               ) -> Path:
    """Copy files into data/<folder>/ keeping their places relative to `root` (default: the
    folder they share); returns that folder."""
    root = root or Path(os.path.commonpath([p.parent for p in files]))
    for path in files:
        target = staging / folder / path.relative_to(root)
        target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        with open(path, "rb") as source, private_open(target, "wb") as handle:
            shutil.copyfileobj(source, handle)
    return root


def _copy_schemas(schemas: list[Schema], staging: Path) -> dict[str, tuple[str, str]]:
    """Copy the layouts into data/schemas/ keeping their relative places (a code table may be
    ../other/codes/x.csv); returns per layout id its YAML path in the package and its sha256."""
    files = _schema_files(schemas)[1]
    common = Path(os.path.commonpath([p.parent for p in files]))
    # keep the layout's own folder (schemas/juki/v1.yaml), also when it is the only one
    root = common.parent if any(Path(os.path.realpath(s.path)).parent == common
                                for s in schemas) else common
    _copy_tree(files, staging, SCHEMAS_DIR, root)
    placed = {}
    for schema in schemas:
        relative = Path(os.path.realpath(schema.path)).relative_to(root)
        placed[schema.id] = ((Path(SCHEMAS_DIR) / relative).as_posix(),
                             hashlib.sha256(schema.path.read_bytes()).hexdigest())
    return placed


def _descriptor(datasets: list[Dataset], files: list[ExportedFile],
                placed: dict[str, tuple[str, str]], options: ExportOptions,
                created: str, mapping: tuple[Mapping, str] | None = None) -> dict[str, Any]:
    from frictionless import FrictionlessException, Package

    resource_of = {d.layout: d.name for d in datasets}
    resources = []
    for dataset, exported in zip(datasets, files, strict=True):
        schema = dataset.schema
        assert schema is not None
        resource: dict[str, Any] = {
            "name": dataset.name, "path": exported.path, "profile": "tabular-data-resource",
            "title": schema.title_ja, "description": schema.title_en,
            "format": options.format,
            "mediatype": "text/csv" if options.format == "csv" else "application/parquet",
            "bytes": exported.bytes, "hash": f"sha256:{exported.sha256}", "rows": exported.rows,
            "schema": table_schema(schema, resource_of),
            "standard_layout": {"id": schema.id, "version": schema.id.rsplit("/", 1)[-1],
                                "schema": placed[schema.id][0],
                                "sha256": placed[schema.id][1]},
        }
        if options.format == "csv":
            resource["encoding"] = options.encoding + ("-sig" if options.bom else "")
            resource["dialect"] = {"lineTerminator": NEWLINES[options.newline], "header": True}
        if mapping is not None:  # a legacy file: described by its mapping, not a Table Schema
            del resource["schema"], resource["profile"]
            resource.update(mediatype="application/octet-stream",
                            encoding=mapping[0].source.encoding,
                            legacy_mapping={"id": mapping[0].id, "mapping": mapping[1]})
        resources.append(resource)
    descriptor = {
        "name": "migrate-export", "title": "標準レイアウト移行データ (standard-layout data)",
        "profile": "data-package" if mapping else "tabular-data-package", "created": created,
        "generator": {"name": "migrate", "version": __version__},
        "resources": resources,
    }
    try:
        Package.from_descriptor(descriptor)
    except FrictionlessException as error:  # a bug: the descriptor is built here
        raise AssertionError(f"invalid datapackage.json: {error}") from None
    return descriptor


def _mapping_files(mapping: Mapping) -> list[Path]:
    """The mapping YAML, its code and 外字 tables, and those of the mappings its `write_back`
    takes child records from (they are loaded with it)."""
    files = [Path(os.path.realpath(p)) for p in (
        mapping.path, *(cm.codes.path for cm in mapping.columns if cm.codes is not None),
        *((mapping.source.gaiji_file,) if mapping.source.gaiji_file else ()))]
    for wb in mapping.write_back.values():
        if wb.records is not None:
            files += _mapping_files(wb.records)
    return files


def _copy_mapping(mapping: Mapping, staging: Path) -> str:
    """The mapping YAML with its code and 外字 tables (and the mappings it writes child records
    from) into data/mappings/; its path there."""
    files = list(dict.fromkeys(_mapping_files(mapping)))
    root = _copy_tree(files, staging, MAPPINGS_DIR)
    return (Path(MAPPINGS_DIR) / files[0].relative_to(root)).as_posix()


def _cover_list(files: list[ExportedFile], created: str) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(COVER_HEADER)
    for exported in files:
        writer.writerow((exported.path, exported.title, exported.layout, exported.rows,
                         exported.sha256, created))
    return UTF8_BOM + buffer.getvalue().encode("utf-8")


def _private_tree(root: Path) -> None:
    """bagit writes its tag files with the process umask: make the whole bag owner-only."""
    os.chmod(root, 0o700)
    for folder, dirs, names in os.walk(root):
        for name in dirs:
            os.chmod(Path(folder) / name, 0o700)
        for name in names:
            os.chmod(Path(folder) / name, 0o600)


def export(options: ExportOptions, progress: Callable[[str], None] | None = None
           ) -> ExportResult:
    """Write the package; returns what it holds."""
    import bagit

    started = time.perf_counter()
    check_options(options)
    keys = recipients(options.encrypt_to) if options.encrypt_to else []
    mapping = None
    layouts = options.layouts
    if options.format == "fixed":
        assert options.mapping is not None
        mapping = load_mapping(options.mapping)
        check_reversible(mapping)
        layouts = [mapping.target.id]
    datasets = find_datasets(options.source, layouts)
    untyped = [d.name for d in datasets if d.schema is None]
    if untyped:
        raise UsageError("the layout of {names} is not known", {"names": ", ".join(untyped)})
    created = datetime.now(UTC).astimezone().isoformat(timespec="seconds")
    options.to.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    staging = options.to.parent / f".{options.to.name}.tmp-{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(mode=0o700)
    try:
        files = []
        for dataset in datasets:
            schema = dataset.schema
            assert schema is not None
            if progress is not None:
                progress(schema.id)
            if mapping is not None:
                name = f"{dataset.name}.dat"
                rows, size, sha = write_fixed(batches(dataset), mapping, staging / name,
                                              dataset.header,
                                              write_back_tables(mapping, options.source),
                                              write_back_records(mapping, options.source))
            else:
                name = f"{dataset.name}.{options.format}"
                write = _write_csv if options.format == "csv" else _write_parquet
                rows, size, sha = write(dataset, schema.column_names, staging / name, options)
            files.append(ExportedFile(name, schema.id, schema.title_ja, rows, size, sha))
        placed = _copy_schemas([d.schema for d in datasets if d.schema is not None], staging)
        placed_mapping = None
        if mapping is not None:
            placed_mapping = (mapping, _copy_mapping(mapping, staging))
        descriptor = _descriptor(datasets, files, placed, options, created, placed_mapping)
        import json

        with private_open(staging / PACKAGE_DESCRIPTOR, "wb") as handle:
            handle.write(json.dumps(descriptor, ensure_ascii=False, indent=2).encode("utf-8"))
        with private_open(staging / COVER_LIST, "wb") as handle:
            handle.write(_cover_list(files, created))
        info = {"Bag-Software-Agent": f"migrate {__version__} (bagit {bagit.VERSION})",
                "Bag-Group-Identifier": "migrate-export", "Created": created, **options.info}
        bagit.make_bag(str(staging), info, checksums=["sha256"])
        _private_tree(staging)
        if keys:  # one encrypted file; the plain bag does not stay on disk
            result = seal(staging, sealed_path(options), keys)
            shutil.rmtree(staging)
            return ExportResult(result, files, time.perf_counter() - started)
        if options.to.exists():
            options.to.rmdir()  # an empty folder given as DIR
        os.replace(staging, options.to)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return ExportResult(options.to, files, time.perf_counter() - started)
