"""Realistic synthetic legacy exports: byte-exact fixed-width files for demos, tests, benchmarks.

The generator has two halves:

- a generic **record writer** that knows nothing about residents: it takes standard-column
  values (whole numbers, dates, standard codes, pre-laid-out bytes), encodes each into the
  mapping's field (type, width, vendor code table, era table), and lays the fields, record
  type and newline into an (n, stride) uint8 array; header, trailer count and control totals
  come from the same mapping;
- a **content model** per target layout (`CONTENT_MODELS`, today only 住民記録 juki/v1) that
  produces those values for a block of rows, vectorized with numpy, and knows how to plant
  each kind of defect.  Tax or NHI content can be added beside `JukiContent`.

Content is deterministic per (seed, row): rows are generated in fixed blocks of
`BLOCK_ROWS`, each from its own random stream, and ids are pure functions of the row number,
so the bytes do not depend on `chunk_rows` (the chunk size only bounds memory).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, ClassVar, Protocol

import jaconv
import numpy as np

from migrate.errors import UsageError
from migrate.layouts import FieldSpec, Mapping
from migrate.synth import words
from migrate.transform.encode import (
    encode_digits,
    encode_md,
    encode_packed,
    encode_text,
    encode_wareki,
    encode_ym,
    encode_ymd,
    encode_zoned,
)
from migrate.validate.checkdigits import (
    digit_matrix,
    jumin_code_check_digit,
    lg_code_with_check_digit,
    mod11_w27_check_digit,
    my_number_check_digit,
)

AS_OF = date(2025, 4, 1)  # fixed, not today: the same seed must give the same bytes
BLOCK_ROWS = 32_768
MAX_ROWS = 100_000_000  # keeps ids, 18-digit control totals and id permutations in int64
_EPOCH = np.datetime64("1970-01-01", "D")


# ---------------------------------------------------------------- public results


@dataclass(frozen=True)
class Defect:
    """One planted defect: which record and field, and the reject reason a run must report."""

    record: int  # 1-based record number in the file (the header is record 1)
    field: str  # mapping field name
    kind: str
    expected_reason: str
    note: str = ""


@dataclass(frozen=True)
class GenerateReport:
    """What `generate` wrote."""

    path: Path
    rows: int  # data records
    bytes: int
    sha256: str
    defects: int
    seconds: float

    @property
    def mb_per_s(self) -> float:
        return self.bytes / 1e6 / self.seconds if self.seconds else float("inf")


# ---------------------------------------------------------------- values handed to the writer


@dataclass
class Ints:
    """Whole numbers for a digits / zoned / packed field; rows not `present` are left blank."""

    values: np.ndarray
    present: np.ndarray | None = None


@dataclass
class Dates:
    """Days since 1970-01-01; precision 3 = full, 2 = day unknown, 1 = month and day unknown."""

    days: np.ndarray
    precision: np.ndarray | None = None
    present: np.ndarray | None = None


@dataclass
class Codes:
    """Standard codes (values of the target layout) by index into `labels`.

    The writer translates them into the vendor's codes through the column's code table, so
    a content model never knows vendor codes.
    """

    index: np.ndarray
    labels: tuple[str, ...]
    present: np.ndarray | None = None


@dataclass
class Raw:
    """Field bytes already laid out at the field's width (names, addresses, free text)."""

    cells: np.ndarray


Value = Ints | Dates | Codes | Raw


@dataclass
class Injection:
    """How a content model planted one defect: value changes are done, byte patches pending."""

    column: str
    reason: str
    note: str = ""
    patch: bytes | None = None  # bytes written into the field …
    patch_offset: int = 0  # … at this offset inside it
    breaks_value: bool = False  # the field no longer decodes (left out of control totals)


class ContentModel(Protocol):
    """What the record writer needs from the content of one target layout."""

    target: ClassVar[str]
    defect_kinds: ClassVar[tuple[str, ...]]

    def block(self, index: int) -> dict[str, np.ndarray]:
        """Row attributes of rows [index·BLOCK_ROWS, (index+1)·BLOCK_ROWS)."""
        ...

    def values(self, attrs: dict[str, np.ndarray]) -> dict[str, Value]:
        """Standard-column values of the rows described by attrs."""
        ...

    def header_values(self) -> dict[str, Value]:
        """Values of the header fields this content knows (by header field name)."""
        ...

    def inject(self, kind: str, occurrence: int, local: int, row: int,
               attrs: dict[str, np.ndarray], values: dict[str, Value]) -> Injection:
        """Plant defect `kind` in chunk row `local` (file data row `row`, 0-based)."""
        ...


# ---------------------------------------------------------------- small numpy helpers


