"""Rows spilled to disk in buckets by key: every key in one bucket, the same on both sides."""

from __future__ import annotations

import polars as pl

from migrate.export.spill import Spill, bucket_count, first_rows


def test_bucket_count_follows_the_rows():
    assert bucket_count(10) == 1 and bucket_count(None) == bucket_count(1_000_000) == 4
    assert bucket_count(5_000_000) == 20 and bucket_count(10**12) == 512


def test_each_key_lands_in_one_bucket_and_two_spills_agree(tmp_path):
    keys = [f"{i % 997:09d}" for i in range(5_000)]
    a = Spill(tmp_path, "a", ["key"], 7)
    b = Spill(tmp_path, "b", ["key"], 7)
    for start in range(0, len(keys), 1_000):  # in batches, as a file streams past
        batch = pl.DataFrame({"key": keys[start:start + 1_000],
                              "row": range(start, min(start + 1_000, len(keys)))})
        a.add(batch)
        b.add(batch.reverse())
    buckets_a, buckets_b = list(a), list(b)
    assert a.rows == b.rows == len(keys)
    assert sum(1 for part in buckets_a if part.height) > 1
    home = {}
    for index, part in enumerate(buckets_a):
        for key in part["key"].unique():
            assert home.setdefault(key, index) == index
    assert len(home) == 997
    for part_a, part_b in zip(buckets_a, buckets_b, strict=True):
        assert set(part_a["key"]) == set(part_b["key"])
    assert sorted(pl.concat(buckets_a)["row"].to_list()) == list(range(len(keys)))


def test_an_empty_bucket_keeps_the_columns(tmp_path):
    spill = Spill(tmp_path, "s", ["key"], 64)
    spill.add(pl.DataFrame({"key": ["1"], "row": [1]}))
    empty = [part for part in spill if not part.height]
    assert empty and all(part.columns == ["key", "row"] for part in empty)


def test_first_rows_keeps_the_smallest():
    assert first_rows([9, 3], pl.Series([7, 1, 8]), 3) == [1, 3, 7]
