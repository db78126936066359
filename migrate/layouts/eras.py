"""The era table (元号): data, not code. Each mapping can bring its own (the 給与支払報告書 numbers
昭和 = 1 … 明治 = 3; the usual order is 1 = 明治 … 5 = 令和), and a new era is one more row.
It lives with the declarations because a mapping's `eras:` is loaded into it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True)
class Era:
    """One era: its code in the source data, its name, and its first and last day."""

    code: str
    name: str
    first: date
    last: date | None = None


def _as_date(value: object) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        return date.fromisoformat(value)
    raise TypeError(f"expected a date or an ISO date string, got {value!r}")


@dataclass(frozen=True)
class EraTable:
    """The eras a mapping uses, looked up by code (all codes have the same length)."""

    eras: tuple[Era, ...]

    def __post_init__(self) -> None:
        if not self.eras:
            raise ValueError("an era table needs at least one era")
        codes = [era.code for era in self.eras]
        if len(set(codes)) != len(codes):
            raise ValueError(f"era codes must be unique, got {codes}")
        if len({len(code) for code in codes}) != 1 or not codes[0]:
            raise ValueError(f"era codes must all have the same non-zero length, got {codes}")
        for era in self.eras:
            if not (era.code.isascii() and era.code.isprintable()):
                raise ValueError(f"era code {era.code!r} must be printable ASCII")
            if era.last is not None and era.last < era.first:
                raise ValueError(f"era {era.name}: last day {era.last} is before {era.first}")
            if era.first.year < 1:
                raise ValueError(f"era {era.name}: first day out of range")

    @classmethod
    def from_rows(cls, rows: Iterable[Sequence[object] | Mapping[str, object]]) -> EraTable:
        """Build a table from rows (code, name, first, last) or mappings with those keys.

        Dates may be `date` objects or ISO strings; a missing or empty last day means the era
        has not ended.
        """
        eras = []
        for row in rows:
            if isinstance(row, Mapping):
                code, name, first, last = (row.get(k) for k in ("code", "name", "first", "last"))
            else:
                code, name, first, *rest = row
                last = rest[0] if rest else None
            first_day = _as_date(first)
            if first_day is None:
                raise ValueError(f"era {name!r} needs a first day")
            eras.append(Era(str(code), str(name), first_day, _as_date(last)))
        return cls(tuple(eras))

    @property
    def code_width(self) -> int:
        """Bytes the era code takes in a record."""
        return len(self.eras[0].code)

    def by_code(self, code: str) -> Era | None:
        """The era with this code, or None."""
        for era in self.eras:
            if era.code == code:
                return era
        return None


#: The usual numbering: 1 明治 … 5 令和.  明治 and 大正 end on the changeover day itself, which
#: the 住民記録 standard allows under both names (明治45年7月30日, 大正15年12月25日).
DEFAULT_ERAS = EraTable.from_rows(
    [
        ("1", "明治", "1868-01-25", "1912-07-30"),
        ("2", "大正", "1912-07-30", "1926-12-25"),
        ("3", "昭和", "1926-12-25", "1989-01-07"),
        ("4", "平成", "1989-01-08", "2019-04-30"),
        ("5", "令和", "2019-05-01", None),
    ]
)


#: The same eras with two-digit codes 01 明治 … 05 令和, as the 中間標準レイアウト writes its
#: 年号コード (GGYYMMDD). The numbering follows the usual one (unverified against the layout
#: document of each business area: compare it before use).
TWO_DIGIT_ERAS = EraTable(tuple(Era(f"0{era.code}", era.name, era.first, era.last)
                                for era in DEFAULT_ERAS.eras))


def can_mark_unknown(text: str) -> bool:
    """Whether `text` can stand for an unknown month or day: two ASCII digits that are not a
    real month or day (00, 99 …)."""
    return len(text) == 2 and text.isascii() and text.isdigit() and not 1 <= int(text) <= 31
