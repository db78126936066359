"""Build hook: compile migrate/decode/_native.c, the one-pass decoders of text and date
columns (migrate.decode.native), when a wheel (or an editable install) is built.

It is a plain C library loaded with ctypes (no Python headers needed). Where no C compiler
works the build goes on without it and migrate decodes in Python, with the same results
(migrate.decode.native.library() says which).
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
import sysconfig
from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

SOURCE = Path("migrate/decode/_native.c")


def library_name() -> str:
    return "_native" + (sysconfig.get_config_var("EXT_SUFFIX") or ".so")


def compile_library(root: Path) -> Path | None:
    """The compiled library beside its source, or None when no compiler could build it."""
    source = root / SOURCE
    target = source.with_name(library_name())
    compiler = shlex.split(os.environ.get("CC") or sysconfig.get_config_var("CC") or "cc")
    command = [*compiler, "-O2", "-shared", "-fPIC", "-o", str(target), str(source)]
    try:
        subprocess.run(command, check=True, capture_output=True, text=True)
    except (OSError, subprocess.CalledProcessError) as exc:
        detail = getattr(exc, "stderr", "") or str(exc)
        print(f"migrate: the compiled decoders were not built ({detail.strip()}); text and "
              "dates are decoded in Python instead, with the same results", file=sys.stderr)
        return None
    return target


class CustomBuildHook(BuildHookInterface):
    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        if self.target_name != "wheel":
            return
        library = compile_library(Path(self.root))
        if library is None or version == "editable":  # editable: imported from the tree
            return
        build_data["force_include"][str(library)] = f"migrate/decode/{library.name}"
        build_data["pure_python"] = False
        build_data["infer_tag"] = True
