"""Loading mappings and schemas: typed objects, and `file:line` errors for mistakes."""

from __future__ import annotations

from pathlib import Path

import pytest

from migrate.errors import LayoutError, UsageError, format_error
from migrate.layouts import find_mapping, list_bundled_mappings, load_mapping, load_schema


def test_bundled_mapping_loads(juki_mapping):
    m = juki_mapping
    assert m.id == "vendor_a/juki"
    assert m.target.id == "juki/v1"
    assert m.source.record_length == 430 and m.source.stride == 432
    assert m.fields["atena_no"].type == "packed"
    assert m.trailer is not None and "atena_no" in m.trailer.control_totals
    assert m.source.gaiji["\ue000"] == "𠮷"
    assert m.pii_of_field("kojin_no") == "my_number"
    assert m.pii_of_field("sex") is None


def test_fields_do_not_overlap_and_fit(juki_mapping):
    spans = sorted((f.offset, f.end, n) for n, f in juki_mapping.fields.items())
    for (_, end, name), (start, _, nxt) in zip(spans, spans[1:], strict=False):
        assert end <= start, f"{name} overlaps {nxt}"
    assert spans[-1][1] <= juki_mapping.source.record_length


def test_schema_has_required_columns():
    schema = load_schema("juki/v1")
    required = {c.name for c in schema.columns if c.required}
    assert {"lg_code", "atena_no", "setai_no", "shimei", "birth_date", "sex"} <= required
    assert schema.primary_key == ("atena_no",)
    assert schema.column("sex").codes == ("0", "1", "2", "9")


def test_mapping_by_path_with_schema_by_relative_path(mapping_copy):
    path = mapping_copy()
    mapping = load_mapping(str(path))
    assert mapping.path == path
    assert mapping.target.path == (path.parent / "../schemas/juki/v1.yaml")


def test_unknown_mapping_is_usage_error():
    with pytest.raises(UsageError) as info:
        find_mapping("vendor_x/nothing")
    text = format_error(info.value, "en")
    assert "vendor_x/nothing" in text and "vendor_a/juki" in text


def test_bundled_list():
    assert "vendor_a/juki" in list_bundled_mappings()


def _line_of(path: Path, needle: str) -> int:
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if needle in line:
            return number
    raise AssertionError(needle)


def test_field_past_record_end_names_line(mapping_copy):
    path = mapping_copy(lambda t: t.replace("{offset: 383, length: 40, type: text}",
                                            "{offset: 383, length: 60, type: text}"))
    with pytest.raises(LayoutError) as info:
        load_mapping(str(path))
    assert info.value.line == _line_of(path, "shimei_alpha:     {offset: 383")
    assert "shimei_alpha" in format_error(info.value, "en")


def test_unknown_field_type_names_line(mapping_copy):
    path = mapping_copy(lambda t: t.replace("{offset: 137, length: 1,  type: text}",
                                            "{offset: 137, length: 1,  type: texte}"))
    with pytest.raises(LayoutError) as info:
        load_mapping(str(path))
    assert info.value.line == _line_of(path, "type: texte")
    assert "texte" in format_error(info.value, "en")


def test_unmapped_required_column(mapping_copy):
    path = mapping_copy(lambda t: t.replace("  sex:              {from: sex, codes: codes/sex.csv}\n",
                                            ""))
    with pytest.raises(LayoutError) as info:
        load_mapping(str(path))
    assert "sex" in format_error(info.value, "en")


def test_code_table_to_code_not_in_standard(mapping_copy):
    path = mapping_copy()
    table = path.parent / "codes" / "sex.csv"
    table.write_text("source,standard,note\n0,1,\n1,2,\n9,X,bad\n", encoding="utf-8")
    with pytest.raises(LayoutError) as info:
        load_mapping(str(path))
    assert info.value.file == table
    assert "X" in format_error(info.value, "en")


def test_yaml_syntax_error_has_line(mapping_copy):
    path = mapping_copy(lambda t: t.replace("fields:\n", "fields:\n  broken: [\n", 1))
    with pytest.raises(LayoutError) as info:
        load_mapping(str(path))
    assert info.value.line is not None


