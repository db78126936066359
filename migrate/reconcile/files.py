"""Re-check a published run folder's files against its run.json: each output's SHA-256 and size
as recorded when the run published them (a plan: each area's run.json too). Together with the
database re-verification this is what `migrate reconcile` proves."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from migrate.read.fixed import file_sha256
from migrate.reconcile.ledger import Invariant


def _document(run_json: Path) -> dict[str, Any] | None:
    try:
        return json.loads(run_json.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def check_files(out_dir: Path) -> list[Invariant]:
    """One invariant per recorded output file (and per area's run.json of a plan)."""
    doc = _document(out_dir / "run.json")
    if doc is None:
        return [Invariant("file:run.json", False, "readable", "missing or unreadable",
                          "run.json of the folder can be read")]
    found: list[Invariant] = []
    for area in doc.get("files") or []:
        name = str(area.get("name", ""))
        if area.get("status") == "error" or not name:
            continue
        found += [Invariant(f"{name}/{inv.name}", inv.ok, inv.expected, inv.actual, inv.detail)
                  for inv in check_files(out_dir / name)]
    for key, entry in (doc.get("outputs") or {}).items():
        if not isinstance(entry, dict) or "sha256" not in entry:
            continue  # a database others may write: checked by its content instead
        path = out_dir / Path(str(entry.get("path", ""))).name
        actual = file_sha256(path) if path.is_file() else "missing"
        found.append(Invariant(f"file:{key}", actual == entry["sha256"], entry["sha256"],
                               actual, f"{path.name}: SHA-256 = the one run.json recorded"))
    return found
