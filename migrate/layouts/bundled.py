"""Where the bundled mappings/ and schemas/ live, installed or in a source checkout."""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent.parent  # the migrate package


def bundled_dir(name: str) -> Path:
    """`mappings` or `schemas`: inside the wheel (migrate/_bundled) or at the repository root."""
    installed = _PACKAGE / "_bundled" / name
    if installed.is_dir():
        return installed
    return _PACKAGE.parent / name
