"""i18n: the one message catalogue (ja/en) and its extractor (`extract`). The bottom layer:
imports no other part of migrate.

One message catalogue for English and Japanese; the language follows LANG / LC_* / LANGUAGE.

Message ids are the English text with `{named}` placeholders (gettext convention); the Japanese
translations live in migrate/i18n/locale/ja/LC_MESSAGES/migrate.po and are read with Babel.
"""

from __future__ import annotations

import os
from functools import lru_cache
from importlib.resources import files
from typing import Any

from babel.messages.pofile import read_po


def language() -> str:
    """'ja' when the user's locale is Japanese, else 'en'."""
    for var in ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(var, "")
        if value:
            return "ja" if value.lower().startswith("ja") else "en"
    return "en"


@lru_cache(maxsize=4)
def _catalog(lang: str) -> dict[str, str]:
    if lang == "en":
        return {}
    po = files("migrate.i18n") / "locale" / lang / "LC_MESSAGES" / "migrate.po"
    with po.open("rb") as handle:
        catalog = read_po(handle)
    return {str(m.id): str(m.string) for m in catalog if m.id and m.string}


def _(msgid: str, lang: str | None = None) -> str:
    """Translate a message id (untranslated ids fall back to English)."""
    return _catalog(lang or language()).get(msgid, msgid)


def t(msgid: str, lang: str | None = None, **params: Any) -> str:
    """Translate and fill placeholders."""
    text = _(msgid, lang)
    try:
        return text.format_map(_Missing(params))
    except (IndexError, ValueError):
        return msgid.format_map(_Missing(params))


class _Missing(dict):
    """Leave an unknown placeholder visible instead of failing while reporting an error."""

    def __missing__(self, key: str) -> str:
        return "{" + key + "}"