RULE_SCHEMA = """layout: rules_test/v1
title: {{ja: t, en: t}}
columns:
  - {{name: a, ja: a, en: a, dtype: date}}
  - {{name: b, ja: b, en: b, dtype: date}}
rules:
  - name: r
{rule}
"""


@pytest.mark.parametrize("rule, message", [
    ("    compare: \"a => b\"", "compare must read"),
    ("    when_present: [a]", "needs require, forbid or compare"),
    ("    compare: \"a >= c\"", "unknown column 'c'"),
])
def test_rule_errors_name_the_rule_line(tmp_path, rule, message):
    from migrate.errors import LayoutError
    from migrate.layouts import load_schema

    path = tmp_path / "s.yaml"
    path.write_text(RULE_SCHEMA.format(rule=rule), encoding="utf-8")
    with pytest.raises(LayoutError) as error:
        load_schema(path)
    assert message in str(error.value) and error.value.line in (7, 8)


def test_group_check_and_conditional_reference_load():
    from migrate.layouts import load_schema

    juki = load_schema("juki/v1")
    (check,) = juki.group_checks
    assert (check.group_by, check.exactly, dict(check.among)) == (
        ("setai_no",), 1, {"jumin_jotai": ("1",)})
    zeimu = load_schema("zeimu/v1")
    ref = zeimu.column("atena_no").references
    assert (ref.layout, ref.unless) == ("juki/v1", {"juto_gai": ("1",)})


@pytest.mark.parametrize("edit, message", [
    (("  record_length:", "  colour: red\n  record_length:"), "unknown key 'colour'"),
    (("  record_length: 430", "  record_length: -1"), "record_length"),
    (('  unknown_date_parts: ["00"]', '  unknown_date_parts: ["01"]'),
     "cannot mark an unknown month"),
    # full-width digits: the decoder refuses them, so the loader must too (not a ValueError
    # when the first chunk is decoded)
    (('  unknown_date_parts: ["00"]', '  unknown_date_parts: ["９９"]'),
     "cannot mark an unknown month"),
    (("type: zoned, signed: true}", "type: zoned, signed: yes please}"),
     "signed is true or false"),
    (("length: 1,  type: text}", "length: 1,  type: text, signed: true}"),
     "only for a zoned field"),
])
def test_mapping_mistakes_are_layout_errors_with_a_line(mapping_copy, edit, message):
    """Each of these once crashed with a TypeError instead of reporting file:line."""
    from migrate.errors import LayoutError
    from migrate.layouts import load_mapping

    def change(text: str) -> str:
        assert edit[0] in text
        return text.replace(edit[0], edit[1], 1)

    with pytest.raises(LayoutError) as error:
        load_mapping(mapping_copy(change))
    assert message in str(error.value) and error.value.line


def test_a_binary_field_is_2_4_or_8_bytes(mapping_copy):
    filler = ("  filler:           {offset: 423, length: 7,  type: text}   # spaces: "
              "declared so that every byte is in a field")
    good = mapping_copy(lambda t: t.replace(
        filler, "  kaisu:            {offset: 424, length: 4,  type: binary}"))
    assert load_mapping(str(good)).fields["kaisu"].type == "binary"


def test_a_binary_field_of_3_bytes_is_refused_at_its_line(mapping_copy):
    filler = ("  filler:           {offset: 423, length: 7,  type: text}   # spaces: "
              "declared so that every byte is in a field")
    bad = mapping_copy(lambda t: t.replace(
        filler, "  kaisu:            {offset: 424, length: 3,  type: binary}"))
    with pytest.raises(LayoutError) as info:
        load_mapping(str(bad))
    assert info.value.line == _line_of(bad, "kaisu:")


def test_a_zoned_field_says_whether_a_positive_sign_is_overpunched():
    from migrate.layouts import load_mapping

    fields = load_mapping("vendor_a/kokuho_fuka").fields
    assert fields["nengaku"].signed and not fields["hihokensha_su"].signed
    assert load_mapping("vendor_a/juki").fields["setai_order"].signed
