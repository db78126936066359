"""Synthetic migration sets: one municipality's resident, tax and NHI exports that agree.

`generate_set(out_dir, rows)` writes, for the fictional vendor A:

- `juki.dat`          住民記録, by the resident generator (`migrate.synth.generate.generate`), unchanged;
- `zeimu.dat`         個人住民税: person records with their income records (mapping vendor_a/zeimu);
- `kokuho_setai.dat`  国保世帯 (vendor_a/kokuho_setai, EUC-JP);
- `kokuho.csv`        国保被保険者 (vendor_a/kokuho, delimited);
- `kokuho_fuka.dat`   国保税 賦課 (vendor_a/kokuho_fuka, cp932 + LF, signed zoned amounts): one
                      levy row per NHI household, computed from the incomes of the tax file;
- `migration.yaml`    the plan that runs the five, the tax file twice (its income records
                      one row each by vendor_a/zeimu_shotoku; docs/issue5-contract.md §3);
- `defects.json`      every planted cross-file defect with the reason a run must report.

The tax and NHI rows are derived from the resident generator's own people: the same blocks of
`JukiContent` (same seed, same block numbers), so 宛名番号, 世帯番号, birth dates, 続柄 and names
agree across the files without re-implementing the resident content.  A few 住登外 people
(juto_gai 1, 宛名番号 outside the resident range) are added in tax and NHI.

The four new mappings are read with `yaml.safe_load` (not `load_mapping`): field offsets,
lengths, types, record-type codes, header names and code tables come from the YAML files, so they
stay the single source of truth; values are encoded with `migrate.transform.encode`.

Everything is produced block by block (`synth.BLOCK_ROWS` residents at a time), so memory is
bounded whatever `rows` is, and the bytes depend only on (rows, seed, defects).
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import time
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
import yaml

from migrate.layouts import load_mapping
from migrate.layouts.bundled import bundled_dir
from migrate.synth.generate import (
    AS_OF,
    BLOCK_ROWS,
    MAX_ROWS,
    Z_CHILD,
    Z_HEAD,
    Z_HUSBAND,
    Z_WIFE,
    RecordStream,
    _compose,
    _day,
    _pad_bytes,
    _ymd,
    generate,
)
from migrate.transform.encode import (
    encode_digits,
    encode_packed,
    encode_text,
    encode_wareki,
    encode_ymd,
    encode_zoned,
)
from migrate.validate.checkdigits import (
    digit_matrix,
    houjin_no_check_digit,
    mod11_w27_check_digit,
    my_number_check_digit,
)

DEFECT_KINDS = ("orphan_tax_record", "household_without_head", "nhi_head_not_resident")
FILES = {"juki": "juki.dat", "zeimu": "zeimu.dat", "kokuho_setai": "kokuho_setai.dat",
         "kokuho": "kokuho.csv", "kokuho_fuka": "kokuho_fuka.dat"}
PLAN_NAME = "長井市 基幹系システム移行 (vendor_a → standard)"
TAX_YEAR = 2025  # 令和7年度: income of 2024, assessed on the residents of 2025-01-01
JAN1 = date(TAX_YEAR, 1, 1)
NOKI = (date(2025, 6, 30), date(2025, 9, 1), date(2025, 10, 31), date(2026, 2, 2))  # 納期限
HOKENSHA_NO = 60095  # 保険者番号 of the fictional 長井市 NHI (6 digits, 06 = 山形県)
TAX_SYSTEM = "ベンダーA 税務システム"
NHI_SYSTEM = "ベンダーA 国保システム"
GETA = "〓"  # what a legacy export writes for a character its code cannot hold
_SET_SALT = 0x53455453  # "SETS"
JUTOGAI_TAX_BODY = 800_000_000_000  # 住登外 宛名番号 bodies: 13-digit ids, far from residents
JUTOGAI_NHI_BODY = 810_000_000_000
KOKUHO_SETAI_BODY = 30_000_000

# 国民健康保険税 (令和7年度, the fictional 長井市; rates made up, caps those of 2025).
# Per part: 所得割 rate in 1/10,000 of the base, 均等割 per insured person, 平等割 per household,
# 賦課限度額.  Every 均等割/平等割 is a multiple of 1,000 yen, so after a 7/5/2-tenths reduction
# it is still a multiple of 100, and so is every amount of the file.
FUKA_YEAR = TAX_YEAR  # the same 年度: the 所得割 uses the incomes of zeimu.dat
FY_START = date(FUKA_YEAR, 4, 1)
FUKA_WAREKI_YEAR = f"5{FUKA_YEAR - 2018:02d}"  # 令和7 → "507"
FUKA_IRYO = (720, 26_000, 21_000, 660_000)  # 医療分 7.20 %
FUKA_SHIEN = (260, 9_000, 7_000, 260_000)  # 後期高齢者支援金分 2.60 %
FUKA_KAIGO = (220, 12_000, 6_000, 170_000)  # 介護納付金分 2.20 % (介護2号 members only)
FUKA_KISO = 430_000  # 基礎控除: 所得割 base = 総所得金額等 − 43万円 per insured person
FUKA_FUTSU_KI = 10  # 普通徴収 instalments (6月〜翌3月); 併用 pays 4 of them, then from pension
FUKA_HEIYO_KI = 4
FUKA_NOKI = (date(2025, 6, 30), date(2025, 7, 31), date(2025, 9, 1), date(2025, 9, 30),
             date(2025, 10, 31), date(2025, 12, 1), date(2025, 12, 25), date(2026, 2, 2),
             date(2026, 3, 2), date(2026, 3, 31))  # month ends, moved past weekends

# income categories, in the order of the income records of a person
CATEGORIES = ("kyuyo", "nenkin", "eigyo", "nogyo", "fudosan", "rishi", "haito", "zatsu",
              "jouto", "bunri")
CATEGORY_COLUMN = {"kyuyo": "kyuyo_shotoku", "nenkin": "nenkin_shotoku",
                   "eigyo": "eigyo_shotoku", "nogyo": "nogyo_shotoku",
                   "fudosan": "fudosan_shotoku", "rishi": "rishi_shotoku",
                   "haito": "haito_shotoku", "zatsu": "zatsu_sonota_shotoku",
                   "jouto": "jouto_ichiji_shotoku", "bunri": "bunri_shotoku"}
K_KYUYO, K_NENKIN, K_EIGYO, K_NOGYO, K_FUDOSAN, K_RISHI, K_HAITO, K_ZATSU, K_JOUTO, K_BUNRI = \
    range(len(CATEGORIES))
P_INCOME_YOUNG = np.array([0.78, 0.02, 0.09, 0.04, 0.04, 0.01, 0.04, 0.06, 0.015, 0.02])
P_INCOME_OLD = np.array([0.22, 0.93, 0.06, 0.09, 0.08, 0.02, 0.05, 0.05, 0.01, 0.03])
P_LOSS = np.array([0, 0, 0.25, 0.35, 0.2, 0, 0, 0, 0.2, 0])
P_TAXPAYER = 0.88  # adults resident on 1 January with a tax record
P_NOT_FILED = 0.03  # 未申告
EMPLOYERS = 300

# the CSV columns of kokuho.csv in file order: (header name, mapping field or None)
KOKUHO_CSV = (("レコード区分", None), ("宛名番号", "atena_no"), ("国保世帯番号", "kokuho_setai_no"),
              ("氏名", "shimei"), ("氏名英字", "shimei_alpha"), ("住登外区分", "juto_gai"),
              ("枝番", "edaban"), ("資格取得日", "shikaku_get_date"),
              ("取得事由", "shikaku_get_jiyu"), ("資格喪失日", "shikaku_loss_date"),
              ("喪失事由", "shikaku_loss_jiyu"), ("届出日", "todoke_date"),
              ("一般退職区分", "taishoku_kubun"), ("介護2号", "kaigo_2go"),
              ("特例区分", "tokurei_kubun"), ("団体コード", "lg_code"))

_NEWLINES = {"crlf": b"\r\n", "lf": b"\n", "none": b""}


# ---------------------------------------------------------------- results


@dataclass(frozen=True)
class SetFile:
    """One written file: records (lines for CSV, header and trailer included), data records."""

    name: str
    records: int
    data_records: int
    bytes: int
    sha256: str


@dataclass(frozen=True)
class SetReport:
    """What `generate_set` wrote."""

    out_dir: Path
    rows: int  # resident records
    seed: int
    files: dict[str, SetFile]
    defects: list[dict[str, Any]]
    seconds: float
    taxpayers: int = 0
    income_records: int = 0
    nhi_households: int = 0
    nhi_members: int = 0
    nhi_levy_total: int = 0  # Σ 年税額 of kokuho_fuka.dat

    @property
    def bytes(self) -> int:
        return sum(f.bytes for f in self.files.values())

    @property
    def mb_per_s(self) -> float:
        return self.bytes / 1e6 / self.seconds if self.seconds else float("inf")


# ---------------------------------------------------------------- the mappings, read as YAML


@dataclass(frozen=True)
class _Field:
    name: str
    offset: int
    length: int
    type: str
    column: int | None = None
    header_name: str | None = None

    @property
    def end(self) -> int:
        return self.offset + self.length


def _fields(node: dict[str, Any] | None) -> dict[str, _Field]:
    out = {}
    for name, spec in (node or {}).items():
        out[str(name)] = _Field(str(name), int(spec.get("offset", 0)), int(spec["length"]),
                                str(spec["type"]), spec.get("column"), spec.get("name"))
    return out


def _code_table(path: Path) -> dict[str, str]:
    """standard → vendor (the first vendor code of each standard code)."""
    reverse: dict[str, str] = {}
    with path.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            reverse.setdefault(row["standard"], row["source"])
    return reverse


class VendorLayout:
    """The parts of one vendor mapping YAML the generator needs (no engine involved)."""

    def __init__(self, name: str, base: Path | None = None):
        self.path = (base or bundled_dir("mappings") / "vendor_a") / f"{name}.yaml"
        doc = yaml.safe_load(self.path.read_text(encoding="utf-8"))
        src = doc["source"]
        self.id = str(doc["mapping"])
        self.encoding = str(src.get("encoding", "cp932"))
        self.delimited = src.get("format", "fixed") == "delimited"
        self.newline = _NEWLINES[str(src.get("newline", "crlf"))]
        self.record_length = int(src.get("record_length", 0))
        self.stride = self.record_length + len(self.newline)
        self.record_type = dict(src.get("record_type") or {})
        self.header = _fields(doc.get("header"))
        self.fields = _fields(doc.get("fields"))
        self.children = {str(k): {"code": str(v["code"]), "fields": _fields(v["fields"])}
                         for k, v in (doc.get("records") or {}).items()}
        trailer = doc.get("trailer") or {}
        self.count = _fields({"count": trailer["count"]})["count"] if "count" in trailer else None
        self.totals = _fields(trailer.get("control_totals"))
        self.column_field: dict[str, str] = {}
        self.where: dict[str, dict[str, str]] = {}
        self.codes: dict[str, dict[str, str]] = {}
        for column, node in (doc.get("columns") or {}).items():
            if isinstance(node, str):
                self.column_field[column] = node
            elif "from" in node:
                self.column_field[column] = str(node["from"])
                if node.get("codes"):
                    self.codes[column] = _code_table(self.path.parent / node["codes"])
                if node.get("where"):
                    self.where[column] = {str(k): str(v) for k, v in node["where"].items()}

    def field_of(self, column: str) -> _Field:
        return self.fields[self.column_field[column]]

    def vendor(self, column: str, standard: str) -> str:
        table = self.codes.get(column)
        if table is None:
            return standard
        if standard not in table:
            raise ValueError(f"{self.path.name}: the code table of {column} has no vendor code "
                             f"for {standard!r}")
        return table[standard]

    def frame(self, n: int, code: str) -> np.ndarray:
        rec = np.full((n, self.stride), 0x20, np.uint8)
        offset = int(self.record_type.get("offset", 0))
        raw = np.frombuffer(code.encode("ascii"), np.uint8)
        rec[:, offset : offset + len(raw)] = raw
        rec[:, self.record_length :] = np.frombuffer(self.newline, np.uint8)
        return rec


# ---------------------------------------------------------------- encoding values into fields


@dataclass
class _Num:
    """Whole numbers; rows not `present` are blank (digits/zoned) — packed has no blank.
    `signed`: a zoned field overpunches the sign of every value (S9(n)), not only of negatives."""

    values: np.ndarray
    present: np.ndarray | None = None
    signed: bool = False


@dataclass
class _Day:
    """Days since 1970-01-01; rows not `present` are written as no date (all zeros)."""

    days: np.ndarray
    present: np.ndarray | None = None


@dataclass
class _Str:
    """Text by index into a small pool (None = blank)."""

    pool: list[str | None]
    index: np.ndarray


@dataclass
class _Raw:
    cells: np.ndarray


def _cells(f: _Field, value: Any, encoding: str) -> np.ndarray:
    if isinstance(value, _Raw):
        if value.cells.shape[1] != f.length:
            raise ValueError(f"{f.name}: {value.cells.shape[1]} bytes for {f.length}")
        return value.cells
    if isinstance(value, _Str):
        ascii_only = all(v is None or v.isascii() for v in value.pool)
        pad = "half" if ascii_only or f.length < 2 else "full"
        return encode_text(value.pool, f.length, encoding=encoding, pad=pad)[value.index]
    if isinstance(value, _Day):
        y, m, d = _ymd(value.days)
        if value.present is not None:
            y, m, d = (np.where(value.present, part, 0) for part in (y, m, d))
        if f.type == "wareki":
            return encode_wareki(y, m, d)
        if f.type == "ymd":
            return encode_ymd(y, m, d)
        raise ValueError(f"{f.name}: a date in a {f.type} field")
    values = np.asarray(value.values, np.int64)
    if f.type == "packed":
        return encode_packed(values, f.length)
    present = value.present
    if present is not None:
        values = np.where(present, values, 0)
    if f.type == "digits":
        cells = encode_digits(values, f.length)
    elif f.type == "zoned":
        cells = encode_zoned(values, f.length,
                             signed=value.signed or bool((values < 0).any()))
    else:
        raise ValueError(f"{f.name}: a number in a {f.type} field")
    if present is not None and not present.all():
        cells[~present] = 0x20
    return cells


def _records(layout: VendorLayout, code: str, n: int, specs: dict[str, _Field],
             values: dict[str, Any]) -> np.ndarray:
    rec = layout.frame(n, code)
    for name, value in values.items():
        f = specs[name]
        rec[:, f.offset : f.end] = _cells(f, value, layout.encoding)
    return rec


def _header_record(layout: VendorLayout, values: dict[str, Any]) -> bytes:
    """The one header record of a fixed-width file."""
    return _records(layout, layout.record_type["header"], 1, layout.header, values).tobytes()


def _trailer_record(layout: VendorLayout, values: dict[str, Any]) -> bytes:
    """The one trailer record: the data-record count and the control totals."""
    specs = {"count": layout.count, **layout.totals}
    return _records(layout, layout.record_type["trailer"], 1, specs, values).tobytes()


def _by_field(layout: VendorLayout, columns: dict[str, Any]) -> dict[str, Any]:
    """Standard-column values → field values (standard codes become vendor codes)."""
    out = {}
    for column, value in columns.items():
        name = layout.column_field.get(column, column)
        if isinstance(value, _Str) and column in layout.codes:
            value = _Str([None if v is None else layout.vendor(column, v) for v in value.pool],
                         value.index)
        out[name] = value
    return out


def _codes(labels: tuple[str, ...], index: np.ndarray, present: np.ndarray | None = None
           ) -> _Str:
    index = np.asarray(index, np.int64)
    if present is not None:
        index = np.where(present, index, len(labels))
    return _Str([*labels, None], index)


# ---------------------------------------------------------------- helpers


def _check(body: np.ndarray, width: int) -> np.ndarray:
    body = np.asarray(body, np.int64)
    return body * 10 + mod11_w27_check_digit(digit_matrix(body, width))


def _wrong_resident_id(atena: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """A well-formed 宛名番号 from the resident range that no resident has: the resident
    generator gives row r the body 10^7 + 3r + gap (gap 0–2); another gap is nobody's."""
    body = np.asarray(atena, np.int64) // 10
    gap = body - 10_000_000 - 3 * np.asarray(rows, np.int64)
    return _check(10_000_000 + 3 * np.asarray(rows, np.int64) + (gap + 1) % 3, 10)


