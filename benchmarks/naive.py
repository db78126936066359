"""Naive reference: the per-record, per-field Python loop a staff member would write.

A speed reference for benchmarks/compare.py, not part of migrate.  It converts a vendor_a/juki
style fixed-width export into the same standard columns and the same kind of CSV as
`migrate run` (juki.csv), one record and one field at a time:

    for each record:  slice bytes per field -> bytes.decode("cp932") -> strip padding
                      -> jaconv.h2z per value -> 和暦 via datetime per value (不詳 handled)
                      -> packed / zoned decimal per value -> code tables via dicts
                      -> simple checks (required, lengths, allowed codes, My Number check
                         digit, katakana, pattern, row rules, duplicate 宛名番号)
                      -> csv.writer

It is written to be reasonable, not slow: precompiled regexes, a field table built once,
buffered fixed-size reads.  Only the *layout* (offsets, types, code tables, 外字 table, era
table, target columns) is taken from the mapping and schema YAML through migrate.layouts;
every value is decoded and checked here, independently of migrate's vectorized decoders.

Not reproduced (they never change which rows are accepted on generated data):
- warnings (non_calendar_date, lunisolar_date, jumin_code_check_digit): the value is kept
  either way, so accepted rows are the same; they are counted, not written;
- the zokugara_chain check: zokugara comes out of a code table whose values are all valid
  chains, so it can only fail for a broken code table;
- the rejects file is simpler than migrate's (record, field, column, reason; no masking,
  no messages).

Usage: python benchmarks/naive.py INPUT --out DIR [--mapping vendor_a/juki]
Prints one JSON line: records, accepted, rejected, warnings, seconds.
"""

from __future__ import annotations

import argparse
import csv
import json
import re
import sys
import time
from datetime import date
from pathlib import Path

import jaconv

if __package__ in (None, ""):  # run as a script from a source checkout
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from migrate.layouts import Mapping, load_mapping  # noqa: E402  (layout only, see above)

STRIP = " \u3000"
INVALID_CHARS = re.compile("[\x00-\x1f\x7f-\x9f\ue758-\uf8ff\U000f0000-\U0010ffff]")
GAIJI_CHARS = re.compile("[\ue000-\ue757]")
KATAKANA = re.compile(r"^[\u30A0-\u30FF\u3000 ゛゜]+$")
DIGITS = re.compile(r"^[0-9]+$")
LONE_MARKS = {"\uff9e": "\u309b", "\uff9f": "\u309c"}  # a lone ﾞ/ﾟ that jaconv leaves alone
# Zoned decimal, last byte (IBM overpunch): byte -> (digit, negative)
ZONED_LAST = {0x30 + d: (d, False) for d in range(10)}
ZONED_LAST.update({ord("{"): (0, False), ord("}"): (0, True)})
ZONED_LAST.update({ord("A") + d - 1: (d, False) for d in range(1, 10)})
ZONED_LAST.update({ord("J") + d - 1: (d, True) for d in range(1, 10)})
PACKED_SIGN = {"a": 1, "c": 1, "e": 1, "f": 1, "b": -1, "d": -1}
GREGORIAN_FROM_YEAR = 1873


class Bad(Exception):
    """A value that cannot be migrated; args[0] is the reason code."""


# ---------------------------------------------------------------- field decoders (per value)


def make_text(encoding: str, gaiji: dict[str, str]):
    def sub(match: re.Match[str]) -> str:
        char = match.group()
        if char not in gaiji:
            raise Bad("gaiji_unmapped")
        return gaiji[char]

    def text(raw: bytes):
        try:
            value = raw.decode(encoding)
        except UnicodeDecodeError as exc:
            raise Bad("split_character" if "incomplete" in exc.reason
                      else "undecodable_bytes") from None
        value = value.rstrip(STRIP)
        if INVALID_CHARS.search(value):
            raise Bad("invalid_character")
        if GAIJI_CHARS.search(value):
            value = GAIJI_CHARS.sub(sub, value)
        return value or None

    return text


