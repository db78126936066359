"""i18n: the one message catalogue (ja/en) and its extractor (`extract`). The bottom layer:
imports no other part of migrate.

One message catalogue for English and Japanese; the language follows LANG / LC_* / LANGUAGE.

Message ids are the English text with `{named}` placeholders (gettext convention); the Japanese
translations are written in migrate/i18n/locale/ja/LC_MESSAGES/migrate.po and shipped compiled
beside it (migrate.mo), which the standard `gettext` module reads: Babel is needed only to build
the catalogue (`python scripts/update_messages.py` writes both; a test checks the .mo is current).
"""

from __future__ import annotations

import gettext
import os
from functools import lru_cache
from importlib.resources import files
from typing import Any


def language() -> str:
    """'ja' when the user's locale is Japanese, else 'en'."""
    for var in ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(var, "")
        if value:
            return "ja" if value.lower().startswith("ja") else "en"
    return "en"


@lru_cache(maxsize=4)
def _catalog(lang: str) -> gettext.NullTranslations:
    if lang == "en":
        return gettext.NullTranslations()
    mo = files("migrate.i18n") / "locale" / lang / "LC_MESSAGES" / "migrate.mo"
    with mo.open("rb") as handle:
        return gettext.GNUTranslations(handle)


def _(msgid: str, lang: str | None = None) -> str:
    """Translate a message id (untranslated ids fall back to English)."""
    return _catalog(lang or language()).gettext(msgid)


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
