"""The "done when" of the copybook import: a copybook written for the bundled resident layout
converts to a mapping that decodes a generated vendor_a juki file to the same standard output
as the hand-written mappings/vendor_a/juki.yaml.

What is automatic and what is added by hand is spelt out in `BY_HAND`: a copybook says where
each field is and how it is stored, not which numbers are dates, which codes go through which
table, nor which standard column each field fills.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import yaml
from click.testing import CliRunner

from migrate.cli import main
from migrate.layouts import load_mapping
from migrate.layouts.bundled import bundled_dir
from migrate.synth.generate import generate

COPYBOOK = Path(__file__).parent / "copybooks" / "juki.cpy"
# field → what the copybook cannot say (its PIC 9(7) / 9(8) are 和暦 and YYYYMMDD dates)
DATES = {"birth": ("wareki", True), "jumin_date": ("wareki", True), "idou_date": ("wareki", False),
         "shojo_date": ("wareki", False), "shori_date": ("ymd", False),
         "zairyu_manryo": ("ymd", False)}


def _by_hand(generated: dict, hand: dict) -> dict:
    """The hand-made part: dates, the 外字 table and EOF byte of the source, the trailer's
    control total, and the columns (code tables, kana) of the hand-written mapping."""
    done = dict(generated)
    for name, (kind, lenient) in DATES.items():
        done["fields"][name]["type"] = kind
        if lenient:
            done["fields"][name]["lenient_calendar"] = True
    done["header"]["created"]["type"] = "ymd"
    done["source"].update(gaiji=hand["source"]["gaiji"], eof_marker=hand["source"]["eof_marker"])
    done["trailer"]["control_totals"] = hand["trailer"]["control_totals"]
    done["target"] = hand["target"]
    done["columns"] = hand["columns"]
    return done


def test_the_copybook_of_the_resident_layout_decodes_like_the_hand_written_mapping(tmp_path):
    folder = tmp_path / "vendor_a"
    shutil.copytree(bundled_dir("mappings") / "vendor_a", folder)
    runner = CliRunner()
    written = folder / "from_copybook.yaml"
    done = runner.invoke(main, ["layout", "from-copybook", str(COPYBOOK), "--write",
                                str(written)])
    assert done.exit_code == 0, done.output
    generated = yaml.safe_load(written.read_text(encoding="utf-8"))
    hand = yaml.safe_load((folder / "juki.yaml").read_text(encoding="utf-8"))
    # automatic: every field's offset, length and storage type but the dates
    for name, spec in hand["fields"].items():
        if name == "filler":  # the copybook's FILLER: spaces, declared by hand, not generated
            continue
        mine = generated["fields"][name]
        assert (mine["offset"], mine["length"]) == (spec["offset"], spec["length"]), name
        if name not in DATES:
            assert mine["type"] == spec["type"], name
    assert generated["source"]["record_type"] == hand["source"]["record_type"]
    assert generated["trailer"]["count"] == hand["trailer"]["count"]
    completed = folder / "completed.yaml"
    completed.write_text(yaml.safe_dump(_by_hand(generated, hand), allow_unicode=True),
                         encoding="utf-8")
    data = tmp_path / "juki.dat"
    generate(load_mapping("vendor_a/juki"), data, 300, seed=5, defects=6)
    outputs = {}
    for name, mapping in (("hand", folder / "juki.yaml"), ("copybook", completed)):
        out = tmp_path / name
        ran = runner.invoke(main, ["run", "-m", str(mapping), str(data), "--out", str(out),
                                   "--db", "none", "--workers", "1"])
        assert ran.exit_code == 0, ran.output
        outputs[name] = out
    for file in ("juki.csv", "rejects.csv", "warnings.csv"):
        assert (outputs["hand"] / file).read_bytes() == (outputs["copybook"] / file).read_bytes()
    assert len((outputs["hand"] / "juki.csv").read_bytes().splitlines()) > 250
