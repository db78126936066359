"""What `migrate reconcile` prints: verdict first, one line per table, the failed checks in
words with their ids and formatted figures; no Python reprs; Japanese under LANG=ja."""

from __future__ import annotations

import io
import re

import pytest
from rich.console import Console

from migrate.reconcile.ledger import Invariant
from migrate.reconcile.verify_db import DbCheck, RowDiff
from migrate.report.reconciliation import print_reconciliation

REPR = re.compile(r"[{}]|'[^'\n]*'")  # a dict or a quoted string: a Python repr
SHA = "443161656dae" + "0" * 52


def files(*, broken: bool = False) -> list[Invariant]:
    return [Invariant("juki/file:csv", True, SHA, SHA, "juki.csv: SHA-256"),
            Invariant("juki/file:rejects", not broken, SHA, "missing" if broken else SHA)]


def checks(*, broken: bool = False) -> list[DbCheck]:
    totals = {"non_null": 99_960, "min": "****-**-**", "max": "****-**-**"}
    juki = DbCheck("juki", "sqlite:////data/out/migrate.db", [
        Invariant("db_rows:juki", not broken, 99_960, 99_959 if broken else 99_960),
        Invariant("db_totals:juki.birth_date", True, totals, totals),
        Invariant("db_totals:juki.src_record", True, {"non_null": 99_960, "sum": 5_000_000},
                  {"non_null": 99_960, "sum": 5_000_000}),
        Invariant("db_row_hash:juki", not broken, "99960:1f:2e",
                  "99959:1a:2b" if broken else "99960:1f:2e")])
    if broken:
        juki.diff = RowDiff(("atena_no",), missing=["000000017"], missing_total=1)
    zeimu = DbCheck("zeimu", "sqlite:////data/out/migrate.db",
                    [Invariant("db_table:zeimu", not broken, "present",
                               "missing" if broken else "present")])
    return [juki, zeimu]


def screen(broken: bool = False, verbose: bool = False) -> list[str]:
    buffer = io.StringIO()
    ok = print_reconciliation(files(broken=broken), checks(broken=broken),
                              Console(file=buffer, width=200, color_system=None), verbose)
    assert ok is not broken
    return buffer.getvalue().splitlines()



@pytest.mark.parametrize("lang", ["en_US.UTF-8", "ja_JP.UTF-8"], indirect=True)
def test_a_matching_run_is_a_verdict_and_one_line_per_table(lang):
    lines = screen()
    assert len(lines) == 5, lines
    assert lines[0].startswith("✔")
    assert ("juki" in lines[3]) and ("zeimu" in lines[4])
    assert not REPR.search("\n".join(lines))


@pytest.mark.parametrize("lang", ["en_US.UTF-8", "ja_JP.UTF-8"], indirect=True)
def test_failed_checks_say_what_and_show_formatted_figures(lang):
    text = "\n".join(screen(broken=True))
    assert text.startswith("✘")
    assert "db_rows:juki" in text and "99,960" in text and "99,959" in text
    assert "db_row_hash:juki" in text and "db_table:zeimu" in text
    assert "juki/file:rejects" in text and "000000017" in text
    assert "db_totals" not in text  # checks that passed stay off the screen without -v
    assert not REPR.search(text)
    if lang == "ja":
        kept = re.sub(r"[a-z_/]+:[a-z_.]+|sqlite:\S+|SHA-256|run\.json|juki|zeimu|"
                      r"atena_no|[0-9a-f]{12}…", " ", text)
        assert not re.findall(r"[A-Za-z]{2,}(?:[ ,']+[A-Za-z]{2,}){1,}", kept), text
    else:
        assert "expected 99,960 rows, hash 1f/2e, found 99,959 rows, hash 1a/2b" in text
        assert "expected present, found missing" in text
        assert "rows missing in the database (1), atena_no: 000000017" in text


def test_verbose_lists_every_check_with_totals_in_words(monkeypatch):
    monkeypatch.setenv("LANG", "en_US.UTF-8")
    monkeypatch.delenv("LC_ALL", raising=False)
    monkeypatch.delenv("LANGUAGE", raising=False)
    text = "\n".join(screen(verbose=True))
    assert "expected values 99,960, earliest ****-**-**, latest ****-**-**" in text
    assert "expected values 99,960, sum 5,000,000" in text
    assert "juki/CSV: SHA-256 = the one run.json recorded (juki/file:csv): expected " \
           "443161656dae…" in text
    assert not REPR.search(text)
