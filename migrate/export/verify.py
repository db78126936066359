"""`migrate verify PACKAGE`: re-check a package made by `migrate export` or by anyone who follows
the documented format (README, "Contract end"), and say what differs.

1. the bag: bagit.txt, manifests, Payload-Oxum and the SHA-256 of every payload and tag file
   (the `bagit` library); when it fails, each file is named (changed, missing, not listed);
2. datapackage.json: valid Frictionless metadata; every resource's file exists with the bytes
   and hash it states; no data file it does not describe;
3. every file, streamed batch by batch: rows re-counted against `rows` and the cover list, the
   header against the Table Schema, every row against the checks built from the layout
   YAML in the package (types, lengths, codes, check digits, row rules), primary keys unique;
4. across files: the references (with their `unless` exemptions) and the group checks the
   layouts declare.

Keys, referencing values and group counts are spilled to disk in buckets while the files stream
past (migrate.export.spill), and the checks of step 3's keys and of step 4 run bucket by bucket,
so memory does not grow with the number of rows.

Every finding is a row of the verdict (check, file, ok, detail); values are never shown, only
row numbers, so nothing personal reaches the screen or verify.json.
"""

from __future__ import annotations

import csv
import hashlib
import json
import logging
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from migrate.errors import UsageError
from migrate.export.package import COVER_LIST, MAPPINGS_DIR, SCHEMAS_DIR
from migrate.export.seal import SUFFIX, opened
from migrate.export.source import PACKAGE_DESCRIPTOR
from migrate.export.spill import Spill, bucket_count, first_rows
from migrate.export.tables import cast_frame, csv_header, parquet_batches, text_batches, utf8_copy
from migrate.i18n import t
from migrate.layouts import Schema, load_schema
from migrate.read.fixed import CHILD, DATA, kind_of_code
from migrate.transform.mapper import OFFSET_COL, RECORD_COL
from migrate.validate.keytext import row_texts
from migrate.validate.rows import Validator

SHOWN_ROWS = 5


@dataclass
class Finding:
    check: str  # bag | package | file | rows | header | schema | keys | references | groups | cover
    file: str
    ok: bool
    detail: str
    rows: list[int] = field(default_factory=list)  # data row numbers (1 = first after header)


@dataclass
class VerifyResult:
    package: Path
    findings: list[Finding]
    seconds: float

    @property
    def ok(self) -> bool:
        return all(f.ok for f in self.findings)

    def as_dict(self) -> dict[str, Any]:
        return {"package": str(self.package), "ok": self.ok, "seconds": round(self.seconds, 3),
                "failed": [asdict(f) for f in self.findings if not f.ok],
                "findings": [asdict(f) for f in self.findings]}


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def _rows_text(rows: list[int], total: int) -> str:
    shown = ", ".join(str(r) for r in rows[:SHOWN_ROWS])
    return t("rows {rows}", rows=shown + (" …" if total > SHOWN_ROWS else ""))


# ------------------------------------------------------------------------------------- the bag


def check_bag(package: Path, findings: list[Finding]) -> None:
    import bagit

    quiet = logging.getLogger("bagit")  # its warnings repeat, on stderr, what the verdict says
    quiet.propagate = False
    if not quiet.handlers:
        quiet.addHandler(logging.NullHandler())
    try:
        bag = bagit.Bag(str(package))
    except bagit.BagError as error:
        findings.append(Finding("bag", "bagit.txt", False,
                                t("not a readable BagIt bag: {error}", error=str(error))))
        return
    try:
        bag.validate(processes=1)
    except bagit.BagValidationError as error:
        details = error.details or _diagnose(bag)
        if not error.details:
            findings.append(Finding("bag", "bag-info.txt", False, str(error.message)))
        for detail in details:
            path = str(detail.path)
            if isinstance(detail, bagit.ChecksumMismatch) and not path.startswith("data/"):
                text = t("its SHA-256 differs from tagmanifest-sha256.txt: this file or that "
                         "manifest was changed")
            elif isinstance(detail, bagit.ChecksumMismatch):
                text = t("its SHA-256 differs from the manifest (fixity)")
            elif isinstance(detail, bagit.FileMissing):
                text = t("listed in the manifest but missing")
            elif isinstance(detail, bagit.UnexpectedFile):
                text = t("present but not listed in the manifest")
            else:
                text = str(detail)
            findings.append(Finding("bag", path, False, text))
        return
    except bagit.BagError as error:
        findings.append(Finding("bag", "bagit.txt", False, str(error)))
        return
    findings.append(Finding("bag", "manifest-sha256.txt", True,
                            t("valid bag: the SHA-256 of {files} files match",
                              files=len(bag.entries))))


