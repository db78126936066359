"""Every row of every conformance vector file in tests/decode/vectors/ is one test case."""

from __future__ import annotations

import csv
from decimal import Decimal
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from migrate.decode import (
    decode_packed,
    decode_text,
    decode_wareki,
    decode_zoned,
    to_fullwidth_kana,
)

VECTORS = Path(__file__).parent / "vectors"
COVERED = {"cp932.csv", "wareki.csv", "packed.csv", "zoned.csv", "kana.csv"}
# The reason each rejected wareki vector gets (the file only says "reject").
WAREKI_REASONS = {
    "3640108": "date_outside_era",
    "4310501": "date_outside_era",
    "1450731": "date_outside_era",
    "2151226": "date_outside_era",
    "4020229": "invalid_date",
    "3641301": "invalid_date",
    "4310432": "invalid_date",
    "6010101": "unknown_era",
    "3A10101": "invalid_date",
}


def rows(name: str) -> list[pytest.param]:
    with open(VECTORS / name, encoding="utf-8", newline="") as handle:
        return [
            pytest.param(row, id=f"{name}:{i + 2}:{next(iter(row.values()))}")
            for i, row in enumerate(csv.DictReader(handle))
        ]


def one_cell(raw: bytes) -> np.ndarray:
    return np.frombuffer(raw, np.uint8).reshape(1, len(raw))


def number(text: str, scale: int) -> int | Decimal:
    return int(text) if scale == 0 else Decimal(text)


def test_every_vector_file_is_covered() -> None:
    assert {p.name for p in VECTORS.glob("*.csv")} == COVERED


@pytest.mark.parametrize("row", rows("cp932.csv"))
def test_cp932(row: dict[str, str]) -> None:
    raw = bytes.fromhex(row["hex"])
    result = decode_text(one_cell(raw), strip="none")
    codepoints = "".join(chr(int(cp[2:], 16)) for cp in row["codepoints"].split())
    if row["expect"] == "text":
        assert result.errors[0] is None
        assert result.values[0] == codepoints
    elif row["expect"] == "gaiji":
        assert result.errors[0] == "gaiji_unmapped"
        assert result.values[0] is None
        mapped = decode_text(one_cell(raw), gaiji={codepoints: "〓"})
        assert mapped.errors[0] is None
        assert mapped.values[0] == "〓"
    else:
        assert row["expect"] == "reject"
        assert result.values[0] is None
        assert result.errors[0] in {
            "undecodable_bytes",
            "split_character",
            "invalid_character",
        }
        if len(raw) == 1 and 0x81 <= raw[0] <= 0x9F:
            assert result.errors[0] == "split_character"
        elif row["codepoints"]:
            assert result.errors[0] == "invalid_character"
        else:
            assert result.errors[0] == "undecodable_bytes"


@pytest.mark.parametrize("row", rows("wareki.csv"))
def test_wareki(row: dict[str, str]) -> None:
    result = decode_wareki(one_cell(row["input"].encode("ascii")))
    value, error = result.values[0], result.errors[0]
    if row["expect"] in ("date", "partial"):
        assert (value, error) == (row["value"], None)
        assert result.warnings[0] is None
    elif row["expect"] == "null":
        assert (value, error) == (None, None)
    else:
        assert row["expect"] == "reject"
        assert value is None
        assert row["input"] in WAREKI_REASONS, "a rejected vector needs its reason in the table"
        assert error == WAREKI_REASONS[row["input"]]


@pytest.mark.parametrize("row", rows("packed.csv"))
def test_packed(row: dict[str, str]) -> None:
    scale = int(row["scale"])
    result = decode_packed(one_cell(bytes.fromhex(row["hex"])), scale=scale)
    if row["expect"] == "number":
        assert result.errors[0] is None
        assert result.values[0] == number(row["value"], scale)
        assert result.values.dtype == (pl.Int64 if scale == 0 else pl.Decimal(18, scale))
    else:
        assert row["expect"] == "reject"
        assert (result.values[0], result.errors[0]) == (None, "invalid_packed")


@pytest.mark.parametrize("row", rows("zoned.csv"))
def test_zoned(row: dict[str, str]) -> None:
    scale = int(row["scale"])
    result = decode_zoned(one_cell(row["text"].encode("ascii")), scale=scale)
    if row["expect"] == "number":
        assert result.errors[0] is None
        assert result.values[0] == number(row["value"], scale)
    elif row["expect"] == "null":
        assert (result.values[0], result.errors[0]) == (None, None)
    else:
        assert row["expect"] == "reject"
        assert (result.values[0], result.errors[0]) == (None, "invalid_zoned")


@pytest.mark.parametrize("row", rows("kana.csv"))
def test_kana(row: dict[str, str]) -> None:
    assert to_fullwidth_kana(pl.Series([row["input"]])).to_list() == [row["expect"]]
