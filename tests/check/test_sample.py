"""`migrate check --sample`: the first N records of a real file mapped and validated, the
rejects counted by reason and field, nothing written."""

from __future__ import annotations

import json

from migrate.check.formats import sample_text
from migrate.check.sample import run_sample
from migrate.layouts import load_mapping
from migrate.synth.generate import generate


def test_sample_counts_the_injected_defects_by_reason(tmp_path):
    mapping = load_mapping("vendor_a/juki")
    legacy = tmp_path / "juki.dat"
    generate(mapping, legacy, 300, seed=3, defects=12)
    defects = json.loads((tmp_path / "juki.dat.defects.json").read_text(encoding="utf-8"))
    before = sorted(p.name for p in tmp_path.iterdir())
    result = run_sample(mapping, legacy, 300)
    assert result.records == 300
    injected = {d["record"] for d in defects["defects"]} if isinstance(defects, dict) else {
        d["record"] for d in defects}
    assert 0 < result.rejected <= len(injected)
    assert sum(result.errors.values()) >= result.rejected
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # nothing written


def test_sample_reads_only_the_first_n_records(tmp_path):
    mapping = load_mapping("vendor_a/juki")
    legacy = tmp_path / "juki.dat"
    generate(mapping, legacy, 200, seed=1)
    result = run_sample(mapping, legacy, 25)
    assert (result.records, result.rejected) == (25, 0)
    assert sample_text(result, "en").startswith("25 record(s) sampled: 0 would be rejected")
