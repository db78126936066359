"""migrate explain: every reason rejects.csv can carry is explained in both languages."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from migrate.author.explain import all_reasons, explain
from migrate.cli import main
from migrate.decode.result import REASON_CODES
from migrate.errors import UsageError
from migrate.reconcile.reasons import REASONS, USUAL_CAUSE


def test_every_reason_has_a_cause_and_a_fix_in_both_languages():
    assert set(USUAL_CAUSE) == set(REASONS)
    for reason in REASONS:
        english, japanese = explain(reason, "en"), explain(reason, "ja")
        assert english.what and english.fix and english.cause
        assert japanese.what != english.what and japanese.cause != english.cause, reason


def test_the_decoders_reasons_are_all_explained():
    assert set(REASON_CODES) <= set(all_reasons())


def test_a_mapping_mistake_is_said_to_be_one():
    assert "mapping" in explain("split_character", "en").cause
    assert "マッピング" in explain("split_character", "ja").cause
    assert "data" in explain("my_number_check_digit", "en").cause.split(":")[0]


def test_rules_of_the_bundled_schemas_are_reasons_too():
    found = explain("one_head_per_household", "ja")
    assert "世帯主" in found.what and "juki/v1" in found.fix


def test_an_unknown_reason_suggests_the_closest():
    with pytest.raises(UsageError) as caught:
        explain("unknown_cod")
    assert "unknown_code" in caught.value.hint_params["known"]


def test_the_command_prints_both_languages_and_exits_2_on_an_unknown_reason():
    runner = CliRunner()
    done = runner.invoke(main, ["explain", "invalid_packed"], env={"LANG": "C.UTF-8"})
    assert done.exit_code == 0, done.output
    assert "not a valid packed decimal" in done.output and "パック10進" in done.output
    assert done.output.index("(en)") < done.output.index("(ja)")
    listing = runner.invoke(main, ["explain"])
    assert all(reason in listing.output for reason in REASONS)
    wrong = runner.invoke(main, ["explain", "nonsense_reason"])
    assert wrong.exit_code == 2 and "Traceback" not in wrong.output
