"""The checks built from the standard layout YAML, as plain polars (the validator) and as a
pandera schema (the reference): the named checks, and the same problems from both."""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest

from migrate.layouts import CheckSpec
from migrate.transform.mapper import OFFSET_COL, RECORD_COL
from migrate.validate.checks import KATAKANA, ZOKUGARA, check_expression
from migrate.validate.panderaschema import PanderaValidator, build_pandera_schema
from migrate.validate.rows import Validator


@pytest.mark.parametrize("value,ok", [
    ("世帯主", True), ("子", True), ("子の妻", True), ("妻の父", True), ("夫(未届)", True),
    ("子(子の夫)", True), ("子の子の子の子", True), ("子の子の子の子の子", False),
    ("孫", False), ("義父", False), ("同居人", True), ("縁故者", True), ("", False),
])
def test_zokugara_chain(value, ok):
    assert pl.Series([value]).str.contains(ZOKUGARA)[0] is ok


@pytest.mark.parametrize("value,ok", [
    ("タナカ タロウ", True), ("ヤマダ　ハナコ", True), ("ｶﾀｶﾅ", False), ("たなか", False),
    ("ヴァイオリン", True), ("TANAKA", False),
])
def test_katakana(value, ok):
    assert pl.Series([value]).str.contains(KATAKANA)[0] is ok


@pytest.mark.parametrize("check,good,bad", [
    ("my_number_check_digit", "123456789018", "123456789010"),
    ("lg_code_check_digit", "131016", "131017"),
    ("jumin_code_check_digit", "24727059608", "24727059600"),
    ("houjin_no_check_digit", "7000012050002", "8000012050002"),
])
def test_check_digit_expressions(check, good, bad):
    expr = check_expression(CheckSpec(check))
    result = pl.DataFrame({"v": [good, bad, None]}).select(expr(pl.col("v")))["v"].to_list()
    assert result == [True, False, True]  # null passes: requiredness is a separate check


IVS = "葛\U000e0100"  # an MJ 文字 as a 外字 table gives it: base + variation selector


def _row(schema, **overrides):
    base = {
        "src_record": 2, "lg_code": "062090", "atena_no": "1001", "setai_no": "2001",
        "jumin_code": None, "kojin_no": "123456789018", "jumin_shubetsu": "1",
        "jumin_jotai": "1", "shimei": "田中　太郎", "shimei_kana": "タナカ タロウ",
        "shimei_alpha": None, "birth_date": "1980-05", "sex": "1", "zokugara": "世帯主",
        "setai_nushi_name": "田中　太郎", "setai_order": 1, "jumin_date": "1980-05-01",
        "idou_jiyu": "103", "idou_date": date(1980, 5, 1), "shori_date": date(1980, 5, 2),
        "postal_code": "9930011", "addr_pref": "山形県", "addr_city": "長井市",
        "addr_town": "館町北", "addr_banchi": "１番地", "addr_katagaki": None,
        "shojo_jiyu": None, "shojo_date": None, "nationality": None, "zairyu_kubun": None,
        "zairyu_shikaku": None, "zairyu_card_no": None, "zairyu_manryo": None,
    }
    base.update(overrides)
    from migrate.transform.mapper import polars_dtype
    frame = pl.DataFrame({c.name: pl.Series(c.name, [base[c.name]], dtype=polars_dtype(c))
                          for c in schema.columns})
    return frame.with_columns(pl.lit(2, pl.Int64).alias(RECORD_COL),
                              pl.lit(432, pl.Int64).alias(OFFSET_COL))


@pytest.fixture(scope="module")
def validator(juki_mapping):
    return Validator(juki_mapping.target, {"kojin_no": ("kojin_no", 35)})


def test_clean_row_passes(validator, juki_mapping):
    errors, warnings = validator.validate(_row(juki_mapping.target))
    assert errors.is_empty() and warnings.is_empty()


def test_a_name_at_its_length_with_an_ivs_passes(validator, juki_mapping):
    """葛 + U+E0100 is one character of the name: 100 characters, 101 code points."""
    errors, _ = validator.validate(_row(juki_mapping.target, shimei=IVS + "長" * 99,
                                        setai_nushi_name=IVS * 100))
    assert errors.is_empty(), errors


