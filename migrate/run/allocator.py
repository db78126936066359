"""Keep freed chunk-sized buffers for reuse instead of handing them back to the kernel.

Every chunk allocates and frees the same large numpy buffers (columns, cell copies,
temporaries). glibc serves blocks above its mmap threshold with a fresh mmap each time and
trims the heap top eagerly, so each buffer costs page faults again: about a fifth of a run's
CPU time went to the kernel. Raising both thresholds lets the heap keep those pages; the
peak stays bounded by the chunk size, since the same sizes come back chunk after chunk.
"""

from __future__ import annotations

import ctypes
import ctypes.util

_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD = 32 * 1024 * 1024  # glibc's largest accepted value on 64-bit
TRIM_THRESHOLD = 512 * 1024 * 1024

_done = False


def keep_freed_buffers() -> bool:
    """Tune glibc malloc for this process (once); False where there is no glibc."""
    global _done
    if _done:
        return True
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    _done = bool(mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD)) & bool(
        mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD))
    return _done
