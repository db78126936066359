"""Synthetic migration sets (migrate.synth.sets): determinism, sizes, validity, consistency, defects.

The files are read back with a small reference decoder written here from the mapping YAML files
(python bytes.decode, int(), an own packed-decimal and 和暦 decoder), independent of the engine,
and the mapped rows are checked against the target schemas: required columns, code tables,
lengths, min/max, precision, check digits, patterns and rules.
"""

from __future__ import annotations

import csv
import json
from collections import Counter, defaultdict
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml

from migrate.layouts.bundled import bundled_dir
from migrate.synth.generate import BLOCK_ROWS
from migrate.synth.sets import (
    DEFECT_KINDS,
    FUKA_IRYO,
    FUKA_KAIGO,
    FUKA_SHIEN,
    FUKA_YEAR,
    generate_set,
)

MAPPINGS = bundled_dir("mappings") / "vendor_a"
SCHEMAS = bundled_dir("schemas")
ERAS = {"1": 1868, "2": 1912, "3": 1926, "4": 1989, "5": 2019}
OVERPUNCH_PLUS, OVERPUNCH_MINUS = "{ABCDEFGHI", "}JKLMNOPQR"
NEWLINES = {"crlf": b"\r\n", "lf": b"\n", "none": b""}


# ---------------------------------------------------------------- reference decoder


def _yaml(path: Path) -> dict[str, Any]:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def _packed(raw: bytes) -> int:
    nibbles = [n for b in raw for n in (b >> 4, b & 0x0F)]
    digits, sign = nibbles[:-1], nibbles[-1]
    assert all(d <= 9 for d in digits) and sign in (0xC, 0xD, 0xF), raw.hex()
    value = int("".join(map(str, digits)))
    return -value if sign == 0xD else value


def _decode(spec: dict[str, Any], raw: bytes, encoding: str) -> Any:
    kind = spec["type"]
    if kind == "text":
        text = raw.decode(encoding).rstrip(" \u3000")
        return text or None
    if kind == "packed":
        return _packed(raw)
    if not raw.strip(b" "):
        return None
    text = raw.decode("ascii")
    if kind == "digits":
        text = text.rstrip(" ")
        assert text.isdigit(), raw
        return text
    if kind in ("zoned", "decimal"):
        last = text[-1]
        sign = 1
        if last in OVERPUNCH_PLUS:
            text = text[:-1] + str(OVERPUNCH_PLUS.index(last))
        elif last in OVERPUNCH_MINUS:
            text, sign = text[:-1] + str(OVERPUNCH_MINUS.index(last)), -1
        assert text.lstrip("-").isdigit(), raw
        return sign * int(text)
    if kind == "wareki":
        if text == "0000000":
            return None
        try:
            return date(ERAS[text[0]] + int(text[1:3]) - 1, int(text[3:5]), int(text[5:7]))
        except ValueError:  # 不詳 parts (00) or a lunisolar 明治 day: not needed here
            return text
    if kind == "ymd":
        return None if text == "00000000" else date(int(text[:4]), int(text[4:6]),
                                                    int(text[6:8]))
    raise AssertionError(kind)


def _fields(node: dict[str, Any], record: bytes, encoding: str) -> dict[str, Any]:
    return {name: _decode(spec, record[spec["offset"] : spec["offset"] + spec["length"]],
                          encoding) for name, spec in node.items()}