def _diagnose(bag: Any) -> list[Any]:
    """The per-file reasons behind a failed Payload-Oxum (bagit stops at the total)."""
    import bagit

    missing, unexpected = bag.compare_manifests_with_fs()
    details: list[Any] = [bagit.FileMissing(p) for p in missing]
    details += [bagit.UnexpectedFile(p) for p in unexpected]
    root = Path(bag.path)
    for path, hashes in bag.entries.items():
        if path in missing or "sha256" not in hashes or not (root / path).is_file():
            continue
        found = _sha256(root / path)
        if found != hashes["sha256"]:
            details.append(bagit.ChecksumMismatch(path, "sha256", hashes["sha256"], found))
    return details


# --------------------------------------------------------------------------------- the files


@dataclass
class _Table:
    """One resource being checked, and what the cross-file checks need of it."""

    name: str
    path: Path
    schema: Schema
    resource: dict[str, Any]
    rows: int = 0
    sha256: str = ""
    keys: Spill | None = None  # primary key, row
    refs: dict[str, Spill] = field(default_factory=dict)  # referencing column → (value, row)
    known: dict[tuple[str, ...], Spill] = field(default_factory=dict)  # referenced key → value
    groups: dict[str, Spill] = field(default_factory=dict)  # group check → (group, n, row)

    def spill(self, folder: Path, buckets: int, referenced: set[tuple[str, ...]]) -> None:
        """Where the keys, references and group counts of this file go while it is read (file
        names by position: names from a YAML never become file names)."""
        schema = self.schema
        if schema.primary_key:
            self.keys = Spill(folder, "keys", list(schema.primary_key), buckets)
        for i, spec in enumerate(schema.columns):
            if spec.references is not None:
                self.refs[spec.name] = Spill(folder, f"ref{i}", ["value"], buckets)
        for i, column in enumerate(sorted(referenced)):
            self.known[column] = Spill(folder, f"known{i}", ["value"], buckets)
        for i, check in enumerate(schema.group_checks):
            self.groups[check.name] = Spill(folder, f"group{i}", list(check.group_by), buckets)

    def close(self) -> None:
        """The file is read: its spills are complete."""
        for spill in [self.keys, *self.refs.values(), *self.known.values(),
                      *self.groups.values()]:
            if spill is not None:
                spill.close()


def _where(condition: dict[str, tuple[str, ...]]) -> pl.Expr:
    return pl.all_horizontal([pl.lit(True), *(pl.col(c).cast(pl.Utf8).is_in(list(v))
                                             for c, v in condition.items())]).fill_null(False)


def _key_values(frame: pl.DataFrame, columns: tuple[str, ...]) -> pl.Series:
    """Each row's key (one column or several) as one text to join on (the key index's exact
    text: several columns length-prefixed, so no two keys share one)."""
    return row_texts(frame.select(columns)).alias("value")


def _collect(table: _Table, frame: pl.DataFrame) -> None:
    """Keep the keys, referencing values and group counts of one batch."""
    schema = table.schema
    if table.keys is not None:
        table.keys.add(frame.select([*schema.primary_key, RECORD_COL]))
    for columns, spill in table.known.items():
        known = frame.filter(pl.all_horizontal(pl.col(list(columns)).is_not_null()))
        spill.add(_key_values(known, columns).to_frame().unique())
    for spec in schema.columns:
        ref = spec.references
        if ref is None:
            continue
        exempt = _where(ref.unless) if ref.unless else pl.lit(False)
        referring = frame.filter(
            ~exempt & pl.all_horizontal(pl.col(list(ref.columns)).is_not_null()))
        table.refs[spec.name].add(referring.select(_key_values(referring, ref.columns),
                                                   RECORD_COL))
    for check in schema.group_checks:
        member = _where(check.among) & pl.all_horizontal(
            [pl.col(c).is_not_null() for c in check.group_by])
        table.groups[check.name].add(
            frame.filter(member).group_by(list(check.group_by)).agg(
                _where(check.count_where).sum().cast(pl.Int64).alias("n"),
                pl.col(RECORD_COL).min()))


