"""Probable mapping errors: when one reason at one field rejects most of the data records, the
fault is almost never in the data but in one line of the mapping (an era code the table lacks,
a 不詳 marker not declared, half-width kana without `kana: fullwidth`, a wrong offset).

The run counts the records each (field, reason) rejects and keeps the field's bytes of a few of
them; this module decides whether the share is a probable mapping error and which line of the
mapping would fix it. A run with such a verdict fails (exit 1), and so does a run that accepted
no record at all.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from migrate.i18n import t
from migrate.layouts import Mapping

DEFAULT_SHARE = 0.5  # one (field, reason) rejecting more than this share of the records
SAMPLES = 20         # field bytes kept per (field, reason) to name the fix
MIN_RECORDS = 10     # fewer rejects than this are a few bad records, whatever their share
# Reasons between records (a key seen before, a reference, a group): a share of them says how
# two exports overlap or fit together, not that a field is read wrongly.
BETWEEN_RECORDS = frozenset({
    "duplicate_key", "group_rejected", "orphan_reference", "reference_rejected",
    "jutogai_but_resident", "orphan_child", "child_key_mismatch", "child_ambiguous"})
HALF_WIDTH_KANA = range(0xA1, 0xE0)  # cp932 / Shift_JIS single-byte katakana


@dataclass(frozen=True)
class Diagnosis:
    """The verdict of a run that failed for the mapping's sake, and its fix."""

    verdict: str            # probable_mapping_error | nothing_accepted
    field: str | None
    reason: str | None
    records: int            # records this (field, reason) rejected
    read: int               # data records read
    fix: str                # message id of the mapping-side fix
    params: dict[str, Any]

    @property
    def share(self) -> float:
        return self.records / self.read if self.read else 0.0

    def fix_text(self, lang: str | None = None) -> str:
        return t(self.fix, lang, **self.params)

    def message(self, lang: str | None = None) -> str:
        """One sentence naming the field, the reason, the share and the fix."""
        if self.verdict == "nothing_accepted" and self.field is None:
            return t("No data record was accepted.", lang)
        head = t("Probable mapping error: {reason} at field {field} rejects {share} of the "
                 "data records ({records} of {read}).", lang, reason=self.reason,
                 field=self.field, share=f"{self.share:.0%}", records=f"{self.records:,}",
                 read=f"{self.read:,}")
        if self.verdict == "nothing_accepted":
            head = t("No data record was accepted; most were rejected for {reason} at field "
                     "{field} ({records} of {read}).", lang, reason=self.reason,
                     field=self.field, records=f"{self.records:,}", read=f"{self.read:,}")
        return f"{head} {self.fix_text(lang)}"

    def as_dict(self) -> dict[str, Any]:
        return {"verdict": self.verdict, "field": self.field, "reason": self.reason,
                "records": self.records, "read": self.read, "share": round(self.share, 4),
                "fix": self.fix_text("en"), "fix_id": self.fix, "fix_params": self.params}


def diagnose(mapping: Mapping, read: int, accepted: int, counts: Counter,
             samples: dict[tuple[str, str], list[bytes]],
             share: float | None = None) -> Diagnosis | None:
    """The probable mapping error of a run, if any. `counts`: records rejected per
    (field, reason); `samples`: raw bytes of that field in some of those records; `share`:
    the threshold (--max-reject-rate), default DEFAULT_SHARE."""
    limit = DEFAULT_SHARE if share is None else share
    if not read:
        return None

    def top(items: list[tuple[tuple[str, str], int]]) -> tuple[tuple[str, str], int] | None:
        return max(items, key=lambda item: (item[1], item[0]), default=None)

    per_field = top([(k, n) for k, n in counts.items() if k[1] not in BETWEEN_RECORDS])
    if per_field is not None and per_field[1] / read > limit and per_field[1] >= MIN_RECORDS:
        verdict, found = "probable_mapping_error", per_field
    elif accepted == 0:
        verdict, found = "nothing_accepted", top(list(counts.items()))
    else:
        return None
    if found is None:
        return Diagnosis(verdict, None, None, 0, read, "", {})
    (field, reason), records = found
    fix, params = _fix(mapping, field, reason, records, samples.get((field, reason), []))
    return Diagnosis(verdict, field, reason, records, read, fix, params)


def _fix(mapping: Mapping, field: str, reason: str, records: int,
         sample: list[bytes]) -> tuple[str, dict[str, Any]]:
    """The line of the mapping that would fix it: named from the field's bytes where the
    reason alone does not say."""
    source = mapping.source
    spec = mapping.fields.get(field)
    if reason == "unknown_era" and sample:
        width = source.eras.code_width
        code = Counter(s[:width].decode("ascii", "replace") for s in sample).most_common(1)[0][0]
        hint = ("era code '{code}' is not in source.eras: add it, with its name and first "
                "and last day.")
        return hint, {"code": code}
    if reason == "invalid_date" and sample and spec is not None:
        part = _date_marker(sample, spec.type, source.eras.code_width)
        if part is not None:
            which, value = part
            hint = "day '{part}' in {records} records: add \"{part}\" to unknown_date_parts."
            if which == "month":
                hint = ("month '{part}' in {records} records: add \"{part}\" to "
                        "unknown_date_parts.")
            return hint, {"part": value, "records": f"{records:,}"}
    if reason == "katakana" and any(b in HALF_WIDTH_KANA for s in sample for b in s):
        columns = [cm.column for cm in mapping.columns if cm.source == field and not cm.kana]
        hint = ("half-width kana in a column that requires full-width: add kana: fullwidth "
                "to column {column}.")
        return hint, {"column": ", ".join(columns) or field}
    if reason == "unknown_code":
        hint = ("most values of field {field} are not in its code table: check that the "
                "table is the one for this field, and the field's offset.")
        return hint, {"field": field}
    if reason == "unknown_record_type":
        hint = ("most records have a record-type code the mapping does not declare: check "
                "record_type's offset, length and codes.")
        return hint, {}
    hint = ("check the offset, length and type of field {field} in the mapping against the "
            "layout document: one wrong line there rejects every record.")
    return hint, {"field": field}


def _date_marker(sample: list[bytes], ftype: str, era_width: int) -> tuple[str, str] | None:
    """('day' | 'month', two digits) when most sampled dates share an impossible day or
    month value such as 99: an unknown-part marker the mapping does not declare."""
    start = era_width + 2 if ftype == "wareki" else 4 if ftype == "ymd" else None
    if start is None:
        return None
    months = Counter(s[start:start + 2] for s in sample)
    days = Counter(s[start + 2:start + 4] for s in sample)
    for which, counter, top_valid in (("day", days, 31), ("month", months, 12)):
        value, hits = counter.most_common(1)[0]
        if value.isdigit() and int(value) > top_valid and hits * 2 > len(sample):
            return which, value.decode("ascii")
    return None
