"""Which encoding a legacy file's text is in: chardet's opinion, and strict trial decodes of
the encodings Japanese core systems write (cp932, EUC-JP, shift_jis_2004, UTF-8).

chardet alone is not enough here: a fixed-width export is mostly ASCII digits and spaces, and
packed decimals put bytes in it that are not text at all, so chardet often answers with a
European code page or UTF-16. A trial decode counts, for each candidate, the bytes that are not
valid in it and the characters it can only turn into private-use or control characters (what a
wrong guess produces); the candidate with the fewest such bytes wins, cp932 before
shift_jis_2004 when both read the text alike (they differ only in rare characters).
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass

import chardet

CANDIDATES = ("cp932", "euc_jp", "shift_jis_2004", "utf-8")


@dataclass(frozen=True)
class EncodingGuess:
    """A candidate encoding, the share of the sample's non-ASCII bytes it reads as plausible
    text (its confidence), and how many bytes were not valid in it."""

    encoding: str
    confidence: float
    bad_bytes: int


@dataclass(frozen=True)
class EncodingReport:
    """The chosen encoding, every candidate's trial, and chardet's opinion."""

    encoding: str
    confidence: float
    trials: tuple[EncodingGuess, ...]
    chardet: str | None
    chardet_confidence: float


def _is_suspect(char: str, encoding: str) -> bool:
    """A character a wrong guess produces: private use, C1 controls, replacement. cp932's
    user-defined area (F040–F9FC → U+E000–U+E757) is 外字, which vendors do write."""
    code = ord(char)
    if encoding == "cp932" and 0xE000 <= code <= 0xE757:
        return False
    return 0xE000 <= code <= 0xF8FF or 0x80 <= code <= 0x9F or code == 0xFFFD


def _half_width_kana(char: str) -> bool:
    return 0xFF61 <= ord(char) <= 0xFF9F


def trial(sample: bytes, encoding: str) -> EncodingGuess:
    """Decode `sample` strictly, counting the bytes that are not valid or not plausible."""
    decoder = codecs.getincrementaldecoder(encoding)("strict")
    bad = 0
    position = 0
    high = sum(1 for b in sample if b >= 0x80) or 1
    text_parts = []
    while position < len(sample):
        try:
            text_parts.append(decoder.decode(sample[position:], final=True))
            break
        except UnicodeDecodeError as error:
            text_parts.append(decoder.decode(sample[position:position + error.start],
                                             final=True))
            bad += max(error.end - error.start, 1)
            position += error.end
            decoder.reset()
    text = "".join(text_parts)
    bad += sum(1 for c in text if _is_suspect(c, encoding))
    # EUC-JP read as cp932 decodes, but as a jumble of half-width katakana: count each
    # half-width kana next to a wide character as doubtful (a real reading stands alone)
    kana = sum(1 for a, b in zip(text, text[1:], strict=False)
               if _half_width_kana(a) and ord(b) > 0x3000 and not _half_width_kana(b))
    bad += kana
    return EncodingGuess(encoding, max(0.0, 1 - bad / high), bad)


def detect_encoding(sample: bytes) -> EncodingReport:
    """The encoding of `sample`: the text bytes of the first records (binary fields such as
    packed decimals left out by the caller, records separated by newlines)."""
    trials = tuple(trial(sample, encoding) for encoding in CANDIDATES)
    opinion = chardet.detect(sample[:1 << 16])
    named = (opinion.get("encoding") or "").lower().replace("-", "_")
    chardet_choice = {"shift_jis": "cp932", "cp932": "cp932", "euc_jp": "euc_jp",
                      "utf_8": "utf-8", "ascii": "utf-8"}.get(named)
    # the fewest bad bytes wins; among equals, chardet's choice, then the order of CANDIDATES
    # (cp932 first: shift_jis_2004 reads the same bytes alike except for rare characters)
    best = min(trials, key=lambda g: (g.bad_bytes, g.encoding != chardet_choice,
                                      CANDIDATES.index(g.encoding)))
    if not any(b >= 0x80 for b in sample):
        best = EncodingGuess("cp932", 1.0, 0)  # ASCII only: any of them reads it
    return EncodingReport(best.encoding, best.confidence, trials, opinion.get("encoding"),
                          float(opinion.get("confidence") or 0.0))