def read_fixed(mapping: dict[str, Any], data: bytes) -> list[tuple[str, dict[str, Any]]]:
    """[(kind, values)] per record, 1-based record i at index i - 1; kind header/data/trailer
    or a child record name."""
    src = mapping["source"]
    stride = src["record_length"] + len(NEWLINES[src.get("newline", "crlf")])
    assert len(data) % stride == 0
    rt = src["record_type"]
    kinds = {rt["header"]: "header", rt["data"]: "data", rt["trailer"]: "trailer"}
    kinds |= {v["code"]: k for k, v in (mapping.get("records") or {}).items()}
    out = []
    for start in range(0, len(data), stride):
        rec = data[start : start + stride]
        assert rec[src["record_length"] :] == NEWLINES[src.get("newline", "crlf")]
        kind = kinds[rec[rt["offset"] : rt["offset"] + rt["length"]].decode("ascii")]
        node = {"header": mapping.get("header"), "data": mapping["fields"],
                "trailer": {"count": mapping["trailer"]["count"],
                            **mapping["trailer"].get("control_totals", {})}}.get(kind)
        if node is None:
            node = mapping["records"][kind]["fields"]
        out.append((kind, _fields(node, rec, src["encoding"])))
    return out


def _split_csv(line: bytes) -> list[bytes | None]:
    """Cells of one line (None = empty); quoted cells lose their quotes ("" → ")."""
    cells: list[bytes | None] = []
    i = 0
    while True:
        if line[i : i + 1] == b'"':
            j, buf = i + 1, b""
            while True:
                k = line.index(b'"', j)
                buf += line[j:k]
                if line[k + 1 : k + 2] == b'"':
                    buf += b'"'
                    j = k + 2
                else:
                    break
            cells.append(buf)
            i = k + 1
        else:
            k = line.find(b",", i)
            k = len(line) if k < 0 else k
            cells.append(line[i:k] or None)
            i = k
        if i >= len(line):
            return cells
        assert line[i : i + 1] == b",", line
        i += 1


def read_delimited(mapping: dict[str, Any], data: bytes) -> tuple[list[str], list[tuple]]:
    src = mapping["source"]
    enc = src["encoding"]
    lines = data.split(NEWLINES[src["newline"]])
    assert lines[-1] == b""
    names = lines[0].decode(enc).split(",")
    rt = src["record_type"]
    out: list[tuple[str, dict[str, Any]]] = [("header", {})]
    for line in lines[1:-1]:
        cells = _split_csv(line)
        code = cells[rt["column"]].decode("ascii")
        if code == rt["trailer"]:
            node = mapping["trailer"]
            kind = "trailer"
        else:
            assert code == rt["data"]
            node = mapping["fields"]
            kind = "data"
        values = {}
        for name, spec in node.items():
            where = spec["column"] if "column" in spec else names.index(spec["name"])
            cell = cells[where]
            if cell is None:
                values[name] = None
                continue
            assert len(cell) <= spec["length"], (name, cell)
            width = 7 if spec["type"] == "wareki" else 8 if spec["type"] == "ymd" else len(cell)
            assert len(cell) == width
            values[name] = (cell.decode(enc) or None) if spec["type"] == "text" \
                else _decode(spec, cell, enc)
        out.append((kind, values))
    return names, out


# ---------------------------------------------------------------- mapping and schema checks


def _codes(path: Path, key: str) -> dict[str, str]:
    with path.open(encoding="utf-8", newline="") as handle:
        return {row[key]: row for row in csv.DictReader(handle)}


def map_rows(mapping: dict[str, Any], records: list[tuple[str, dict[str, Any]]]
             ) -> list[dict[str, Any]]:
    """Standard rows: one per data record, with its children aggregated."""
    header = next((v for k, v in records if k == "header"), {})
    groups: list[tuple[int, dict[str, Any], list[tuple[str, dict[str, Any]]]]] = []
    for number, (kind, values) in enumerate(records, start=1):
        if kind == "data":
            groups.append((number, values, []))
        elif kind not in ("header", "trailer"):
            assert groups, "child before any parent"
            groups[-1][2].append((kind, values))
            for child_field, parent_field in (mapping["records"][kind].get("key") or {}).items():
                assert values[child_field] == groups[-1][1][parent_field]
    rows = []
    for number, values, children in groups:
        row: dict[str, Any] = {}
        for column, node in mapping["columns"].items():
            node = {"from": node} if isinstance(node, str) else node
            if node.get("source") == "record_number":
                row[column] = number
            elif "header" in node:
                row[column] = header[node["header"]]
            elif "." in node["from"]:
                record, name = node["from"].split(".")
                match = [c[name] for k, c in children if k == record and all(
                    c[f] == v for f, v in (node.get("where") or {}).items())]
                row[column] = sum(match) if match else None
            else:
                value = values[node["from"]]
                if node.get("codes") and value is not None:
                    table = _codes(MAPPINGS / node["codes"], "source")
                    assert value in table, (column, value)
                    value = table[value]["standard"]
                row[column] = value
        rows.append(row)
    return rows