def _schema_findings(table: _Table, problems: list[pl.DataFrame], findings: list[Finding]
                     ) -> None:
    if not problems:
        findings.append(Finding("schema", table.name, True,
                                t("every row fits {layout}", layout=table.schema.id)))
        return
    found = pl.concat(problems)
    for (column, reason), group in found.group_by(["column", "reason"], maintain_order=True):
        rows = group["record"].sort().to_list()
        findings.append(Finding("schema", table.name, False, t(
            "{count} rows fail {reason} in column {column}: {rows}", count=len(rows),
            reason=reason, column=column, rows=_rows_text(rows, len(rows))), rows[:SHOWN_ROWS]))


def _check_rows(table: _Table, scratch: Path, findings: list[Finding]) -> None:
    """One streamed pass over a file: count, header, types, the layout's checks; keep keys."""
    schema = table.schema
    fmt = str(table.resource.get("format", "csv"))
    validator = Validator(schema, {})
    problems: list[pl.DataFrame] = []
    expected = [f.get("name") for f in (table.resource.get("schema") or {}).get("fields", [])]
    with utf8_copy(table.path, str(table.resource.get("encoding", "utf-8")), scratch) as path:
        if fmt == "csv":
            header = csv_header(path)
            batches = text_batches(path)
        else:
            header = list(pl.read_parquet_schema(path))
            batches = parquet_batches(path)
        columns = schema.column_names
        if header != expected or header != columns:
            findings.append(Finding("header", table.name, False, t(
                "the columns differ from its schema: missing {missing}; not in the schema "
                "{extra}", missing=", ".join(c for c in columns if c not in header) or "-",
                extra=", ".join(c for c in header if c not in columns) or "-")))
            table.rows = sum(b.height for b in batches)
            return
        for frame in batches:
            start = table.rows
            table.rows += frame.height
            numbers = pl.int_range(start + 1, table.rows + 1, dtype=pl.Int64, eager=True)
            if fmt == "csv":
                frame, bad = cast_frame(frame, schema)
                for column, mask in bad.items():
                    problems.append(pl.DataFrame({
                        "record": numbers.filter(mask), "column": column,
                        "reason": "wrong_type"}, schema_overrides={"column": pl.Utf8,
                                                                   "reason": pl.Utf8}))
            frame = frame.with_columns(numbers.alias(RECORD_COL),
                                       pl.lit(0, dtype=pl.Int64).alias(OFFSET_COL))
            errors, _ = validator.validate(frame)
            if errors.height:
                problems.append(errors.select("record", "column", "reason"))
            _collect(table, frame)
    _schema_findings(table, problems, findings)


def _count_fixed(table: _Table, data: Path) -> int:
    """Data records of a fixed-width file with their child records (zeimu's income records, as
    its trailer counts them), by the record types its mapping (in the package) declares; every
    record when the mapping has no record types."""
    from migrate.layouts import load_mapping

    mapping = load_mapping(data / str(table.resource["legacy_mapping"]["mapping"]))
    source = mapping.source
    records = np.memmap(table.path, np.uint8, mode="r")
    usable = len(records) - len(records) % source.stride
    rows = records[:usable].reshape(-1, source.stride)
    kinds = source.record_types
    if kinds is None:
        return int(rows.shape[0])
    codes = [code for code, kind in kind_of_code(source).items() if kind == DATA or kind >= CHILD]
    found = rows[:, kinds.offset:kinds.offset + kinds.length]
    return int(sum((found == np.frombuffer(code.encode("ascii"), np.uint8)).all(axis=1).sum()
                   for code in codes))


def _check_file(table: _Table, scratch: Path, findings: list[Finding]) -> None:
    resource = table.resource
    if not table.path.is_file():
        findings.append(Finding("file", table.name, False,
                                t("described in datapackage.json but missing")))
        return
    size = table.path.stat().st_size
    table.sha256 = _sha256(table.path)
    stated = str(resource.get("hash", "")).removeprefix("sha256:")
    if stated != table.sha256 or resource.get("bytes") != size:
        findings.append(Finding("file", table.name, False, t(
            "its bytes or SHA-256 differ from datapackage.json ({size} bytes, stated {stated})",
            size=size, stated=resource.get("bytes"))))
    else:
        findings.append(Finding("file", table.name, True, t("bytes and SHA-256 as stated")))
    try:
        if resource.get("format") == "fixed":  # a legacy layout: counted, not validated
            table.rows = _count_fixed(table, table.path.parent)
        else:
            _check_rows(table, scratch, findings)
    except Exception as error:  # a file a tamperer damaged so far that it cannot be read
        findings.append(Finding("file", table.name, False, t(
            "cannot be read: {error}", error=f"{type(error).__name__}: {str(error)[:200]}")))
        return
    if table.rows != resource.get("rows"):
        findings.append(Finding("rows", table.name, False, t(
            "{rows} rows counted, datapackage.json states {stated}", rows=table.rows,
            stated=resource.get("rows"))))
    else:
        findings.append(Finding("rows", table.name, True, t("{rows} rows", rows=table.rows)))