@pytest.mark.parametrize("overrides,column,reason", [
    ({"kojin_no": "123456789010"}, "kojin_no", "my_number_check_digit"),
    ({"shimei": None}, "shimei", "required_missing"),
    ({"shimei": "長" * 101}, "shimei", "too_long"),
    ({"shimei": IVS + "長" * 100}, "shimei", "too_long"),  # 101 characters, 102 code points
    ({"lg_code": "062091"}, "lg_code", "lg_code_check_digit"),
    ({"sex": "5"}, "sex", "code_not_allowed"),
    ({"zokugara": "孫"}, "zokugara", "zokugara_chain"),
    ({"setai_order": 0}, "setai_order", "out_of_range"),
    ({"birth_date": "1980-5"}, "birth_date", "invalid_date"),
    ({"zairyu_card_no": "AB1234567CD"}, "zairyu_card_no", "pattern"),
    ({"jumin_shubetsu": "2"}, "nationality", "foreign_resident_fields"),
    ({"jumin_jotai": "3"}, "shojo_date", "removed_resident_fields"),
    ({"shojo_jiyu": "201"}, "shojo_jiyu", "current_resident_not_removed"),
])
def test_each_check_rejects(validator, juki_mapping, overrides, column, reason):
    errors, _ = validator.validate(_row(juki_mapping.target, **overrides))
    pairs = set(errors.select("column", "reason").iter_rows())
    assert (column, reason) in pairs, errors
    assert (errors["record"] == 2).all()


def test_my_number_is_masked_and_offset_points_at_field(validator, juki_mapping):
    errors, _ = validator.validate(_row(juki_mapping.target, kojin_no="123456789010"))
    row = errors.filter(pl.col("column") == "kojin_no").row(0, named=True)
    assert row["value"] == "********9010"
    assert row["offset"] == 432 + 35


def test_warning_severity_keeps_row(validator, juki_mapping):
    errors, warnings = validator.validate(_row(juki_mapping.target, jumin_code="24727059600"))
    assert errors.is_empty()
    assert warnings["reason"].to_list() == ["jumin_code_check_digit"]


def test_schema_is_generated_from_yaml(juki_mapping):
    schema = build_pandera_schema(juki_mapping.target)
    assert list(schema.columns) == juki_mapping.target.column_names
    assert schema.columns["shimei"].nullable is False
    assert schema.columns["addr_katagaki"].nullable is True


def test_screen_finds_exactly_what_the_per_rule_schema_finds(juki_mapping):
    """The pandera reference's one-query screen sends flagged rows to its per-rule schema;
    over a chunk of clean rows and rows with each defect (record numbers apart) the problems
    must be those of the per-rule schema run on every row."""
    import pandera.errors

    schema = juki_mapping.target
    reference = PanderaValidator(schema, {"kojin_no": ("kojin_no", 35)})
    rows = _defective_rows(schema)
    errors, warnings = reference.validate(rows)
    _, per_rule = reference.schemas["error"]
    with pytest.raises(pandera.errors.SchemaErrors) as failed:
        per_rule.validate(rows, lazy=True)
    expected = reference._problems(failed.value.failure_cases, rows)
    key = ["record", "offset", "column", "reason"]
    assert errors.select(key).sort(key).rows() == expected.select(key).sort(key).rows()
    assert set(errors["record"].to_list()) == {10 + i for i, d in enumerate(DEFECTS)
                                               if d and "jumin_code" not in d
                                               and d != {"shimei": IVS + "長" * 99}}
    assert warnings.select("record", "reason").rows() == [(23, "jumin_code_check_digit")]


DEFECTS = [{}, {"kojin_no": "123456789010"}, {"shimei": None}, {}, {"sex": "5"},
           {"zokugara": "孫"}, {"setai_order": 0}, {}, {"birth_date": "1980-5"},
           {"jumin_shubetsu": "2"}, {"jumin_jotai": "3"}, {"shojo_jiyu": "201"}, {},
           {"jumin_code": "24727059600"},
           {"shimei": IVS + "長" * 100}, {"shimei": IVS + "長" * 99}]


def _defective_rows(schema) -> pl.DataFrame:
    return pl.concat([_row(schema, **d).with_columns(pl.lit(10 + i, pl.Int64).alias(RECORD_COL),
                                                     pl.lit(432 * i, pl.Int64).alias(OFFSET_COL))
                      for i, d in enumerate(DEFECTS)])


def test_the_polars_validator_finds_what_the_pandera_schema_finds(validator, juki_mapping):
    reference = PanderaValidator(juki_mapping.target, {"kojin_no": ("kojin_no", 35)})
    rows = _defective_rows(juki_mapping.target)
    for ours, theirs in zip(validator.validate(rows), reference.validate(rows), strict=True):
        assert ours.rows() == theirs.rows()


def test_a_column_of_the_wrong_type_is_a_bug_not_a_reject(validator, juki_mapping):
    rows = _row(juki_mapping.target).with_columns(pl.col("setai_order").cast(pl.Utf8))
    with pytest.raises(AssertionError, match="setai_order"):
        validator.validate(rows)
