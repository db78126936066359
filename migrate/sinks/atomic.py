"""Outputs appear complete or not at all: write to a temporary name, fsync, rename.

Files hold personal data, so they are created owner-only (0600).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import IO


def private_open(path: Path, mode: str = "wb") -> IO:
    """Create (truncate) a file only its owner can read."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)
    if "b" in mode:
        return os.fdopen(fd, mode)
    return os.fdopen(fd, mode, encoding="utf-8", newline="")


def temp_path(final: Path) -> Path:
    """The staging name of an output, in the same folder so the rename is atomic."""
    return final.with_name(f".{final.name}.tmp-{os.getpid()}")


def commit(temp: Path, final: Path) -> None:
    """fsync a finished temporary file and move it over its final name."""
    with open(temp, "rb+") as handle:
        os.fsync(handle.fileno())
    os.replace(temp, final)
    dir_fd = os.open(final.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def discard(temp: Path) -> None:
    """Remove a temporary output after a failure."""
    temp.unlink(missing_ok=True)


def write_text_atomic(final: Path, text: str) -> None:
    """Small text outputs (run.json): temp + fsync + rename in one call."""
    temp = temp_path(final)
    with private_open(temp, "w") as handle:
        handle.write(text)
    commit(temp, final)
