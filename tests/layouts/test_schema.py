"""The bundled standard layouts (schemas/**/*.yaml): each loads, builds its pandera schema, has
complete code tables and references, and validates hand-made clean and broken rows as intended."""

from __future__ import annotations

import csv
import shutil
from datetime import date
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest
import yaml

from migrate.layouts import Schema, load_schema
from migrate.transform.mapper import OFFSET_COL, RECORD_COL, polars_dtype
from migrate.validate.panderaschema import build_pandera_schema
from migrate.validate.rows import Validator

ROOT = Path(__file__).resolve().parents[2]
SCHEMA_DIR = ROOT / "schemas"
SCHEMA_FILES = sorted(SCHEMA_DIR.rglob("*.yaml"))
IDS = [str(p.relative_to(SCHEMA_DIR).with_suffix("")) for p in SCHEMA_FILES]


@pytest.fixture(scope="module", params=SCHEMA_FILES, ids=IDS)
def schema(request) -> Schema:
    return load_schema(request.param)  # a path, or a layout id (see `having`)


def test_the_expected_layouts_are_bundled():
    assert {"juki/v1", "zeimu/v1", "zeimu_shotoku/v1", "kokuho/v1", "kokuho_setai/v1",
            "kokuho_fuka/v1"} <= set(IDS)


# Which layouts declare what the per-column checks below look at, written by hand: each such
# check runs only on these layouts and asserts that it found something to check there.
HAVING = {
    "code": {"juki/v1", "kokuho/v1", "kokuho_fuka/v1", "zeimu/v1", "zeimu_shotoku/v1"},
    "references": {"kokuho/v1", "kokuho_fuka/v1", "kokuho_setai/v1", "zeimu/v1",
                   "zeimu_shotoku/v1"},
    "coded_rule": {"juki/v1", "kokuho/v1", "kokuho_fuka/v1", "zeimu/v1"},
    "flag": {"kokuho/v1", "kokuho_fuka/v1", "kokuho_setai/v1", "zeimu/v1"},
    "decimal": {"kokuho_fuka/v1", "zeimu/v1", "zeimu_shotoku/v1"},
    "my_number": {"juki/v1", "zeimu/v1"},
}


def _has(schema: Schema, what: str) -> bool:
    if what == "coded_rule":
        return any(schema.column(c).codes is not None for r in schema.rules for c in r.when)
    if what == "references":
        return any(spec.references is not None for spec in schema.columns)
    if what == "my_number":
        return any(c.name == "my_number_check_digit" for s in schema.columns for c in s.checks)
    return any(spec.dtype == what for spec in schema.columns)


def test_the_layouts_declare_what_the_checks_look_for():
    """A layout that gains (or loses) such columns must be added to HAVING, so no check below
    silently loops over nothing."""
    for what, expected in HAVING.items():
        assert {i for i, p in zip(IDS, SCHEMA_FILES, strict=True)
                if _has(load_schema(p), what)} == expected, what


def having(what: str):
    return pytest.mark.parametrize("schema", sorted(HAVING[what]), indirect=True)


# ---------------------------------------------------------------- every schema


def test_layout_id_matches_its_path(schema):
    """find_schema looks a bundled id up as schemas/<id>.yaml; it also makes the output names
    (the first segment of the id: kokuho_setai.csv, kokuho.csv …) distinct between layouts."""
    assert str(schema.path.relative_to(SCHEMA_DIR).with_suffix("")) == schema.id


def test_pandera_schema_builds(schema):
    for severity in ("error", "warning"):
        built = build_pandera_schema(schema, severity)
        assert list(built.columns) == schema.column_names


def test_header_says_proposed_and_unofficial(schema):
    header = []
    for line in schema.path.read_text(encoding="utf-8").splitlines():
        if not line.startswith("#"):
            break
        header.append(line.lower())
    text = "\n".join(header)
    assert "proposed" in text and ("unverified" in text or "not the official" in text)


