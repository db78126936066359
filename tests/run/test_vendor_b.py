"""The issue-14 acceptance case: a second, self-made vendor format (tests/run/vendor_b) —
letter record types, no newline, one-piece addresses, sex and 続柄 in separate fields, no
世帯主氏名, no 住民種別 / 住民状態 / 異動事由 — converts into juki/v1 with every column either
migrated from the file or declared as supplied, and nothing fabricated."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from migrate.layouts import load_mapping

MAPPING = Path(__file__).parent / "vendor_b" / "juki.yaml"
HEAD, SPOUSE, CHILD = "01", "02", "03"


def record(atena: int, setai: int, name: str, kana: str, sex: str, zokugara: str,
           birth: str, address: str) -> bytes:
    raw = (b"D" + f"{atena:010d}{setai:010d}".encode()
           + name.encode("cp932").ljust(30) + kana.encode("cp932").ljust(30)
           + sex.encode() + zokugara.encode() + birth.encode()
           + b"20250401" + b"20250401" + b"20250402" + b"9920000"
           + address.encode("cp932").ljust(70))
    return raw.ljust(200)


PEOPLE = [  # households spread over the file and not sorted: the head may come after
    (1001, 501, "山田　花子", "ﾔﾏﾀﾞ ﾊﾅｺ", "F", SPOUSE, "19800512", "山形県西置賜郡白鷹町荒砥甲８３３"),
    (1002, 502, "佐藤　一郎", "ｻﾄｳ ｲﾁﾛｳ", "M", HEAD, "19550101", "山形県西置賜郡白鷹町十王１２３"),
    (1003, 501, "山田　太郎", "ﾔﾏﾀﾞ ﾀﾛｳ", "M", HEAD, "19780229", "山形県西置賜郡白鷹町荒砥甲８３３"),
    (1004, 501, "山田　一", "ﾔﾏﾀﾞ ﾊｼﾞﾒ", "M", CHILD, "20100707", "山形県西置賜郡白鷹町荒砥甲８３３"),
    (1005, 502, "佐藤　和子", "ｻﾄｳ ｶｽﾞｺ", "F", SPOUSE, "19580303", "白鷹町十王１２３"),
    (1006, 503, "鈴木　次郎", "ｽｽﾞｷ ｼﾞﾛｳ", "M", HEAD, "19900909", "山形県白たか町荒砥"),
]


@pytest.fixture
def export(tmp_path: Path) -> Path:
    path = tmp_path / "jumin_b.dat"
    body = b"".join(record(*p) for p in PEOPLE)
    path.write_bytes(b"H06402520250401".ljust(200) + body
                     + b"T" + f"{len(PEOPLE):09d}".encode().ljust(199))
    return path


def test_vendor_b_converts_with_every_column_migrated_or_supplied(export: Path, tmp_path: Path,
                                                                  convert) -> None:
    mapping = load_mapping(MAPPING)
    result, _, rejects = convert(mapping, export, tmp_path / "out", chunk_bytes=400)
    folder = result.run_json.parent
    rows = __import__("polars").read_csv(folder / "juki.csv", infer_schema=False)
    doc = json.loads(result.run_json.read_text(encoding="utf-8"))

    supplied = {s["column"]: s["value"] for s in doc["supplied"]}
    assert supplied == {"jumin_shubetsu": "1", "jumin_jotai": "1", "idou_jiyu": "107"}
    migrated = {cm.column for cm in mapping.columns if cm.kind != "constant"}
    required = {c.name for c in mapping.target.columns if c.required}
    assert required <= migrated | set(supplied)
    assert not migrated & set(supplied)

    assert rows.select("atena_no", "zokugara", "setai_nushi_name", "addr_pref", "addr_city",
                       "addr_town", "sex", "shimei_kana").rows() == [
        ("0000001001", "妻", "山田　太郎", "山形県", "西置賜郡白鷹町", "荒砥甲８３３", "2", "ヤマダ ハナコ"),
        ("0000001002", "世帯主", "佐藤　一郎", "山形県", "西置賜郡白鷹町", "十王１２３", "1", "サトウ イチロウ"),
        ("0000001003", "世帯主", "山田　太郎", "山形県", "西置賜郡白鷹町", "荒砥甲８３３", "1", "ヤマダ タロウ"),
        ("0000001004", "子", "山田　太郎", "山形県", "西置賜郡白鷹町", "荒砥甲８３３", "1", "ヤマダ ハジメ"),
        ("0000001005", "妻", "佐藤　一郎", "山形県", "白鷹町", "十王１２３", "2", "サトウ カズコ")]
    assert set(rows["jumin_shubetsu"]) == {"1"} and set(rows["idou_jiyu"]) == {"107"}
    assert rows["lg_code"].unique().to_list() == ["064025"]
    # the address with a typo is rejected once, masked; nothing is cut at a guessed place
    assert rejects.select("record", "reason", "value").rows() == [
        ("7", "address_unsplit", "*********")]
    assert doc["reconciliation"]["reconciled"] is True
    assert doc["reconciliation"]["data_records_read"] == 6


def test_vendor_b_rejects_say_why(export: Path, tmp_path: Path, convert) -> None:
    data = bytearray(export.read_bytes())
    second = 200 * 2  # 佐藤一郎 (head of 502) becomes a spouse: household 502 has no head
    data[second + 82:second + 84] = b"02"
    fifth = 200 * 5 + 81  # 佐藤和子: a sex code the table does not know
    data[fifth:fifth + 1] = b"X"
    export.write_bytes(bytes(data))
    _, _, rejects = convert(load_mapping(MAPPING), export, tmp_path / "out", chunk_bytes=400)
    found = {(r, reason) for r, reason in rejects.select("record", "reason").iter_rows()}
    # household 502 has no head any more: its members cannot get the head's name (and, being
    # rejected for that, are not rejected again by the group check one_head_per_household)
    assert found == {("3", "lookup_missing"), ("6", "lookup_missing"), ("6", "unknown_code"),
                     ("7", "address_unsplit")}
    # one problem, one line: the unknown sex code, which empties 続柄 too
    sex = rejects.filter(rejects["reason"] == "unknown_code")
    assert sex.select("record", "field", "column", "value").rows() == [
        ("6", "sex", "sex,zokugara", "X")]


IVS = "葛\U000e0100"  # the MJ 文字 of 外字 F040: base character + variation selector


def test_a_name_at_its_length_with_an_ivs_goes_into_the_database(tmp_path: Path,
                                                                 db_url: str) -> None:
    """Vendor B with its name field widened to the column's 100 characters and a 外字 table
    giving an IVS: a name of 99 characters and one 外字 (101 code points) is at the length,
    end to end — the pipeline's check, the CHECK constraints and VARCHAR of SQLite and
    PostgreSQL, and `migrate reconcile` reading the table again."""
    import shutil

    import sqlalchemy as sa
    from click.testing import CliRunner

    from migrate.cli import main
    from migrate.run.pipeline import RunOptions, run

    shutil.copytree(MAPPING.parent / "codes", tmp_path / "codes")
    (tmp_path / "gaiji.csv").write_text("code,char,mj,note\nF040," + IVS + ",MJ000001,\n",
                                        encoding="utf-8")
    text = MAPPING.read_text(encoding="utf-8").replace(
        "record_length: 200", "record_length: 400\n  gaiji: gaiji.csv").replace(
        "shimei:     {offset: 21,  length: 30", "shimei:     {offset: 200, length: 200")
    (tmp_path / "juki.yaml").write_text(text, encoding="utf-8")
    name = b"\xf0\x40" + "長".encode("cp932") * 99  # 200 bytes: 100 characters
    people = [p for p in PEOPLE if p[1] == 501]
    body = b"".join(record(*p) + name for p in people)
    path = tmp_path / "jumin_b.dat"
    path.write_bytes(b"H06402520250401".ljust(400) + body
                     + b"T" + f"{len(people):09d}".encode().ljust(399))

    out = tmp_path / "out"
    result = run(RunOptions(load_mapping(tmp_path / "juki.yaml"), path, out, db_url=db_url,
                            workers=1))
    assert result.exit_code == 0
    engine = sa.create_engine(db_url)
    try:
        with engine.connect() as conn:
            names = conn.exec_driver_sql(
                "SELECT shimei, setai_nushi_name FROM juki ORDER BY atena_no").all()
    finally:
        engine.dispose()
    assert names == [(IVS + "長" * 99, IVS + "長" * 99)] * 3
    assert len(names[0][0]) == 101
    checked = CliRunner().invoke(main, ["reconcile", str(out), "--db", db_url])
    assert checked.exit_code == 0, checked.output
