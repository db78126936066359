"""The compiled decoders (`_native.c`), loaded with ctypes, and whether they are here.

Some decoders are hand-written in C because what they do per cell (a table lookup, a few
comparisons) costs less than numpy's or Arrow's per-pass overhead over a whole column, and no
library decodes cp932 cells or 和暦 dates into Arrow. Each takes the common case in one pass and
flags every cell it does not settle alone, which the Python decoders then decode: the results
are the Python decoders' by construction (property tests hold the two paths equal).

The library is built when migrate is installed (hatch_build.py) where a C compiler is present;
without it, or with MIGRATE_PURE_PYTHON=1, `library()` is None and the Python decoders do all
the work, with the same results.
"""

from __future__ import annotations

import ctypes
import os
import sysconfig
from functools import cache
from pathlib import Path

import numpy as np

LIBRARY = Path(__file__).with_name("_native" + (sysconfig.get_config_var("EXT_SUFFIX")
                                               or ".so"))
_UINT8 = np.ctypeslib.ndpointer(np.uint8, flags="C_CONTIGUOUS")
_INT64 = np.ctypeslib.ndpointer(np.int64, flags="C_CONTIGUOUS")
_I64, _INT = ctypes.c_int64, ctypes.c_int


@cache
def library() -> ctypes.CDLL | None:
    """The loaded library, or None (not built here, or MIGRATE_PURE_PYTHON is set)."""
    if os.environ.get("MIGRATE_PURE_PYTHON"):
        return None
    try:
        loaded = ctypes.CDLL(str(LIBRARY))
    except OSError:
        return None
    loaded.decode_dbcs_column.restype = _I64
    loaded.decode_dbcs_column.argtypes = [_UINT8, _I64, _I64, _UINT8, _UINT8, _INT, _INT,
                                          _UINT8, _INT64, _UINT8]
    loaded.decode_date_column.restype = None
    loaded.decode_date_column.argtypes = [_UINT8, _I64, _I64, _I64, _UINT8, _I64, _INT64,
                                          _UINT8, _I64, _UINT8, _UINT8]
    return loaded