def test_every_column_is_documented_in_both_languages(schema):
    raw = yaml.safe_load(schema.path.read_text(encoding="utf-8"))
    assert raw["title"]["ja"] and raw["title"]["en"]
    for column in raw["columns"]:
        ja, en = column.get("ja"), column.get("en")
        assert ja and en, column["name"]
        assert any(ord(ch) > 0x2FFF for ch in ja), f"{column['name']}: ja label is not Japanese"
        assert any(ch.isascii() and ch.isalpha() for ch in en), f"{column['name']}: en label"
    for rule in raw.get("rules") or []:
        assert rule.get("ja") and rule.get("en"), rule["name"]


def test_primary_key_exists_and_is_required(schema):
    assert schema.primary_key
    for key in schema.primary_key:
        assert key in schema.column_names
        assert schema.column(key).required, f"primary-key column {key} must be required"


@having("code")
def test_code_tables_have_unique_codes_and_both_labels(schema):
    checked = 0
    for spec in schema.columns:
        if spec.dtype != "code":
            continue
        checked += 1
        assert spec.code_table is not None and spec.code_table.is_file()
        with open(spec.code_table, encoding="utf-8-sig", newline="") as handle:
            rows = list(csv.DictReader(handle))
        assert rows, spec.code_table
        codes = [r["code"] for r in rows]
        assert len(codes) == len(set(codes)), f"duplicate codes in {spec.code_table}"
        widths = {len(c) for c in codes}
        assert len(widths) == 1, f"{spec.code_table}: codes of mixed width {sorted(widths)}"
        for row in rows:
            assert row["code"] and row["code"] == row["code"].strip(), spec.code_table
            assert row.get("label_ja"), f"{spec.code_table}: {row['code']} lacks label_ja"
            assert row.get("label_en"), f"{spec.code_table}: {row['code']} lacks label_en"
    assert checked


def test_every_code_table_is_used():
    used = {spec.code_table.resolve() for path in SCHEMA_FILES
            for spec in load_schema(path).columns if spec.code_table is not None}
    tables = {p.resolve() for p in SCHEMA_DIR.rglob("codes/*.csv")}
    assert tables - used == set()


@having("references")
def test_references_point_at_an_existing_key(schema):
    checked = 0
    for spec in schema.columns:
        ref = spec.references
        if ref is None:
            continue
        checked += 1
        target = load_schema(ref.layout)
        assert target.id == ref.layout
        assert ref.column in target.column_names
        # the whole key: the column, and the others of a several-column key by name
        assert target.primary_key == ref.target_columns and ref.column in ref.target_columns
        assert ref.columns == tuple(spec.name if c == ref.column else c
                                    for c in ref.target_columns)
        for here, there in zip(ref.columns, ref.target_columns, strict=True):
            assert target.column(there).dtype == schema.column(here).dtype
            assert target.column(there).max_length == schema.column(here).max_length
    assert checked


def test_a_reference_into_a_key_of_several_columns_needs_the_others_by_name(tmp_path):
    """zeimu/v1's key is (tax_year, atena_no): a layout referring to its atena_no must have a
    tax_year column too, which is matched with it."""
    from migrate.errors import LayoutError

    shotoku = load_schema("zeimu_shotoku/v1")
    ref = shotoku.column("atena_no").references
    assert ref.columns == ("tax_year", "atena_no") == ref.target_columns
    text = (SCHEMA_DIR / "zeimu_shotoku" / "v1.yaml").read_text(encoding="utf-8")
    folder = tmp_path / "zeimu_shotoku"
    shutil.copytree(SCHEMA_DIR / "zeimu_shotoku", folder)
    (folder / "v1.yaml").write_text(text.replace("name: tax_year", "name: nendo").replace(
        "primary_key: [tax_year, atena_no, src_record]", "primary_key: [nendo, atena_no, "
        "src_record]"), encoding="utf-8")
    with pytest.raises(LayoutError, match="not the primary key of that layout"):
        load_schema(folder / "v1.yaml")