def _round(x: np.ndarray, unit: int = 1) -> np.ndarray:
    return (np.floor(np.asarray(x, float) / unit) * unit).astype(np.int64)


def _kyuyo_net(gross: np.ndarray) -> np.ndarray:
    """給与所得 = 収入 − 給与所得控除 (2020– table, without the 4,000-yen steps)."""
    g = gross.astype(float)
    d = np.select([g <= 1_625_000, g <= 1_800_000, g <= 3_600_000, g <= 6_600_000,
                   g <= 8_500_000],
                  [550_000, g * 0.4 - 100_000, g * 0.3 + 80_000, g * 0.2 + 440_000,
                   g * 0.1 + 1_100_000], 1_950_000)
    return np.maximum(gross - _round(d), 0)


def _nenkin_net(gross: np.ndarray, old: np.ndarray) -> np.ndarray:
    """公的年金等に係る雑所得 (other income ≤ 10 M yen; 65+ has the larger minimum)."""
    g = gross.astype(float)
    d = np.select([g <= np.where(old, 3_300_000, 1_300_000), g <= 4_100_000, g <= 7_700_000,
                   g <= 10_000_000],
                  [np.where(old, 1_100_000, 600_000), g * 0.25 + 275_000, g * 0.15 + 685_000,
                   g * 0.05 + 1_455_000], 1_955_000)
    return np.maximum(gross - _round(d), 0)


class _Out:
    """A file written to a temporary name, hashed, renamed into place on commit."""

    def __init__(self, path: Path):
        self.path = path
        self.tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        self.handle: BinaryIO = self.tmp.open("wb")
        self.digest = hashlib.sha256()
        self.size = 0

    def write(self, data: bytes | memoryview) -> None:
        self.handle.write(data)
        self.digest.update(data)
        self.size += memoryview(data).nbytes

    def commit(self) -> tuple[int, str]:
        self.handle.flush()
        os.fsync(self.handle.fileno())
        self.handle.close()
        os.replace(self.tmp, self.path)
        return self.size, self.digest.hexdigest()

    def abort(self) -> None:
        self.handle.close()
        self.tmp.unlink(missing_ok=True)


# ---------------------------------------------------------------- the set generator


