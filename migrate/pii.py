"""Mask personal data (個人番号, names, addresses, birth dates) before it reaches a report or log.

Rejects must still show *where* a value is broken, so undecodable bytes stay visible as <hex>
while every decodable character of a personal field is replaced by a mask character.
"""

from __future__ import annotations

import codecs
import re

_BAD = re.compile(r"<[0-9A-F ]+>")
_SUSPECT = re.compile("[\x00-\x1f\x7f-\x9f\ue000-\uf8ff]")


def _hex_errors(error: UnicodeDecodeError) -> tuple[str, int]:
    bad = error.object[error.start:error.end]
    return "<" + " ".join(f"{b:02X}" for b in bad) + ">", error.end


codecs.register_error("migrate_hex", _hex_errors)


def show_bytes(raw: bytes, encoding: str) -> str:
    """Decode for display: undecodable bytes and codec traps (PUA, controls) shown as <hex>."""
    text = raw.decode(encoding, errors="migrate_hex")

    def as_hex(match: re.Match[str]) -> str:
        try:
            data = match.group(0).encode(encoding)
        except UnicodeEncodeError:
            return f"<U+{ord(match.group(0)):04X}>"
        return "<" + " ".join(f"{b:02X}" for b in data) + ">"

    return _SUSPECT.sub(as_hex, text).rstrip(" \u3000")


def mask(value: str | None, kind: str | None) -> str | None:
    """Mask a value of the given PII kind; non-personal values pass through."""
    if value is None or kind is None:
        return value
    if kind == "my_number":
        digits = value.strip()
        return "*" * max(len(digits) - 4, 0) + digits[-4:] if len(digits) > 4 else "****"
    # Keep broken-byte markers visible, mask every other character.
    parts = []
    position = 0
    for match in _BAD.finditer(value):
        parts.append(_mask_text(value[position:match.start()]))
        parts.append(match.group(0))
        position = match.end()
    parts.append(_mask_text(value[position:]))
    return "".join(parts)


def _mask_text(text: str) -> str:
    return "".join(c if c in " \u3000-/:" else "*" for c in text)


_SECRET_PARAMS = re.compile(
    r"(?i)\b(password|passwd|pwd|pass|sslpassword|sslkey_password|secret|token|api_?key)"
    r"(\s*=\s*)('[^']*'|\"[^\"]*\"|[^&;\s]*)")
MASK = "***"


def mask_url(url: str) -> str:
    """A database URL or connection string with every password masked, in whatever form it was
    written: `scheme://user:pw@host`, `user:pw@host` without a scheme, a password holding `@`
    (everything up to the last `@` is hidden), `?password=…` query parameters and libpq
    `password=…` keywords. When unsure it hides too much rather than too little."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        scheme, rest = "", url
    if "@" in rest:
        userinfo, _, host = rest.rpartition("@")
        user, colon, _secret = userinfo.partition(":")
        rest = f"{user}:{MASK}@{host}" if colon else f"{userinfo}@{host}"
    elif not sep and ":" in rest and "=" not in rest:
        # `user:password` with neither scheme nor host: anything after the colon may be secret
        rest = rest.partition(":")[0] + ":" + MASK
    rest = _SECRET_PARAMS.sub(lambda m: m.group(1) + m.group(2) + MASK, rest)
    return scheme + sep + rest


_EMBEDDED_URL = re.compile(r"(\w[\w+.-]*://[^\s:/@]*):[^\s@]*@")


def mask_secrets(text: str) -> str:
    """Free text (a driver's error message) with the passwords of any URLs and `password=`
    keywords in it masked; the rest is left readable."""
    text = _EMBEDDED_URL.sub(lambda m: f"{m.group(1)}:{MASK}@", text)
    return _SECRET_PARAMS.sub(lambda m: m.group(1) + m.group(2) + MASK, text)
