"""The national list of local governments (全国地方公共団体コード, bundled in data/lg_codes.csv
with its source and date): what the offline address split (`split:` in a mapping's columns)
matches an address against.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

LG_CODES = Path(__file__).resolve().parent / "data" / "lg_codes.csv"
#: What `split:` may take from a one-piece address.
ADDRESS_PARTS = ("pref", "city", "town", "lg_code")


@dataclass(frozen=True)
class Municipality:
    """One 市区町村 of the list."""

    code: str  # 6 digits, check digit included
    prefecture: str
    city: str
    designated: bool  # 政令指定都市: the address goes on with a ward (区)


@dataclass(frozen=True)
class LocalGovernments:
    """The prefectures and, per prefecture, its municipalities longest name first (so that a
    name that begins with another name is matched whole)."""

    prefectures: tuple[str, ...]
    by_prefecture: dict[str, tuple[Municipality, ...]]


@lru_cache(maxsize=1)
def local_governments() -> LocalGovernments:
    with LG_CODES.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    prefectures = tuple(sorted({r["prefecture"] for r in rows}, key=len, reverse=True))
    by_prefecture: dict[str, list[Municipality]] = {p: [] for p in prefectures}
    for row in rows:
        if row["city"]:
            by_prefecture[row["prefecture"]].append(Municipality(
                row["code"], row["prefecture"], row["city"], row["designated"] == "1"))
    return LocalGovernments(prefectures, {
        p: tuple(sorted(ms, key=lambda m: len(m.city), reverse=True))
        for p, ms in by_prefecture.items()})
