"""migrate list: every bundled mapping and schema, with its title."""

from __future__ import annotations

from click.testing import CliRunner

from migrate.author.listing import bundled_entries
from migrate.cli import main
from migrate.layouts import list_bundled_mappings


def test_every_bundled_mapping_and_schema_is_listed_with_its_title():
    entries = bundled_entries()
    mappings = {e.id: e for e in entries if e.kind == "mapping"}
    schemas = {e.id: e for e in entries if e.kind == "schema"}
    assert sorted(mappings) == list_bundled_mappings()
    assert {"juki/v1", "zeimu/v1", "kokuho/v1"} <= set(schemas)
    juki = mappings["vendor_a/juki"]
    assert (juki.target, juki.encoding, juki.record_length) == ("juki/v1", "cp932", 430)
    assert juki.title_ja == "ベンダーA 住民記録エクスポート"
    assert mappings["vendor_a/kokuho"].format == "delimited"
    assert schemas["juki/v1"].columns > 20


def test_the_command_shows_titles_in_the_users_language():
    runner = CliRunner()
    english = runner.invoke(main, ["list"], env={"LANG": "C.UTF-8", "COLUMNS": "200"})
    assert english.exit_code == 0, english.output
    assert "Vendor A resident-record export" in english.output and "juki/v1" in english.output
