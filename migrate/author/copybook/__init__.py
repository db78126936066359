"""`migrate layout from-copybook`: a COBOL copybook → its byte layout (`layout`) → a mapping
(`mapping`), read by a small parser of its own (`parser`, which says why)."""

from __future__ import annotations

from pathlib import Path

from migrate.author.copybook.layout import Record, layout_records
from migrate.author.copybook.parser import parse_copybook
from migrate.errors import UsageError

MAX_COPYBOOK_BYTES = 4 << 20


def read_copybook(path: Path) -> list[Record]:
    """The record layouts of the copybook at `path` (UTF-8, or cp932 as host tools save it)."""
    path = Path(path)
    if not path.is_file():
        raise UsageError("the copybook {path} does not exist", {"path": path})
    raw = path.read_bytes()[:MAX_COPYBOOK_BYTES]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        text = raw.decode("cp932", "replace")
    return layout_records(parse_copybook(text, str(path)), str(path))