def _load_tables(data: Path, doc: dict[str, Any], findings: list[Finding]) -> list[_Table]:
    tables = []
    for resource in doc.get("resources") or []:
        name = str(resource.get("path"))
        layout = resource.get("standard_layout") or {}
        schema_path = data / str(layout.get("schema", ""))
        if not layout.get("schema") or not schema_path.is_file():
            findings.append(Finding("package", name, False, t(
                "its standard_layout names no layout YAML in the package")))
            continue
        if layout.get("sha256") and _sha256(schema_path) != layout["sha256"]:
            findings.append(Finding("package", str(layout["schema"]), False,
                                    t("the layout YAML differs from its SHA-256 in "
                                      "datapackage.json")))
        try:
            schema = load_schema(schema_path)
        except Exception as error:  # a layout a tamperer broke: a finding, not a crash
            findings.append(Finding("package", str(layout["schema"]), False, str(error)))
            continue
        tables.append(_Table(name, data / name, schema, resource))
    return tables


def _extra_files(data: Path, doc: dict[str, Any], findings: list[Finding]) -> None:
    described = {PACKAGE_DESCRIPTOR, COVER_LIST,
                 *(str(r.get("path")) for r in doc.get("resources") or [])}
    for path in sorted(data.rglob("*")):
        relative = path.relative_to(data).as_posix()
        if path.is_file() and relative not in described and \
                not relative.startswith((SCHEMAS_DIR + "/", MAPPINGS_DIR + "/")):
            findings.append(Finding("package", relative, False,
                                    t("a data file that datapackage.json does not describe")))


# ------------------------------------------------------------------------------ across files


def _check_keys(table: _Table, findings: list[Finding]) -> None:
    if table.keys is None or not table.keys.rows:
        return
    count, rows = 0, []
    for keys in table.keys:  # a repeated key is repeated within its bucket
        repeated = keys.filter(pl.struct(list(table.schema.primary_key)).is_duplicated())
        count += repeated.height
        rows = first_rows(rows, repeated[RECORD_COL], SHOWN_ROWS)
    if count:
        findings.append(Finding("keys", table.name, False, t(
            "{count} rows share a primary key ({key}): {rows}", count=count,
            key=", ".join(table.schema.primary_key), rows=_rows_text(rows, count)), rows))
    else:
        findings.append(Finding("keys", table.name, True, t("primary key unique")))


def _check_references(tables: list[_Table], findings: list[Finding]) -> None:
    by_layout = {table.schema.id: table for table in tables}
    for table in tables:
        for column, values in table.refs.items():
            ref = table.schema.column(column).references
            assert ref is not None
            target = by_layout.get(ref.layout)
            known = target.known.get(ref.target_columns) if target is not None else None
            if known is None or not known.rows or not values.seen:
                continue  # the other layout is not in the package: nothing to check against
            count, rows = 0, []
            for bucket in range(values.buckets):
                orphans = values.bucket(bucket).join(known.bucket(bucket).unique(), on="value",
                                                     how="anti")
                count += orphans.height
                rows = first_rows(rows, orphans[RECORD_COL], SHOWN_ROWS)
            what = f"{', '.join(ref.columns)} → {ref.layout}.{', '.join(ref.target_columns)}"
            if count:
                findings.append(Finding("references", table.name, False, t(
                    "{count} rows refer to a key that is not there ({reference}): {rows}",
                    count=count, reference=what, rows=_rows_text(rows, count)), rows))
            else:
                findings.append(Finding("references", table.name, True, what))


