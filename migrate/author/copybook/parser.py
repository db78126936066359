"""Read a COBOL copybook into its data description entries (level, name, clauses).

Hand-written on purpose: the maintained-looking Python parser on PyPI (`copybook`, pyparsing
based, last released in 2022) reads PIC X/9, V, signs, OCCURS and REDEFINES, but not USAGE
(COMP-3, COMP/BINARY), PIC N/G (DBCS), P scaling, SIGN SEPARATE or levels 66/88, which are
what a Japanese host export's copybook is made of; cobrix (Scala) has a full grammar but runs on
the JVM. A copybook's data division is a list of period-terminated entries whose clauses come
in a handful of fixed forms, so a tokenizer and one pass over the tokens are enough, and every
construct this reads is tested (tests/author/test_copybook*.py).

Fixed format is understood (columns 1–6 sequence numbers, column 7 `*` or `/` for a comment
line, text up to column 72), and so is free format (`*>` comments).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from migrate.errors import UsageError

USAGES = {
    "DISPLAY": "display", "COMP-3": "packed", "COMPUTATIONAL-3": "packed",
    "PACKED-DECIMAL": "packed", "COMP": "binary", "COMPUTATIONAL": "binary",
    "COMP-4": "binary", "COMPUTATIONAL-4": "binary", "BINARY": "binary", "COMP-5": "binary",
    "COMPUTATIONAL-5": "binary", "COMP-1": "float", "COMPUTATIONAL-1": "float",
    "COMP-2": "float", "COMPUTATIONAL-2": "float", "DISPLAY-1": "dbcs", "NATIONAL": "national",
    "POINTER": "pointer", "INDEX": "index",
}
_TOKEN = re.compile(r"'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"|[^\s]+")


@dataclass
class Entry:
    """One data description entry of the copybook, as written."""

    level: int
    name: str  # FILLER when left out
    line: int
    picture: str | None = None
    usage: str = "display"
    occurs: int | None = None
    depending_on: str | None = None
    redefines: str | None = None
    sign: str | None = None  # leading | trailing
    sign_separate: bool = False
    value: str | None = None
    renames: str | None = None
    children: list[Entry] = field(default_factory=list)


def _lines(text: str) -> list[tuple[int, str]]:
    """(line number, text area) of every line that is not a comment."""
    out = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.rstrip("\r\n")
        fixed = len(line) >= 7 and re.fullmatch(r"[0-9 ]{6}", line[:6]) is not None \
            and line[6] in " *-/D"
        if fixed:
            if line[6] in "*/":
                continue
            line = line[7:72]
        stripped = line.strip()
        if not stripped or stripped.startswith("*>") or stripped.startswith("*"):
            continue
        out.append((number, line.split("*>", 1)[0]))
    return out


def _entries_text(text: str) -> list[tuple[int, list[str]]]:
    """Entries: the tokens up to each period that ends a word, with the entry's first line."""
    entries: list[tuple[int, list[str]]] = []
    tokens: list[str] = []
    first = 0
    for number, line in _lines(text):
        for token in _TOKEN.findall(line):
            if not tokens:
                first = number
            ends = token.endswith(".") and not token.startswith(("'", '"'))
            token = token[:-1] if ends else token
            if token:
                tokens.append(token)
            if ends:
                entries.append((first, tokens))
                tokens = []
    if tokens:
        entries.append((first, tokens))
    return entries


def parse_copybook(text: str, source: str = "copybook") -> list[Entry]:
    """The top-level entries (01 and 77 levels, 66 kept for its note) with their children."""
    roots: list[Entry] = []
    stack: list[Entry] = []
    for line, tokens in _entries_text(text):
        entry = _entry(line, tokens, source)
        if entry is None:
            continue
        if entry.level in (1, 77) or entry.level == 66:
            if entry.level == 66:
                (stack[0].children if stack else roots).append(entry)
                continue
            roots.append(entry)
            stack = [entry]
            continue
        while stack and stack[-1].level >= entry.level and entry.level != 88:
            stack.pop()
        if not stack:
            raise UsageError("{file}:{line}: level {n} has no 01 level above it",
                             {"file": source, "line": line, "n": entry.level},
                             hint="A copybook's records start at level 01.")
        stack[-1].children.append(entry)
        if entry.level != 88:
            stack.append(entry)
    if not roots:
        raise UsageError("{file} holds no data description (no 01 level)", {"file": source},
                         hint="Give the copybook of the record layout (the lines with "
                              "01, 05, … and PIC).")
    return roots


def _entry(line: int, tokens: list[str], source: str) -> Entry | None:
    if not tokens[0].isdigit():
        if tokens[0].upper() in ("COPY", "EJECT", "SKIP1", "SKIP2", "SKIP3"):
            return None
        raise UsageError("{file}:{line}: '{name}' is not a level number",
                         {"file": source, "line": line, "name": tokens[0][:30]},
                         hint="Each entry starts with a level number (01–49, 66, 77, 88) "
                              "and ends with a period.")
    level = int(tokens[0])
    rest = tokens[1:]
    name = "FILLER"
    if rest and rest[0].upper() not in _CLAUSES:
        name, rest = rest[0].upper(), rest[1:]
    entry = Entry(level, name, line)
    words = [t.upper() if not t.startswith(("'", '"')) else t for t in rest]
    i = 0
    while i < len(words):
        word = words[i]
        if word in ("PIC", "PICTURE"):
            i += 1 + (i + 1 < len(words) and words[i + 1] == "IS")
            entry.picture = words[i]
        elif word == "USAGE":
            i += 1 + (i + 1 < len(words) and words[i + 1] == "IS")
            entry.usage = USAGES.get(words[i], words[i].lower())
        elif word in USAGES:
            entry.usage = USAGES[word]
        elif word == "OCCURS":
            entry.occurs = int(words[i + 1])
            i += 1
            if i + 1 < len(words) and words[i + 1] == "TO":
                entry.occurs = int(words[i + 2])
                entry.depending_on = entry.depending_on or "?"
                i += 2
        elif word == "DEPENDING":
            i += 1 + (i + 1 < len(words) and words[i + 1] == "ON")
            entry.depending_on = words[i]
        elif word == "REDEFINES":
            entry.redefines = words[i + 1]
            i += 1
        elif word == "RENAMES":
            entry.renames = " ".join(words[i + 1:])
            break
        elif word == "SIGN":
            i += 1 + (i + 1 < len(words) and words[i + 1] == "IS")
            entry.sign = words[i].lower()
        elif word in ("LEADING", "TRAILING"):
            entry.sign = word.lower()
        elif word == "SEPARATE":
            entry.sign_separate = True
        elif word in ("VALUE", "VALUES"):
            i += 1 + (i + 1 < len(words) and words[i + 1] in ("IS", "ARE"))
            entry.value = _literal(words[i]) if i < len(words) else None
            break  # the rest (THRU, more values) matters only to level 88
        i += 1
    return entry


def _literal(token: str) -> str:
    if token[:1] in ("'", '"') and token[-1:] == token[:1]:
        return token[1:-1].replace(token[0] * 2, token[0])
    return {"SPACE": " ", "SPACES": " ", "ZERO": "0", "ZEROS": "0",
            "ZEROES": "0"}.get(token, token)


_CLAUSES = frozenset({"PIC", "PICTURE", "USAGE", "OCCURS", "REDEFINES", "VALUE", "VALUES",
                      "SIGN", "RENAMES", "BLANK", "JUST", "JUSTIFIED", "SYNC",
                      "SYNCHRONIZED", "EXTERNAL", "GLOBAL", *USAGES})