@having("coded_rule")
def test_rule_conditions_use_allowed_codes(schema):
    checked = 0
    for rule in schema.rules:
        for column, values in rule.when.items():
            spec = schema.column(column)
            if spec.codes is not None:
                checked += 1
                assert set(values) <= set(spec.codes), f"{rule.name}: {column} {values}"
    assert checked


@having("flag")
def test_flags_are_bounded_to_zero_or_one(schema):
    """The validator adds no 0/1 check for flags by itself, so each flag declares it."""
    flags = [spec for spec in schema.columns if spec.dtype == "flag"]
    assert flags
    for spec in flags:
        assert (spec.minimum, spec.maximum) == (0, 1), spec.name


@having("decimal")
def test_amounts_are_whole_yen_with_a_precision(schema):
    amounts = [spec for spec in schema.columns if spec.dtype == "decimal"]
    assert amounts
    for spec in amounts:
        assert spec.scale == 0 and spec.precision, spec.name


@having("my_number")
def test_my_number_columns_are_masked(schema):
    checked = [spec for spec in schema.columns
               if any(c.name == "my_number_check_digit" for c in spec.checks)]
    assert checked
    for spec in checked:
        assert spec.pii == "my_number", spec.name


# ---------------------------------------------------------------- hand-made rows


def _frame(schema: Schema, values: dict) -> pl.DataFrame:
    unknown = set(values) - set(schema.column_names)
    assert not unknown, unknown
    series = []
    for spec in schema.columns:
        value = values.get(spec.name)
        if spec.dtype == "decimal" and value is not None:
            value = Decimal(value)
        series.append(pl.Series(spec.name, [value], dtype=polars_dtype(spec)))
    return pl.DataFrame(series).with_columns(pl.lit(2, pl.Int64).alias(RECORD_COL),
                                             pl.lit(0, pl.Int64).alias(OFFSET_COL))


def _problems(schema: Schema, values: dict) -> tuple[set, set]:
    errors, warnings = Validator(schema, {}).validate(_frame(schema, values))
    return (set(errors.select("column", "reason").iter_rows()),
            set(warnings.select("column", "reason").iter_rows()))


ZEIMU = {
    "src_record": 2, "lg_code": "062090", "tax_year": 2024, "atena_no": "1001", "juto_gai": 0,
    "kojin_no": "123456789018", "kazei_kubun": "01", "shinkoku_kubun": "03",
    "kyuyo_shunyu": 4_000_000, "kyuyo_shotoku": 2_760_000, "fudosan_shotoku": -300_000,
    "sou_shotoku": 2_460_000, "goukei_shotoku": 2_460_000,
    "kojo_shakai_hoken": 600_000, "kojo_kiso": 430_000, "kojo_total": 1_030_000,
    "kazei_hyojun_sogo": 1_430_000, "fuyo_ninzu_nensho": 1,
    "shotokuwari_shi": 84_300, "shotokuwari_ken": 56_200, "kintouwari_shi": 3_000,
    "kintouwari_ken": 1_000, "shinrin_kankyo": 1_000, "zeigaku_kojo": 2_500, "nengaku": 145_500,
    "choshu_kubun": "2", "tokucho_gimusha_no": "T0012345", "tokucho_houjin_no": "7000012050002",
    "tokucho_6gatsu": 12_400, "tokucho_7gatsu_ikou": 12_100,
}
ZEIMU_FUTSU = {**ZEIMU, "choshu_kubun": "1", "tokucho_gimusha_no": None,
               "tokucho_houjin_no": None, "tokucho_6gatsu": None, "tokucho_7gatsu_ikou": None,
               "futsu_ki1": 36_600, "futsu_noki1": date(2024, 6, 30),
               "futsu_ki2": 36_300, "futsu_noki2": date(2024, 8, 31),
               "futsu_ki3": 36_300, "futsu_noki3": date(2024, 10, 31),
               "futsu_ki4": 36_300, "futsu_noki4": date(2025, 1, 31)}