def _my_number_ok(v: str) -> bool:
    r = sum(int(d) * w for d, w in zip(v[:11], (6, 5, 4, 3, 2, 7, 6, 5, 4, 3, 2), strict=True)) % 11
    return int(v[11]) == (0 if r <= 1 else 11 - r)


def _lg_code_ok(v: str) -> bool:
    r = sum(int(d) * w for d, w in zip(v[:5], (6, 5, 4, 3, 2), strict=True)) % 11
    return int(v[5]) == (11 - r) % 10


def _houjin_ok(v: str) -> bool:
    s = sum(int(d) * (2 if i % 2 == 0 else 1) for i, d in enumerate(v[1:]))
    return int(v[0]) == 9 - s % 9


CHECKS = {"my_number_check_digit": _my_number_ok, "lg_code_check_digit": _lg_code_ok,
          "houjin_no_check_digit": _houjin_ok}


def validate(schema_name: str, rows: list[dict[str, Any]]) -> None:
    schema = _yaml(SCHEMAS / schema_name / "v1.yaml")
    base = SCHEMAS / schema_name
    tables = {c["name"]: set(_codes(base / c["codes"], "code")) for c in schema["columns"]
              if c.get("codes")}
    for row in rows:
        where = f"{schema_name} record {row.get('src_record')}"
        for col in schema["columns"]:
            v = row.get(col["name"])
            if v is None:
                assert not col.get("required"), f"{where}: {col['name']} missing"
                continue
            dtype = col["dtype"]
            if dtype in ("digits", "str", "code"):
                v = str(v)
                if dtype == "digits":
                    assert v.isdigit(), (where, col["name"], v)
                if "length" in col:
                    assert len(v) == col["length"], (where, col["name"], v)
                if "max_length" in col:
                    assert len(v) <= col["max_length"], (where, col["name"], v)
                if dtype == "code":
                    assert v in tables[col["name"]], (where, col["name"], v)
            elif dtype in ("int", "flag", "decimal"):
                v = Decimal(v)
                assert v == v.to_integral_value()
                if dtype == "flag":
                    assert v in (0, 1), (where, col["name"], v)
                if "precision" in col:
                    assert abs(v) < 10 ** col["precision"], (where, col["name"], v)
            elif dtype == "date":
                assert isinstance(v, date), (where, col["name"], v)
            if "min" in col:
                assert v >= col["min"], (where, col["name"], v)
            if "max" in col:
                assert v <= col["max"], (where, col["name"], v)
            for check in col.get("checks") or []:
                if isinstance(check, dict) and check["check"] == "pattern":
                    import re
                    assert re.fullmatch(check["pattern"], str(v)), (where, col["name"], v)
                elif isinstance(check, str):
                    assert CHECKS[check](str(v)), (where, col["name"], v)
        for rule in schema.get("rules") or []:
            applies = all(str(row.get(k)) in ([str(x) for x in w] if isinstance(w, list)
                                              else [str(w)])
                          for k, w in (rule.get("when") or {}).items())
            applies = applies and all(row.get(k) is not None
                                      for k in rule.get("when_present") or [])
            if applies:
                for k in rule.get("require") or []:
                    assert row.get(k) is not None, (where, rule["name"], k)
                for k in rule.get("forbid") or []:
                    assert row.get(k) is None, (where, rule["name"], k)
                if rule.get("compare"):
                    import operator
                    left, op, right = rule["compare"].split()
                    a, b = row.get(left), row.get(right)
                    compare = {"<": operator.lt, "<=": operator.le, ">": operator.gt,
                               ">=": operator.ge, "==": operator.eq, "!=": operator.ne}[op]
                    assert a is None or b is None or compare(a, b), (where, rule["name"])