def digits(raw: bytes):
    raw = raw.rstrip(b" ")
    if not raw:
        return None
    if not raw.isdigit():
        raise Bad("invalid_digits")
    return raw.decode("ascii")


def zoned(raw: bytes):
    if raw.strip(b" ") == b"":
        return None
    head, last = raw[:-1], ZONED_LAST.get(raw[-1])
    if last is None or (head and not head.isdigit()):
        raise Bad("invalid_zoned")
    value = int(head or b"0") * 10 + last[0]
    return -value if last[1] else value


def packed(raw: bytes):
    nibbles = raw.hex()
    sign = PACKED_SIGN.get(nibbles[-1])
    if sign is None or not nibbles[:-1].isdigit():
        raise Bad("invalid_packed")
    return sign * int(nibbles[:-1])


def make_dates(mapping: Mapping):
    eras = {era.code.encode("ascii"): era for era in mapping.source.eras.eras}
    unknown = {int(u) for u in mapping.source.unknown_date_parts}

    def finish(year, month, day, lenient, first=None, last=None):
        m_unknown, d_unknown = month in unknown, day in unknown
        if (year == 0 or (not m_unknown and not 1 <= month <= 12)
                or (not d_unknown and not 1 <= day <= 31) or (m_unknown and not d_unknown)):
            raise Bad("invalid_date")
        level = 1 if m_unknown else 2 if d_unknown else 3
        lunisolar = year < GREGORIAN_FROM_YEAR
        warning = None
        if level == 3:
            if lunisolar:
                calendar = day <= 30
            else:
                try:
                    date(year, month, day)
                    calendar = True
                except ValueError:
                    calendar = False
            if not calendar:
                if not lenient:
                    raise Bad("invalid_date")
                warning = "non_calendar_date"
        if first is not None:
            precision = 1 if lunisolar else level
            key = (year, month if precision >= 2 else 0, day if precision >= 3 else 0)
            lo = (first.year, first.month if precision >= 2 else 0,
                  first.day if precision >= 3 else 0)
            if key < lo:
                raise Bad("date_outside_era")
            if last is not None and key > (last.year, last.month if precision >= 2 else 0,
                                           last.day if precision >= 3 else 0):
                raise Bad("date_outside_era")
        if lunisolar and warning is None:
            warning = "lunisolar_date"
        text = f"{year:04d}-{month:02d}-{day:02d}"[:(4, 7, 10)[level - 1]]
        return text, warning

    def wareki(raw: bytes, lenient: bool):
        if raw == b"0" * len(raw) or raw == b" " * len(raw):
            return None, None
        era = eras.get(raw[:1])
        if era is None:
            raise Bad("unknown_era")
        body = raw[1:]
        if not body.isdigit() or body[:2] == b"00":
            raise Bad("invalid_date")
        year = era.first.year + int(body[:2]) - 1
        return finish(year, int(body[2:4]), int(body[4:6]), lenient, era.first, era.last)

    def ymd(raw: bytes, lenient: bool):
        if raw == b"0" * len(raw) or raw == b" " * len(raw):
            return None, None
        if not raw.isdigit():
            raise Bad("invalid_date")
        return finish(int(raw[:4]), int(raw[4:6]), int(raw[6:8]), lenient)

    return wareki, ymd


# ---------------------------------------------------------------- checks (per value)


def my_number_ok(value: str) -> bool:
    if len(value) != 12 or not value.isdigit():
        return False
    total = sum(int(d) * w for d, w in zip(value[:11], (6, 5, 4, 3, 2, 7, 6, 5, 4, 3, 2),
                                           strict=True))
    r = total % 11
    return int(value[11]) == (0 if r <= 1 else 11 - r)


def lg_code_ok(value: str) -> bool:
    if len(value) != 6 or not value.isdigit():
        return False
    r = sum(int(d) * w for d, w in zip(value[:5], (6, 5, 4, 3, 2), strict=True)) % 11
    return int(value[5]) == (11 - r) % 10