ZEIMU_HIKAZEI = {"src_record": 3, "lg_code": "062090", "tax_year": 2024, "atena_no": "1002",
                 "juto_gai": 1, "kazei_kubun": "03", "hikazei_jiyu": "01",
                 "kojo_total": 0}


@pytest.fixture(scope="module")
def zeimu() -> Schema:
    return load_schema("zeimu/v1")


@pytest.mark.parametrize("row", [ZEIMU, ZEIMU_FUTSU, ZEIMU_HIKAZEI],
                         ids=["salary_collection", "ordinary_collection", "not_taxed_juto_gai"])
def test_zeimu_clean_rows_pass(zeimu, row):
    assert _problems(zeimu, row) == (set(), set())


@pytest.mark.parametrize("overrides,column,reason", [
    ({"kojin_no": "123456789010"}, "kojin_no", "my_number_check_digit"),
    ({"tokucho_houjin_no": "8000012050002"}, "tokucho_houjin_no", "houjin_no_check_digit"),
    ({"tokucho_houjin_no": "700001205000"}, "tokucho_houjin_no", "wrong_length"),
    ({"lg_code": "062091"}, "lg_code", "lg_code_check_digit"),
    ({"kazei_kubun": "1"}, "kazei_kubun", "code_not_allowed"),
    ({"choshu_kubun": "5"}, "choshu_kubun", "code_not_allowed"),
    ({"tax_year": None}, "tax_year", "required_missing"),
    ({"juto_gai": None}, "juto_gai", "required_missing"),
    ({"juto_gai": 2}, "juto_gai", "out_of_range"),
    ({"kyuyo_shotoku": -1}, "kyuyo_shotoku", "out_of_range"),
    ({"sou_shotoku": -1}, "sou_shotoku", "out_of_range"),
    ({"fuyo_ninzu_nensho": -1}, "fuyo_ninzu_nensho", "out_of_range"),
    ({"tokucho_gimusha_no": "T" * 13}, "tokucho_gimusha_no", "too_long"),
    ({"tokucho_gimusha_no": None}, "tokucho_gimusha_no", "salary_collection_employer"),
    ({"tokucho_7gatsu_ikou": None}, "tokucho_7gatsu_ikou", "salary_collection_employer"),
    ({"nengaku": None}, "nengaku", "taxed_amounts"),
    ({"choshu_kubun": None}, "choshu_kubun", "taxed_amounts"),
    ({"hikazei_jiyu": "01"}, "hikazei_jiyu", "taxed_amounts"),
    ({"kazei_kubun": "02", "kintouwari_ken": None}, "kintouwari_ken", "per_capita_only_amounts"),
    ({"kazei_kubun": "03"}, "hikazei_jiyu", "not_taxed_reason"),
    ({"choshu_kubun": "1"}, "futsu_ki1", "ordinary_collection_instalment"),
    ({"choshu_kubun": "3"}, "nenkin_tokucho_hon", "pension_collection_amount"),
])
def test_zeimu_bad_rows_fail(zeimu, overrides, column, reason):
    errors, _ = _problems(zeimu, {**ZEIMU, **overrides})
    assert (column, reason) in errors, errors


def test_zeimu_losses_may_be_negative_where_real(zeimu):
    row = {**ZEIMU, "eigyo_shotoku": -1_200_000, "nogyo_shotoku": -50_000,
           "jouto_ichiji_shotoku": -10_000, "goukei_shotoku": -800_000}
    assert _problems(zeimu, row) == (set(), set())


def test_zeimu_my_number_is_masked(zeimu):
    errors, _ = Validator(zeimu, {}).validate(_frame(zeimu, {**ZEIMU, "kojin_no": "123456789010"}))
    assert errors.filter(pl.col("column") == "kojin_no")["value"].to_list() == ["********9010"]


def test_zeimu_reference_and_juto_gai_are_declared(zeimu):
    """The cross-file check "in juki/v1 or 住登外" needs both halves in the layout."""
    ref = zeimu.column("atena_no").references
    assert ref is not None and (ref.layout, ref.column) == ("juki/v1", "atena_no")
    assert zeimu.column("juto_gai").dtype == "flag" and zeimu.column("juto_gai").required
    assert zeimu.primary_key == ("tax_year", "atena_no")