def _check_groups(table: _Table, findings: list[Finding]) -> None:
    for check in table.schema.group_checks:
        parts = table.groups.get(check.name)
        if parts is None or not parts.rows:
            continue
        count, rows = 0, []
        for part in parts:  # every batch's count of a group is in the group's bucket
            groups = part.group_by(list(check.group_by)).agg(pl.col("n").sum(),
                                                             pl.col(RECORD_COL).min())
            failing = groups.filter(pl.col("n") != check.exactly)
            count += failing.height
            rows = first_rows(rows, failing[RECORD_COL], SHOWN_ROWS)
        if count and check.severity == "error":
            findings.append(Finding("groups", table.name, False, t(
                "{count} groups fail {check} (first row of each: {rows})", count=count,
                check=check.name, rows=_rows_text(rows, count)), rows))
        else:
            findings.append(Finding("groups", table.name, True, check.name))


def _check_cover(data: Path, tables: list[_Table], findings: list[Finding]) -> None:
    path = data / COVER_LIST
    if not path.is_file():
        findings.append(Finding("cover", COVER_LIST, False, t("the cover list is missing")))
        return
    try:
        rows = list(csv.reader(path.read_text(encoding="utf-8-sig").splitlines()))
    except (UnicodeDecodeError, csv.Error) as error:
        findings.append(Finding("cover", COVER_LIST, False, str(error)))
        return
    listed = {row[0]: row for row in rows[1:] if len(row) >= 5}
    bad = []
    for table in tables:
        row = listed.pop(table.name, None)
        if row is None or row[3] != str(table.rows) or row[4] != table.sha256:
            bad.append(table.name)
    bad += sorted(listed)  # listed but not in the package
    if bad:
        findings.append(Finding("cover", COVER_LIST, False, t(
            "its rows or SHA-256 differ for {files}", files=", ".join(bad))))
    else:
        findings.append(Finding("cover", COVER_LIST, True,
                                t("every file listed with its rows and SHA-256")))


def verify(package: Path, progress: Callable[[str], None] | None = None,
           identity: Path | None = None) -> VerifyResult:
    """Check a package (a folder, or an encrypted …tar.age with the recipient's identity);
    the result lists every finding (ok or not)."""
    if package.is_file() and package.name.endswith(SUFFIX):
        with opened(package, identity) as folder:
            result = verify(folder, progress)
        return VerifyResult(package, result.findings, result.seconds)
    return _verify(package, progress)


def _verify(package: Path, progress: Callable[[str], None] | None) -> VerifyResult:
    from frictionless import FrictionlessException, Package

    started = time.perf_counter()
    if not package.is_dir():
        raise UsageError("{path} is not a package folder", {"path": package},
                         hint="Give the folder written by migrate export (it holds bagit.txt "
                              "and data/).")
    findings: list[Finding] = []
    check_bag(package, findings)
    data = package / "data"
    descriptor = data / PACKAGE_DESCRIPTOR
    try:
        doc = json.loads(descriptor.read_text(encoding="utf-8"))
        Package.from_descriptor(doc)
    except (OSError, ValueError, FrictionlessException) as error:
        findings.append(Finding("package", f"data/{PACKAGE_DESCRIPTOR}", False,
                                t("not a readable Data Package: {error}",
                                  error=str(error)[:300])))
        return VerifyResult(package, findings, time.perf_counter() - started)
    tables = _load_tables(data, doc, findings)
    _extra_files(data, doc, findings)
    stated = [r.get("rows") for r in doc.get("resources") or []]
    buckets = bucket_count(max((n for n in stated if isinstance(n, int)), default=None))
    referenced: dict[str, set[tuple[str, ...]]] = {}
    for table in tables:
        for spec in table.schema.columns:
            if spec.references is not None:
                referenced.setdefault(spec.references.layout, set()).add(
                    spec.references.target_columns)
    with tempfile.TemporaryDirectory(prefix=".verify-", dir=package.parent) as scratch:
        for table in tables:
            if progress is not None:
                progress(table.name)
            spills = Path(scratch) / f"spill-{len(list(Path(scratch).iterdir()))}"
            spills.mkdir(mode=0o700)
            table.spill(spills, buckets, referenced.get(table.schema.id, set()))
            _check_file(table, Path(scratch), findings)
            table.close()
        for table in tables:
            _check_keys(table, findings)
            _check_groups(table, findings)
        _check_references(tables, findings)
    _check_cover(data, tables, findings)
    return VerifyResult(package, findings, time.perf_counter() - started)
