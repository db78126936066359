"""The text encodings a mapping may name: the decoder and the encoder can handle exactly these."""

from __future__ import annotations

import codecs

# Stateless, ASCII-compatible encodings in which 0x0A only ever stands for itself.
_SUPPORTED = frozenset(
    {
        "cp932",
        "shift_jis",
        "shift_jis_2004",
        "shift_jisx0213",
        "euc_jp",
        "euc_jis_2004",
        "euc_jisx0213",
        "utf-8",
        "ascii",
    }
)


def supported_encoding(encoding: str) -> str:
    """The codec name of an encoding decode_text (and encode_text) can handle; else ValueError."""
    name = codecs.lookup(encoding).name
    if name not in _SUPPORTED:
        raise ValueError(
            f"unsupported text encoding {encoding!r}: it needs a stateless, "
            f"ASCII-compatible encoding in which 0x0A is never part of a multi-byte "
            f"character (one of {', '.join(sorted(_SUPPORTED))})"
        )
    return name