# ---- 国民健康保険: households, members, levy

SETAI = {"src_record": 2, "lg_code": "062090", "kokuho_setai_no": "2001", "setai_no": "2001",
         "setai_nushi_atena": "1001", "gisei_flag": 0, "hokensha_no": "060905",
         "kigo": "長井", "bango": "12345"}
MEMBER = {"src_record": 2, "lg_code": "062090", "kokuho_setai_no": "2001", "atena_no": "1001",
          "juto_gai": 0, "edaban": "01", "shikaku_get_date": date(2015, 4, 1),
          "shikaku_get_jiyu": "03", "todoke_date": date(2015, 4, 10), "taishoku_kubun": "1",
          "kaigo_2go": 1}
MEMBER_LOST = {**MEMBER, "shikaku_loss_date": date(2023, 10, 2), "shikaku_loss_jiyu": "03",
               "juto_gai": 1, "tokurei_kubun": "01"}
FUKA = {"src_record": 2, "lg_code": "062090", "fuka_year": 2024, "kokuho_setai_no": "2001",
        "zei_or_ryo": "1",
        "iryo_shotokuwari": 120_000, "iryo_kintouwari": 25_000, "iryo_byodowari": 20_000,
        "shien_shotokuwari": 40_000, "shien_kintouwari": 9_000,
        "kaigo_shotokuwari": 35_000, "kaigo_kintouwari": 10_000,
        "keigen_kubun": "0", "shitsugyo_keigen": 0, "nengaku": 259_000, "choshu_kubun": "1",
        **{f"kibetsu_{n}": 32_375 for n in range(1, 9)},
        **{f"noki_{n}": date(2024 + (n + 6 > 12), (n + 6 - 1) % 12 + 1, 28) for n in range(1, 9)}}


@pytest.fixture(scope="module")
def nhi() -> dict[str, Schema]:
    return {name: load_schema(f"{name}/v1") for name in ("kokuho_setai", "kokuho", "kokuho_fuka")}


@pytest.mark.parametrize("layout,row", [
    ("kokuho_setai", SETAI), ("kokuho_setai", {**SETAI, "gisei_flag": 1, "setai_no": None}),
    ("kokuho", MEMBER), ("kokuho", MEMBER_LOST),
    ("kokuho_fuka", FUKA),
    ("kokuho_fuka", {**FUKA, "choshu_kubun": "3", "tokucho_gaku": 259_000,
                     **{f"kibetsu_{n}": None for n in range(1, 9)},
                     **{f"noki_{n}": None for n in range(1, 9)}}),
], ids=["setai", "setai_gisei", "member", "member_lost_juto_gai", "fuka", "fuka_pension"])
def test_kokuho_clean_rows_pass(nhi, layout, row):
    assert _problems(nhi[layout], row) == (set(), set())


