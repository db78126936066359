"""The malformed catalogue: bad inputs and environments, each made by a small function in a
temporary folder and run through the real command line (`migrate.cli:main` in click's
CliRunner). None may end in exit 3 ("internal error") or print a traceback:

- a mapping, schema, code table, plan, command line or environment that cannot be used ends in
  exit 2 with a one-paragraph message naming the cause (the expected fragment) and the fix;
- data that is merely bad ends in rejects (exit 0, or 1 when the run's checks fail), and
  run.json still proves data records read = accepted + rejected.

Some cases also name text that must never be shown (a password, a resident's name).
The output folder itself (`--out` on a file, a read-only or full output disk) and publishing
are covered by the publishing tests, not here.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from migrate.cli import main

ROOT = Path(__file__).resolve().parents[2]
SECRET = "Pa55w0rd-hush"
RESIDENT = "山田太郎"


@dataclass(frozen=True)
class Case:
    """One malformed input: `make(tmp)` writes it and returns the arguments of `migrate`."""

    name: str
    make: Callable[[Path], list[str]]
    exit_code: int
    fragment: str
    data: bool = False  # a run that reads the data: check read = accepted + rejected
    rejects: bool = True  # (data) some records are rejected
    never: tuple[str, ...] = ()  # text that must not be shown
    patch: Callable[[pytest.MonkeyPatch], None] | None = None
    file_size_limit: int | None = None  # run in a process whose files cannot grow past this
    env: tuple[tuple[str, str], ...] = ()  # run in a process with these environment variables


CASES: list[Case] = []


def case(exit_code: int, fragment: str, *, data: bool = False, rejects: bool = True,
         never: tuple[str, ...] = (), patch: Callable[[pytest.MonkeyPatch], None] | None = None,
         file_size_limit: int | None = None, env: tuple[tuple[str, str], ...] = ()
         ) -> Callable[[Callable[[Path], list[str]]], Callable[[Path], list[str]]]:
    def register(make: Callable[[Path], list[str]]) -> Callable[[Path], list[str]]:
        CASES.append(Case(make.__name__, make, exit_code, fragment, data, rejects, never,
                          patch, file_size_limit, env))
        return make
    return register


# ---------------------------------------------------------------- building blocks

_GENERATED: dict[str, bytes] = {}


def town(tmp: Path) -> Path:
    """An editable copy of the vendor_a mappings and the schemas; mappings name their schema
    by relative path."""
    root = tmp / "town"
    if not root.exists():
        shutil.copytree(ROOT / "mappings" / "vendor_a", root / "vendor_a")
        shutil.copytree(ROOT / "schemas", root / "schemas")
        for path in (root / "vendor_a").glob("*.yaml"):
            text = path.read_text(encoding="utf-8")
            for layout in ("juki", "zeimu", "kokuho_setai", "kokuho_fuka", "kokuho"):
                text = text.replace(f"target: {layout}/v1",
                                    f"target: ../schemas/{layout}/v1.yaml")
            path.write_text(text, encoding="utf-8")
    return root


def juki_file(tmp: Path, rows: int = 20) -> Path:
    """A clean generated vendor_a resident export (generated once per session)."""
    key = f"juki{rows}"
    if key not in _GENERATED:
        from migrate.layouts import load_mapping
        from migrate.synth.generate import generate

        out = tmp / "generated.dat"
        generate(load_mapping("vendor_a/juki"), out, rows, seed=3)
        _GENERATED[key] = out.read_bytes()
    path = tmp / "juki.dat"
    path.write_bytes(_GENERATED[key])
    return path


def juki(tmp: Path, edit: Callable[[str], str] | None = None, db: str | None = "none"
         ) -> list[str]:
    """`migrate run` of a clean export with the (edited) vendor_a resident mapping (db None:
    the default database, OUT/migrate.db)."""
    mapping = town(tmp) / "vendor_a" / "juki.yaml"
    if edit is not None:
        mapping.write_text(edit(mapping.read_text(encoding="utf-8")), encoding="utf-8")
    return ["run", "-m", str(mapping), str(juki_file(tmp)), "--out", str(tmp / "out"),
            *(["--db", db] if db else []), "--workers", "1"]


def schema_edit(tmp: Path, old: str, new: str, layout: str = "juki") -> list[str]:
    args = juki(tmp)
    path = town(tmp) / "schemas" / layout / "v1.yaml"
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return args


def replace(old: str, new: str) -> Callable[[str], str]:
    def edit(text: str) -> str:
        assert old in text, old
        return text.replace(old, new, 1)
    return edit


def records(path: Path) -> list[bytearray]:
    data = path.read_bytes()
    return [bytearray(data[i:i + 432]) for i in range(0, len(data) - len(data) % 432, 432)]


def write_records(path: Path, recs: list[bytearray]) -> None:
    path.write_bytes(b"".join(bytes(r) for r in recs))


LIST_SCHEMA = """\
layout: list_test/v1
title: {ja: テスト, en: Test}
primary_key: [atena_no]
columns:
  - {name: src_record, ja: 行, en: Line, dtype: int, required: true}
  - {name: atena_no, ja: 宛名番号, en: Person id, dtype: digits, max_length: 8, required: true}
  - {name: shimei, ja: 氏名, en: Name, dtype: str, max_length: 10, required: true, pii: name}
