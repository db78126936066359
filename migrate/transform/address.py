"""Split a one-piece address into 都道府県 / 市区町村 / 町字以下, offline, against the national
list of local governments (migrate.layouts.addresses).

No library does this offline against the official list (the geocoders need their own
address databases), so it is written here: a prefecture name at the start (or none, when the
municipality's name is found in one prefecture only), then the municipality — a name of the
list, longest first, so that a name that begins with another (府中町 / 府中市) is taken whole;
else a 郡 followed by a town or village of the prefecture (西置賜郡白鷹町); a 政令指定都市 goes on
with its ward (札幌市中央区) — and the rest is 町字以下. Anything else is not split: the record is
rejected rather than cut in a wrong place.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from migrate.layouts.addresses import LocalGovernments, Municipality, local_governments

_SPACES = " \u3000"


@dataclass(frozen=True)
class SplitAddress:
    pref: str
    city: str
    town: str
    lg_code: str


def _municipality(rest: str, candidates: tuple[Municipality, ...]
                  ) -> tuple[Municipality, str] | None:
    """The municipality `rest` begins with, and the 市区町村 text as written (with its 郡)."""
    for m in candidates:
        if rest.startswith(m.city):
            return m, m.city
    for i, char in enumerate(rest[:12]):
        if char == "郡" and i > 0:
            after = rest[i + 1:]
            for m in candidates:
                if m.city[-1] in "町村" and after.startswith(m.city):
                    return m, rest[:i + 1] + m.city
    return None


def _ward(rest: str) -> str:
    """The ward of a 政令指定都市 at the start of `rest` ('' when there is none)."""
    end = rest.find("区", 0, 6)
    return rest[:end + 1] if end > 0 else ""


@lru_cache(maxsize=65536)
def split_address(address: str, governments: LocalGovernments | None = None
                  ) -> SplitAddress | None:
    """The three parts and the 団体コード of the municipality, or None when the address does not
    begin with a prefecture and municipality of the list."""
    lg = governments or local_governments()
    text = address.lstrip(_SPACES)
    pref = next((p for p in lg.prefectures if text.startswith(p)), None)
    if pref is not None:
        found = _municipality(text[len(pref):].lstrip(_SPACES), lg.by_prefecture[pref])
        rest = text[len(pref):].lstrip(_SPACES)
    else:  # no prefecture written: the municipality must be in one prefecture only
        hits = [(p, hit) for p in lg.prefectures
                if (hit := _municipality(text, lg.by_prefecture[p])) is not None]
        if len(hits) != 1:
            return None
        pref, found = hits[0][0], hits[0][1]
        rest = text
    if found is None:
        return None
    municipality, written = found
    rest = rest[len(written):]
    city = written
    if municipality.designated:
        ward = _ward(rest)
        city, rest = city + ward, rest[len(ward):]
    return SplitAddress(pref, city, rest.lstrip(_SPACES), municipality.code)