# ---------------------------------------------------------------- the set, read back


class SetView:
    """Every file of a set decoded with the reference decoder."""

    def __init__(self, out: Path):
        self.out = out
        self.maps = {k: _yaml(MAPPINGS / f"{k}.yaml")
                     for k in ("juki", "zeimu", "kokuho_setai", "kokuho", "kokuho_fuka")}
        self.juki = read_fixed(self.maps["juki"], (out / "juki.dat").read_bytes())
        self.zeimu = read_fixed(self.maps["zeimu"], (out / "zeimu.dat").read_bytes())
        self.setai = read_fixed(self.maps["kokuho_setai"],
                                (out / "kokuho_setai.dat").read_bytes())
        self.csv_names, self.kokuho = read_delimited(self.maps["kokuho"],
                                                     (out / "kokuho.csv").read_bytes())
        self.fuka = read_fixed(self.maps["kokuho_fuka"], (out / "kokuho_fuka.dat").read_bytes())
        self.defects = json.loads((out / "defects.json").read_text(encoding="utf-8"))
        zok = _codes(MAPPINGS / "codes" / "zokugara.csv", "source")
        self.residents = {str(v["atena_no"]): i for i, (k, v) in enumerate(self.juki, 1)
                          if k == "data"}
        self.households: dict[str, list[int]] = defaultdict(list)
        self.heads: Counter[str] = Counter()
        for i, (k, v) in enumerate(self.juki, 1):
            if k == "data":
                self.households[v["setai_no"]].append(i)
                self.heads[v["setai_no"]] += zok[v["zokugara"]]["standard"] == "世帯主"

    def violations(self) -> set[tuple[str, str, int, str]]:
        """Every cross-file problem the reference finds: (kind, file, record, reason)."""
        found = set()
        for setai, records in self.households.items():
            if self.heads[setai] != 1:
                found |= {("household_without_head", "juki.dat", r,
                           "one_head_per_household") for r in records}
        parent = None
        for i, (k, v) in enumerate(self.zeimu, 1):
            if k == "data":
                parent = None
                if v["juto_gai"] == "0" and str(v["atena_no"]) not in self.residents:
                    parent = i
                    found.add(("orphan_tax_record", "zeimu.dat", i, "orphan_reference"))
                if v["juto_gai"] == "1":
                    assert str(v["atena_no"]) not in self.residents
            elif k == "income" and parent is not None:
                found.add(("orphan_tax_record", "zeimu.dat", i, "group_rejected"))
        bad_households = set()
        for i, (k, v) in enumerate(self.setai, 1):
            if k == "data" and str(v["setai_nushi_atena"]) not in self.residents:
                found.add(("nhi_head_not_resident", "kokuho_setai.dat", i, "orphan_reference"))
                bad_households.add(str(v["kokuho_setai_no"]))
        for i, (k, v) in enumerate(self.kokuho, 1):
            if k == "data" and str(v["kokuho_setai_no"]) in bad_households:
                found.add(("nhi_head_not_resident", "kokuho.csv", i, "reference_rejected"))
            if k == "data":
                resident = v["atena_no"] in self.residents
                assert resident == (v["juto_gai"] == "0"), (i, v)
        for i, (k, v) in enumerate(self.fuka, 1):
            if k == "data" and str(v["kokuho_setai_no"]) in bad_households:
                found.add(("nhi_head_not_resident", "kokuho_fuka.dat", i, "reference_rejected"))
        return found


