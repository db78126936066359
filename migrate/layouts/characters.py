"""How a standard layout counts the characters of a text value (`length`, `max_length`).

A variation selector belongs to the character before it: an IVS (base character + U+E0100…
U+E01EF), which a 外字 table may give for an MJ 文字, or a standardized variation sequence
(+ U+FE00…U+FE0F), is one character of a name, as a person writing the name counts it. The
pipeline's checks (polars), the pandera reference, the value and default checks of a mapping
and the database's CHECK constraints all count this way.
"""

from __future__ import annotations

import re

#: The variation selectors (first, last code point): standardized ones and the IVS supplement.
SELECTOR_RANGES = ((0xFE00, 0xFE0F), (0xE0100, 0xE01EF))
# the body of a regular-expression character class holding every variation selector, written
# as the characters themselves (any regular-expression dialect reads it)
SELECTORS = "".join(f"{chr(first)}-{chr(last)}" for first, last in SELECTOR_RANGES)
_SELECTOR = re.compile(f"[{SELECTORS}]")


def char_length(text: str) -> int:
    """The length of a text value as the layout counts it: its code points, less the
    variation selectors (each is part of the character before it)."""
    return len(text) - len(_SELECTOR.findall(text))
