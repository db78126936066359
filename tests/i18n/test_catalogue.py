"""One message catalogue: every message id in the code has a Japanese translation."""

from __future__ import annotations

import re
from importlib.resources import files

from babel.messages.pofile import read_po

from migrate.errors import UsageError, format_error
from migrate.i18n import language, t
from migrate.i18n.extract import extract_messages

PLACEHOLDER = re.compile(r"\{(\w+)\}")


def _catalog():
    po = files("migrate.i18n") / "locale" / "ja" / "LC_MESSAGES" / "migrate.po"
    with po.open("rb") as handle:
        return read_po(handle)


def test_every_message_is_translated():
    catalog = _catalog()
    missing = [m for m in extract_messages() if not (catalog.get(m) and catalog.get(m).string)]
    assert not missing, "run scripts/update_messages.py and translate:\n" + "\n".join(missing)


def test_the_compiled_catalogue_is_the_po_compiled():
    """migrate reads migrate.mo (standard gettext, no Babel at run time): it must hold exactly the
    .po's translations, or a translation added to the .po would not show. Compared message by
    message, not byte by byte: Babel releases lay out the same catalogue differently."""
    import gettext
    from pathlib import Path

    folder = Path(str(files("migrate.i18n") / "locale" / "ja" / "LC_MESSAGES"))
    shipped = folder / "migrate.mo"
    assert shipped.is_file(), "run `python scripts/update_messages.py` and commit migrate.mo"
    with shipped.open("rb") as handle:
        compiled = dict(gettext.GNUTranslations(handle)._catalog)  # type: ignore[attr-defined]
    compiled.pop("", None)  # the header
    expected = {str(m.id): str(m.string) for m in _catalog()
                if m.id and m.string and not m.fuzzy}
    assert compiled == expected, (
        "migrate.mo is not the compiled migrate.po: run `python scripts/update_messages.py` "
        "(it writes both) and commit migrate.mo with the .po")


def test_every_translation_reaches_the_program():
    """Through gettext and the .mo: each translated message comes out in Japanese."""
    from migrate.i18n import _

    for message in _catalog():
        if message.id and message.string:
            assert _(str(message.id), "ja") == str(message.string), message.id


def test_translations_keep_placeholders():
    for message in _catalog():
        if message.id and message.string:
            assert set(PLACEHOLDER.findall(str(message.id))) == \
                set(PLACEHOLDER.findall(str(message.string))), message.id


def test_language_follows_lang(monkeypatch):
    for var in ("LANGUAGE", "LC_ALL", "LC_MESSAGES"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("LANG", "ja_JP.UTF-8")
    assert language() == "ja"
    assert t("error") == "エラー"
    monkeypatch.setenv("LANG", "C.UTF-8")
    assert language() == "en"
    assert t("error") == "error"


def test_error_paragraph_in_japanese():
    error = UsageError("unknown mapping '{ref}'", {"ref": "x/y"},
                       hint="Give a path to a mapping YAML file or one of the bundled ids: "
                            "{known}.", hint_params={"known": "vendor_a/juki"})
    text = format_error(error, "ja")
    assert "x/y" in text and "vendor_a/juki" in text
    assert text != format_error(error, "en")