def to_fullwidth(value: str) -> str:
    value = jaconv.h2z(value, kana=True, ascii=False, digit=False)
    for half, full in LONE_MARKS.items():
        if half in value:
            value = value.replace(half, full)
    return value


# ---------------------------------------------------------------- the loop


def convert(mapping: Mapping, input_path: Path, out_dir: Path) -> dict:
    started = time.perf_counter()
    source, schema = mapping.source, mapping.target
    encoding = source.encoding
    text = make_text(encoding, source.gaiji)
    wareki, ymd = make_dates(mapping)
    decoders = {"text": text, "digits": digits, "zoned": zoned, "packed": packed}
    stride = source.stride
    length = source.record_length
    rt = source.record_types

    # field table: (name, start, end, decode, date_kind, lenient)
    wanted = {cm.source for cm in mapping.columns if cm.kind == "field"}
    fields = []
    for name, spec in mapping.fields.items():
        if name in wanted:
            date_kind = {"wareki": wareki, "ymd": ymd}.get(spec.type)
            fields.append((name, spec.offset, spec.end, decoders.get(spec.type), date_kind,
                           spec.lenient_calendar))

    specs = {c.name: c for c in schema.columns}
    # column plan: (column, kind, source, kana, code_dict, dtype, required, maxlen, exactlen,
    #               allowed codes, min, max, my_number, lg_code, katakana, pattern)
    plan = []
    for cm in mapping.columns:
        spec = specs[cm.column]
        checks = {c.name: c for c in spec.checks if c.severity == "error"}
        pattern = checks.get("pattern")
        plan.append((
            cm.column, cm.kind, cm.source, cm.kana == "fullwidth",
            cm.codes.mapping if cm.codes else None, spec.dtype, spec.required,
            spec.max_length if spec.dtype in ("str", "digits", "code") else None, spec.length,
            set(spec.codes) if spec.dtype == "code" and spec.codes else None,
            spec.minimum, spec.maximum, "my_number_check_digit" in checks,
            "lg_code_check_digit" in checks, "katakana" in checks,
            re.compile(str(pattern.params["pattern"])) if pattern else None))
    column_names = [c.name for c in schema.columns]
    rules = [(rule.name, rule.when, rule.require, rule.forbid) for rule in schema.rules]
    key_column = schema.primary_key[0]

    with open(input_path, "rb") as handle:
        handle.seek(0, 2)
        size = handle.tell()
        if size and source.eof_marker is not None:
            handle.seek(size - 1)
            if handle.read(1)[0] == source.eof_marker:
                size -= 1
        n_records = size // stride
    if size % stride:
        raise SystemExit(f"{input_path}: {size} bytes is not a whole number of records")

    header: dict[str, object] = {}
    seen: set[str] = set()
    read = accepted = rejected = warnings = 0
    trailer_count = None
    out_dir.mkdir(parents=True, exist_ok=True)
    with open(input_path, "rb", buffering=1 << 20) as handle, \
            open(out_dir / f"{schema.name}.csv", "w", encoding="utf-8", newline="") as out, \
            open(out_dir / "rejects.csv", "w", encoding="utf-8", newline="") as rej:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(column_names)
        rejects = csv.writer(rej, lineterminator="\n")
        rejects.writerow(["record", "field", "column", "reason"])
        for number in range(1, n_records + 1):
            record = handle.read(stride)
            if record[length:] != source.newline:
                raise SystemExit(f"record {number} does not end with the expected line break")
            kind = record[rt.offset:rt.offset + rt.length].decode("ascii", "replace") if rt \
                else "data"
            if rt and number == 1 and kind == rt.header:
                for name, spec in mapping.header_fields.items():
                    raw = record[spec.offset:spec.end]
                    header[name] = digits(raw) if spec.type == "digits" else \
                        text(raw) if spec.type == "text" else raw
                continue
            if rt and number == n_records and kind == rt.trailer:
                count_spec = mapping.trailer.count if mapping.trailer else None
                if count_spec:
                    trailer_count = zoned(record[count_spec.offset:count_spec.end])
                continue
            read += 1
            if rt and kind != rt.data:
                rejected += 1
                rejects.writerow([number, "record_type", "", "unknown_record_type"])
                continue

            # decode every field of the record
            values: dict[str, object] = {}
            problem = None
            for name, start, end, decode, date_kind, lenient in fields:
                raw = record[start:end]
                try:
                    if date_kind is not None:
                        value, warning = date_kind(raw, lenient)
                        if warning:
                            warnings += 1
                    else:
                        value = decode(raw)
                except Bad as exc:
                    problem = (name, "", exc.args[0])
                    break
                values[name] = value

            # standard columns, with their checks
            row: dict[str, object] = {}
            if problem is None:
                for (column, kind_, src, kana, codes, dtype, required, max_length, exact,
                     allowed, lo, hi, my_number, lg_code, katakana, pattern) in plan:
                    if kind_ == "field":
                        value = values[src]
                    elif kind_ == "header":
                        value = header.get(src)
                    else:  # record_number
                        value = number
                    if value is not None:
                        if kana:
                            value = to_fullwidth(value)
                        if codes is not None:
                            if value not in codes:
                                problem = (src, column, "unknown_code")
                                break
                            value = codes[value]
                        if dtype == "digits" and not isinstance(value, str):
                            value = str(value)
                        if dtype == "date":
                            if len(value) != 10:
                                problem = (src, column, "partial_date_not_allowed")
                                break
                            try:
                                date.fromisoformat(value)
                            except ValueError:
                                problem = (src, column, "invalid_date")
                                break
                        reason = None
                        if max_length is not None and len(value) > max_length:
                            reason = "too_long"
                        elif exact is not None and len(value) != exact:
                            reason = "wrong_length"
                        elif dtype == "digits" and not DIGITS.match(value):
                            reason = "not_digits"
                        elif allowed is not None and value not in allowed:
                            reason = "code_not_allowed"
                        elif (lo is not None and value < lo) or (hi is not None and value > hi):
                            reason = "out_of_range"
                        elif my_number and not my_number_ok(value):
                            reason = "my_number_check_digit"
                        elif katakana and not KATAKANA.match(value):
                            reason = "katakana"
                        elif pattern is not None and not pattern.search(value):
                            reason = "pattern"
                        elif lg_code and not lg_code_ok(value):
                            reason = "lg_code_check_digit"
                        if reason:
                            problem = (src, column, reason)
                            break
                    elif required:
                        problem = (src, column, "required_missing")
                        break
                    row[column] = value
            if problem is None:
                for name, when, require, forbid in rules:
                    applies = all(row.get(c) is not None and str(row[c]) in v
                                  for c, v in when.items())
                    if applies and (any(row.get(c) is None for c in require)
                                    or any(row.get(c) is not None for c in forbid)):
                        problem = ("", "", name)
                        break
            if problem is None:
                key = row[key_column]
                if key in seen:
                    problem = ("", key_column, "duplicate_key")
                else:
                    seen.add(key)
            if problem is not None:
                rejected += 1
                rejects.writerow([number, *problem])
                continue
            accepted += 1
            writer.writerow(["" if row.get(c) is None else row[c] for c in column_names])

    if trailer_count is not None and trailer_count != read:
        raise SystemExit(f"trailer count {trailer_count} != data records read {read}")
    return {"records": read, "accepted": accepted, "rejected": rejected, "warnings": warnings,
            "seconds": round(time.perf_counter() - started, 3)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("input", type=Path)
    parser.add_argument("--out", type=Path, required=True, help="output folder")
    parser.add_argument("--mapping", default="vendor_a/juki", help="mapping id or path")
    args = parser.parse_args(argv)
    result = convert(load_mapping(args.mapping), args.input, args.out)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
