"""Extract every user-facing message id from the source, update the Japanese catalogue and
compile it.

Run after changing messages, and after taking another branch's .po in a merge or rebase:
`python scripts/update_messages.py`. New ids are added with an empty translation
(tests/i18n/test_catalogue.py then fails until someone translates them); ids no longer used are
dropped. The compiled catalogue migrate.mo, which migrate reads at run time with the standard
`gettext` module, is written from the .po every time (the test fails when the .mo is not the
compiled .po). The extraction rules live in migrate/i18n/extract.py so the test uses the same
ones.
"""

from __future__ import annotations

import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from migrate.i18n.extract import extract_messages  # noqa: E402

PO = ROOT / "migrate" / "i18n" / "locale" / "ja" / "LC_MESSAGES" / "migrate.po"
MO = PO.with_suffix(".mo")


def compiled(po: Path) -> bytes:
    """The .mo of a .po file (what tests/i18n compares migrate.mo with)."""
    import io

    with open(po, "rb") as handle:
        catalog = read_po(handle)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    return buffer.getvalue()


def main() -> None:
    with open(PO, "rb") as handle:
        old = read_po(handle)
    new = Catalog(locale="ja", project="migrate", version="0.1.0", charset="utf-8")
    for msgid, where in sorted(extract_messages().items()):
        existing = old.get(msgid)
        new.add(msgid, existing.string if existing else "", locations=where[:3])
    with open(PO, "wb") as handle:
        write_po(handle, new, width=100, sort_output=True, include_lineno=False,
                 omit_header=False)
    MO.write_bytes(compiled(PO))
    missing = [m.id for m in new if m.id and not m.string]
    print(f"{len(new)} messages, {len(missing)} untranslated; {MO.name} compiled")


if __name__ == "__main__":
    main()
