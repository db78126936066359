"""Lay a parsed copybook out in bytes: each elementary item's offset, length and field type,
OCCURS expanded, REDEFINES resolved, notes for what a mapping cannot say.

Sizes follow IBM Enterprise COBOL: DISPLAY one byte a digit or character (SIGN SEPARATE one
more), PIC N / G two bytes a character, COMP-3 ⌊digits / 2⌋ + 1 bytes, COMP / COMP-4 / BINARY
2, 4 or 8 bytes for up to 4, 9 or 18 digits. V marks the decimal point and P a scaled position;
neither takes a byte.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from migrate.author.copybook.parser import Entry
from migrate.errors import UsageError


@dataclass
class Item:
    """An elementary item (or a FILLER) at its place in the record."""

    path: str  # GROUP.ITEM, with (i) for an OCCURS index
    name: str  # the entry's own name (with _i for an OCCURS index)
    offset: int  # 0-based
    length: int
    type: str  # text | digits | zoned | packed | binary | decimal | filler
    scale: int = 0
    signed: bool = False
    picture: str = ""
    value: str | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def end(self) -> int:
        return self.offset + self.length


@dataclass
class Record:
    """One record layout: a 01 level (or one alternative of a REDEFINES at 01 level)."""

    name: str
    length: int
    items: list[Item]
    notes: list[str] = field(default_factory=list)


def _expand(picture: str) -> str:
    """X(3)9(2) → XXX99."""
    return re.sub(r"(.)\((\d+)\)", lambda m: m.group(1) * int(m.group(2)), picture.upper())


@dataclass
class Picture:
    kind: str  # alphanumeric | dbcs | numeric | edited
    digits: int
    scale: int
    signed: bool
    characters: int
    scaled_up: int = 0  # P positions after the digits: the value is × 10^scaled_up


def read_picture(picture: str) -> Picture:
    """What a PIC string describes."""
    text = _expand(picture)
    if set(text) <= set("X"):
        return Picture("alphanumeric", 0, 0, False, len(text))
    if set(text) <= set("A"):
        return Picture("alphanumeric", 0, 0, False, len(text))
    if set(text) <= set("NG"):
        return Picture("dbcs", 0, 0, False, len(text))
    if set(text) <= set("9SVP") and text.count("S") <= 1 and text.count("V") <= 1:
        signed = text.startswith("S")
        body = text.lstrip("S")
        before, _, after = body.partition("V")
        digits = body.count("9")
        scale = after.count("9") + after.count("P")
        scaled_up = 0
        if "P" in before:
            if before.startswith("P"):  # PP999: .00999, every digit is a decimal
                scale += before.count("P") + before.count("9")
            else:  # 999PP: 99900
                scaled_up = before.count("P")
        return Picture("numeric", digits, scale, signed, digits, scaled_up)
    if set(text) <= set("XA9"):
        return Picture("alphanumeric", 0, 0, False, len(text))
    return Picture("edited", 0, 0, False, len(text))


def layout_records(roots: list[Entry], source: str = "copybook") -> list[Record]:
    """The record layouts of a copybook: one per 01 level (77 levels are working storage, not
    records, and are left out); a REDEFINES of a whole 01 record is one more record type."""
    records = []
    for root in roots:
        if root.level == 77:
            continue
        items: list[Item] = []
        notes: list[str] = []
        length = _place(root, 0, "", items, notes, source, top=True)
        records.append(Record(root.name, length, items, notes))
    return records


def _place(entry: Entry, offset: int, prefix: str, items: list[Item], notes: list[str],
           source: str, top: bool = False, suffix: str = "") -> int:
    """Place `entry` (and its children) at `offset`; its size in bytes."""
    if entry.depending_on:
        raise UsageError("{file}:{line}: OCCURS DEPENDING ON ({name}) is not supported",
                         {"file": source, "line": entry.line, "name": entry.name},
                         hint="Records whose length depends on a count are variable-length: "
                              "migrate reads fixed-length records only. Ask the vendor for a "
                              "fixed-length export (the OCCURS at its maximum), or describe "
                              "each record length as its own file.")
    if entry.usage in ("float", "pointer", "index", "national"):
        raise UsageError("{file}:{line}: USAGE {name} is not supported",
                         {"file": source, "line": entry.line, "name": entry.usage.upper()},
                         hint="A mapping reads DISPLAY, PIC N/G, COMP-3 and COMP/BINARY "
                              "fields.")
    times = entry.occurs or 1
    size = 0
    for child in entry.children:
        if child.level == 88 and entry.picture is not None:
            notes.append(f"level 88 {child.name} (a condition name of {entry.name}) ignored")
    for index in range(times):
        index_path = f"({index + 1})" if entry.occurs else ""
        path = entry.name if top else f"{prefix}{entry.name}{index_path}"
        # an OCCURS index goes into the names of everything under it: AMT_1, AMT_2, …
        inner = suffix + (f"_{index + 1}" if entry.occurs else "")
        if entry.children and entry.picture is None:
            size = _place_group(entry, offset + index * size, path, items, notes, source, inner)
        else:
            item = _elementary(entry, offset + index * size, path, entry.name + inner, source)
            size = item.length
            items.append(item)
    return size * times


def _place_group(entry: Entry, offset: int, path: str, items: list[Item], notes: list[str],
                 source: str, suffix: str) -> int:
    position = offset
    starts: dict[str, int] = {}
    end = offset
    for child in entry.children:
        if child.level == 88:
            notes.append(f"level 88 {child.name} (a condition name of {entry.name}) ignored")
            continue
        if child.level == 66:
            notes.append(f"level 66 {child.name} (RENAMES {child.renames}) ignored")
            continue
        if child.redefines:
            base = child.redefines
            if base not in starts:
                raise UsageError("{file}:{line}: {name} redefines '{ref}', which is not "
                                 "declared before it at the same level",
                                 {"file": source, "line": child.line, "name": child.name,
                                  "ref": base})
            shadow: list[Item] = []
            size = _place(child, starts[base], path + ".", shadow, notes, source,
                          suffix=suffix)
            notes.append(f"{path}.{child.name} REDEFINES {base} (offsets {starts[base]}–"
                         f"{starts[base] + size - 1}): the first definition is declared, "
                         f"this one is not")
            end = max(end, starts[base] + size)
            continue
        starts[child.name] = position
        size = _place(child, position, path + ".", items, notes, source, suffix=suffix)
        position += size
        end = max(end, position)
    return end - offset


def _elementary(entry: Entry, offset: int, path: str, name: str, source: str) -> Item:
    if entry.picture is None:
        raise UsageError("{file}:{line}: {name} has neither a PIC clause nor items under it",
                         {"file": source, "line": entry.line, "name": entry.name})
    pic = read_picture(entry.picture)
    notes: list[str] = []
    usage = entry.usage
    if pic.kind == "dbcs" or usage == "dbcs":
        return Item(path, name, offset, 2 * pic.characters, "text", picture=entry.picture,
                    value=entry.value, notes=["DBCS: 2 bytes a character"])
    if pic.kind in ("alphanumeric", "edited"):
        if pic.kind == "edited":
            notes.append("numeric-edited picture: read as text")
        kind = "filler" if entry.name == "FILLER" else "text"
        return Item(path, name, offset, pic.characters, kind, picture=entry.picture,
                    value=entry.value, notes=notes)
    if pic.scaled_up:
        notes.append(f"P scaling: the value is the stored number × 10^{pic.scaled_up}, "
                     f"which a mapping cannot express; multiply it in the target")
    if usage == "packed":
        length, kind = pic.digits // 2 + 1, "packed"
    elif usage == "binary":
        length = 2 if pic.digits <= 4 else 4 if pic.digits <= 9 else 8
        kind = "binary"
    elif entry.sign_separate:
        length = pic.digits + 1
        if entry.sign != "leading" or pic.scale:
            raise UsageError("{file}:{line}: {name}: SIGN TRAILING SEPARATE, or SIGN "
                             "SEPARATE with decimals (V), is not supported",
                             {"file": source, "line": entry.line, "name": entry.name},
                             hint="A leading separate sign on a whole number is read as "
                                  "type decimal.")
        kind = "decimal"
    else:
        length = pic.digits
        if entry.sign == "leading":
            raise UsageError("{file}:{line}: {name}: SIGN LEADING (overpunched on the first "
                             "byte) is not supported",
                             {"file": source, "line": entry.line, "name": entry.name},
                             hint="Zoned decimals carry their sign on the last byte (the "
                                  "default, SIGN TRAILING).")
        # an unsigned whole number is often an identifier: digits keep its leading zeros
        kind = "zoned" if pic.signed or pic.scale else "digits"
    kind = "filler" if entry.name == "FILLER" else kind
    return Item(path, name, offset, length, kind, pic.scale, pic.signed, entry.picture,
                entry.value, notes)