@pytest.mark.parametrize("layout,overrides,column,reason", [
    ("kokuho_setai", {"hokensha_no": "06090"}, "hokensha_no", "pattern"),
    ("kokuho_setai", {"hokensha_no": "0609051"}, "hokensha_no", "pattern"),
    ("kokuho_setai", {"bango": None}, "bango", "required_missing"),
    ("kokuho_setai", {"setai_nushi_atena": None}, "setai_nushi_atena", "required_missing"),
    ("kokuho_setai", {"gisei_flag": 3}, "gisei_flag", "out_of_range"),
    ("kokuho_setai", {"kokuho_setai_no": "20O1"}, "kokuho_setai_no", "not_digits"),
    ("kokuho", {"shikaku_get_date": None}, "shikaku_get_date", "required_missing"),
    ("kokuho", {"shikaku_get_jiyu": "08"}, "shikaku_get_jiyu", "code_not_allowed"),
    ("kokuho", {"shikaku_loss_jiyu": "02"}, "shikaku_loss_date", "loss_reason_needs_date"),
    ("kokuho", {"shikaku_loss_jiyu": "99"}, "shikaku_loss_date", "loss_reason_needs_date"),
    ("kokuho", {"edaban": "1"}, "edaban", "wrong_length"),
    ("kokuho", {"kaigo_2go": 2}, "kaigo_2go", "out_of_range"),
    ("kokuho", {"taishoku_kubun": "4"}, "taishoku_kubun", "code_not_allowed"),
    ("kokuho", {"juto_gai": None}, "juto_gai", "required_missing"),
    ("kokuho_fuka", {"keigen_kubun": "3"}, "keigen_kubun", "code_not_allowed"),
    ("kokuho_fuka", {"zei_or_ryo": None}, "zei_or_ryo", "required_missing"),
    ("kokuho_fuka", {"iryo_kintouwari": None}, "iryo_kintouwari", "required_missing"),
    ("kokuho_fuka", {"shien_shotokuwari": -1}, "shien_shotokuwari", "out_of_range"),
    ("kokuho_fuka", {"choshu_kubun": "2"}, "choshu_kubun", "code_not_allowed"),
    ("kokuho_fuka", {"kibetsu_1": None}, "kibetsu_1", "ordinary_collection_instalment"),
    ("kokuho_fuka", {"choshu_kubun": "3"}, "tokucho_gaku", "pension_collection_amount"),
    ("kokuho_fuka", {"shitsugyo_keigen": 2}, "shitsugyo_keigen", "out_of_range"),
])
def test_kokuho_bad_rows_fail(nhi, layout, overrides, column, reason):
    base = {"kokuho_setai": SETAI, "kokuho": MEMBER, "kokuho_fuka": FUKA}[layout]
    errors, _ = _problems(nhi[layout], {**base, **overrides})
    assert (column, reason) in errors, errors


def test_kokuho_card_number_is_masked(nhi):
    schema = nhi["kokuho_setai"]
    errors, _ = Validator(schema, {}).validate(_frame(schema, {**SETAI, "bango": "9" * 21}))
    values = errors.filter(pl.col("column") == "bango")["value"].to_list()
    assert values and "9" not in values[0]


def test_kokuho_loss_rule_lists_every_loss_code(nhi):
    """The rule enumerates the codes (no presence condition yet): keep it in step with the table."""
    schema = nhi["kokuho"]
    rule = next(r for r in schema.rules if r.name == "loss_reason_needs_date")
    assert set(rule.when["shikaku_loss_jiyu"]) == set(schema.column("shikaku_loss_jiyu").codes)


def test_kokuho_layouts_refer_to_each_other(nhi):
    member, levy, household = nhi["kokuho"], nhi["kokuho_fuka"], nhi["kokuho_setai"]
    for schema in (member, levy):
        ref = schema.column("kokuho_setai_no").references
        assert (ref.layout, ref.column) == ("kokuho_setai/v1", "kokuho_setai_no")
    assert household.column("setai_nushi_atena").references.layout == "juki/v1"
    assert member.column("atena_no").references.layout == "juki/v1"
    assert member.primary_key == ("atena_no", "shikaku_get_date")
    assert levy.primary_key == ("fuka_year", "kokuho_setai_no")


def test_full_width_digits_are_not_digits(nhi):
    errors, _ = _problems(nhi["kokuho_setai"], {**SETAI, "kokuho_setai_no": "２００１"})
    assert ("kokuho_setai_no", "not_digits") in errors


def test_kokuho_loss_date_needs_reason(nhi):
    errors, _ = _problems(nhi["kokuho"], {**MEMBER, "shikaku_loss_date": date(2023, 10, 2)})
    assert any(column == "shikaku_loss_jiyu" for column, _ in errors)


def test_kokuho_loss_date_not_before_acquisition(nhi):
    row = {**MEMBER, "shikaku_loss_date": date(2014, 1, 1), "shikaku_loss_jiyu": "01"}
    errors, _ = _problems(nhi["kokuho"], row)
    assert errors