def _ymd(days: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Days since 1970-01-01 → (year, month, day), in integer arithmetic (H. Hinnant's
    civil_from_days), about twice as fast as going through datetime64[M]/[Y] casts."""
    z = np.asarray(days, dtype=np.int64) + 719_468
    era = z // 146_097
    doe = z - era * 146_097
    yoe = (doe - doe // 1460 + doe // 36_524 - doe // 146_096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    month = np.where(mp < 10, mp + 3, mp - 9)
    return yoe + era * 400 + (month <= 2), month, doy - (153 * mp + 2) // 5 + 1


def _day(value: date) -> int:
    return int((np.datetime64(value, "D") - _EPOCH).astype(np.int64))


def _mix(x: np.ndarray) -> np.ndarray:
    """splitmix64 finaliser: a well-spread hash of each uint64 (wraps by design)."""
    x = x + np.uint64(0x9E3779B97F4A7C15)
    x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))


def _blank_rows(cells: np.ndarray, present: np.ndarray | None, fill: int) -> np.ndarray:
    if present is not None and not present.all():
        cells[~present] = fill
    return cells


def _pad_bytes(entries: list[bytes], width: int, pad: bytes) -> tuple[np.ndarray, np.ndarray]:
    """Byte strings → (k, width) uint8 padded like encode_text, and their lengths."""
    out = np.full((len(entries), width), 0x20, np.uint8)
    lengths = np.zeros(len(entries), np.int64)
    for i, raw in enumerate(entries):
        if len(raw) > width:
            raise ValueError(f"{raw.decode('cp932', 'replace')!r} does not fit {width} bytes")
        units = (width - len(raw)) // len(pad)
        padded = raw + pad * units
        out[i, : len(padded)] = np.frombuffer(padded, np.uint8)
        lengths[i] = len(raw)
    return out, lengths


def _compose(a: np.ndarray, a_len: np.ndarray, a_lengths: np.ndarray, ia: np.ndarray,
             sep: bytes, b: np.ndarray, ib: np.ndarray) -> np.ndarray:
    """Rows of `a[ia] + sep + b[ib]` in a field, from two padded pools, without a row loop.

    The surname pool has few distinct byte lengths; rows are grouped by it and the given
    name is copied in at that offset (both pools carry the field's padding already).
    """
    out = a[ia]
    width = a.shape[1]
    la = a_len[ia]
    sep_arr = np.frombuffer(sep, np.uint8)
    for length in a_lengths:
        rows = np.flatnonzero(la == length)
        if rows.size:
            start = int(length) + len(sep)
            out[rows, length:start] = sep_arr
            out[rows, start:] = b[ib[rows], : width - start]
    return out


# ---------------------------------------------------------------- the generic record writer


class _RecordWriter:
    """Encodes standard-column values into the fields of one mapping and frames the records."""

    def __init__(self, mapping: Mapping):
        src = mapping.source
        self.mapping = mapping
        self.record_length = src.record_length
        self.stride = src.stride
        self.newline = np.frombuffer(src.newline, np.uint8)
        self.field_by_column: dict[str, FieldSpec] = {}
        self.column_by_field: dict[str, str] = {}
        self.tables: dict[str, dict[str, str]] = {}  # column → standard → vendor
        self.vendor_sets: dict[str, set[str]] = {}  # column → every vendor code of its table
        self.split_fields: dict[str, FieldSpec] = {}  # one-piece address fields (split:)
        self.composites = [cm for cm in mapping.columns if cm.kind == "codes"]
        for cm in mapping.columns:
            if cm.kind == "field" and cm.source is not None and cm.split:
                self.split_fields[cm.source] = mapping.fields[cm.source]
            elif cm.kind == "field" and cm.source is not None:
                self.field_by_column.setdefault(cm.column, mapping.fields[cm.source])
                self.column_by_field.setdefault(cm.source, cm.column)
                if cm.codes is not None:
                    reverse: dict[str, str] = {}
                    for vendor, standard in cm.codes.mapping.items():
                        reverse.setdefault(standard, vendor)
                    self.tables[cm.column] = reverse
                    self.vendor_sets[cm.column] = set(cm.codes.mapping)
        self._code_pools: dict[tuple[str, tuple[str, ...]], np.ndarray] = {}

    # -- one field

    def vendor_codes(self, column: str, labels: tuple[str, ...]) -> list[str]:
        """Vendor codes of standard labels; the column has no table → the labels themselves."""
        table = self.tables.get(column)
        if table is None:
            return list(labels)
        missing = [label for label in labels if label not in table]
        if missing:
            spec = self.field_by_column[column]
            cm = next(c for c in self.mapping.columns if c.column == column)
            raise UsageError(
                "the code table of {column} has no vendor code for the standard code(s) "
                "{codes}, which the synthetic data uses",
                {"column": column, "codes": ", ".join(missing)},
                file=cm.codes.path if cm.codes else self.mapping.path, field_name=spec.name,
                hint="Add a row for each of them to the code table.")
        return [table[label] for label in labels]

    def _codes(self, column: str, spec: FieldSpec, value: Codes) -> np.ndarray:
        key = (column, value.labels)
        pool = self._code_pools.get(key)
        if pool is None:
            vendor = self.vendor_codes(column, value.labels)
            pool = encode_text([*vendor, None], spec.length, encoding=self.mapping.source.encoding,
                               pad="half")
            self._code_pools[key] = pool
        index = value.index
        if value.present is not None:
            index = np.where(value.present, index, len(value.labels))
        return pool[index]

    def encode(self, column: str, spec: FieldSpec, value: Value, *, signed: bool = True
               ) -> np.ndarray:
        if isinstance(value, Raw):
            if value.cells.shape[1] != spec.length:
                raise ValueError(f"{column}: {value.cells.shape[1]} bytes for a "
                                 f"{spec.length}-byte field")
            return value.cells
        if isinstance(value, Codes):
            if spec.type in ("packed", "wareki", "ymd", "ym", "md"):
                raise ValueError(f"{column}: codes cannot go into a {spec.type} field")
            return self._codes(column, spec, value)
        if isinstance(value, Dates):
            y, m, d = _ymd(value.days)
            if value.precision is not None:
                m = np.where(value.precision >= 2, m, 0)
                d = np.where(value.precision >= 3, d, 0)
            if value.present is not None:
                y, m, d = (np.where(value.present, part, 0) for part in (y, m, d))
            if spec.type == "wareki":
                return encode_wareki(y, m, d, eras=self.mapping.source.eras)
            if spec.type == "ymd":
                return encode_ymd(y, m, d)
            if spec.type == "ym":
                return encode_ym(y, m)
            if spec.type == "md":  # the year is the mapping's (header or run date)
                return encode_md(m, d)
            raise ValueError(f"{column}: dates cannot go into a {spec.type} field")
        if spec.type == "packed":
            if value.present is not None and not value.present.all():
                raise ValueError(f"{column}: a packed field has no blank form")
            return encode_packed(value.values, spec.length)
        ints = np.where(value.present, value.values, 0) if value.present is not None \
            else value.values
        if spec.type == "digits":
            cells = encode_digits(ints, spec.length)
        elif spec.type == "zoned":
            cells = encode_zoned(ints, spec.length, signed=signed)
        else:
            raise ValueError(f"{column}: numbers cannot go into a {spec.type} field")
        return _blank_rows(cells, value.present, 0x20)

    # -- records

    def _frame(self, n: int, kind: str | None, filled: Sequence[FieldSpec] = ()) -> np.ndarray:
        """Empty records: spaces except where `filled` fields will be written anyway."""
        rec = np.empty((n, self.stride), np.uint8)
        gaps = np.ones(self.record_length + 1, bool)
        gaps[-1] = False
        for spec in filled:
            gaps[spec.offset : spec.end] = False
        edges = np.flatnonzero(np.diff(np.concatenate([[False], gaps]).astype(np.int8)))
        for start, stop in zip(edges[0::2], edges[1::2], strict=True):
            rec[:, start:stop] = 0x20
        rec[:, self.record_length :] = self.newline
        rt = self.mapping.source.record_types
        if rt is not None and kind is not None:
            rec[:, rt.offset : rt.offset + rt.length] = np.frombuffer(kind.encode("ascii"),
                                                                      np.uint8)
        return rec

    def data_records(self, n: int, values: dict[str, Value]) -> np.ndarray:
        """The data records. A field is written from the value of the column it feeds; a
        field no column takes as a whole is written from the value `field:<name>` (the
        one-piece address that `split:` columns take apart), or, as a key of a code table
        keyed by several fields, with the vendor value that gives the column's standard
        code beside the key fields other columns write (`_composite_keys`)."""
        rt = self.mapping.source.record_types
        cells: dict[str, np.ndarray] = {}
        for name, spec in self.mapping.fields.items():
            column = self.column_by_field.get(name)
            if column in values:
                cells[name] = self.encode(column, spec, values[column])
            elif f"field:{name}" in values:
                cells[name] = self.encode(name, spec, values[f"field:{name}"])
        for cm in self.composites:
            cells.update(self._composite_keys(cm, values, cells))
        specs = [spec for name, spec in self.mapping.fields.items() if name in cells]
        rec = self._frame(n, rt.data if rt else None, specs)
        for spec in specs:
            rec[:, spec.offset : spec.end] = cells[spec.name]
        return rec

    def _composite_keys(self, cm: Any, values: dict[str, Value], cells: dict[str, np.ndarray]
                        ) -> dict[str, np.ndarray]:
        """The key fields of a code table keyed by several fields that no column writes: per
        row, the vendor values that the table maps, together with the vendor values of the
        key fields other columns write (their standard codes through their own tables), to
        the row's standard code. A combination the table lacks is a UsageError naming it."""
        target = values.get(cm.column)
        key = list(cm.codes.key)
        free = [k for k in key if k not in cells]
        if not free or not isinstance(target, Codes):
            return {}
        given = [k for k in key if k in cells]
        vendors: list[list[str]] = []
        indexes: list[np.ndarray] = []
        for k in given:
            column = self.column_by_field[k]
            value = values[column]
            if not isinstance(value, Codes):
                raise UsageError("the synthetic data cannot fill the key field {field} of the "
                                 "code table of {column}", {"field": k, "column": cm.column},
                                 file=cm.codes.path)
            vendors.append([*self.vendor_codes(column, value.labels), ""])
            indexes.append(value.index if value.present is None
                           else np.where(value.present, value.index, len(value.labels)))
        vendors.append([*target.labels, ""])
        indexes.append(target.index if target.present is None
                       else np.where(target.present, target.index, len(target.labels)))
        dims = [len(v) for v in vendors]
        combos, inverse = np.unique(np.ravel_multi_index(indexes, dims), return_inverse=True)
        reverse: dict[tuple[tuple[str, ...], str], tuple[str, ...]] = {}
        for combo, standard in cm.codes.mapping.items():
            parts = dict(zip(key, combo, strict=True))
            reverse.setdefault((tuple(parts[k] for k in given), standard),
                               tuple(parts[k] for k in free))
        chosen: list[tuple[str, ...]] = []
        for combo in zip(*np.unravel_index(combos, dims), strict=True):
            texts = [vendors[i][int(j)] for i, j in enumerate(combo)]
            standard = texts[-1]
            if not standard:  # no standard code: the free keys stay blank
                chosen.append(("",) * len(free))
                continue
            found = reverse.get((tuple(texts[:-1]), standard))
            if found is None:
                shown = ", ".join(f"{k}={v}" for k, v in zip(given, texts, strict=False))
                raise UsageError("the code table of {column} has no row giving {code} for "
                                 "{codes}, which the synthetic data uses",
                                 {"column": cm.column, "code": standard,
                                  "codes": shown or "-"},
                                 file=cm.codes.path, hint="Add a row for it to the code table.")
            chosen.append(found)
        out = {}
        for i, k in enumerate(free):
            spec = self.mapping.fields[k]
            pool = encode_text([c[i] or None for c in chosen], spec.length,
                               encoding=self.mapping.source.encoding, pad="half")
            out[k] = pool[inverse.reshape(-1)]
        return out

    def header_record(self, values: dict[str, Value]) -> np.ndarray | None:
        rt = self.mapping.source.record_types
        if rt is None or rt.header is None:
            return None
        rec = self._frame(1, rt.header)
        for name, spec in self.mapping.header_fields.items():
            if name in values:
                rec[:, spec.offset : spec.end] = self.encode(name, spec, values[name],
                                                             signed=False)
        return rec

    def trailer_record(self, count: int, totals: dict[str, int]) -> np.ndarray | None:
        rt = self.mapping.source.record_types
        trailer = self.mapping.trailer
        if rt is None or rt.trailer is None:
            return None
        rec = self._frame(1, rt.trailer)
        if trailer is not None:
            specs = [(trailer.count, count)] if trailer.count else []
            specs += [(spec, totals[name]) for name, spec in trailer.control_totals.items()]
            for spec, number in specs:
                rec[:, spec.offset : spec.end] = self.encode(
                    spec.name, spec, Ints(np.array([number], np.int64)), signed=False)
        return rec


# ---------------------------------------------------------------- 住民記録 content (juki/v1)

# Standard codes (juki/v1) the content uses; the writer maps them to vendor codes.
SHUBETSU = ("1", "2")  # 日本人住民, 外国人住民
JOTAI = ("1", "2", "3", "4")  # 住民, 転出, 死亡, 職権消除
SEX = ("1", "2")  # 男, 女
ZOKUGARA = ("世帯主", "夫", "妻", "子", "父", "母", "子の子", "子の妻", "子の夫", "同居人",
            "縁故者", "夫(未届)", "妻(未届)")
(Z_HEAD, Z_HUSBAND, Z_WIFE, Z_CHILD, Z_FATHER, Z_MOTHER, Z_GRANDCHILD, Z_CHILD_WIFE,
 Z_CHILD_HUSBAND, Z_LODGER, Z_RELATIVE, Z_HUSBAND_U, Z_WIFE_U) = range(len(ZOKUGARA))
IDOU = ("101", "102", "103", "201", "202", "203", "206", "301", "302", "310", "311", "313")
I_TENNYU, I_KOKUGAI_TENNYU, I_SHUSSEI, I_TENSHUTSU, I_KOKUGAI_TENSHUTSU, I_SHIBO, I_SHOKKEN = \
    range(7)
AMENDMENTS = (7, 8, 9, 10, 11)  # 転居, 軽微な修正, 世帯分離, 世帯合併, 世帯主変更
AMENDMENT_P = (0.55, 0.20, 0.08, 0.05, 0.12)
SHOJO = ("201", "202", "203", "206")  # the removal reasons, in IDOU order 3..6
ZAIRYU_KUBUN = ("1", "2")  # 中長期在留者, 特別永住者
SHIKAKU = tuple(words.RESIDENCE_STATUS_WEIGHTS)
FOREIGN_FROM = date(2012, 7, 9)  # foreign residents are in the 住民基本台帳 from this day

HOUSEHOLD_SIZE_P = (0.38, 0.28, 0.16, 0.12, 0.04, 0.02)  # roughly the 2020 census
FOREIGN_HOUSEHOLD_P = (0.06, 0.035, 0.02, 0.02, 0.02, 0.02)  # by size → about 3 % of people
SINGLE, COUPLE, SINGLE_PARENT, THREE_GEN, ELDER_FAMILY, OTHER = range(6)
MALE_HEAD_P = np.array([0.5, 0.85, 0.15, 0.85, 0.8, 0.5])
SPECIAL_PERMANENT_P = {"KOR": 0.35, "PRK": 0.8, "CHN": 0.05, "TWN": 0.05}
KANJI_NAME_COUNTRIES = ("CHN", "TWN", "KOR", "PRK")  # spouses keep their own surname
_ID_SALT = 0x4A554B49  # "JUKI"

DEFECT_KINDS = ("invalid_date", "bad_check_digit", "unknown_code", "duplicate_key",
                "undecodable_bytes", "invalid_character", "gaiji_unmapped", "invalid_packed")


NAME_RENDERINGS = {"shimei": ("kanji", "\u3000"), "setai_nushi_name": ("kanji", "\u3000"),
                   "shimei_kana": ("kana", " "), "shimei_alpha": ("alpha", " ")}
NameEntry = tuple[list[bytes], str, str, float]  # spellings, half-width kana, alphabet, weight


def _rendered(entry: NameEntry, encoding: str) -> dict[str, int]:
    """Bytes of a name part in each rendering (its longest spelling)."""
    spellings, kana, alpha, _ = entry
    return {"kanji": max(len(s) for s in spellings), "kana": len(kana.encode(encoding)),
            "alpha": len(alpha.encode("ascii"))}


def _fitting(entry: NameEntry, caps: dict[str, int], encoding: str) -> NameEntry | None:
    """The entry with only the spellings within the caps, or None when it does not fit."""
    if not caps:
        return entry
    spellings, kana, alpha, weight = entry
    kept = [s for s in spellings if len(s) <= caps.get("kanji", len(s))]
    sizes = _rendered((kept or spellings, kana, alpha, weight), encoding)
    if not kept or any(sizes[r] > cap for r, cap in caps.items()):
        return None
    return kept, kana, alpha, weight


@dataclass
class _Parts:
    """Name parts (surnames or given names) in three renderings, grouped into index ranges."""

    kanji: list[bytes] = field(default_factory=list)
    kana: list[bytes] = field(default_factory=list)
    alpha: list[bytes] = field(default_factory=list)
    weight: list[float] = field(default_factory=list)
    ranges: dict[tuple[str, str], tuple[int, int]] = field(default_factory=dict)

    def add_group(self, key: tuple[str, str], entries: list[tuple[list[bytes], str, str, float]],
                  encoding: str) -> None:
        lo = len(self.kanji)
        for spellings, kana, alpha, weight in entries:
            for spelling in spellings:
                self.kanji.append(spelling)
                self.kana.append(kana.encode(encoding))
                self.alpha.append(alpha.encode("ascii"))
                self.weight.append(weight / len(spellings))
        self.ranges[key] = (lo, len(self.kanji))

    def cumulative(self) -> np.ndarray:
        return np.concatenate([[0.0], np.cumsum(self.weight)])


class JukiContent:
    """住民記録 of one real municipality (長井市): households with one head, consistent codes.

    Everything a row needs is drawn per block of BLOCK_ROWS rows, household by household,
    with numpy; ids (宛名番号, 世帯番号, 住民票コード, 個人番号) are pure functions of the row
    number and the seed, so they are unique across the whole file and computable anywhere.
    """

    target: ClassVar[str] = "juki/v1"
    defect_kinds: ClassVar[tuple[str, ...]] = DEFECT_KINDS

    def __init__(self, mapping: Mapping, writer: _RecordWriter, *, seed: int, as_of: date):
        self.mapping = mapping
        self.writer = writer
        self.seed = seed
        self.as_of = as_of
        self.today = _day(as_of)
        self.encoding = mapping.source.encoding
        salt = np.random.default_rng([seed, _ID_SALT])
        self.jumin_offset = int(salt.integers(0, 10**10))
        self.kojin_offset = int(salt.integers(0, 10**11))
        self.hash_salt = np.uint64(int(salt.integers(0, 2**63)))
        self.era_start_years = np.array(sorted({e.first.year for e in mapping.source.eras.eras}))
        self.nations = tuple(iso for iso in words.NATIONALITY_WEIGHTS
                             if iso in words.FOREIGN_NAMES)
        # columns the mapping fills with a constant: the content keeps to them
        constants = {cm.column: cm.value for cm in mapping.columns if cm.kind == "constant"}
        self.all_foreign = {"1": False, "2": True}.get(constants.get("jumin_shubetsu", ""))
        self.current_only = constants.get("jumin_jotai") == "1"
        self._check_codes()
        self.defect_kinds = tuple(k for k in DEFECT_KINDS if self._plantable(k))
        self._build_names()
        self._build_addresses()

    # -- set-up

    def _check_codes(self) -> None:
        """Fail early, naming the table, if the vendor cannot express a code the data uses."""
        needs = {"jumin_shubetsu": SHUBETSU, "jumin_jotai": JOTAI, "sex": SEX,
                 "zokugara": ZOKUGARA, "idou_jiyu": IDOU, "shojo_jiyu": SHOJO,
                 "zairyu_shikaku": SHIKAKU, "zairyu_kubun": ZAIRYU_KUBUN}
        for column, labels in needs.items():
            if column in self.writer.field_by_column:
                self.writer.vendor_codes(column, labels)
        nat_table = self.writer.tables.get("nationality")
        if nat_table is not None:  # use the nationalities the vendor can code
            self.nations = tuple(iso for iso in self.nations if iso in nat_table)
        if not self.nations:
            raise UsageError("the nationality code table has none of the nationalities the "
                             "synthetic data uses", file=self.mapping.path,
                             hint="Add ISO 3166 codes such as CHN or VNM to it.")

    def _plantable(self, kind: str) -> bool:
        """Whether the mapping has the field a defect kind is planted in (vendor B has no
        個人番号 and no packed field; its 異動日 is YYYYMMDD)."""
        fields = self.writer.field_by_column
        need = {"invalid_date": ("idou_date", ("wareki", "ymd")),
                "bad_check_digit": ("kojin_no", None), "unknown_code": ("sex", None),
                "duplicate_key": ("atena_no", None), "undecodable_bytes": ("shimei", ("text",)),
                "invalid_character": ("shimei", ("text",)),
                "gaiji_unmapped": ("shimei", ("text",)), "invalid_packed": ("atena_no",
                                                                           ("packed",))}
        column, types = need[kind]
        return column in fields and (types is None or fields[column].type in types)

    def _text_defect_column(self, local: int, attrs: dict[str, np.ndarray]) -> str:
        """shimei, except on the record of a head whose name another record looks up (a
        `lookup:` taking the field): that record's defect would reject the household's other
        records too (lookup_missing), so there the kana field takes it."""
        field = self.writer.field_by_column["shimei"].name
        taken = any(cm.lookup is not None and cm.lookup.take == field
                    for cm in self.mapping.columns if cm.kind == "lookup")
        kana = self.writer.field_by_column.get("shimei_kana")
        if taken and attrs["role"][local] == Z_HEAD and kana is not None and kana.type == "text":
            return "shimei_kana"
        return "shimei"

    def _spellings(self, text: str) -> list[bytes]:
        """Every byte spelling of a name: vendor forms and mapped gaiji (see synth_data)."""
        gaiji = {char: pua for pua, char in self.mapping.source.gaiji.items()}
        options: list[list[bytes]] = []
        for char in text:
            forms: list[bytes] = []
            with contextlib.suppress(UnicodeEncodeError):
                forms.append(char.encode(self.encoding))
            if char in words.IBM_EXTENSION_BYTES:
                forms.append(words.IBM_EXTENSION_BYTES[char])
            if char in gaiji:
                forms.append(gaiji[char].encode(self.encoding))
            if not forms:
                return []  # cannot be written by this vendor: leave the name out
            options.append(forms)
        spellings = [b""]
        for forms in options:
            spellings = [s + f for s in spellings for f in forms]
        return spellings

    def _entries(self, rows: tuple[tuple[str, ...], ...], ranked: bool
                 ) -> list[tuple[list[bytes], str, str, float]]:
        out = []
        for rank, row in enumerate(rows):
            name, kana = row[0].replace("_", "　"), row[1].replace("_", " ")
            alpha = row[2].replace("_", " ") if len(row) > 2 else ""
            spellings = self._spellings(name)
            if spellings:
                half = jaconv.z2h(kana, kana=True, ascii=False, digit=False)
                out.append((spellings, half, alpha, 1.0 / (rank + 8) if ranked else 1.0))
        return out

    def _build_names(self) -> None:
        self.surnames, self.given = _Parts(), _Parts()
        groups = {("JPN", ""): (self.surnames, words.SURNAMES),
                  ("JPN", "1"): (self.given, words.GIVEN_MALE),
                  ("JPN", "2"): (self.given, words.GIVEN_FEMALE)}
        for iso in self.nations:
            sur, male, female = words.FOREIGN_NAMES[iso]
            groups |= {(iso, ""): (self.surnames, sur), (iso, "1"): (self.given, male),
                       (iso, "2"): (self.given, female)}
        found = {key: self._entries(names, ranked=key[0] == "JPN")
                 for key, (_, names) in groups.items()}
        caps = self._name_caps(found)
        for key, (parts, _) in groups.items():
            entries = [fitted for entry in found[key]
                       if (fitted := _fitting(entry, caps, self.encoding)) is not None]
            if not entries:
                raise UsageError("no {group} name can be written in {encoding}",
                                 {"group": "/".join(key), "encoding": self.encoding},
                                 file=self.mapping.path)
            parts.add_group(key, entries, self.encoding)
        self.sur_cum, self.given_cum = self.surnames.cumulative(), self.given.cumulative()
        origins = ["JPN", *self.nations]  # name group 0 = Japanese, k = self.nations[k - 1]
        self.sur_lo = np.array([self.surnames.ranges[(o, "")][0] for o in origins])
        self.sur_hi = np.array([self.surnames.ranges[(o, "")][1] for o in origins])
        self.given_lo = np.array([[self.given.ranges[(o, s)][0] for s in "12"] for o in origins])
        self.given_hi = np.array([[self.given.ranges[(o, s)][1] for s in "12"] for o in origins])
        # Byte pools at each name field's width: (a, a lengths, distinct lengths, b, separator)
        self.name_pools: dict[str, tuple[Any, ...]] = {}
        for column, (rendering, sep) in NAME_RENDERINGS.items():
            spec = self.writer.field_by_column.get(column)
            if spec is None:
                continue
            pad = sep.encode(self.encoding)
            a, a_len = _pad_bytes(getattr(self.surnames, rendering), spec.length, pad)
            b, b_len = _pad_bytes(getattr(self.given, rendering), spec.length, pad)
            if a_len.max() + len(pad) + b_len.max() > spec.length:
                raise UsageError("field {field} ({width} bytes) is too narrow for the "
                                 "synthetic names", {"field": spec.name, "width": spec.length},
                                 file=self.mapping.path)
            self.name_pools[column] = (a, a_len, np.unique(a_len), b, pad)

    def _name_caps(self, found: dict[tuple[str, str], list[tuple[list[bytes], str, str, float]]]
                   ) -> dict[str, int]:
        """Most bytes a surname or a given name may have, per rendering, where a name field
        is too narrow for the longest surname and given name together (vendor B's 30 bytes):
        half the field less the separator, so that any two fit. Empty when every name fits."""
        caps: dict[str, int] = {}
        for column, (rendering, sep) in NAME_RENDERINGS.items():
            spec = self.writer.field_by_column.get(column)
            if spec is None:
                continue
            pad = len(sep.encode(self.encoding))
            longest = {part: max(_rendered(entry, self.encoding)[rendering]
                                 for key, entries in found.items() if (key[1] == "") == (part == "sur")
                                 for entry in entries) for part in ("sur", "given")}
            if longest["sur"] + pad + longest["given"] > spec.length:
                caps[rendering] = min(caps.get(rendering, spec.length), (spec.length - pad) // 2)
        return caps

    def _text_pool(self, column: str, texts: list[str | None], pad: str = "full"
                   ) -> np.ndarray | None:
        spec = self.writer.field_by_column.get(column)
        if spec is None:
            return None
        return encode_text(texts, spec.length, encoding=self.encoding, pad=pad)

    def _build_addresses(self) -> None:
        city = words.NAGAI
        fw = str.maketrans("0123456789", "０１２３４５６７８９")
        self.lg_code = int(lg_code_with_check_digit(city.jis_code))
        self.postal = np.array([int(t.postal_code) for t in city.towns], np.int64)
        self.town_chome = np.array([t.chome for t in city.towns])
        chome = [f"{c}丁目{b}番{g}号".translate(fw)
                 for c in range(1, 6) for b in range(1, 26) for g in range(1, 21)]
        banchi = [(f"{b}番地" + (f"{s}" if s else "")).translate(fw)
                  for b in range(1, 1000) for s in range(4)]
        self.n_chome, self.n_banchi = len(chome), len(banchi)
        self.banchi_texts = chome + banchi
        for spec in self.writer.split_fields.values():  # one-piece addresses (split:)
            longest = max(len((city.pref + city.city + t.name).encode(self.encoding))
                          for t in city.towns)
            if "addr_banchi" not in self.writer.field_by_column:
                longest += max(len(b.encode(self.encoding)) for b in self.banchi_texts)
            if longest > spec.length:
                raise UsageError("field {field} ({width} bytes) is too narrow for the "
                                 "synthetic addresses", {"field": spec.name,
                                                         "width": spec.length},
                                 file=self.mapping.path)
        rooms = [f"{f}0{r}号".translate(fw) for f in range(1, 4) for r in range(1, 7)]
        katagaki = [b + r for b in words.BUILDINGS for r in rooms]
        self.n_katagaki = len(katagaki)
        self.address_pools = {
            "addr_pref": self._text_pool("addr_pref", [city.pref]),
            "addr_city": self._text_pool("addr_city", [city.city]),
            "addr_town": self._text_pool("addr_town", [t.name for t in city.towns]),
            "addr_banchi": self._text_pool("addr_banchi", chome + banchi),
            "addr_katagaki": self._text_pool("addr_katagaki", [*katagaki, None]),
        }

    def _one_piece(self, spec: FieldSpec, attrs: dict[str, np.ndarray]) -> Raw:
        """The address in one piece, as `split:` columns take it apart: prefecture,
        municipality, 町字 and, unless another field holds it, the 番地 (each distinct
        address of the rows encoded once)."""
        city = words.NAGAI
        rest = "addr_banchi" not in self.writer.field_by_column
        nb = len(self.banchi_texts)
        key = attrs["town"] * nb + (attrs["banchi"] if rest else 0)
        distinct, inverse = np.unique(key, return_inverse=True)
        texts = [city.pref + city.city + city.towns[k // nb].name
                 + (self.banchi_texts[k % nb] if rest else "") for k in distinct.tolist()]
        cells = encode_text(texts, spec.length, encoding=self.encoding, pad="full")
        return Raw(cells[inverse.reshape(-1)])

    # -- ids: pure functions of the data row number

    def atena_no(self, rows: np.ndarray) -> np.ndarray:
        """Unique 宛名番号: serial body with gaps + check digit (mod 11, weights 2–7)."""
        rows = np.asarray(rows, np.int64)
        gap = (_mix(rows.astype(np.uint64) ^ self.hash_salt) % np.uint64(3)).astype(np.int64)
        body = 10_000_000 + 3 * rows + gap
        return body * 10 + mod11_w27_check_digit(digit_matrix(body, 10))

    def setai_no(self, head_rows: np.ndarray) -> np.ndarray:
        body = 20_000_000 + np.asarray(head_rows, np.int64)
        return body * 10 + mod11_w27_check_digit(digit_matrix(body, 10))

    def jumin_code(self, rows: np.ndarray) -> np.ndarray:
        """Unique, scattered 住民票コード: an affine permutation of the row number mod 10^10."""
        body = (2_718_281_829 * rows + self.jumin_offset) % 10**10
        return body * 10 + jumin_code_check_digit(digit_matrix(body, 10))

    def kojin_no(self, rows: np.ndarray) -> np.ndarray:
        body = (31_415_926_537 * rows + self.kojin_offset) % 10**11
        return body * 10 + my_number_check_digit(digit_matrix(body, 11))

    # -- one block of rows

    def _pick(self, cum: np.ndarray, lo: np.ndarray, hi: np.ndarray, u: np.ndarray
              ) -> np.ndarray:
        """Weighted draw inside the pool range [lo, hi) of each row."""
        target = cum[lo] + u * (cum[hi] - cum[lo])
        return np.minimum(np.searchsorted(cum, target, side="right") - 1, hi - 1)

    def block(self, index: int) -> dict[str, np.ndarray]:
        rng = np.random.default_rng([self.seed, _ID_SALT, index])
        n = BLOCK_ROWS
        first = index * n
        today = self.today

        # households: sizes (the last one is cut at the block end), kind, address, origin
        sizes = rng.choice(6, size=n, p=HOUSEHOLD_SIZE_P) + 1
        ends = np.cumsum(sizes)
        h = int(np.searchsorted(ends, n)) + 1
        sizes = sizes[:h]
        sizes[-1] -= ends[h - 1] - n
        starts = np.cumsum(sizes) - sizes
        u = rng.random(h)
        big = sizes >= 4
        kind = np.select(
            [sizes == 1, big & (u < 0.08), big & (u < 0.14), u < 0.82 + 0.04 * big,
             u < 0.95 + 0.01 * big],
            [SINGLE, THREE_GEN, ELDER_FAMILY, COUPLE, SINGLE_PARENT], OTHER)
        foreign_h = rng.random(h) < np.array(FOREIGN_HOUSEHOLD_P)[sizes - 1]
        if self.all_foreign is not None:  # 住民種別 is a constant of the mapping
            foreign_h[:] = self.all_foreign
        nat_p = np.array([words.NATIONALITY_WEIGHTS[iso] for iso in self.nations], float)
        nat_h = rng.choice(len(self.nations), size=h, p=nat_p / nat_p.sum())
        group_h = np.where(foreign_h, nat_h + 1, 0)  # name group: 0 = Japanese
        special_p = np.array([SPECIAL_PERMANENT_P.get(iso, 0.0) for iso in self.nations])
        special_h = foreign_h & (rng.random(h) < special_p[nat_h])
        kanji_h = foreign_h & np.isin(np.array(self.nations)[nat_h], KANJI_NAME_COUNTRIES)
        town_h = rng.integers(0, len(self.postal), h)
        chome_h = self.town_chome[town_h]
        banchi_h = np.where(chome_h, rng.integers(0, self.n_chome, h),
                            self.n_chome + rng.integers(0, self.n_banchi, h))
        katagaki_h = np.where(rng.random(h) < 0.22, rng.integers(0, self.n_katagaki, h),
                              self.n_katagaki)
        unmarried_h = rng.random(h) < 0.02
        moved_out_h = rng.random(h) < 0.042
        male_head_h = rng.random(h) < MALE_HEAD_P[kind]
        head_age_h = self._head_ages(rng, kind)

        hh = np.repeat(np.arange(h), sizes)
        pos = np.arange(n) - starts[hh]
        size, knd, head_age = sizes[hh], kind[hh], head_age_h[hh]
        foreign, group = foreign_h[hh], group_h[hh]

        # roles (続柄) by household kind and position
        role = np.full(n, Z_CHILD)
        role[pos == 0] = Z_HEAD
        spouse = (pos == 1) & np.isin(knd, (COUPLE, THREE_GEN, ELDER_FAMILY))
        role[(knd == THREE_GEN) & (pos >= 2) & (pos == size - 2)] = Z_FATHER
        role[(knd == THREE_GEN) & (pos >= 2) & (pos == size - 1)] = Z_MOTHER
        role[(knd == ELDER_FAMILY) & (pos == 3)] = Z_CHILD_WIFE
        role[(knd == ELDER_FAMILY) & (pos >= 4)] = Z_GRANDCHILD
        role[(knd == OTHER) & (pos >= 1)] = np.where(rng.random(n) < 0.6, Z_LODGER,
                                                     Z_RELATIVE)[(knd == OTHER) & (pos >= 1)]
        male = rng.random(n) < 0.5
        male[pos == 0] = male_head_h
        male[spouse] = ~male_head_h[hh[spouse]]
        role[spouse] = np.where(male[spouse], Z_HUSBAND, Z_WIFE)
        role[spouse & unmarried_h[hh]] = np.where(male[spouse & unmarried_h[hh]], Z_HUSBAND_U,
                                                  Z_WIFE_U)
        male[role == Z_FATHER] = True
        male[role == Z_MOTHER] = False
        in_law = role == Z_CHILD_WIFE
        child_male = male[np.minimum(starts[hh] + 2, n - 1)]
        male[in_law] = ~child_male[in_law]
        role[in_law & ~child_male] = Z_CHILD_HUSBAND

        # ages (whole years at the as-of date), then birth dates; a child is 22–40 years younger
        # than the head, or any age a young head can have
        children = head_age - rng.integers(22, 41, n)
        children = np.where(children >= 0, children,
                            (rng.random(n) * np.maximum(head_age - 18, 1)).astype(np.int64))
        age = np.select(
            [pos == 0, spouse, np.isin(role, (Z_FATHER, Z_MOTHER)),
             (knd == ELDER_FAMILY) & (pos == 2), np.isin(role, (Z_CHILD_WIFE, Z_CHILD_HUSBAND)),
             role == Z_GRANDCHILD, np.isin(role, (Z_LODGER, Z_RELATIVE))],
            [head_age,
             head_age + np.where(male_head_h[hh], -2, 2) + np.rint(rng.normal(0, 3, n)),
             head_age + rng.integers(22, 39, n),
             head_age - rng.integers(24, 37, n),
             head_age - 30 + rng.integers(-3, 4, n),
             head_age - 30 - rng.integers(22, 36, n),
             rng.integers(18, 91, n)],
            children).astype(np.int64)
        age = np.where(spouse, np.maximum(age, 18), age)
        age = np.clip(age, 0, 100)
        birth = today - np.floor(age * 365.2425).astype(np.int64) - rng.integers(0, 365, n)

        # becoming a resident (出生 here, or moving in), unknown birth parts for some elderly
        foreign_from = _day(FOREIGN_FROM)
        born_here = rng.random(n) < np.where(foreign, np.where(age < 10, 0.5, 0.0),
                                             0.30 + 0.5 * (age < 10))
        born_here &= ~foreign | (birth >= foreign_from)
        lo = np.where(foreign, np.maximum(birth, foreign_from), birth)
        jumin = np.where(born_here, birth, lo + (rng.random(n) * (today - lo)).astype(np.int64))
        by, _, _ = _ymd(birth)
        unknown = (~born_here & (age >= 75) & (rng.random(n) < 0.01)
                   & ~np.isin(by, self.era_start_years))
        precision = np.where(unknown, np.where(rng.random(n) < 0.4, 1, 2), 3)
        jumin = np.where(unknown, np.minimum(np.maximum(jumin, birth + 400), today), jumin)
        jumin_reason = np.where(
            born_here, I_SHUSSEI,
            np.where(rng.random(n) < np.where(foreign, 0.6, 0.15), I_KOKUGAI_TENNYU, I_TENNYU))

        # removal: whole households moved out; deaths and ex-officio removals of members
        moved_out = moved_out_h[hh]
        last_jumin = np.maximum.reduceat(jumin, starts)
        span = np.maximum(today - 7 - last_jumin, 0)
        shojo_h = last_jumin + (rng.random(h) * span).astype(np.int64)
        removal_h = np.where(rng.random(h) < 0.85, I_TENSHUTSU, I_KOKUGAI_TENSHUTSU)
        member = (pos > 0) & ~moved_out
        died = member & (rng.random(n) < 0.004 + 0.1 * (age >= 80))
        struck = member & ~died & (rng.random(n) < 0.003)
        if self.current_only:  # 住民状態 is the constant 1 (住民): nobody is removed
            moved_out[:], died[:], struck[:] = False, False, False
        jotai = np.select([moved_out, died, struck], [1, 2, 3], 0)
        shojo_reason = np.select([moved_out, died, struck],
                                 [removal_h[hh], I_SHIBO, I_SHOKKEN], -1)
        own_shojo = jumin + (rng.random(n) * np.maximum(today - 1 - jumin, 0)).astype(np.int64)
        shojo = np.where(moved_out, shojo_h[hh], own_shojo)
        removed = jotai > 0

        # last change and the day it was keyed in
        amend = ~removed & (rng.random(n) < 0.45) & (jumin < today - 30)
        amend_reason = np.array(AMENDMENTS)[rng.choice(len(AMENDMENTS), n, p=AMENDMENT_P)]
        amend_day = jumin + 1 + (rng.random(n) * np.maximum(today - 15 - jumin, 0)).astype(
            np.int64)
        idou = np.select([removed, amend], [shojo, amend_day], jumin)
        idou_reason = np.select([removed, amend], [shojo_reason, amend_reason], jumin_reason)
        shori = np.minimum(idou + rng.integers(0, 15, n), today)

        # names: household surname; common-law spouses, lodgers and relatives have their own
        own_surname = np.isin(role, (Z_LODGER, Z_RELATIVE, Z_HUSBAND_U, Z_WIFE_U)) \
            | (spouse & kanji_h[hh])
        sur_h = self._pick(self.sur_cum, self.sur_lo[group_h], self.sur_hi[group_h],
                           rng.random(h))
        sur = np.where(own_surname, self._pick(self.sur_cum, self.sur_lo[group],
                                               self.sur_hi[group], rng.random(n)), sur_h[hh])
        sex_i = np.where(male, 0, 1)
        given = self._pick(self.given_cum, self.given_lo[group, sex_i],
                           self.given_hi[group, sex_i], rng.random(n))
        head = starts[hh]

        # foreign-resident items
        kubun = np.where(foreign, np.where(special_h[hh], 2, 1), 0)
        shikaku_w = np.array([words.RESIDENCE_STATUS_WEIGHTS[c] for c in SHIKAKU], float)
        shikaku = rng.choice(len(SHIKAKU), n, p=shikaku_w / shikaku_w.sum())
        dependent = np.isin(role, (Z_CHILD, Z_GRANDCHILD)) & (age < 18) & (rng.random(n) < 0.7)
        shikaku = np.where(dependent, SHIKAKU.index(words.DEPENDENT_STATUS), shikaku)
        young_only = np.isin(shikaku, [SHIKAKU.index(c) for c in words.YOUNG_STATUSES])
        shikaku = np.where(young_only & (age >= 45), SHIKAKU.index(words.PERMANENT_STATUS),
                           shikaku)
        shikaku = np.where(kubun == 1, shikaku, -1)
        expires = (kubun == 1) & (shikaku != SHIKAKU.index(words.PERMANENT_STATUS))
        manryo = np.where(expires, today + rng.integers(30, 5 * 365, n), -1)

        return {
            "row": first + np.arange(n, dtype=np.int64), "head_row": first + head,
            "order": pos + 1, "foreign": foreign, "nat": nat_h[hh], "male": male,
            "role": role, "sur": sur, "given": given, "head_sur": sur[head],
            "head_given": given[head], "birth": birth, "precision": precision,
            "jumin": jumin, "jumin_reason": jumin_reason, "idou": idou,
            "idou_reason": idou_reason, "shori": shori, "jotai": jotai, "shojo": shojo,
            "shojo_reason": shojo_reason, "town": town_h[hh], "banchi": banchi_h[hh],
            "katagaki": katagaki_h[hh], "has_kojin": rng.random(n) < 0.9, "kubun": kubun,
            "shikaku": shikaku, "manryo": manryo,
            "card": rng.integers(0, 26, (n, 4)), "card_digits": rng.integers(0, 10**8, n),
        }

    @staticmethod
    def _head_ages(rng: np.random.Generator, kind: np.ndarray) -> np.ndarray:
        h = len(kind)
        single = np.select([rng.random(h) < 0.35, rng.random(h) < 0.4],
                           [rng.integers(18, 40, h), rng.integers(40, 65, h)],
                           rng.integers(65, 96, h))
        return np.select(
            [kind == SINGLE, kind == COUPLE, kind == SINGLE_PARENT, kind == THREE_GEN,
             kind == ELDER_FAMILY],
            [single, rng.integers(25, 86, h), rng.integers(25, 61, h), rng.integers(30, 59, h),
             rng.integers(60, 91, h)],
            rng.integers(20, 81, h))

    # -- rows → standard-column values

    def _names(self, column: str, sur: np.ndarray, given: np.ndarray) -> Raw | None:
        pool = self.name_pools.get(column)
        if pool is None:
            return None
        a, a_len, lengths, b, pad = pool
        return Raw(_compose(a, a_len, lengths, sur, pad, b, given))

    def _card_numbers(self, attrs: dict[str, np.ndarray]) -> Raw | None:
        spec = self.writer.field_by_column.get("zairyu_card_no")
        if spec is None:
            return None
        n = len(attrs["row"])
        cells = np.full((n, spec.length), 0x20, np.uint8)
        letters = (attrs["card"] + ord("A")).astype(np.uint8)
        cells[:, 0:2] = letters[:, 0:2]
        cells[:, 2:10] = encode_digits(attrs["card_digits"], 8)
        cells[:, 10:12] = letters[:, 2:4]
        return Raw(_blank_rows(cells, attrs["foreign"], 0x20))

    def values(self, attrs: dict[str, np.ndarray]) -> dict[str, Value]:
        rows, foreign = attrs["row"], attrs["foreign"]
        removed = attrs["jotai"] > 0
        out: dict[str, Value | None] = {
            "atena_no": Ints(self.atena_no(rows)),
            "setai_no": Ints(self.setai_no(attrs["head_row"])),
            "jumin_code": Ints(self.jumin_code(rows)),
            "kojin_no": Ints(self.kojin_no(rows), attrs["has_kojin"]),
            "jumin_shubetsu": Codes(foreign.astype(np.int64), SHUBETSU),
            "jumin_jotai": Codes(attrs["jotai"], JOTAI),
            "shimei": self._names("shimei", attrs["sur"], attrs["given"]),
            "shimei_kana": self._names("shimei_kana", attrs["sur"], attrs["given"]),
            "shimei_alpha": self._names("shimei_alpha", attrs["sur"], attrs["given"]),
            "setai_nushi_name": self._names("setai_nushi_name", attrs["head_sur"],
                                            attrs["head_given"]),
            "birth_date": Dates(attrs["birth"], attrs["precision"]),
            "sex": Codes(np.where(attrs["male"], 0, 1), SEX),
            "zokugara": Codes(attrs["role"], ZOKUGARA),
            "setai_order": Ints(attrs["order"]),
            "jumin_date": Dates(attrs["jumin"]),
            "idou_jiyu": Codes(attrs["idou_reason"], IDOU),
            "idou_date": Dates(attrs["idou"]),
            "shori_date": Dates(attrs["shori"]),
            "postal_code": Ints(self.postal[attrs["town"]]),
            "shojo_jiyu": Codes(np.maximum(attrs["shojo_reason"] - I_TENSHUTSU, 0), SHOJO,
                                removed),
            "shojo_date": Dates(attrs["shojo"], present=removed),
            "nationality": Codes(attrs["nat"], self.nations, foreign),
            "zairyu_kubun": Codes(np.maximum(attrs["kubun"] - 1, 0), ZAIRYU_KUBUN, foreign),
            "zairyu_shikaku": Codes(np.maximum(attrs["shikaku"], 0), SHIKAKU,
                                    attrs["shikaku"] >= 0),
            "zairyu_card_no": self._card_numbers(attrs),
            "zairyu_manryo": Dates(attrs["manryo"], present=attrs["manryo"] >= 0),
        }
        for name, spec in self.writer.split_fields.items():
            out[f"field:{name}"] = self._one_piece(spec, attrs)
        alpha = out["shimei_alpha"]
        if isinstance(alpha, Raw):
            _blank_rows(alpha.cells, foreign, 0x20)
        for column, key in (("addr_pref", None), ("addr_city", None), ("addr_town", "town"),
                            ("addr_banchi", "banchi"), ("addr_katagaki", "katagaki")):
            pool = self.address_pools[column]
            if pool is not None:
                index = attrs[key] if key else np.zeros(len(rows), np.int64)
                out[column] = Raw(pool[index])
        return {k: v for k, v in out.items() if v is not None}

    def header_values(self) -> dict[str, Value]:
        out: dict[str, Value] = {
            "lg_code": Ints(np.array([self.lg_code])),
            "created": Dates(np.array([self.today])),
        }
        spec = self.mapping.header_fields.get("system")
        if spec is not None and spec.type == "text":
            out["system"] = Raw(encode_text([words.SYSTEM_NAME], spec.length,
                                            encoding=self.encoding))
        return out

    # -- defects

    def _spare_code(self, column: str, width: int) -> str:
        """A vendor code of the right width that the column's code table does not have."""
        known = self.writer.vendor_sets.get(column, set())
        for ch in "29876543ZXQ":
            code = ch * width
            if code not in known:
                return code
        raise ValueError(f"no spare code for {column}")

    def _bad_dates(self) -> list[tuple[bytes, str, str]]:
        """A date just after an era ended (date_outside_era) and a 2月30日 (invalid_date)."""
        eras = self.mapping.source.eras.eras
        ended = max((e for e in eras if e.last is not None), key=lambda e: e.last)
        after = np.datetime64(ended.last, "D") + 1
        y, m, d = (int(v[0]) for v in _ymd(np.array([(after - _EPOCH).astype(np.int64)])))
        outside = f"{ended.code}{y - ended.first.year + 1:02d}{m:02d}{d:02d}"
        current = max(eras, key=lambda e: e.first)
        feb30 = f"{current.code}020230"
        return [(outside.encode("ascii"), "date_outside_era", f"{outside}: the day after "
                 f"{ended.name} ended"),
                (feb30.encode("ascii"), "invalid_date", f"{feb30}: {current.name}2年2月30日")]

    def _unmapped_gaiji(self) -> bytes:
        mapped = {pua.encode(self.encoding) for pua in self.mapping.source.gaiji}
        for trail in range(0x40, 0xFD):
            code = bytes([0xF0, trail])
            if trail != 0x7F and code not in mapped:
                return code
        raise ValueError("every F0xx gaiji code is mapped")

    def inject(self, kind: str, occurrence: int, local: int, row: int,
               attrs: dict[str, np.ndarray], values: dict[str, Value]) -> Injection:
        if kind == "invalid_date" and self.writer.field_by_column["idou_date"].type == "ymd":
            return Injection("idou_date", "invalid_date", "20241301: month 13",
                             patch=b"20241301")
        if kind == "invalid_date":
            raw, reason, note = self._bad_dates()[occurrence % 2]
            return Injection("idou_date", reason, note, patch=raw)
        if kind == "bad_check_digit":
            kojin = values["kojin_no"]
            assert isinstance(kojin, Ints)
            good = int(kojin.values[local])
            kojin.values[local] = good - good % 10 + (good % 10 + 1 + occurrence % 9) % 10
            if kojin.present is not None:
                kojin.present[local] = True
            return Injection("kojin_no", "my_number_check_digit", "check digit changed")
        if kind == "unknown_code":
            column = "zokugara" if occurrence % 2 and attrs["role"][local] != Z_HEAD \
                and "zokugara" in self.writer.field_by_column else "sex"
            width = self.writer.field_by_column[column].length
            code = self._spare_code(column, width)
            return Injection(column, "unknown_code", f"vendor code {code!r} is not in the table",
                             patch=code.encode("ascii"))
        if kind == "duplicate_key":
            atena = values["atena_no"]
            assert isinstance(atena, Ints)
            atena.values[local] = self.atena_no(np.array([row - 1]))[0]
            return Injection("atena_no", "duplicate_key", "same 宛名番号 as the record before")
        if kind == "undecodable_bytes":
            return Injection(self._text_defect_column(local, attrs), "undecodable_bytes", "85 40 (unassigned row) as the "
                             "second character", patch=b"\x85\x40", patch_offset=2)
        if kind == "invalid_character":
            byte = (b"\xff", b"\xa0")[occurrence % 2]
            return Injection(self._text_defect_column(local, attrs), "invalid_character",
                             f"{byte.hex()} {byte.hex()} as the "
                             "second character", patch=byte * 2, patch_offset=2)
        if kind == "gaiji_unmapped":
            code = self._unmapped_gaiji()
            return Injection(self._text_defect_column(local, attrs), "gaiji_unmapped",
                             f"gaiji {code.hex().upper()} is not "
                             "in the gaiji table", patch=code, patch_offset=2)
        if kind == "invalid_packed":
            spec = self.writer.field_by_column["atena_no"]
            atena = values["atena_no"]
            assert isinstance(atena, Ints)
            cells = encode_packed(atena.values[local : local + 1], spec.length)[0].copy()
            if occurrence % 2:
                cells[-1] = (cells[-1] & 0xF0) | 0x6  # sign nibble 6
                note = "sign nibble 6"
            else:
                cells[0] = (cells[0] & 0x0F) | 0xA0  # digit nibble A
                note = "digit nibble A"
            return Injection("atena_no", "invalid_packed", note, patch=cells.tobytes(),
                             breaks_value=True)
        raise ValueError(f"unknown defect kind {kind!r}")


# ---------------------------------------------------------------- streaming

ContentFactory = Callable[..., ContentModel]
CONTENT_MODELS: dict[str, ContentFactory] = {JukiContent.target: JukiContent}


def content_for(mapping: Mapping, writer: _RecordWriter, *, seed: int, as_of: date
                ) -> ContentModel:
    """The content model of the mapping's target layout, or a UsageError naming the known ones."""
    factory = CONTENT_MODELS.get(mapping.target.id)
    if factory is None:
        raise UsageError("there is no synthetic content for the target layout {target}",
                         {"target": mapping.target.id}, file=mapping.path,
                         hint="Synthetic data can be generated for: {known}.",
                         hint_params={"known": ", ".join(sorted(CONTENT_MODELS))})
    return factory(mapping, writer, seed=seed, as_of=as_of)


class RecordStream:
    """Chunks of (n, stride) uint8 records: header, data chunks, trailer — iterate once.

    `defects` and `control_totals` are complete when the iteration ends.
    """

    def __init__(self, mapping: Mapping, rows: int, *, seed: int = 0, defects: int = 0,
                 chunk_rows: int = 100_000, as_of: date = AS_OF):
        if not 0 <= rows <= MAX_ROWS:
            raise ValueError(f"rows must be 0..{MAX_ROWS:,}, not {rows}")
        if chunk_rows < 1:
            raise ValueError("chunk_rows must be at least 1")
        if defects < 0 or (defects and 2 * defects > rows):
            raise ValueError(f"defects must be 0..rows/2 ({rows // 2}): each defect needs a "
                             "clean record before it")
        self.mapping = mapping
        self.rows, self.seed, self.chunk_rows = rows, seed, chunk_rows
        self.writer = _RecordWriter(mapping)
        self.content = content_for(mapping, self.writer, seed=seed, as_of=as_of)
        rt = mapping.source.record_types
        self.header_records = 1 if rt is not None and rt.header is not None else 0
        self.trailer_records = 1 if rt is not None and rt.trailer is not None else 0
        # defects spread evenly; gaps ≥ 2 rows, so the row before each one is clean
        k = np.arange(defects, dtype=np.int64)
        self._defect_rows = (2 * k + 1) * rows // (2 * defects) if defects else k
        self.defects: list[Defect] = []
        totals = mapping.trailer.control_totals if mapping.trailer else {}
        self.control_totals: dict[str, int] = dict.fromkeys(totals, 0)
        self._used = False

    def __iter__(self) -> Iterator[np.ndarray]:
        if self._used:
            raise RuntimeError("a RecordStream can be iterated only once")
        self._used = True
        header = self.writer.header_record(self.content.header_values())
        if header is not None:
            yield header
        buffered: dict[str, np.ndarray] | None = None
        block = 0
        for start in range(0, self.rows, self.chunk_rows):
            n = min(self.chunk_rows, self.rows - start)
            parts = []
            have = 0
            while have < n:
                if buffered is None:
                    buffered = self.content.block(block)
                    block += 1
                take = min(n - have, len(buffered["row"]))
                parts.append({k: v[:take] for k, v in buffered.items()})
                rest = {k: v[take:] for k, v in buffered.items()}
                buffered = rest if len(rest["row"]) else None
                have += take
            attrs = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
            yield self._chunk(start, attrs)
        trailer = self.writer.trailer_record(self.rows, self.control_totals)
        if trailer is not None:
            yield trailer

    def _chunk(self, start: int, attrs: dict[str, np.ndarray]) -> np.ndarray:
        n = len(attrs["row"])
        values = self.content.values(attrs)
        lo, hi = np.searchsorted(self._defect_rows, [start, start + n])
        kinds = self.content.defect_kinds
        patches = []
        broken: dict[str, list[int]] = {}
        for k in range(lo, hi):
            row = int(self._defect_rows[k])
            local = row - start
            kind = kinds[k % len(kinds)]
            inj = self.content.inject(kind, k // len(kinds), local, row, attrs, values)
            spec = self.writer.field_by_column[inj.column]
            if inj.patch is not None:
                if inj.patch_offset + len(inj.patch) > spec.length:
                    raise ValueError(f"{kind} patch does not fit field {spec.name}")
                patches.append((local, spec.offset + inj.patch_offset, inj.patch))
            if inj.breaks_value:
                broken.setdefault(spec.name, []).append(local)
            self.defects.append(Defect(row + 1 + self.header_records, spec.name, kind,
                                       inj.reason, inj.note))
        records = self.writer.data_records(n, values)
        for local, offset, patch in patches:
            records[local, offset : offset + len(patch)] = np.frombuffer(patch, np.uint8)
        for name in self.control_totals:
            value = values.get(self.writer.column_by_field.get(name, ""))
            if not isinstance(value, Ints):
                raise ValueError(f"control total {name} needs a numeric column")
            keep = np.ones(n, bool)
            keep[broken.get(name, [])] = False
            self.control_totals[name] += int(value.values[keep].sum())
        return records


def generate_records(mapping: Mapping, rows: int, seed: int = 0, *, defects: int = 0,
                     chunk_rows: int = 100_000, as_of: date = AS_OF) -> RecordStream:
    """The records of `generate` as an iterator of chunk arrays, for benchmarks and tests."""
    return RecordStream(mapping, rows, seed=seed, defects=defects, chunk_rows=chunk_rows,
                        as_of=as_of)


# ---------------------------------------------------------------- writing files

CONTROL_TOTAL_RULE = (
    "Each trailer control total is the sum of its field over the data records whose value "
    "decodes: records with an invalid_packed defect in that field are left out; a "
    "duplicate_key record counts with the (duplicated) value written in it.")


def _write_atomic(path: Path, chunks: Iterator[bytes | memoryview]) -> tuple[int, str]:
    """Write to a temporary file beside `path`, fsync, rename; return size and SHA-256."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    digest = hashlib.sha256()
    size = 0
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with open(fd, "wb") as handle:
            for chunk in chunks:
                handle.write(chunk)
                digest.update(chunk)
                size += memoryview(chunk).nbytes
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return size, digest.hexdigest()


def defects_path(out: Path) -> Path:
    """The sidecar listing planted defects: `<out>.defects.json`."""
    return out.with_name(out.name + ".defects.json")


def generate(mapping: Mapping, out: Path, rows: int, *, seed: int = 0, defects: int = 0,
             chunk_rows: int = 100_000, eof: bool = False, as_of: date = AS_OF
             ) -> GenerateReport:
    """Write a byte-exact legacy file of `rows` data records for `mapping`, chunk by chunk.

    Also writes `<out>.defects.json` (always; an empty list when defects=0) listing every
    planted defect with the reject reason a run must report.  eof=True ends the file with
    the mapping's EOF byte (0x1A).
    """
    started = time.perf_counter()
    out = Path(out)
    if eof and mapping.source.eof_marker is None:
        raise UsageError("the mapping {mapping} declares no eof_marker", {"mapping": mapping.id},
                         file=mapping.path, hint="Add eof_marker: 0x1a under source, or "
                         "generate without an EOF byte.")
    stream = generate_records(mapping, rows, seed, defects=defects, chunk_rows=chunk_rows,
                              as_of=as_of)

    def chunks() -> Iterator[bytes | memoryview]:
        for records in stream:
            yield records.reshape(-1).data
        if eof:
            yield bytes([mapping.source.eof_marker or 0x1A])

    size, sha = _write_atomic(out, chunks())
    sidecar = {
        "file": out.name,
        "mapping": mapping.id,
        "seed": seed,
        "rows": rows,
        "records": stream.header_records + rows + stream.trailer_records,
        "as_of": as_of.isoformat(),
        "sha256": sha,
        "control_totals": stream.control_totals,
        "control_total_rule": CONTROL_TOTAL_RULE,
        "defects": [asdict(d) for d in stream.defects],
    }
    text = json.dumps(sidecar, ensure_ascii=False, indent=1) + "\n"
    _write_atomic(defects_path(out), iter([text.encode("utf-8")]))
    return GenerateReport(out, rows, size, sha, len(stream.defects),
                          time.perf_counter() - started)