"""

LIST_MAPPING = """\
mapping: test/list
target: schema.yaml
source:
  format: delimited
  encoding: cp932
  delimiter: ","
  newline: crlf
  header_line: true
fields:
  atena_no: {column: 0, length: 8, type: digits}
  shimei: {name: "氏名", length: 20, type: text}
columns:
  src_record: {source: record_number}
  atena_no: atena_no
  shimei: shimei
"""


def listing(tmp: Path, lines: list[str], mapping: str = LIST_MAPPING,
            schema: str = LIST_SCHEMA) -> list[str]:
    """A small CSV export (cp932, CRLF) with its own layout and mapping."""
    (tmp / "schema.yaml").write_text(schema, encoding="utf-8")
    (tmp / "mapping.yaml").write_text(mapping, encoding="utf-8")
    path = tmp / "list.csv"
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("cp932"))
    return ["run", "-m", str(tmp / "mapping.yaml"), str(path), "--out", str(tmp / "out"),
            "--db", "none", "--workers", "1"]


# ---------------------------------------------------------------- mapping files (YAML)


@case(2, "looks like cp932")
def mapping_in_cp932(tmp: Path) -> list[str]:
    args = juki(tmp)
    path = Path(args[2])
    path.write_bytes(path.read_text(encoding="utf-8").encode("cp932"))
    return args


@case(2, "looks like utf-16")
def mapping_in_utf16(tmp: Path) -> list[str]:
    args = juki(tmp)
    path = Path(args[2])
    path.write_bytes(path.read_text(encoding="utf-8").encode("utf-16"))
    return args


@case(2, "nesting deeper than")
def yaml_nested_5000_deep(tmp: Path) -> list[str]:
    return juki(tmp, lambda text: text + "\nrecords: " + "[" * 5000 + "]" * 5000 + "\n")


@case(2, "aliases expand to more than")
def yaml_alias_bomb_in_a_scalar(tmp: Path) -> list[str]:
    bomb = ['b0: &b0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    bomb += [f"b{i}: &b{i} [" + ", ".join([f"*b{i - 1}"] * 9) + "]" for i in range(1, 10)]
    return juki(tmp, lambda text: "\n".join(bomb) + "\n" + text.replace(
        "title: {ja: ベンダーA 住民記録エクスポート, en: Vendor A resident-record export}",
        "title: {ja: *b9, en: x}"))


@case(2, "aliases nest deeper than")
def yaml_alias_chain_nesting_deep(tmp: Path) -> list[str]:
    chain = ["c0: &c0 x"] + [f"c{i}: &c{i} " + "[" * 50 + f"*c{i - 1}" + "]" * 50
                             for i in range(1, 40)]
    return juki(tmp, lambda text: "\n".join(chain) + "\n" + text.replace(
        "title: {ja: ベンダーA 住民記録エクスポート, en: Vendor A resident-record export}",
        "title: {ja: *c39, en: x}"))


@case(2, "recursive")
def yaml_recursive_anchor(tmp: Path) -> list[str]:
    return juki(tmp, replace("version: 1", "version: &v [*v]"))


@case(2, "the YAML cannot be parsed")
def yaml_unclosed_bracket(tmp: Path) -> list[str]:
    return juki(tmp, replace("{offset: 1,   length: 8,  type: packed}",
                             "{offset: 1,   length: 8,  type: packed"))


@case(2, "duplicate key")
def yaml_duplicate_key(tmp: Path) -> list[str]:
    return juki(tmp, replace("version: 1", "version: 1\nversion: 2"))


@case(2, "must hold a YAML mapping at the top level")
def yaml_top_level_list(tmp: Path) -> list[str]:
    return juki(tmp, lambda text: "- just\n- a list\n")


@case(2, "more than the")
def mapping_file_too_large(tmp: Path) -> list[str]:
    return juki(tmp, lambda text: text + ("# " + "x" * 1000 + "\n") * 9000)


@case(2, "unknown mapping")
def mapping_is_a_device(tmp: Path) -> list[str]:
    args = juki(tmp)
    args[2] = "/dev/zero"
    return args


@case(2, "eof_marker must be one byte value")
def eof_marker_text(tmp: Path) -> list[str]:
    return juki(tmp, replace("eof_marker: 0x1a", "eof_marker: abc"))


@case(2, "eof_marker must be one byte value")
def eof_marker_too_large(tmp: Path) -> list[str]:
    return juki(tmp, replace("eof_marker: 0x1a", "eof_marker: 300"))


@case(2, "must be a whole number")
def record_length_text(tmp: Path) -> list[str]:
    return juki(tmp, replace("record_length: 430", "record_length: abc"))


@case(2, "is larger than")
def record_length_absurd(tmp: Path) -> list[str]:
    return juki(tmp, replace("record_length: 430", "record_length: 1000000000000"))


@case(2, "more than the 16,777,216 bytes a record may have")
def record_length_a_gigabyte(tmp: Path) -> list[str]:
    return juki(tmp, replace("record_length: 430", "record_length: 1000000000"))


@case(2, "field shimei is 1,000,000,000 bytes long")
def csv_field_a_gigabyte_wide(tmp: Path) -> list[str]:
    return listing(tmp, ["番号,氏名", "1,山田"], mapping=LIST_MAPPING.replace(
        '{name: "氏名", length: 20, type: text}', '{name: "氏名", length: 1000000000, type: text}'))


@case(2, "'version' in the mapping must be a whole number")
def version_text(tmp: Path) -> list[str]:
    return juki(tmp, replace("version: 1", "version: abc"))


@case(2, "'title' must map ja and en")
def title_not_a_mapping(tmp: Path) -> list[str]:
    return juki(tmp, lambda text: text.replace(
        "title: {ja: ベンダーA 住民記録エクスポート, en: Vendor A resident-record export}",
        "title: just text"))


@case(2, "encoding 'klingon' cannot be used")
def unknown_encoding(tmp: Path) -> list[str]:
    return juki(tmp, replace("encoding: cp932", "encoding: klingon"))


@case(2, "'unknown_date_parts' must be a value or a list")
def unknown_date_parts_mapping(tmp: Path) -> list[str]:
    return juki(tmp, replace('unknown_date_parts: ["00"]', "unknown_date_parts: {a: 1}"))


@case(2, "mapping id '../juki' is not a safe name")
def mapping_id_with_dots(tmp: Path) -> list[str]:
    return juki(tmp, replace("mapping: vendor_a/juki", "mapping: ../juki"))


@case(2, "record type code '住' is not printable ASCII")
def record_type_code_not_ascii(tmp: Path) -> list[str]:
    return juki(tmp, replace('data: "2"', 'data: "住"'))


@case(2, "'data' is missing in record_type")
def csv_record_type_without_codes(tmp: Path) -> list[str]:
    return listing(tmp, ["番号,氏名", "1,山田"], mapping=LIST_MAPPING.replace(
        "  header_line: true\n", "  header_line: true\n  record_type: {column: 0}\n"))


@case(2, "unknown schema")
def target_schema_missing(tmp: Path) -> list[str]:
    return juki(tmp, replace("target: ../schemas/juki/v1.yaml", "target: nowhere/v9"))


# ---------------------------------------------------------------- code and 外字 tables


@case(2, "device or a pipe")
def code_table_dev_zero(tmp: Path) -> list[str]:
    return juki(tmp, replace("codes/sex.csv", "/dev/zero"))


@case(2, "device or a pipe")
def code_table_is_a_fifo(tmp: Path) -> list[str]:
    import os

    args = juki(tmp)
    os.mkfifo(tmp / "codes.fifo")
    path = Path(args[2])
    path.write_text(path.read_text(encoding="utf-8").replace(
        "codes/sex.csv", str(tmp / "codes.fifo")), encoding="utf-8")
    return args


@case(2, "more than the")
def code_table_huge(tmp: Path) -> list[str]:
    args = juki(tmp)
    with open(town(tmp) / "vendor_a" / "codes" / "sex.csv", "a", encoding="utf-8") as handle:
        handle.write(("#" * 1023 + "\n") * (17 * 1024))
    return args


@case(2, "is a folder, not a CSV file")
def code_table_is_a_folder(tmp: Path) -> list[str]:
    return juki(tmp, replace("codes/sex.csv", "codes"))


@case(2, "does not exist")
def code_table_missing(tmp: Path) -> list[str]:
    return juki(tmp, replace("codes/sex.csv", "codes/gender.csv"))


@case(2, "the table is not UTF-8 text")
def code_table_in_cp932(tmp: Path) -> list[str]:
    args = juki(tmp)
    path = town(tmp) / "vendor_a" / "codes" / "sex.csv"
    path.write_bytes(path.read_text(encoding="utf-8-sig").encode("cp932"))
    return args


@case(2, "the table lacks the column(s) source, standard")
def code_table_without_header(tmp: Path) -> list[str]:
    args = juki(tmp)
    (town(tmp) / "vendor_a" / "codes" / "sex.csv").write_text("1,1\n2,2\n", encoding="utf-8")
    return args


@case(2, "does not have the columns of its first line")
def code_table_short_row(tmp: Path) -> list[str]:
    args = juki(tmp)
    with open(town(tmp) / "vendor_a" / "codes" / "sex.csv", "a", encoding="utf-8") as handle:
        handle.write("9\n")
    return args


@case(2, "appears twice")
def code_table_duplicate_code(tmp: Path) -> list[str]:
    args = juki(tmp)
    path = town(tmp) / "vendor_a" / "codes" / "sex.csv"
    lines = path.read_text(encoding="utf-8-sig").splitlines()
    path.write_text("\n".join([*lines, lines[1]]) + "\n", encoding="utf-8")
    return args


@case(2, "is not a user-defined-area code")
def gaiji_code_outside_the_user_area(tmp: Path) -> list[str]:
    args = juki(tmp)
    (town(tmp) / "vendor_a" / "gaiji.csv").write_text("code,char\nZZZZ,𠮷\n", encoding="utf-8")
    return args


# ---------------------------------------------------------------- schemas: names, types


@case(2, "column name 'atena\"no' is not a safe name")
def column_name_with_a_quote(tmp: Path) -> list[str]:
    return schema_edit(tmp, "name: setai_no", "name: 'atena\"no'")


@case(2, "is not a safe name")
def column_name_with_dots(tmp: Path) -> list[str]:
    return schema_edit(tmp, "name: setai_no", "name: '..setai_no'")


@case(2, "layout id 'juki/../v1' is not a safe name")
def layout_id_with_dots(tmp: Path) -> list[str]:
    return schema_edit(tmp, "layout: juki/v1", "layout: juki/../v1")


@case(2, "layout id 'ju\"ki/v1' is not a safe name")
def layout_id_with_a_quote(tmp: Path) -> list[str]:
    return schema_edit(tmp, "layout: juki/v1", "layout: 'ju\"ki/v1'")


@case(2, "must be a whole number")
def column_length_text(tmp: Path) -> list[str]:
    return schema_edit(tmp, "length: 6", "length: six")


@case(2, "'max' in column")
def column_maximum_text(tmp: Path) -> list[str]:
    return schema_edit(tmp, "    dtype: int\n    required: true",
                       "    dtype: int\n    max: lots\n    required: true")


@case(2, "'max_length' does not apply to a date column")
def column_dtype_changed_but_not_its_length(tmp: Path) -> list[str]:
    return schema_edit(tmp, "    dtype: str\n    max_length: 60", "    dtype: date\n    max_length: 60")


@case(2, "column src_record takes the record number, but its dtype in juki/v1 is str")
def record_number_into_a_text_column(tmp: Path) -> list[str]:
    return schema_edit(tmp, "    dtype: int\n    required: true", "    dtype: str\n    required: true")


@case(2, "compare puts birth (date) beside shimei (text)")
def compare_rule_across_types(tmp: Path) -> list[str]:
    schema = LIST_SCHEMA + ("  - {name: birth, ja: 生年月日, en: Birth, dtype: date}\n"
                            "rules:\n  - {name: r1, compare: 'birth >= shimei'}\n")
    mapping = LIST_MAPPING.replace("  shimei: shimei\n", "  shimei: shimei\n  birth: birth\n") \
        .replace("fields:\n", "fields:\n  birth: {column: 2, length: 8, type: ymd}\n")
    return listing(tmp, ["番号,氏名,生年月日", "1,山田,20000101"], mapping=mapping, schema=schema)


@case(2, "a decimal column holds at most 38 digits")
def decimal_precision_too_large(tmp: Path) -> list[str]:
    return listing(tmp, ["番号,氏名", "1,山田"], schema=LIST_SCHEMA + (
        "  - {name: amount, ja: 金額, en: Amount, dtype: decimal, precision: 1950}\n"))


@case(2, "the pattern uses (?<=, which the regular-expression engine")
def check_pattern_with_lookbehind(tmp: Path) -> list[str]:
    return schema_edit(tmp, 'pattern: "^[A-Z]{2}[0-9]{8}[A-Z]{2}$"',
                       'pattern: "(?<=[A-Z]{2})[0-9]{8}"')


@case(2, "primary key column '5' is not a column")
def primary_key_a_number(tmp: Path) -> list[str]:
    return schema_edit(tmp, "primary_key: [atena_no]", "primary_key: 5")


@case(2, "'rules' must be a list")
def rules_a_number(tmp: Path) -> list[str]:
    return listing(tmp, ["番号,氏名", "1,山田"], schema=LIST_SCHEMA + "rules: 5\n")


# ---------------------------------------------------------------- plans


@case(2, "'inputs' must be a non-empty list")
def plan_inputs_not_a_list(tmp: Path) -> list[str]:
    plan = tmp / "migration.yaml"
    plan.write_text("migration: x\ninputs: {a: 1}\n", encoding="utf-8")
    return ["run", str(plan), "--out", str(tmp / "out"), "--db", "none"]


@case(2, "unknown mapping")
def plan_names_a_missing_mapping(tmp: Path) -> list[str]:
    plan = tmp / "migration.yaml"
    plan.write_text("migration: x\ninputs:\n  - {mapping: vendor_z/juki, input: a.dat}\n",
                    encoding="utf-8")
    return ["run", str(plan), "--out", str(tmp / "out"), "--db", "none"]


# ---------------------------------------------------------------- the legacy input


@case(2, "does not exist")
def input_is_a_folder(tmp: Path) -> list[str]:
    args = juki(tmp)
    args[3] = str(tmp)
    return args


@case(2, "does not exist")
def input_is_a_device(tmp: Path) -> list[str]:
    args = juki(tmp)
    args[3] = "/dev/zero"
    return args


@case(2, "is empty")
def input_empty(tmp: Path) -> list[str]:
    args = juki(tmp)
    Path(args[3]).write_bytes(b"")
    return args


@case(2, "not a whole number of")
def input_truncated(tmp: Path) -> list[str]:
    args = juki(tmp)
    path = Path(args[3])
    path.write_bytes(path.read_bytes()[:-100])
    return args


@case(2, "the first record is not a header record")
def input_without_header_record(tmp: Path) -> list[str]:
    args = juki(tmp)
    path = Path(args[3])
    path.write_bytes(path.read_bytes()[432:])
    return args


@case(2, "has no column named '氏名'", never=(RESIDENT,))
def csv_without_its_header_line(tmp: Path) -> list[str]:
    return listing(tmp, [f"1,{RESIDENT}", "2,佐藤花子"])


@case(2, "never closed")
def csv_unterminated_quote(tmp: Path) -> list[str]:
    return listing(tmp, ["番号,氏名", '1,"山田', "2,佐藤"])


@case(2, "the line ends with LF")
def csv_wrong_newline(tmp: Path) -> list[str]:
    args = listing(tmp, ["番号,氏名", "1,山田"])
    Path(args[3]).write_bytes("番号,氏名\n1,山田\n".encode("cp932"))
    return args


# ---------------------------------------------------------------- bad data: rejects


@case(0, "", data=True)
def data_unknown_code_and_broken_bytes(tmp: Path) -> list[str]:
    args = juki(tmp)
    path = Path(args[3])
    recs = records(path)
    recs[2][137:138] = b"Z"  # sex: not in the code table
    recs[3][50:54] = b"\x85\x40\xff\xfe"  # shimei: bytes cp932 cannot decode
    recs[4][130:137] = b"9999999"  # birth: no such era
    write_records(path, recs)
    return args


@case(1, "trailer", data=True, rejects=False)
def data_trailer_count_wrong(tmp: Path) -> list[str]:
    args = juki(tmp)
    path = Path(args[3])
    recs = records(path)
    recs[-1][1:10] = b"000000099"
    write_records(path, recs)
    return args


@case(1, "", data=True)
def data_more_rejects_than_allowed(tmp: Path) -> list[str]:
    args = juki(tmp)
    path = Path(args[3])
    recs = records(path)
    for rec in recs[1:6]:
        rec[137:138] = b"Z"
    write_records(path, recs)
    return [*args, "--max-rejects", "2"]


@case(1, "", data=True)
def data_unknown_record_type(tmp: Path) -> list[str]:
    args = juki(tmp)
    path = Path(args[3])
    recs = records(path)
    recs[5][0:1] = b"7"
    write_records(path, recs)
    return args


@case(0, "", data=True)
def data_csv_cell_too_long_and_missing(tmp: Path) -> list[str]:
    return listing(tmp, ["番号,氏名", "1,山田", "123456789012,佐藤", "3", "4,あいうえおかきくけこさしすせそ"])


@case(0, "", data=True, rejects=False)
def csv_with_only_its_header_line(tmp: Path) -> list[str]:
    return listing(tmp, ["番号,氏名"])


@case(0, "", data=True)
def csv_with_nul_bytes(tmp: Path) -> list[str]:
    args = listing(tmp, ["番号,氏名", "1,山田", "2,佐藤"])
    path = Path(args[3])
    path.write_bytes(path.read_bytes().replace(b"1,", b"1\x00,"))
    return args


@case(0, "", data=True)
def csv_with_a_9_mb_cell(tmp: Path) -> list[str]:
    return listing(tmp, ["番号,氏名", "1,山田", "2," + "山" * 3_000_000])


@case(0, "", data=True)
def csv_with_blank_lines(tmp: Path) -> list[str]:
    return listing(tmp, ["番号,氏名", "", "1,山田", "", ""])


# ---------------------------------------------------------------- command line, database


@case(2, "the port in the database URL", never=(SECRET,))
def db_port_not_a_number(tmp: Path) -> list[str]:
    return juki(tmp, db=f"postgresql://u:{SECRET}@db:abc/town")


@case(2, "is not a database URL", never=(SECRET,))
def db_url_without_scheme(tmp: Path) -> list[str]:
    return juki(tmp, db=f"u:{SECRET}@db")


@case(2, "cannot use the database URL", never=(SECRET,))
def db_unknown_dialect(tmp: Path) -> list[str]:
    return juki(tmp, db=f"nosuchdb://u:{SECRET}@db/town")


@case(2, "is a folder")
def db_sqlite_url_is_a_folder(tmp: Path) -> list[str]:
    return juki(tmp, db=f"sqlite:///{tmp}")


@case(2, "cannot create the SQLite database")
def db_sqlite_under_a_file(tmp: Path) -> list[str]:
    args = juki(tmp)
    args[args.index("--db") + 1] = f"sqlite:///{args[3]}/migrate.db"
    return args


@case(2, "is not a SQLite database")
def db_sqlite_file_is_not_a_database(tmp: Path) -> list[str]:
    (tmp / "junk.db").write_bytes(b"this is not a database at all, " * 100)
    return juki(tmp, db=f"sqlite:///{tmp / 'junk.db'}")


@case(2, "Connection refused", never=(SECRET,))
def db_server_not_running(tmp: Path) -> list[str]:
    pytest.importorskip("psycopg")
    return juki(tmp, db=f"postgresql+psycopg://u:{SECRET}@127.0.0.1:1/town")


_HELD: list[sqlite3.Connection] = []  # locks a case holds while migrate runs


@case(2, "database is locked")
def db_locked_by_another_program(tmp: Path) -> list[str]:
    """A database browser holds a write lock on the file (SQLite waits a while, then gives up)."""
    path = tmp / "db" / "migrate.db"
    path.parent.mkdir()
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("CREATE TABLE other (x INTEGER)")
    holder.execute("BEGIN EXCLUSIVE")
    _HELD.append(holder)
    return juki(tmp, db=f"sqlite:///{path}")


def _disk_full(monkeypatch: pytest.MonkeyPatch) -> None:
    import sqlalchemy as sa

    from migrate.sinks.sql import SqlSink

    def write(self, frame):  # noqa: ANN001 - the sink's signature
        raise sa.exc.OperationalError("INSERT INTO juki", None,
                                      sqlite3.OperationalError("database or disk is full"))

    monkeypatch.setattr(SqlSink, "write", write)


@case(2, "database or disk is full", patch=_disk_full)
def db_disk_full(tmp: Path) -> list[str]:
    return juki(tmp, db=f"sqlite:///{tmp / 'db' / 'migrate.db'}")


@case(2, "disk I/O error", file_size_limit=90 * 1024)
def db_disk_full_for_real(tmp: Path) -> list[str]:
    """No file may grow past 90 kB (RLIMIT_FSIZE: SQLite sees a failing write, as on a full
    disk): the 300-row CSV, Parquet and report stay below it, the database does not."""
    args = juki(tmp, db=f"sqlite:///{tmp / 'db' / 'migrate.db'}")
    args[3] = str(juki_file(tmp, rows=300))
    return args


@case(0, "", data=True, rejects=False, env=(("PYTHONIOENCODING", "ascii"),))
def terminal_that_cannot_show_japanese(tmp: Path) -> list[str]:
    return juki(tmp)


@case(2, "\\u30a8\\u30e9\\u30fc", env=(("PYTHONIOENCODING", "ascii"), ("LANG", "ja_JP.UTF-8")))
def terminal_that_cannot_show_a_japanese_error(tmp: Path) -> list[str]:
    return juki(tmp, replace("eof_marker: 0x1a", "eof_marker: abc"))


def _out_of_memory(monkeypatch: pytest.MonkeyPatch) -> None:
    import migrate.run.pipeline

    def open_reader(*args, **kwargs):  # noqa: ANN002, ANN003
        raise MemoryError

    monkeypatch.setattr(migrate.run.pipeline, "open_reader", open_reader)


@case(2, "ran out of memory", patch=_out_of_memory)
def out_of_memory(tmp: Path) -> list[str]:
    return juki(tmp)


@case(2, "--scheduler needs --engine dask")
def scheduler_without_dask(tmp: Path) -> list[str]:
    return [*juki(tmp), "--scheduler", "tcp://nowhere:8786"]


@case(2, "Invalid value for '--chunk-mb'")
def chunk_size_zero(tmp: Path) -> list[str]:
    return [*juki(tmp), "--chunk-mb", "0"]


@case(2, "--mapping is missing")
def legacy_file_without_mapping(tmp: Path) -> list[str]:
    args = juki(tmp)
    return ["run", args[3], "--out", str(tmp / "out")]


# ---------------------------------------------------------------- migrate reconcile of a run folder


def finished_run(tmp: Path) -> Path:
    """A run folder of a clean run with its SQLite database."""
    from click.testing import CliRunner

    result = CliRunner().invoke(main, juki(tmp, db=None))
    assert result.exit_code == 0, result.output
    return tmp / "out"


def _edit_run_json(out: Path, edit: Callable[[dict], None]) -> None:
    document = json.loads((out / "run.json").read_text(encoding="utf-8"))
    edit(document)
    (out / "run.json").write_text(json.dumps(document), encoding="utf-8")


@case(2, "lacks what the run recorded")
def reconcile_run_json_without_counts(tmp: Path) -> list[str]:
    out = finished_run(tmp)
    _edit_run_json(out, lambda d: d.pop("reconciliation"))
    return ["reconcile", str(out)]


@case(2, "cannot read")
def reconcile_run_json_not_json(tmp: Path) -> list[str]:
    out = finished_run(tmp)
    (out / "run.json").write_bytes(b"\x00\xff not json")
    return ["reconcile", str(out)]


@case(2, "is not a readable Parquet file")
def reconcile_parquet_damaged(tmp: Path) -> list[str]:
    out = finished_run(tmp)
    (out / "juki.parquet").write_bytes(b"PAR1 truncated")
    return ["reconcile", str(out)]


@case(2, "is not a SQLite database")
def reconcile_database_replaced_by_junk(tmp: Path) -> list[str]:
    out = finished_run(tmp)
    (out / "migrate.db").write_bytes(b"junk" * 100)
    return ["reconcile", str(out)]


@case(2, "the port in the database URL", never=(SECRET,))
def reconcile_db_port_not_a_number(tmp: Path) -> list[str]:
    return ["reconcile", str(finished_run(tmp)), "--db", f"postgresql://u:{SECRET}@db:x/town"]


@case(2, "does not exist")
def reconcile_folder_missing(tmp: Path) -> list[str]:
    return ["reconcile", str(tmp / "nowhere")]


@case(2, "the port in the database URL", never=(SECRET,))
def export_from_a_url_with_a_bad_port(tmp: Path) -> list[str]:
    return ["export", "--from", f"postgresql://u:{SECRET}@db:abc/town", "--to", str(tmp / "pkg")]


@case(2, "the port in the database URL", never=(SECRET,))
def diff_of_a_url_with_a_bad_port(tmp: Path) -> list[str]:
    return ["diff", f"postgresql://u:{SECRET}@db:abc/town", f"postgresql://u:{SECRET}@db/x",
            "--layout", "juki/v1", "--out", str(tmp / "diff")]


# ---------------------------------------------------------------- the test


def _in_a_process(args: list[str], limit: int | None, extra: dict[str, str]
                  ) -> tuple[int, str]:
    import os
    import resource
    import subprocess
    import sys

    def limit_files() -> None:
        if limit is not None:
            resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    env = {**os.environ, "LANG": "C.UTF-8", **extra}
    env.pop("MIGRATE_DEBUG", None)
    done = subprocess.run([sys.executable, "-c", "from migrate.cli import main; main()", *args],
                          preexec_fn=limit_files, capture_output=True, text=True, env=env,
                          timeout=600, check=False)
    return done.returncode, done.stdout + done.stderr


def _run_json(tmp: Path) -> dict | None:
    """The run's run.json: in OUT, or in the failed-run folder beside it."""
    found = sorted((p for out in tmp.glob("out*") for p in out.rglob("run.json")),
                   key=lambda p: p.stat().st_mtime)
    return json.loads(found[-1].read_text(encoding="utf-8")) if found else None


