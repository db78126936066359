"""References between files decided on exact keys, even when every key hash collides."""

from __future__ import annotations

from contextlib import nullcontext

import numpy as np
import polars as pl
import pytest

from migrate.i18n import t
from migrate.layouts import load_schema
from migrate.validate.crossfile import CrossFile, check_references
from tests.validate.test_keys import _hash_buckets


def _frame(column: str, values: list[str]) -> pl.DataFrame:
    return pl.DataFrame({column: pl.Series(values, dtype=pl.Utf8)})


@pytest.mark.parametrize("buckets", [None, 1, 2])
def test_references_match_a_set_under_forced_collisions(tmp_path, buckets):
    """Accepted and rejected resident keys, then household heads that refer to them: every
    head's finding equals what a plain set of the real keys says."""
    juki, setai = load_schema("juki/v1"), load_schema("kokuho_setai/v1")
    rng = np.random.default_rng(buckets or 0)
    # hashed keys (19 digits, or letters) and exact ones (up to 17 digits)
    universe = [f"{10**18 + i}" for i in range(60)] + [f"A{i}" for i in range(30)] + \
               [f"{i:08d}" for i in range(30)]
    shuffled = rng.permutation(len(universe)).tolist()
    accepted = [universe[i] for i in shuffled[:50]]
    rejected = [universe[i] for i in shuffled[50:80]]
    with _hash_buckets(buckets) if buckets else nullcontext():
        cross = CrossFile(tmp_path, )
        cross.add_file("juki.dat", juki.id)
        cross.tracker(juki).duplicates(_frame("atena_no", accepted),
                                       cross.encode(0, np.arange(1, 51)))
        cross.rejected_tracker(juki).duplicates(_frame("atena_no", rejected),
                                                cross.encode(0, np.arange(101, 131)))
        cross.layouts_done.add(juki.id)
        cross.add_file("setai.dat", setai.id)
        heads = [universe[i] for i in rng.integers(0, len(universe), 300)]
        rows = _frame("setai_nushi_atena", heads).with_columns(
            pl.Series("__record", np.arange(1, 301)), pl.Series("__offset", np.zeros(300, int)))
        errors, warnings = check_references(rows, setai, cross, "__record", "__offset", {})
        cross.close()
    assert warnings.is_empty()
    got = dict(zip(errors["record"].to_list(),
                   zip(errors["reason"].to_list(), errors["detail"].to_list(), strict=True),
                   strict=True))
    expected = {}
    for record, head in enumerate(heads, start=1):
        if head in rejected:
            where = t("{file} record {record}", file="juki.dat",
                      record=101 + rejected.index(head))
            expected[record] = ("reference_rejected",
                                t("rejected in {layout}: {where}", layout=juki.id, where=where))
        elif head not in accepted:
            expected[record] = ("orphan_reference",
                                t("not in {layout} ({files})", layout=juki.id, files="juki.dat"))
    assert got == expected
    assert 50 < len(expected) < 250  # both kinds of finding, and found references, were made


def test_a_reference_into_a_key_of_several_columns_matches_them_all(tmp_path):
    """An income record of zeimu_shotoku/v1 refers to the taxpayer of zeimu/v1 with its own
    tax year and 宛名番号 (zeimu/v1's key): the right person in another year is an orphan."""
    zeimu, shotoku = load_schema("zeimu/v1"), load_schema("zeimu_shotoku/v1")
    cross = CrossFile(tmp_path)
    cross.add_file("zeimu.dat", zeimu.id)
    keys = pl.DataFrame({"tax_year": [2025, 2025, 2024], "atena_no": ["1", "2", "3"]})
    cross.tracker(zeimu).duplicates(keys, cross.encode(0, np.arange(1, 4)))
    cross.layouts_done.add(zeimu.id)
    cross.add_file("zeimu.dat", shotoku.id)
    rows = pl.DataFrame({"tax_year": [2025, 2024, 2025, 2024],
                         "atena_no": ["1", "1", "3", "3"],
                         "__record": [10, 11, 12, 13], "__offset": [0, 0, 0, 0]})
    errors, warnings = check_references(rows, shotoku, cross, "__record", "__offset", {})
    cross.close()
    assert warnings.is_empty()
    assert dict(zip(errors["record"].to_list(), errors["reason"].to_list(), strict=True)) == {
        11: "orphan_reference", 12: "orphan_reference"}