@dataclass
class _Placement:
    """Where the defects of one kind still have to go (global resident rows, in order)."""

    targets: list[int]
    pending: list[int] = field(default_factory=list)

    def take(self, first: int, n: int, candidates: np.ndarray) -> list[int]:
        """Local indices (into the block) chosen among `candidates` (sorted local indices)."""
        wanted = self.pending + [t - first for t in self.targets if first <= t < first + n]
        self.pending = []
        chosen: list[int] = []
        for local in wanted:
            free = candidates[~np.isin(candidates, chosen)]
            if not len(free):
                self.pending.append(0)
                continue
            i = int(np.searchsorted(free, max(local, 0)))
            chosen.append(int(free[i] if i < len(free) else free[0]))
        return chosen


class _SetGenerator:
    def __init__(self, out_dir: Path, rows: int, seed: int, defects: int, as_of: date):
        self.out_dir, self.rows, self.seed, self.as_of = out_dir, rows, seed, as_of
        self.today = _day(as_of)
        self.juki_mapping = load_mapping("vendor_a/juki")
        # never iterated: only its content model (the resident people) and record writer
        self.stream = RecordStream(self.juki_mapping, rows, seed=seed)
        self.people = self.stream.content
        self.lg_code = int(self.people.lg_code)
        self.zeimu = VendorLayout("zeimu")
        self.setai = VendorLayout("kokuho_setai")
        self.kokuho = VendorLayout("kokuho")
        self.fuka = VendorLayout("kokuho_fuka")
        self._check_csv_columns()
        self.income = self.zeimu.children["income"]
        self.category_code = [self.zeimu.where[CATEGORY_COLUMN[c]]["category"]
                              for c in CATEGORIES]
        counts = [defects // 3 + (i < defects % 3) for i in range(3)]
        self.placement = {
            kind: _Placement([(2 * j + 1) * rows // (2 * c) for j in range(c)] if c else [])
            for kind, c in zip(DEFECT_KINDS, counts, strict=True)}
        self.defects: list[dict[str, Any]] = []
        self.juki_patches: list[int] = []  # resident rows whose 続柄 becomes 同居人
        self._employers()
        self._euc_names()
        self.zeimu_records = 1  # header written
        self.setai_records = 1
        self.kokuho_lines = 1
        self.fuka_records = 1
        self.fuka_total = 0
        self.taxpayers = self.incomes = self.nhi_households = self.nhi_members = 0
        self.income_total = 0
        self.head_total = 0

    # -- set-up

    def _check_csv_columns(self) -> None:
        names = [name for name, _ in KOKUHO_CSV]
        by_field = {f: i for i, (_, f) in enumerate(KOKUHO_CSV) if f}
        for f in self.kokuho.fields.values():
            where = f.column if f.column is not None else names.index(str(f.header_name))
            if by_field.get(f.name) != where:
                raise ValueError(f"kokuho.yaml field {f.name} is at column {where}, the "
                                 f"generator writes it at {by_field.get(f.name)}")
        if int(self.kokuho.record_type["column"]) != 0:
            raise ValueError("kokuho.yaml: the generator writes the record type in column 0")

    def _employers(self) -> None:
        rng = np.random.default_rng([self.seed, _SET_SALT, 1])
        k = np.arange(EMPLOYERS)
        self.employer_no = [f"{3_000_000 + 37 * i:08d}" for i in k]  # 特別徴収義務者指定番号
        base = rng.integers(10**11, 10**12, EMPLOYERS)
        houjin = houjin_no_check_digit(digit_matrix(base, 12)).astype(np.int64) * 10**12 + base
        self.employer_houjin = houjin
        self.employer_corp = rng.random(EMPLOYERS) < 0.88  # others are 個人事業主 (no 法人番号)
        w = 1.0 / (k + 5)
        self.employer_p = w / w.sum()

    def _euc_names(self) -> None:
        """The resident name parts re-encoded for the EUC-JP household file (〓 if missing)."""
        gaiji = self.juki_mapping.source.gaiji
        juki_enc = self.juki_mapping.source.encoding
        enc = self.setai.encoding
        width = self.setai.fields["setai_nushi_name"].length

        def convert(raw: bytes) -> bytes:
            text = raw.decode(juki_enc)
            out = b""
            for ch in text:
                ch = gaiji.get(ch, ch)
                try:
                    out += ch.encode(enc)
                except UnicodeEncodeError:
                    out += GETA.encode(enc)
            return out

        pad = "\u3000".encode(enc)
        a, a_len = _pad_bytes([convert(s) for s in self.people.surnames.kanji], width, pad)
        b, b_len = _pad_bytes([convert(s) for s in self.people.given.kanji], width, pad)
        if a_len.max() + len(pad) + b_len.max() > width:
            raise ValueError(f"{self.setai.path.name}: setai_nushi_name ({width} bytes) is too "
                             "narrow for the synthetic names")
        self.euc_pool = (a, a_len, np.unique(a_len), b, pad)

    # -- per block

    def block(self, index: int) -> dict[str, np.ndarray]:
        attrs = self.people.block(index)
        first = index * BLOCK_ROWS
        n = min(BLOCK_ROWS, self.rows - first)
        attrs = {k: v[:n] for k, v in attrs.items()}
        rows = attrs["row"]
        attrs["atena"] = self.people.atena_no(rows)
        attrs["setai"] = self.people.setai_no(attrs["head_row"])
        attrs["kojin"] = self.people.kojin_no(rows)
        attrs["age"] = ((self.today - attrs["birth"]) / 365.2425).astype(np.int64)
        attrs["hl"] = attrs["head_row"] - first  # local index of the household head
        return attrs

    def run_block(self, index: int, zeimu: _Out, setai: _Out, kokuho: _Out,
                  fuka: _Out) -> None:
        p = self.block(index)
        first = index * BLOCK_ROWS
        n = len(p["row"])
        rng = np.random.default_rng([self.seed, _SET_SALT, 2, index])
        excluded = np.zeros(n, bool)
        heads = np.flatnonzero(p["role"] == Z_HEAD)
        size = np.bincount(p["hl"], minlength=n)
        cand = heads[size[heads] >= 2]
        if not len(cand):
            cand = heads
        for local in self.placement["household_without_head"].take(first, n, cand):
            members = np.flatnonzero(p["hl"] == local)
            excluded[members] = True
            self.juki_patches.append(first + local)
            for m in members:
                self.defects.append(self._defect("household_without_head", FILES["juki"],
                                                 first + int(m) + 2,
                                                 "one_head_per_household", None))
        zeimu.write(self._tax_block(index, p, rng, excluded))
        setai_bytes, csv_bytes, fuka_bytes = self._nhi_block(index, p, rng, excluded)
        setai.write(setai_bytes)
        kokuho.write(csv_bytes)
        fuka.write(fuka_bytes)

    @staticmethod
    def _defect(kind: str, file: str, record: int, reason: str,
                counterpart: dict[str, Any] | None) -> dict[str, Any]:
        return {"kind": kind, "file": file, "record": record, "expected_reason": reason,
                "counterpart": counterpart}

    # -- 個人住民税

    def _tax_block(self, index: int, p: dict[str, np.ndarray], rng: np.random.Generator,
                   excluded: np.ndarray) -> bytes:
        n = len(p["row"])
        jan1 = _day(JAN1)
        resident_jan1 = (p["jumin"] <= jan1) & ((p["jotai"] == 0) | (p["shojo"] >= jan1))
        taxed_block = (resident_jan1 & (p["age"] >= 18) & ~excluded
                       & (rng.random(n) < P_TAXPAYER))
        who = np.flatnonzero(taxed_block)
        t = len(who)
        age = p["age"][who]
        old = age >= 65
        female = ~p["male"][who]

        # -- income records: which categories, how much
        not_filed = rng.random(t) < P_NOT_FILED
        has = rng.random((t, len(CATEGORIES))) < np.where(old[:, None], P_INCOME_OLD,
                                                           P_INCOME_YOUNG)
        has[not_filed] = False
        none = ~has.any(axis=1) & ~not_filed
        has[none, np.where(old[none], K_NENKIN, K_KYUYO)] = True
        loss = (rng.random((t, len(CATEGORIES))) < P_LOSS) & has
        gross = np.zeros((t, len(CATEGORIES)), np.int64)
        net = np.zeros((t, len(CATEGORIES)), np.int64)
        salary = _round(np.clip(rng.lognormal(np.log(3_400_000), 0.55, t), 300_000,
                                25_000_000), 100)
        two = has[:, K_KYUYO] & (rng.random(t) < 0.06)
        salary1 = np.where(two, _round(salary * rng.uniform(0.6, 0.9, t), 100), salary)
        salary2 = salary - salary1
        gross[:, K_KYUYO] = salary
        net[:, K_KYUYO] = _kyuyo_net(salary1) + np.where(two, _kyuyo_net(salary2), 0)
        pension = _round(np.clip(rng.lognormal(np.log(1_900_000), 0.45, t), 100_000,
                                 6_000_000), 100)
        gross[:, K_NENKIN] = pension
        net[:, K_NENKIN] = _nenkin_net(pension, old)
        positive = {
            K_EIGYO: np.clip(rng.normal(2_600_000, 1_600_000, t), 100_000, 30_000_000),
            K_NOGYO: rng.lognormal(np.log(700_000), 0.6, t),
            K_FUDOSAN: rng.lognormal(np.log(1_200_000), 0.6, t),
            K_RISHI: rng.uniform(1_000, 200_000, t),
            K_HAITO: rng.lognormal(np.log(150_000), 0.8, t),
            K_ZATSU: rng.uniform(10_000, 1_000_000, t),
            K_JOUTO: rng.uniform(10_000, 3_000_000, t),
            K_BUNRI: rng.lognormal(np.log(2_000_000), 0.8, t),
        }
        losses = {K_EIGYO: rng.uniform(50_000, 2_500_000, t),
                  K_NOGYO: rng.uniform(20_000, 1_200_000, t),
                  K_FUDOSAN: rng.uniform(50_000, 1_800_000, t),
                  K_JOUTO: rng.uniform(10_000, 500_000, t)}
        for k, amount in positive.items():
            value = np.where(loss[:, k], -losses.get(k, amount), np.minimum(amount, 5e8))
            net[:, k] = _round(value)
            ratio = rng.uniform(1.0, 4.0, t) if k in (K_EIGYO, K_NOGYO, K_FUDOSAN) else 1.0
            gross[:, k] = _round(np.abs(net[:, k]) * ratio)
        gross[~has] = 0
        net[~has] = 0

        # -- household: dependants and spouses of heads that pay tax
        pb = {k: p[k] for k in ("role", "age", "hl", "jotai")}
        alive = pb["jotai"] == 0
        spouse_role = np.isin(pb["role"], (Z_HUSBAND, Z_WIFE))
        dep = alive & ~taxed_block & (pb["role"] != Z_HEAD) & ~spouse_role
        a = pb["age"]
        bands = {"nensho": dep & (a < 16), "ippan": dep & (((a >= 16) & (a <= 18)) |
                                                           ((a >= 23) & (a <= 69))),
                 "tokutei": dep & (a >= 19) & (a <= 22), "rojin": dep & (a >= 70)}
        per_head = {k: np.bincount(pb["hl"][m], minlength=n) for k, m in bands.items()}
        spouse_free = np.bincount(pb["hl"][alive & spouse_role & ~taxed_block], minlength=n)
        spouse_taxed = np.bincount(pb["hl"][alive & spouse_role & taxed_block], minlength=n)
        kids = np.bincount(pb["hl"][alive & (pb["role"] == Z_CHILD) & (a < 20)], minlength=n)
        is_head = pb["role"][who] == Z_HEAD
        hl = pb["hl"][who]
        fuyo = {k: np.where(is_head, v[hl], 0) for k, v in per_head.items()}
        has_spouse = is_head & (spouse_free[hl] + spouse_taxed[hl] > 0)
        free_spouse = is_head & (spouse_free[hl] > 0)

        sogo = (net * (np.arange(len(CATEGORIES)) != K_BUNRI)).sum(axis=1)
        goukei = sogo + net[:, K_BUNRI]
        sou = np.maximum(sogo, 0)
        # what the NHI levy of the same block needs (block-local; no random draws here)
        self.nhi_income = np.zeros(n, np.int64)  # 総所得金額等 (総合 + 分離)
        self.nhi_income[who] = sou + np.maximum(net[:, K_BUNRI], 0)
        self.nhi_kyuyo = np.zeros(n, np.int64)  # 給与所得
        self.nhi_kyuyo[who] = net[:, K_KYUYO]
        self.nhi_pension = np.zeros(n, np.int64)  # 公的年金等の収入
        self.nhi_pension[who] = gross[:, K_NENKIN]
        self.nhi_earner = np.zeros(n, bool)  # 給与所得者等 (給与 or 年金) for 軽減判定
        self.nhi_earner[who] = has[:, K_KYUYO] | has[:, K_NENKIN]

        # -- 所得控除 (resident-tax amounts)
        u = rng.random((t, 12))
        kojo = {
            "kojo_zasson": np.where(u[:, 0] < 0.001, _round(rng.uniform(1e4, 5e5, t)), 0),
            "kojo_shakai_hoken": np.where(
                has[:, K_KYUYO], _round(gross[:, K_KYUYO] * 0.145),
                _round(rng.uniform(80_000, 450_000, t))),
            "kojo_shokibo_kyosai": np.where(u[:, 1] < 0.05, _round(rng.uniform(6e4, 8.16e5, t),
                                                                   1000), 0),
            "kojo_seimei_hoken": np.where(u[:, 2] < 0.45, _round(rng.uniform(1e4, 7e4, t)), 0),
            "kojo_jishin_hoken": np.where(u[:, 3] < 0.2, _round(rng.uniform(1e3, 2.5e4, t)), 0),
            "kojo_iryohi": np.where(u[:, 4] < 0.08, _round(rng.uniform(1e4, 5e5, t)), 0),
            "kojo_haigusha": np.where(free_spouse & (goukei <= 9_000_000),
                                      np.where(age >= 70, 380_000, 330_000), 0),
            "kojo_haigusha_tokubetsu": np.where(
                has_spouse & ~free_spouse & (u[:, 5] < 0.03),
                _round(rng.uniform(3e4, 3.3e5, t), 1000), 0),
            "kojo_fuyo": 330_000 * fuyo["ippan"] + 450_000 * fuyo["tokutei"]
            + 380_000 * fuyo["rojin"],
            "kojo_shogaisha": np.where(u[:, 6] < 0.03, 260_000, 0),
            "kojo_kafu": np.where(female & (age >= 45) & ~has_spouse & (u[:, 7] < 0.03),
                                  260_000, 0),
            "kojo_hitorioya": np.where(is_head & ~has_spouse & (kids[hl] > 0) & (u[:, 8] < 0.8),
                                       300_000, 0),
            "kojo_kinro_gakusei": np.where((age <= 22) & has[:, K_KYUYO] & (u[:, 9] < 0.2)
                                           & (goukei <= 750_000), 260_000, 0),
            "kojo_kiso": np.select([goukei <= 24_000_000, goukei <= 24_500_000,
                                    goukei <= 25_000_000], [430_000, 290_000, 150_000], 0),
        }
        kojo = {k: np.where(not_filed, 0, v).astype(np.int64) for k, v in kojo.items()}
        kojo["kojo_hitorioya"] = np.where(kojo["kojo_kafu"] > 0, 0, kojo["kojo_hitorioya"])
        kojo_total = sum(kojo.values())
        hyojun = np.maximum(sou - kojo_total, 0) // 1000 * 1000

        # -- 課税区分 and the levies
        ndep = sum(fuyo.values()) + free_spouse
        kintou_limit = np.where(ndep > 0, 350_000 * (1 + ndep) + 310_000, 450_000)
        shotoku_limit = np.where(ndep > 0, 350_000 * (1 + ndep) + 420_000, 450_000)
        special = (age < 20) | (kojo["kojo_kafu"] > 0) | (kojo["kojo_hitorioya"] > 0) \
            | (kojo["kojo_shogaisha"] > 0)
        seiho = (u[:, 10] < 0.015) & (goukei < 1_500_000)
        kazei = np.select([not_filed, seiho, goukei <= kintou_limit,
                           special & (goukei <= 1_350_000), goukei <= shotoku_limit],
                          [3, 2, 2, 2, 1], 0)
        hikazei = np.select([not_filed, seiho, goukei <= kintou_limit,
                             special & (goukei <= 1_350_000), goukei <= shotoku_limit],
                            [-1, 0, 2, 1, 3], -1)
        raw_shi, raw_ken = hyojun * 6 // 100, hyojun * 4 // 100
        credit = 2_500 + np.where(u[:, 11] < 0.12, _round(rng.uniform(5e3, 9e4, t)), 0)
        credit = np.where(kazei == 0, np.minimum(credit, raw_shi + raw_ken), 0)
        credit_shi = credit * 6 // 10
        shi = np.where(kazei == 0, np.maximum(raw_shi - credit_shi, 0) // 100 * 100, 0)
        ken = np.where(kazei == 0, np.maximum(raw_ken - (credit - credit_shi), 0) // 100 * 100,
                       0)
        no_levy = (kazei == 0) & (shi + ken == 0)
        kazei = np.where(no_levy, 1, kazei)
        hikazei = np.where(no_levy, 3, hikazei)
        credit = np.where(no_levy, 0, credit)
        levied = kazei <= 1
        kintou_shi = np.where(levied, 3_000, 0)
        kintou_ken = np.where(levied, 1_000, 0)
        shinrin = np.where(levied, 1_000, 0)
        nengaku = shi + ken + kintou_shi + kintou_ken + shinrin

        # -- 徴収
        sal = has[:, K_KYUYO] & (age < 70)
        pen = has[:, K_NENKIN] & old & (gross[:, K_NENKIN] >= 180_000)
        other = has[:, [K_EIGYO, K_NOGYO, K_FUDOSAN, K_ZATSU, K_JOUTO, K_BUNRI]].any(axis=1)
        uc = rng.random(t)
        choshu = np.select([~levied, sal & (uc < 0.88), pen & ~other & (uc < 0.75),
                            pen & other & (uc < 0.6)], [-1, 1, 2, 3], 0)
        employer = rng.choice(EMPLOYERS, t, p=self.employer_p)
        m7 = np.where(choshu == 1, nengaku // 12 // 100 * 100, 0)
        june = np.where(choshu == 1, nengaku - 11 * m7, 0)
        pension_share = np.select([choshu == 2, choshu == 3],
                                  [nengaku, _round(nengaku * rng.uniform(0.3, 0.8, t), 100)], 0)
        kari = pension_share // 2 // 100 * 100
        hon = pension_share - kari
        futsu = np.where((choshu == 0) | (choshu == 3), nengaku - pension_share, 0)
        quarter = np.where(futsu >= 4_000, futsu // 4 // 1000 * 1000, 0)
        ki = [futsu - 3 * quarter, quarter, quarter, quarter]
        ki_present = [futsu > 0, quarter > 0, quarter > 0, quarter > 0]

        # -- 申告区分
        business = has[:, [K_EIGYO, K_NOGYO, K_FUDOSAN, K_JOUTO, K_BUNRI]].any(axis=1)
        us = rng.random(t)
        shinkoku = np.select(
            [not_filed, us < 0.01, business & (us < 0.86), business,
             has[:, K_KYUYO] & ~has[:, K_NENKIN] & ~other,
             has[:, K_NENKIN] & ~has[:, K_KYUYO] & ~other],
            [-1, 4, 0, 1, 2, 3], 1)

        rows = p["row"][who]
        persons: dict[str, Any] = {
            "atena_no": _Num(p["atena"][who]),
            "juto_gai": _Num(np.zeros(t, np.int64)),
            "kojin_no": _Num(p["kojin"][who], p["has_kojin"][who]),
            "shimei": _Raw(self.people._names("shimei", p["sur"][who], p["given"][who]).cells),
            "kazei_kubun": _codes(("01", "02", "03", "04"), kazei),
            "hikazei_jiyu": _codes(("01", "02", "03", "04"), hikazei, hikazei >= 0),
            "shinkoku_kubun": _codes(("01", "02", "03", "04", "99"), shinkoku, shinkoku >= 0),
            "sou_shotoku": _Num(sou), "goukei_shotoku": _Num(goukei),
            **{k: _Num(v) for k, v in kojo.items()},
            "kojo_total": _Num(kojo_total), "kazei_hyojun_sogo": _Num(hyojun),
            "fuyo_ninzu_ippan": _Num(fuyo["ippan"]), "fuyo_ninzu_tokutei": _Num(fuyo["tokutei"]),
            "fuyo_ninzu_rojin": _Num(fuyo["rojin"]), "fuyo_ninzu_nensho": _Num(fuyo["nensho"]),
            "shotokuwari_shi": _Num(shi), "shotokuwari_ken": _Num(ken),
            "kintouwari_shi": _Num(kintou_shi), "kintouwari_ken": _Num(kintou_ken),
            "shinrin_kankyo": _Num(shinrin), "zeigaku_kojo": _Num(credit),
            "nengaku": _Num(nengaku),
            "choshu_kubun": _codes(("1", "2", "3", "4"), choshu, choshu >= 0),
            "tokucho_gimusha_no": _Str([*self.employer_no, None],
                                       np.where(choshu == 1, employer, EMPLOYERS)),
            "tokucho_houjin_no": _Num(self.employer_houjin[employer],
                                      (choshu == 1) & self.employer_corp[employer]),
            "tokucho_6gatsu": _Num(june), "tokucho_7gatsu_ikou": _Num(m7),
            "nenkin_tokucho_kari": _Num(kari), "nenkin_tokucho_hon": _Num(hon),
        }
        for i in range(4):
            persons[f"futsu_ki{i + 1}"] = _Num(ki[i])
            persons[f"futsu_noki{i + 1}"] = _Day(np.full(t, _day(NOKI[i])), ki_present[i])

        # income records: one per category, two for two employers
        owner_parts, cat_parts, gross_parts, net_parts, sub_parts = [], [], [], [], []
        for k in range(len(CATEGORIES)):
            idx = np.flatnonzero(has[:, k])
            if k == K_KYUYO:
                g1, n1 = salary1[idx], _kyuyo_net(salary1[idx])
                idx2 = np.flatnonzero(two)
                owner_parts += [idx, idx2]
                cat_parts += [np.full(len(idx), k), np.full(len(idx2), k)]
                gross_parts += [g1, salary2[idx2]]
                net_parts += [n1, _kyuyo_net(salary2[idx2])]
                sub_parts += [np.zeros(len(idx), np.int64), np.ones(len(idx2), np.int64)]
            else:
                owner_parts.append(idx)
                cat_parts.append(np.full(len(idx), k))
                gross_parts.append(gross[idx, k])
                net_parts.append(net[idx, k])
                sub_parts.append(np.zeros(len(idx), np.int64))
        owner = np.concatenate(owner_parts)
        cat = np.concatenate(cat_parts)
        order = np.lexsort((np.concatenate(sub_parts), cat, owner))
        inc = {"owner": owner[order], "cat": cat[order],
               "shunyu": np.concatenate(gross_parts)[order],
               "amount": np.concatenate(net_parts)[order]}

        # -- 住登外 taxpayers (家屋敷課税: per-capita levy only, ordinary collection)
        persons, inc, t_all = self._add_jutogai_tax(index, persons, inc, t, rng)

        # -- defect: orphan tax records (a copy of a taxpayer with a 宛名番号 nobody has)
        counts = np.bincount(inc["owner"], minlength=t_all)
        resident_taxpayers = np.flatnonzero(counts[:t] > 0)
        first = index * BLOCK_ROWS
        local_rows = rows - first
        placement = self.placement["orphan_tax_record"]
        cand_local = local_rows[resident_taxpayers]
        chosen_local = placement.take(first, len(p["row"]), cand_local)
        sources = np.sort(resident_taxpayers[np.searchsorted(cand_local, chosen_local)]) \
            if chosen_local else np.empty(0, np.int64)
        new_order = np.insert(np.arange(t_all), sources + 1, sources)
        orphan = np.zeros(len(new_order), bool)
        orphan[sources + 1 + np.arange(len(sources))] = True
        persons = self._take(persons, new_order)
        atena = persons["atena_no"].values.copy()
        atena[orphan] = _wrong_resident_id(atena[orphan], rows[new_order[orphan]])
        persons["atena_no"] = _Num(atena)
        kojin = persons["kojin_no"]
        persons["kojin_no"] = _Num(kojin.values, kojin.present & ~orphan)
        k_new = counts[new_order]
        starts = np.cumsum(counts) - counts
        child_src = np.repeat(starts[new_order], k_new) + (
            np.arange(k_new.sum()) - np.repeat(np.cumsum(k_new) - k_new, k_new))
        child_owner = np.repeat(np.arange(len(new_order)), k_new)

        # -- encode and interleave: each person record, then its income records
        n_p, n_c = len(new_order), len(child_src)
        person_rec = _records(self.zeimu, self.zeimu.record_type["data"], n_p,
                              self.zeimu.fields, _by_field(self.zeimu, persons))
        codes = np.array(self.category_code, dtype=object)
        income_values = {
            "atena_no": _Num(atena[child_owner]),
            "category": _Str(list(codes), inc["cat"][child_src]),
            "shunyu": _Num(inc["shunyu"][child_src]),
            "amount": _Num(inc["amount"][child_src]),
        }
        income_rec = _records(self.zeimu, self.income["code"], n_c, self.income["fields"],
                              income_values)
        pos_p = np.arange(n_p) + np.cumsum(k_new) - k_new
        pos_c = np.repeat(pos_p, k_new) + 1 + (
            np.arange(n_c) - np.repeat(np.cumsum(k_new) - k_new, k_new))
        out = np.empty((n_p + n_c, self.zeimu.stride), np.uint8)
        out[pos_p] = person_rec
        out[pos_c] = income_rec
        base = self.zeimu_records + 1
        for i in np.flatnonzero(orphan):
            record = base + int(pos_p[i])
            self.defects.append(self._defect("orphan_tax_record", FILES["zeimu"], record,
                                             "orphan_reference", None))
            for j in range(int(k_new[i])):
                self.defects.append(self._defect(
                    "orphan_tax_record", FILES["zeimu"], record + 1 + j, "group_rejected",
                    {"file": FILES["zeimu"], "record": record}))
        self.zeimu_records += n_p + n_c
        self.taxpayers += n_p
        self.incomes += n_c
        self.income_total += int(inc["amount"][child_src].sum())
        return out.reshape(-1).tobytes()

    @staticmethod
    def _take(values: dict[str, Any], order: np.ndarray) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for k, v in values.items():
            if isinstance(v, _Num):
                out[k] = _Num(v.values[order], None if v.present is None else v.present[order])
            elif isinstance(v, _Day):
                out[k] = _Day(v.days[order], None if v.present is None else v.present[order])
            elif isinstance(v, _Str):
                out[k] = _Str(v.pool, v.index[order])
            else:
                out[k] = _Raw(v.cells[order])
        return out

    def _random_names(self, rng: np.random.Generator, k: int) -> tuple[np.ndarray, np.ndarray]:
        lo, hi = self.people.surnames.ranges[("JPN", "")]
        sur = rng.integers(lo, hi, k)
        sex = rng.integers(0, 2, k)
        glo = np.array([self.people.given.ranges[("JPN", s)][0] for s in "12"])
        ghi = np.array([self.people.given.ranges[("JPN", s)][1] for s in "12"])
        given = glo[sex] + (rng.random(k) * (ghi[sex] - glo[sex])).astype(np.int64)
        return sur, given

    def _add_jutogai_tax(self, index: int, persons: dict[str, Any], inc: dict[str, np.ndarray],
                         t: int, rng: np.random.Generator
                         ) -> tuple[dict[str, Any], dict[str, np.ndarray], int]:
        first = index * BLOCK_ROWS
        k = max(1, min(BLOCK_ROWS, self.rows - first) // 2000)
        atena = _check(JUTOGAI_TAX_BODY + index * 10_000 + np.arange(k), 12)
        kojin_body = rng.integers(10**10, 10**11, k)
        kojin = kojin_body * 10 + my_number_check_digit(digit_matrix(kojin_body, 11))
        sur, given = self._random_names(rng, k)
        zeros = np.zeros(k, np.int64)
        extra: dict[str, Any] = {}
        for name, v in persons.items():
            if isinstance(v, _Num):
                extra[name] = _Num(zeros, None if v.present is None else np.zeros(k, bool))
            elif isinstance(v, _Day):
                extra[name] = _Day(np.zeros(k, np.int64), np.zeros(k, bool))
            elif isinstance(v, _Str):
                extra[name] = _Str(v.pool, np.full(k, len(v.pool) - 1))
        extra["atena_no"] = _Num(atena)
        extra["juto_gai"] = _Num(np.ones(k, np.int64))
        extra["kojin_no"] = _Num(kojin, rng.random(k) < 0.5)
        extra["shimei"] = _Raw(self.people._names("shimei", sur, given).cells)
        extra["kazei_kubun"] = _Str(persons["kazei_kubun"].pool, np.full(k, 1))  # 02
        extra["shinkoku_kubun"] = _Str(persons["shinkoku_kubun"].pool, np.full(k, 4))  # 99
        extra["choshu_kubun"] = _Str(persons["choshu_kubun"].pool, np.zeros(k, np.int64))  # 1
        extra["kintouwari_shi"] = _Num(np.full(k, 3_000))
        extra["kintouwari_ken"] = _Num(np.full(k, 1_000))
        extra["shinrin_kankyo"] = _Num(np.full(k, 1_000))
        extra["nengaku"] = _Num(np.full(k, 5_000))
        for i, amount in enumerate((2_000, 1_000, 1_000, 1_000)):
            extra[f"futsu_ki{i + 1}"] = _Num(np.full(k, amount))
            extra[f"futsu_noki{i + 1}"] = _Day(np.full(k, _day(NOKI[i])), np.ones(k, bool))
        merged: dict[str, Any] = {}
        for name, v in persons.items():
            e = extra[name]
            if isinstance(v, _Num):
                present = None if v.present is None else np.concatenate([v.present, e.present])
                merged[name] = _Num(np.concatenate([v.values, e.values]), present)
            elif isinstance(v, _Day):
                merged[name] = _Day(np.concatenate([v.days, e.days]),
                                    np.concatenate([v.present, e.present]))
            elif isinstance(v, _Str):
                merged[name] = _Str(v.pool, np.concatenate([v.index, e.index]))
            else:
                merged[name] = _Raw(np.concatenate([v.cells, e.cells]))
        return merged, inc, t + k

    # -- 国民健康保険

    def _nhi_block(self, index: int, p: dict[str, np.ndarray], rng: np.random.Generator,
                   excluded: np.ndarray) -> tuple[bytes, bytes, bytes]:
        n = len(p["row"])
        first = index * BLOCK_ROWS
        today = self.today
        age, hl, role, jotai = p["age"], p["hl"], p["role"], p["jotai"]
        heads = np.flatnonzero((role == Z_HEAD) & (jotai == 0) & ~excluded)
        head_age = age[heads]
        p_nhi = np.select([head_age >= 75, head_age >= 65], [0.22, 0.72], 0.17)
        chosen_h = np.zeros(n, bool)
        chosen_h[heads[rng.random(len(heads)) < p_nhi]] = True
        in_chosen = chosen_h[hl]
        employee = (role != Z_HEAD) & (age >= 23) & (age <= 59) & (rng.random(n) < 0.2)
        gisei_head = (role == Z_HEAD) & ((age >= 75) | (rng.random(n) < 0.05))
        insured = in_chosen & (age < 75) & np.isin(jotai, (0, 2)) & ~employee & ~gisei_head
        insured &= ~excluded
        living_insured = np.bincount(hl[insured & (jotai == 0)], minlength=n)
        households = np.flatnonzero(chosen_h & (living_insured > 0))
        insured &= np.isin(hl, households)
        h = len(households)
        serial = self.nhi_households + np.arange(h)
        hh_of = np.full(n, -1)
        hh_of[households] = np.arange(h)

        # households
        setai_no = p["setai"][households]
        nushi = p["atena"][households].copy()
        gisei = ~insured[households]
        placement = self.placement["nhi_head_not_resident"]
        chosen_local = placement.take(first, n, households)
        bad_h = np.searchsorted(households, chosen_local).astype(np.int64)
        nushi[bad_h] = _wrong_resident_id(nushi[bad_h], p["row"][households[bad_h]])
        for j in sorted(bad_h.tolist()):
            self.defects.append(self._defect("nhi_head_not_resident", FILES["kokuho_setai"],
                                             self.setai_records + 1 + j, "orphan_reference",
                                             None))
        ks_no = _check(KOKUHO_SETAI_BODY + serial, 8)
        fw = str.maketrans("0123456789", "０１２３４５６７８９")
        kigo_pool = [f"長井{t + 1:02d}".translate(fw) for t in range(100)]
        a, a_len, lengths, b, pad = self.euc_pool
        names = _compose(a, a_len, lengths, p["head_sur"][households], pad, b,
                         p["head_given"][households])
        setai_values = {
            "kokuho_setai_no": _Num(ks_no), "setai_no": _Num(setai_no),
            "setai_nushi_atena": _Num(nushi), "gisei_flag": _Num(gisei.astype(np.int64)),
            "hokensha_no": _Num(np.full(h, HOKENSHA_NO)),
            "kigo": _Str(kigo_pool, p["town"][households] % 100),
            "bango": _Str([f"{s + 1:07d}" for s in serial], np.arange(h)),
            "setai_nushi_name": _Raw(names),
        }
        setai_rec = _records(self.setai, self.setai.record_type["data"], h, self.setai.fields,
                             _by_field(self.setai, setai_values))
        self.setai_records += h
        self.nhi_households += h
        self.head_total += int(nushi.sum())

        # members
        start_h = np.where(
            age >= 65,
            p["birth"] + _round((60 + rng.uniform(0, 5, n)) * 365.2425),
            today - _round(rng.uniform(30, 20 * 365, n)))
        start = np.minimum(start_h[hl], today - 30)
        mem = np.flatnonzero(insured)
        birth, jumin = p["birth"][mem], p["jumin"][mem]
        get = np.maximum.reduce([start[mem], jumin, birth])
        died = jotai[mem] == 2
        shojo = p["shojo"][mem]
        get = np.where(died, np.minimum(get, shojo), np.minimum(get, today))
        um = rng.random((len(mem), 4))
        moved_in = np.isin(p["jumin_reason"][mem], (0, 1))  # 転入, 国外転入
        get_jiyu = np.select(
            [get == birth, (get == jumin) & moved_in & p["foreign"][mem] & (um[:, 0] < 0.5),
             (get == jumin) & moved_in, um[:, 0] < 0.9, um[:, 0] < 0.93, um[:, 0] < 0.96],
            [1, 4, 0, 2, 3, 6], 7)
        left = ~died & (um[:, 1] < 0.03) & (get < today - 60)
        loss = np.select([died, left],
                         [shojo + 1, get + 30 + _round(um[:, 2] * np.maximum(today - get - 30,
                                                                            0))], -1)
        loss = np.minimum(loss, today)
        loss_jiyu = np.select([died, left], [1, 2], -1)
        todoke = np.minimum(get + rng.integers(0, 15, len(mem)), today)
        taishoku = np.where((age[mem] >= 60) & (get < _day(date(2014, 1, 1)))
                            & (um[:, 3] < 0.01), 1, 0)
        kaigo = ((age[mem] >= 40) & (age[mem] <= 64)).astype(np.int64)
        edaban = np.zeros(len(mem), np.int64)
        if len(mem):
            group_start = np.r_[0, np.flatnonzero(np.diff(hl[mem])) + 1]
            first_of = np.repeat(group_start, np.diff(np.r_[group_start, len(mem)]))
            edaban = np.arange(len(mem)) - first_of + 1
        member = {
            "atena": p["atena"][mem], "hh": hh_of[hl[mem]], "edaban": edaban, "local": mem,
            "sur": p["sur"][mem], "given": p["given"][mem], "foreign": p["foreign"][mem],
            "juto_gai": np.zeros(len(mem), np.int64), "get": get, "get_jiyu": get_jiyu,
            "loss": loss, "loss_jiyu": loss_jiyu, "todoke": todoke, "taishoku": taishoku,
            "kaigo": kaigo, "tokurei": np.full(len(mem), -1),
        }
        # 住登外 members (住所地特例: living in a facility elsewhere, insured here)
        if h:
            k = max(1, n // 5000)
            jg_h = np.sort(rng.integers(0, h, k))
            sur, given = self._random_names(rng, k)
            jg_get = today - _round(rng.uniform(30, 3650, k))
            jg = {
                "atena": _check(JUTOGAI_NHI_BODY + index * 10_000 + np.arange(k), 12),
                "hh": jg_h, "edaban": 90 + np.arange(k), "local": np.full(k, -1),
                "sur": sur, "given": given,
                "foreign": np.zeros(k, bool), "juto_gai": np.ones(k, np.int64), "get": jg_get,
                "get_jiyu": np.zeros(k, np.int64), "loss": np.full(k, -1),
                "loss_jiyu": np.full(k, -1),
                "todoke": np.minimum(jg_get + rng.integers(0, 15, k), today),
                "taishoku": np.zeros(k, np.int64), "kaigo": np.zeros(k, np.int64),
                "tokurei": np.zeros(k, np.int64),
            }
            member = {key: np.concatenate([member[key], jg[key]]) for key in member}
            order = np.argsort(member["hh"], kind="stable")
            member = {key: v[order] for key, v in member.items()}
        # The members of a household rejected for its head follow it out (their household is
        # not in the output); the engine names that household's record.
        for i in np.flatnonzero(np.isin(member["hh"], bad_h)).tolist():
            household = self.setai_records - h + 1 + int(member["hh"][i])
            self.defects.append(self._defect(
                "nhi_head_not_resident", FILES["kokuho"], self.nhi_members + i + 2,
                "reference_rejected", {"file": FILES["kokuho_setai"], "record": household}))
        csv_bytes = self._kokuho_lines(member, ks_no)
        self.nhi_members += len(member["atena"])
        fuka_bytes = self._fuka_block(index, p, households, gisei, ks_no, member, bad_h,
                                      self.setai_records - h + 1)
        return setai_rec.reshape(-1).tobytes(), csv_bytes, fuka_bytes

    def _fuka_block(self, index: int, p: dict[str, np.ndarray], households: np.ndarray,
                    gisei: np.ndarray, ks_no: np.ndarray, member: dict[str, np.ndarray],
                    bad_h: np.ndarray, setai_first: int) -> bytes:
        """国保税 賦課: one levy record per household of this block, in household order (so
        record N of kokuho_fuka.dat is the levy of record N of kokuho_setai.dat).

        Who counts: the insured members not lost before the 年度 (月割 is not modelled; a
        household whose members all left still pays for one person).  所得割 base: Σ over them
        of 総所得金額等 − 43万円 (住登外 members: no income here).  軽減判定 (7/5/2 tenths of
        均等割・平等割) on the household's 総所得金額等 including a 擬制世帯主's."""
        h = len(households)
        if not h:
            return b""
        # an own random stream: the other files are the same bytes with or without this one
        rng = np.random.default_rng([self.seed, _SET_SALT, 3, index])
        age = p["age"]
        u = rng.random((h, 3))
        # 非自発的失業者軽減: the (insured) head lost a job; his 給与所得 counts as 30 %
        income = self.nhi_income.copy()
        shitsugyo = (~gisei & (age[households] < 65) & (self.nhi_kyuyo[households] > 0)
                     & (u[:, 0] < 0.02))
        jobless = households[shitsugyo]
        income[jobless] -= self.nhi_kyuyo[jobless] * 7 // 10

        hh, local = member["hh"], member["local"]
        resident = local >= 0
        at = np.where(resident, local, 0)
        counted = (member["loss"] < 0) | (member["loss"] > _day(FY_START))
        inc_m = np.where(resident & counted, income[at], 0)
        base_m = np.maximum(inc_m - FUKA_KISO, 0)
        age_m = np.where(resident, age[at], -1)
        kaigo_m = counted & (member["kaigo"] == 1)

        def per_household(values: np.ndarray, where: np.ndarray) -> np.ndarray:
            return np.bincount(hh[where], weights=values[where], minlength=h).astype(np.int64)

        ones = np.ones(len(hh), np.int64)
        counted_n = per_household(ones, counted)
        ninzu = np.maximum(counted_n, 1)
        kaigo_n = per_household(ones, kaigo_m)
        base = per_household(base_m, counted)
        base_kaigo = per_household(base_m, kaigo_m)
        earners = per_household(self.nhi_earner[at].astype(np.int64), counted & resident)
        judged = per_household(inc_m, counted) + np.where(gisei, income[households], 0)
        extra = 100_000 * np.maximum(earners - 1, 0)
        keigen = np.select([judged <= FUKA_KISO + extra,
                            judged <= FUKA_KISO + 305_000 * ninzu + extra,
                            judged <= FUKA_KISO + 560_000 * ninzu + extra], [7, 5, 2], 0)
        keep = 10 - keigen  # tenths of 均等割・平等割 left after the reduction

        parts: dict[str, Any] = {}
        nengaku = np.zeros(h, np.int64)
        gendo = np.zeros(h, np.int64)
        has_kaigo = kaigo_n > 0
        for name, (rate, kinto, byodo, cap), b, n_kinto, present in (
                ("iryo", FUKA_IRYO, base, ninzu, None),
                ("shien", FUKA_SHIEN, base, ninzu, None),
                ("kaigo", FUKA_KAIGO, base_kaigo, kaigo_n, has_kaigo)):
            shotoku = b * rate // 10_000 // 100 * 100
            kinto_v = kinto * n_kinto * keep // 10
            byodo_v = byodo * keep // 10
            total = shotoku + kinto_v + byodo_v
            if present is not None:
                total = np.where(present, total, 0)
            cut = np.maximum(total - cap, 0)
            gendo += cut
            nengaku += total - cut
            parts[f"{name}_shotokuwari"] = _Num(shotoku, present, signed=True)
            parts[f"{name}_kintouwari"] = _Num(kinto_v, present, signed=True)
            parts[f"{name}_byodowari"] = _Num(byodo_v, present, signed=True)
        blank = np.zeros(h, bool)
        for name in ("iryo", "shien", "kaigo", "kodomo"):
            parts[f"{name}_shisanwari"] = _Num(np.zeros(h, np.int64), blank, signed=True)
        for kind in ("shotokuwari", "kintouwari", "byodowari"):  # from 令和8年度
            parts[f"kodomo_{kind}"] = _Num(np.zeros(h, np.int64), blank, signed=True)

        # 徴収: from pension when every counted member is 65–74, the head is insured, his
        # pension is at least 18万円 and the levy at most half of it; 併用 in the first year
        old = per_household(((age_m >= 65) & (age_m <= 74)).astype(np.int64), counted)
        pension = self.nhi_pension[households]
        eligible = ((old == counted_n) & (counted_n > 0) & ~gisei & (pension >= 180_000)
                    & (2 * nengaku <= pension))
        choshu = np.select([eligible & (u[:, 1] < 0.7), eligible & (u[:, 1] < 0.8)], [3, 4], 1)
        tokucho = np.select([choshu == 3, choshu == 4], [nengaku, nengaku // 2 // 100 * 100], 0)
        futsu = nengaku - tokucho
        periods = np.select([choshu == 1, choshu == 4], [FUKA_FUTSU_KI, FUKA_HEIYO_KI], 0)
        each = futsu // np.maximum(periods, 1) // 100 * 100
        first_ki = futsu - (periods - 1) * each  # 端数は第1期
        if ((periods > 0) & (each <= 0)).any():
            raise ValueError("kokuho_fuka: an instalment of 0 yen")
        columns: dict[str, Any] = {
            "kokuho_setai_no": _Num(ks_no),
            "zei_or_ryo": _Str(["1"], np.zeros(h, np.int64)),  # 国民健康保険税
            "kosei_kubun": _Num((u[:, 2] < 0.03).astype(np.int64)),
            "hihokensha_su": _Num(ninzu),
            "kaigo_su": _Num(kaigo_n),
            "santei_kiso": _Num(base),
            **parts,
            "keigen_kubun": _codes(("0", "2", "5", "7"), np.searchsorted([0, 2, 5, 7], keigen)),
            "shitsugyo_keigen": _Num(shitsugyo.astype(np.int64)),
            "gendo_chosei": _Num(gendo, signed=True),
            "nengaku": _Num(nengaku, signed=True),
            "choshu_kubun": _codes(("1", "3", "4"), np.searchsorted([1, 3, 4], choshu)),
            "tokucho_gaku": _Num(tokucho, choshu != 1, signed=True),
            "setai_nushi_name": _Raw(self.people._names(
                "setai_nushi_name", p["head_sur"][households],
                p["head_given"][households]).cells),
        }
        for j in range(FUKA_FUTSU_KI):
            used = j < periods
            columns[f"kibetsu_{j + 1}"] = _Num(first_ki if j == 0 else each, used, signed=True)
            columns[f"noki_{j + 1}"] = _Day(np.full(h, _day(FUKA_NOKI[j])), used)
        rec = _records(self.fuka, self.fuka.record_type["data"], h, self.fuka.fields,
                       _by_field(self.fuka, columns))
        # the levy of a household rejected for its head is rejected with it
        for j in sorted(bad_h.tolist()):
            self.defects.append(self._defect(
                "nhi_head_not_resident", FILES["kokuho_fuka"], self.fuka_records + 1 + j,
                "reference_rejected", {"file": FILES["kokuho_setai"], "record": setai_first + j}))
        self.fuka_records += h
        self.fuka_total += int(nengaku.sum())
        return rec.reshape(-1).tobytes()

    def _kokuho_lines(self, m: dict[str, np.ndarray], ks_no: np.ndarray) -> bytes:
        layout = self.kokuho
        enc = layout.encoding
        f = layout.fields
        rows = len(m["atena"])
        if not rows:
            return b""

        def dates(name: str, days: np.ndarray) -> list[bytes]:
            present = days >= 0
            cells = _cells(f[name], _Day(np.where(present, days, 0), present), enc)
            return [c.tobytes() if ok else b"" for c, ok in zip(cells, present, strict=True)]

        def coded(column: str, labels: tuple[str, ...], index: np.ndarray) -> list[bytes]:
            vendor = [layout.vendor(column, lab).encode(enc) for lab in labels]
            return [vendor[i] if i >= 0 else b"" for i in index.tolist()]

        sur_k, giv_k = self.people.surnames.kanji, self.people.given.kanji
        sur_a, giv_a = self.people.surnames.alpha, self.people.given.alpha
        space = "\u3000".encode(enc)
        width = f["kokuho_setai_no"].length
        ks = [f"{v:0{width}d}".encode() for v in ks_no[m["hh"]].tolist()]
        get = dates("shikaku_get_date", m["get"])
        loss = dates("shikaku_loss_date", m["loss"])
        todoke = dates("todoke_date", m["todoke"])
        get_jiyu = coded("shikaku_get_jiyu", ("01", "02", "03", "04", "05", "06", "07", "99"),
                         m["get_jiyu"])
        loss_jiyu = coded("shikaku_loss_jiyu", ("01", "02", "03", "04", "05", "06", "07", "99"),
                          m["loss_jiyu"])
        taishoku = coded("taishoku_kubun", ("1", "2", "3"), m["taishoku"])
        tokurei = coded("tokurei_kubun", ("01", "02", "03", "99"), m["tokurei"])
        lg = f"{self.lg_code:0{f['lg_code'].length}d}".encode()
        lines = []
        for i in range(rows):
            s, g = int(m["sur"][i]), int(m["given"][i])
            alpha = b'"' + sur_a[s] + b", " + giv_a[g] + b'"' if m["foreign"][i] else b""
            lines.append(b",".join((
                b"D", str(int(m["atena"][i])).encode(), ks[i],
                b'"' + (sur_k[s] + space + giv_k[g]).replace(b'"', b'""') + b'"', alpha,
                b"1" if m["juto_gai"][i] else b"0", f"{int(m['edaban'][i]):02d}".encode(),
                get[i], get_jiyu[i], loss[i], loss_jiyu[i], todoke[i], taishoku[i],
                b"1" if m["kaigo"][i] else b"0", tokurei[i], lg)))
        self.kokuho_lines += rows
        return b"\r\n".join(lines) + b"\r\n"

    # -- headers, trailers, the plan

    def zeimu_header(self) -> bytes:
        values = {"lg_code": _Num(np.array([self.lg_code])),
                  "nendo": _Num(np.array([TAX_YEAR])),
                  "created": _Day(np.array([self.today])),
                  "system": _Str([TAX_SYSTEM], np.zeros(1, np.int64))}
        return _header_record(self.zeimu, values)

    def zeimu_trailer(self) -> bytes:
        data = self.zeimu_records - 1
        values = {"count": _Num(np.array([data])),
                  "income.amount": _Num(np.array([self.income_total]))}
        return _trailer_record(self.zeimu, values)

    def setai_header(self) -> bytes:
        values = {"lg_code": _Num(np.array([self.lg_code])),
                  "created": _Day(np.array([self.today])),
                  "system": _Str([NHI_SYSTEM], np.zeros(1, np.int64))}
        return _header_record(self.setai, values)

    def setai_trailer(self) -> bytes:
        values = {"count": _Num(np.array([self.setai_records - 1])),
                  "setai_nushi_atena": _Num(np.array([self.head_total]))}
        return _trailer_record(self.setai, values)

    def fuka_header(self) -> bytes:
        values = {"lg_code": _Num(np.array([self.lg_code])),
                  "fuka_nendo": _Num(np.array([FUKA_YEAR])),
                  "nendo_wa": _Str([FUKA_WAREKI_YEAR], np.zeros(1, np.int64)),
                  "created": _Day(np.array([self.today])),
                  "system": _Str([NHI_SYSTEM], np.zeros(1, np.int64))}
        return _header_record(self.fuka, values)

    def fuka_trailer(self) -> bytes:
        values = {"count": _Num(np.array([self.fuka_records - 1])),
                  "nengaku": _Num(np.array([self.fuka_total]), signed=True)}
        return _trailer_record(self.fuka, values)

    def kokuho_header(self) -> bytes:
        names = [name for name, _ in KOKUHO_CSV]
        return ",".join(names).encode(self.kokuho.encoding) + self.kokuho.newline

    def kokuho_trailer(self) -> bytes:
        code = self.kokuho.record_type["trailer"]
        return f"{code},{self.kokuho_lines - 1}".encode("ascii") + self.kokuho.newline

    def patch_juki(self, path: Path) -> None:
        """Make the chosen households headless: 続柄 of the head → 同居人 (vendor code)."""
        if not self.juki_patches:
            return
        spec = self.juki_mapping.fields["zokugara"]
        cm = next(c for c in self.juki_mapping.columns if c.column == "zokugara")
        assert cm.codes is not None
        code = next(v for v, s in cm.codes.mapping.items() if s == "同居人").encode("ascii")
        stride = self.juki_mapping.source.stride
        with path.open("r+b") as handle:
            for row in self.juki_patches:
                handle.seek((row + 1) * stride + spec.offset)
                handle.write(code)
            handle.flush()
            os.fsync(handle.fileno())

    def plan(self) -> str:
        inputs = [{"mapping": f"vendor_a/{key}", "input": name} for key, name in FILES.items()]
        # the tax file a second time, for its income records one row each (zeimu_shotoku/v1)
        inputs.append({"mapping": "vendor_a/zeimu_shotoku", "input": FILES["zeimu"]})
        doc = {"migration": PLAN_NAME, "inputs": inputs}
        head = (f"# Synthetic migration set: {self.rows} residents, seed {self.seed}, as of "
                f"{self.as_of.isoformat()} (migrate.synth.sets). Run with:\n"
                "#   migrate run migration.yaml --out OUT\n")
        return head + yaml.safe_dump(doc, allow_unicode=True, sort_keys=False)


def generate_set(out_dir: Path, rows: int, *, seed: int = 0, defects: int = 0,
                 as_of: date = AS_OF) -> SetReport:
    """Write a consistent vendor A migration set of `rows` residents into `out_dir`.

    defects=K plants K cross-file defects, spread over DEFECT_KINDS (at least one of each when
    K ≥ 3) and listed in defects.json with the record and reason a run must report.
    """
    started = time.perf_counter()
    if not 1 <= rows <= MAX_ROWS:
        raise ValueError(f"rows must be 1..{MAX_ROWS:,}, not {rows}")
    if defects < 0 or defects > rows // 100:
        raise ValueError(f"defects must be 0..rows/100 ({rows // 100}), not {defects}")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    gen = _SetGenerator(out_dir, rows, seed, defects, as_of)

    juki_path = out_dir / FILES["juki"]
    generate(gen.juki_mapping, juki_path, rows, seed=seed, as_of=as_of)
    juki_path.with_name(juki_path.name + ".defects.json").unlink(missing_ok=True)

    outs = {key: _Out(out_dir / FILES[key])
            for key in ("zeimu", "kokuho_setai", "kokuho", "kokuho_fuka")}
    try:
        outs["zeimu"].write(gen.zeimu_header())
        outs["kokuho_setai"].write(gen.setai_header())
        outs["kokuho"].write(gen.kokuho_header())
        outs["kokuho_fuka"].write(gen.fuka_header())
        for index in range(-(-rows // BLOCK_ROWS)):
            gen.run_block(index, outs["zeimu"], outs["kokuho_setai"], outs["kokuho"],
                          outs["kokuho_fuka"])
        missing = [k for k, pl in gen.placement.items() if pl.pending]
        if missing:
            raise ValueError(f"no room for the defects {', '.join(missing)} in {rows} rows")
        outs["zeimu"].write(gen.zeimu_trailer())
        outs["kokuho_setai"].write(gen.setai_trailer())
        outs["kokuho"].write(gen.kokuho_trailer())
        outs["kokuho_fuka"].write(gen.fuka_trailer())
        written = {key: out.commit() for key, out in outs.items()}
    except BaseException:
        for out in outs.values():
            out.abort()
        raise
    gen.patch_juki(juki_path)

    juki_sha = _sha256_file(juki_path)
    files = {
        FILES["juki"]: SetFile(FILES["juki"], rows + 2, rows, juki_path.stat().st_size,
                               juki_sha),
        FILES["zeimu"]: SetFile(FILES["zeimu"], gen.zeimu_records + 1, gen.zeimu_records - 1,
                                *written["zeimu"]),
        FILES["kokuho_setai"]: SetFile(FILES["kokuho_setai"], gen.setai_records + 1,
                                       gen.setai_records - 1, *written["kokuho_setai"]),
        FILES["kokuho"]: SetFile(FILES["kokuho"], gen.kokuho_lines + 1, gen.kokuho_lines - 1,
                                 *written["kokuho"]),
        FILES["kokuho_fuka"]: SetFile(FILES["kokuho_fuka"], gen.fuka_records + 1,
                                      gen.fuka_records - 1, *written["kokuho_fuka"]),
    }
    (out_dir / "migration.yaml").write_text(gen.plan(), encoding="utf-8")
    gen.defects.sort(key=lambda d: (d["file"], d["record"]))
    (out_dir / "defects.json").write_text(
        json.dumps(gen.defects, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return SetReport(out_dir, rows, seed, files, gen.defects, time.perf_counter() - started,
                     gen.taxpayers, gen.incomes, gen.nhi_households, gen.nhi_members,
                     gen.fuka_total)


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 24), b""):
            digest.update(chunk)
    return digest.hexdigest()
