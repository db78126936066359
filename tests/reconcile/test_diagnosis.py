"""Probable mapping errors: one reason at one field rejecting most records ends the run with
exit 1 and the one line of the mapping that fixes it; nothing accepted never succeeds."""

from __future__ import annotations

import json

import pytest

from migrate.errors import InputFormatError
from migrate.reconcile.diagnosis import diagnose

SCHEMA = """layout: hito/v1
columns:
  - {name: src_record, dtype: int, required: true}
  - {name: birth, dtype: partial_date, required: true, pii: date}
  - {name: kana, dtype: str, max_length: 20, checks: [katakana], pii: name}
"""

MAPPING = """mapping: town/hito
target: schema.yaml
source:
  record_length: 27
  newline: crlf%(source)s
fields:
  birth: {offset: 0, length: 7, type: wareki}
  kana:  {offset: 7, length: 20, type: text}
columns:
  src_record: {source: record_number}
  birth: birth
  kana: %(kana)s
"""

LETTER_ERAS = """
  eras:
    - {code: "M", name: 明治, first: 1868-01-25, last: 1912-07-30}
    - {code: "T", name: 大正, first: 1912-07-30, last: 1926-12-25}
    - {code: "H", name: 平成, first: 1989-01-08, last: 2019-04-30}
    - {code: "R", name: 令和, first: 2019-05-01}"""


def records(n: int, birth: bytes, kana: str = "ヤマダ") -> bytes:
    return b"".join(birth + kana.encode("cp932").ljust(20) + b"\r\n" for _ in range(n))


@pytest.fixture
def hito(inline_mapping):
    def make(source: str = "", kana: str = "kana"):
        return inline_mapping(SCHEMA, MAPPING % {"source": source, "kana": kana})
    return make


def verdict(result) -> dict:
    return json.loads(result.run_json.read_text(encoding="utf-8"))["verdict"]


def test_missing_era_letter_is_named_with_its_fix(tmp_path, hito, convert):
    path = tmp_path / "in.dat"
    path.write_bytes(records(30, b"S500101") + records(2, b"H020304"))
    result, _, _ = convert(hito(LETTER_ERAS), path, tmp_path / "out")
    assert result.exit_code == 1
    found = verdict(result)
    assert (found["verdict"], found["field"], found["reason"]) == (
        "probable_mapping_error", "birth", "unknown_era")
    assert found["records"] == 30 and found["share"] == round(30 / 32, 4)
    assert "era code 'S' is not in source.eras: add it" in found["fix"]
    assert "era code 'S'" in result.diagnosis.message()
    assert not (tmp_path / "out").exists()  # an exit-1 run publishes nothing


def test_day_99_is_named_as_an_unknown_date_part(tmp_path, hito, convert):
    path = tmp_path / "in.dat"
    path.write_bytes(records(12, b"3500199") + records(3, b"3500101"))
    result, _, _ = convert(hito(), path, tmp_path / "out")
    assert result.exit_code == 1
    found = verdict(result)
    assert found["reason"] == "invalid_date"
    assert "day '99' in 12 records: add \"99\" to unknown_date_parts" in found["fix"]
    # the fix works
    path2 = tmp_path / "in2.dat"
    path2.write_bytes(records(12, b"3500199") + records(3, b"3500101"))
    fixed, rows, _ = convert(hito('\n  unknown_date_parts: ["00", "99"]'), path2,
                             tmp_path / "out2")
    assert fixed.exit_code == 0 and rows.height == 15


def test_half_width_kana_names_kana_fullwidth(tmp_path, hito, convert):
    path = tmp_path / "in.dat"
    path.write_bytes(records(20, b"3500101", "ﾔﾏﾀﾞ ﾀﾛｳ"))
    result, _, _ = convert(hito(), path, tmp_path / "out")
    assert result.exit_code == 1
    found = verdict(result)
    assert found["verdict"] == "nothing_accepted" or found["share"] == 1.0
    assert "half-width kana in a column that requires full-width: add kana: fullwidth " \
           "to column kana" in found["fix"]
    fixed, rows, _ = convert(hito(kana="{from: kana, kana: fullwidth}"), path,
                             tmp_path / "out2")
    assert fixed.exit_code == 0 and rows["kana"][0] == "ヤマダ タロウ"


def test_trailing_eof_byte_names_eof_marker(tmp_path, hito, convert):
    path = tmp_path / "in.dat"
    path.write_bytes(records(5, b"3500101") + b"\x1a")
    with pytest.raises(InputFormatError) as info:
        convert(hito(), path, tmp_path / "out")
    assert "add eof_marker: 0x1a" in str(info.value)
    assert info.value.offset == 5 * 29


def test_a_few_bad_records_are_not_a_mapping_error(tmp_path, hito, convert):
    path = tmp_path / "in.dat"
    path.write_bytes(records(3, b"3500199") + records(1, b"3500101"))
    result, _, rejects = convert(hito(), path, tmp_path / "out")
    assert result.exit_code == 0 and verdict(result) is None and rejects.height == 3


def test_max_reject_rate_sets_the_threshold(tmp_path, hito):
    from migrate.run.pipeline import RunOptions, run

    path = tmp_path / "in.dat"
    path.write_bytes(records(12, b"3500199") + records(28, b"3500101"))  # 30 % rejected
    mapping = hito()
    relaxed = run(RunOptions(mapping, path, tmp_path / "a", db_url="none", workers=1))
    assert relaxed.exit_code == 0
    strict = run(RunOptions(mapping, path, tmp_path / "b", db_url="none", workers=1,
                            max_reject_rate=0.2))
    assert strict.exit_code == 1 and strict.diagnosis.reason == "invalid_date"
    assert strict.max_rejects_exceeded


def test_nothing_accepted_never_succeeds(hito):
    from collections import Counter

    mapping = hito()
    found = diagnose(mapping, 4, 0, Counter({("birth", "invalid_date"): 2,
                                             ("kana", "katakana"): 2}), {}, share=1.0)
    assert found is not None and found.verdict == "nothing_accepted"
    assert diagnose(mapping, 4, 0, Counter(), {}) is not None
    assert diagnose(mapping, 4, 4, Counter(), {}) is None


def test_every_reason_says_on_which_side_its_usual_fix_is():
    from migrate.reconcile.reasons import REASONS, fix_side_label

    labels = {reason: fix_side_label(reason, "en") for reason in REASONS}
    assert all(labels.values()), [r for r, label in labels.items() if not label]
    assert labels["code_not_allowed"] == "usually fixed in the mapping"
    assert labels["duplicate_key"] == "usually fixed in the source data"
    assert "many records" in labels["unknown_era"]


def test_keys_seen_before_are_not_a_mapping_error(hito):
    """Two exports that overlap reject most of the second as duplicate_key: that is how the
    files fit together, not a field read wrongly."""
    from collections import Counter

    found = diagnose(hito(), 320, 20, Counter({("atena_no", "duplicate_key"): 300}), {})
    assert found is None