def test_the_catalogue_is_large_enough():
    assert len(CASES) >= 40
    assert len({c.name for c in CASES}) == len(CASES)


@pytest.mark.parametrize("item", CASES, ids=[c.name for c in CASES])
def test_malformed(item: Case, tmp_path: Path, runner, monkeypatch):
    monkeypatch.delenv("MIGRATE_DEBUG", raising=False)
    args = item.make(tmp_path)
    if item.patch is not None:
        item.patch(monkeypatch)
    try:
        if item.file_size_limit is not None or item.env:
            exit_code, shown = _in_a_process(args, item.file_size_limit, dict(item.env))
        else:
            result = runner.invoke(main, args, catch_exceptions=False)
            exit_code, shown = result.exit_code, result.output
    finally:
        while _HELD:
            _HELD.pop().close()
    assert "Traceback" not in shown and "internal error" not in shown, shown
    assert exit_code == item.exit_code, shown
    assert item.fragment in shown, shown
    for text in item.never:
        assert text not in shown, shown
    if item.exit_code == 2 and "LANG" not in dict(item.env):
        assert "error:" in shown.lower()
    if item.data:
        document = _run_json(tmp_path)
        assert document is not None, shown
        rec = document["reconciliation"]
        assert rec["data_records_read"] == rec["accepted"] + rec["rejected"]
        assert (rec["rejected"] > 0) == item.rejects


def test_a_bug_is_exit_3_without_the_values_it_was_holding(tmp_path, runner, monkeypatch):
    """Exit 3 stays for real bugs; its message names the exception and where it happened, but
    not its text (which may quote a resident's data), and claims nothing about the outputs."""
    import migrate.run.pipeline

    def bug(*args, **kwargs):  # noqa: ANN002, ANN003
        raise ValueError(f"cannot convert {RESIDENT}")

    monkeypatch.delenv("MIGRATE_DEBUG", raising=False)
    monkeypatch.setattr(migrate.run.pipeline, "open_reader", bug)
    result = runner.invoke(main, juki(tmp_path), catch_exceptions=False)
    assert result.exit_code == 3
    assert "internal error: ValueError at migrate/run/pipeline.py:" in result.output
    assert RESIDENT not in result.output and "no output was saved" not in result.output.lower()