@pytest.fixture(scope="module")
def clean_set(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, SetView]:
    out = tmp_path_factory.mktemp("set_clean")
    report = generate_set(out, 3000, seed=7)
    return report, SetView(out)


@pytest.fixture(scope="module")
def defect_set(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, SetView]:
    out = tmp_path_factory.mktemp("set_defects")
    report = generate_set(out, BLOCK_ROWS + 4000, seed=3, defects=7)
    return report, SetView(out)


# ---------------------------------------------------------------- tests


def test_mappings_load_with_the_engine() -> None:
    from migrate.layouts import load_mapping
    for name in ("zeimu", "kokuho_setai", "kokuho", "kokuho_fuka"):
        mapping = load_mapping(f"vendor_a/{name}")
        assert mapping.target.id == _yaml(MAPPINGS / f"{name}.yaml")["target"]


def test_deterministic(tmp_path: Path) -> None:
    a = generate_set(tmp_path / "a", 1500, seed=5, defects=3)
    b = generate_set(tmp_path / "b", 1500, seed=5, defects=3)
    c = generate_set(tmp_path / "c", 1500, seed=6, defects=3)
    for name in ("juki.dat", "zeimu.dat", "kokuho_setai.dat", "kokuho.csv", "kokuho_fuka.dat",
                 "defects.json", "migration.yaml"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    assert a.files["zeimu.dat"].sha256 == b.files["zeimu.dat"].sha256
    assert a.files["zeimu.dat"].sha256 != c.files["zeimu.dat"].sha256
    assert a.files["kokuho_fuka.dat"].sha256 != c.files["kokuho_fuka.dat"].sha256
    assert not list((tmp_path / "a").glob(".*tmp")) and not list((tmp_path / "a").glob("*.defects.json"))


def test_sizes_and_trailers(clean_set: tuple[Any, SetView]) -> None:
    report, view = clean_set
    assert len(view.juki) == 3002 and report.files["juki.dat"].records == 3002
    for name, records, mapping in (("zeimu.dat", view.zeimu, "zeimu"),
                                   ("kokuho_setai.dat", view.setai, "kokuho_setai"),
                                   ("kokuho_fuka.dat", view.fuka, "kokuho_fuka")):
        src = view.maps[mapping]["source"]
        stride = src["record_length"] + len(NEWLINES[src["newline"]])
        info = report.files[name]
        assert info.bytes == (view.out / name).stat().st_size == stride * info.records
        assert info.records == len(records)
        kinds = [k for k, _ in records]
        assert kinds[0] == "header" and kinds[-1] == "trailer" and "header" not in kinds[1:-1]
        assert int(records[-1][1]["count"]) == len(records) - 2
    amounts = sum(v["amount"] for k, v in view.zeimu if k == "income")
    assert view.zeimu[-1][1]["income.amount"] == amounts
    heads = sum(v["setai_nushi_atena"] for k, v in view.setai if k == "data")
    assert view.setai[-1][1]["setai_nushi_atena"] == heads
    levies = [v for k, v in view.fuka if k == "data"]
    assert view.fuka[-1][1]["nengaku"] == sum(v["nengaku"] for v in levies) > 0
    assert view.fuka[0][1]["fuka_nendo"] == str(FUKA_YEAR)
    assert report.nhi_levy_total == view.fuka[-1][1]["nengaku"]
    # one levy per NHI household, in the same order: record N ↔ record N
    assert [v["kokuho_setai_no"] for v in levies] == [v["kokuho_setai_no"] for k, v in view.setai
                                                      if k == "data"]
    # signed zoned amounts: the last byte of a present amount is always overpunched
    raw = (view.out / "kokuho_fuka.dat").read_bytes().split(b"\n")[1]
    spec = view.maps["kokuho_fuka"]["fields"]["nengaku"]
    assert chr(raw[spec["offset"] + spec["length"] - 1]) in OVERPUNCH_PLUS
    assert view.kokuho[-1] == ("trailer", {"count": str(len(view.kokuho) - 2)})
    assert report.files["kokuho.csv"].records == len(view.kokuho)
    assert view.csv_names[:3] == ["レコード区分", "宛名番号", "国保世帯番号"]
    plan = _yaml(view.out / "migration.yaml")
    assert {i["input"] for i in plan["inputs"]} == {"juki.dat", "zeimu.dat",
                                                    "kokuho_setai.dat", "kokuho.csv",
                                                    "kokuho_fuka.dat"}
    assert all((view.out / i["input"]).exists() and (MAPPINGS / (i["mapping"].split("/")[1]
               + ".yaml")).exists() for i in plan["inputs"])
    assert view.defects == []
    # realistic shares
    taxpayers = sum(k == "data" for k, _ in view.zeimu)
    incomes = [v for k, v in view.zeimu if k == "income"]
    assert 0.45 * 3000 < taxpayers < 0.85 * 3000
    assert len(incomes) > 1.2 * taxpayers
    assert any(v["amount"] < 0 for v in incomes)
    members = sum(k == "data" for k, _ in view.kokuho)
    assert 0.1 * 3000 < members < 0.35 * 3000


def test_every_file_is_valid_against_its_schema(clean_set: tuple[Any, SetView]) -> None:
    _, view = clean_set
    zeimu = map_rows(view.maps["zeimu"], view.zeimu)
    validate("zeimu", zeimu)
    validate("kokuho_setai", map_rows(view.maps["kokuho_setai"], view.setai))
    kokuho = map_rows(view.maps["kokuho"], view.kokuho)
    validate("kokuho", kokuho)
    # a few facts the schema cannot state
    for row in zeimu:
        kojo = sum(row[c] for c in row if c.startswith("kojo_") and c != "kojo_total")
        assert row["kojo_total"] == kojo
        assert row["kazei_hyojun_sogo"] % 1000 == 0
        paid = sum(row[c] or 0 for c in ("nenkin_tokucho_kari", "nenkin_tokucho_hon",
                                         "futsu_ki1", "futsu_ki2", "futsu_ki3", "futsu_ki4"))
        paid += (row["tokucho_6gatsu"] + 11 * row["tokucho_7gatsu_ikou"])
        assert paid == row["nengaku"], row["src_record"]
        for k in range(1, 5):
            assert (row[f"futsu_ki{k}"] > 0) == (row[f"futsu_noki{k}"] is not None)
    assert {r["kazei_kubun"] for r in zeimu} == {"01", "02", "03", "04"}
    assert {r["choshu_kubun"] for r in zeimu} >= {"1", "2", "3"}
    assert len({(r["atena_no"], r["tax_year"]) for r in zeimu}) == len(zeimu)
    assert len({(r["atena_no"], r["shikaku_get_date"]) for r in kokuho}) == len(kokuho)
    for row in kokuho:
        if row["shikaku_loss_date"] is not None:
            assert row["shikaku_loss_date"] >= row["shikaku_get_date"]
    _levy_facts(view)


def _levy_facts(view: SetView) -> None:
    """kokuho_fuka: valid against its schema, and what the schema's TODO cannot state yet."""
    fuka = map_rows(view.maps["kokuho_fuka"], view.fuka)
    validate("kokuho_fuka", fuka)
    raw = [v for k, v in view.fuka if k == "data"]
    parts = [f"{p}_{k}" for p in ("iryo", "shien", "kaigo", "kodomo")
             for k in ("shotokuwari", "kintouwari", "byodowari", "shisanwari")]
    rates = {"iryo": FUKA_IRYO, "shien": FUKA_SHIEN, "kaigo": FUKA_KAIGO}
    for row, v in zip(fuka, raw, strict=True):
        where = row["src_record"]
        assert int(row["fuka_year"]) == FUKA_YEAR
        assert row["nengaku"] == sum(row[c] or 0 for c in parts) - row["gendo_chosei"], where
        assert row["nengaku"] > 0 and row["nengaku"] % 100 == 0, where
        paid = (row["tokucho_gaku"] or 0) + sum(row[f"kibetsu_{k}"] or 0 for k in range(1, 11))
        assert paid == row["nengaku"], where
        used = [row[f"kibetsu_{k}"] is not None for k in range(1, 11)]
        for k in range(1, 11):
            assert (row[f"kibetsu_{k}"] is None) == (row[f"noki_{k}"] is None), (where, k)
            assert row[f"kibetsu_{k}"] is None or row[f"kibetsu_{k}"] > 0, (where, k)
        assert used == sorted(used, reverse=True), where  # the first N instalments
        ki = {"1": 10, "3": 0, "4": 4}[row["choshu_kubun"]]
        assert sum(used) == ki, where
        assert (row["tokucho_gaku"] is not None) == (row["choshu_kubun"] != "1"), where
        if row["choshu_kubun"] == "3":
            assert row["tokucho_gaku"] == row["nengaku"], where
        noki = [row[f"noki_{k}"] for k in range(1, 11) if row[f"noki_{k}"] is not None]
        assert noki == sorted(noki) and all(date(FUKA_YEAR, 6, 1) <= d <= date(FUKA_YEAR + 1,
                                                                             3, 31) for d in noki)
        # 軽減 touches only 均等割・平等割: the kept tenths of the full per-capita amounts
        keep = 10 - int(row["keigen_kubun"])
        for part, (_rate, kinto, byodo, cap) in rates.items():
            if row[f"{part}_byodowari"] is None:
                assert part == "kaigo" and v["kaigo_su"] == 0, where
                continue
            people = v["kaigo_su"] if part == "kaigo" else max(v["hihokensha_su"], 1)
            assert row[f"{part}_byodowari"] == byodo * keep // 10, where
            assert row[f"{part}_kintouwari"] == kinto * people * keep // 10, where
            assert sum(row[f"{part}_{k}"] for k in ("shotokuwari", "kintouwari",
                                                    "byodowari")) <= cap + row["gendo_chosei"]
        assert row["iryo_shotokuwari"] == v["santei_kiso"] * FUKA_IRYO[0] // 10_000 // 100 * 100
        assert row["iryo_shisanwari"] is None and row["kodomo_kintouwari"] is None  # 令和7年度
        assert row["gendo_chosei"] == 0 or row["nengaku"] >= FUKA_IRYO[3], where
    # realistic: all reductions and collection methods occur; amounts of the right magnitude
    assert {r["keigen_kubun"] for r in fuka} == {"0", "2", "5", "7"}
    assert {r["choshu_kubun"] for r in fuka} == {"1", "3", "4"}
    assert {r["zei_or_ryo"] for r in fuka} == {"1"}
    iryo = sorted(r["iryo_shotokuwari"] + r["iryo_kintouwari"] + r["iryo_byodowari"]
                  for r in fuka)
    assert 10_000 <= iryo[len(iryo) // 2] <= 500_000
    assert iryo[0] >= 7_800 and iryo[-1] <= 5_000_000
    assert any(r["kaigo_kintouwari"] for r in fuka) and any(r["gendo_chosei"] for r in fuka)


def test_the_same_people_across_files(clean_set: tuple[Any, SetView]) -> None:
    _, view = clean_set
    assert view.violations() == set()
    assert all(n == 1 for n in view.heads.values())
    juki = {str(v["atena_no"]): v for k, v in view.juki if k == "data"}
    jutogai_tax = [v for k, v in view.zeimu if k == "data" and v["juto_gai"] == "1"]
    assert jutogai_tax and all(str(v["atena_no"]) not in juki for v in jutogai_tax)
    for k, v in view.zeimu:
        if k == "data" and v["juto_gai"] == "0":
            person = juki[str(v["atena_no"])]
            if isinstance(person["birth"], date):
                assert (date(2025, 4, 1) - person["birth"]).days >= 18 * 365
            if v["kojin_no"] is not None:
                assert v["kojin_no"] == person["kojin_no"]
    setai = {v["kokuho_setai_no"]: v for k, v in view.setai if k == "data"}
    assert {v["kokuho_setai_no"] for k, v in view.fuka if k == "data"} == set(setai)
    zok = _codes(MAPPINGS / "codes" / "zokugara.csv", "source")
    for v in setai.values():
        head = juki[str(v["setai_nushi_atena"])]
        assert zok[head["zokugara"]]["standard"] == "世帯主"
        assert head["setai_no"] == v["setai_no"]
    members = [v for k, v in view.kokuho if k == "data"]
    assert any(v["juto_gai"] == "1" for v in members)
    for v in members:
        assert v["kokuho_setai_no"] in setai
        if v["juto_gai"] == "0":
            assert juki[v["atena_no"]]["setai_no"] == setai[v["kokuho_setai_no"]]["setai_no"]
    assert any(v["shimei_alpha"] and "," in v["shimei_alpha"] for v in members) or \
        not any(juki[v["atena_no"]]["kokuseki"] for v in members if v["juto_gai"] == "0")


def test_defects_are_where_defects_json_says(defect_set: tuple[Any, SetView]) -> None:
    report, view = defect_set
    listed = {(d["kind"], d["file"], d["record"], d["expected_reason"]) for d in view.defects}
    assert len(listed) == len(view.defects) == len(report.defects)
    assert view.violations() == listed
    kinds = Counter(d["kind"] for d in view.defects
                    if d["expected_reason"] not in ("group_rejected", "reference_rejected")
                    and d["kind"] != "household_without_head")
    headless = {view.juki[d["record"] - 1][1]["setai_no"] for d in view.defects
                if d["kind"] == "household_without_head"}
    assert kinds["orphan_tax_record"] == 3 and kinds["nhi_head_not_resident"] == 2
    assert len(headless) == 2
    assert set(DEFECT_KINDS) == {d["kind"] for d in view.defects}
    for d in view.defects:
        if d["expected_reason"] == "reference_rejected":
            assert d["counterpart"]["file"] == "kokuho_setai.dat"
            household = view.setai[d["counterpart"]["record"] - 1][1]["kokuho_setai_no"]
            rows = view.fuka if d["file"] == "kokuho_fuka.dat" else view.kokuho
            assert str(rows[d["record"] - 1][1]["kokuho_setai_no"]) == str(household)
            if d["file"] == "kokuho_fuka.dat":
                assert d["record"] == d["counterpart"]["record"]
        elif d["expected_reason"] == "group_rejected":
            assert d["counterpart"]["file"] == "zeimu.dat"
            parent = view.zeimu[d["counterpart"]["record"] - 1]
            assert parent[0] == "data"
            assert view.zeimu[d["record"] - 1][1]["atena_no"] == parent[1]["atena_no"]
        else:
            assert d["counterpart"] is None
    # the members of a headless household pay no tax and have no NHI rows (no cascades)
    gone = {str(view.juki[d["record"] - 1][1]["atena_no"]) for d in view.defects
            if d["kind"] == "household_without_head"}
    assert not gone & {str(v["atena_no"]) for k, v in view.zeimu if k == "data"}
    assert not gone & {v["atena_no"] for k, v in view.kokuho if k == "data"}
    # the juki trailer still holds: count and the 宛名番号 hash total
    trailer = view.juki[-1][1]
    data = [v for k, v in view.juki if k == "data"]
    assert int(trailer["count"]) == len(data) == report.rows
    assert trailer["atena_no"] == sum(v["atena_no"] for v in data)


def test_defects_need_room(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="defects"):
        generate_set(tmp_path, 200, defects=3)
