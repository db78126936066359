"""Masking keeps personal data out of reports while showing where bytes are broken."""

from __future__ import annotations

import pytest

from migrate.pii import mask, mask_secrets, mask_url, show_bytes


def test_my_number_keeps_last_four():
    assert mask("123456789018", "my_number") == "********9018"


def test_names_are_masked_but_bad_bytes_visible():
    raw = "田中".encode("cp932") + b"\x85\x40" + "太郎".encode("cp932")
    shown = show_bytes(raw, "cp932")
    assert shown == "田中<85>@太郎"  # the codec resyncs after the bad lead byte
    assert mask(shown, "name") == "**<85>***"


def test_codec_traps_shown_as_bytes():
    assert show_bytes(b"\xa0AB", "cp932") == "<A0>AB"
    assert show_bytes(b"\xf0\x40", "cp932") == "<F0 40>"


def test_non_personal_values_pass():
    assert mask("07", None) == "07"


# ---------------------------------------------------------------- passwords in URLs

SECRET = "s3cr#t"


@pytest.mark.parametrize("url", [
    f"postgresql://user:{SECRET}@db/town",
    f"postgresql+psycopg://user:{SECRET}@db:5432/town",
    f"user:{SECRET}@db",                        # no scheme
    f"user:{SECRET}",                           # no scheme, no host
    f"postgresql://user:{SECRET}@with@at@db/town",  # an unescaped @ in the password
    f"postgresql://user:{SECRET}@db:abc/town",   # a port that is not a number
    f"postgresql://user@db/town?password={SECRET}&sslmode=require",
    f"host=db user=user password={SECRET} dbname=town",
    f"host=db password='{SECRET} x' dbname=town",
])
def test_passwords_masked_in_every_url_form(url):
    masked = mask_url(url)
    assert SECRET not in masked and "***" in masked
    assert "with@at" not in masked


def test_urls_without_password_unchanged():
    for url in ("sqlite:///out/migrate.db", "postgresql+psycopg://user@db:5432/town", "none"):
        assert mask_url(url) == url


def test_driver_messages_keep_their_words():
    text = f'connection to server at "db", port 5432 failed: password={SECRET} for ' \
           f"postgresql://u:{SECRET}@db/x"
    masked = mask_secrets(text)
    assert SECRET not in masked and masked.startswith('connection to server at "db", port 5432')


def test_safe_url_of_every_form():
    from sqlalchemy.engine import make_url

    from migrate.sinks.sql import safe_url

    for url in (f"postgresql://u:{SECRET}@db/x", f"u:{SECRET}@db"):
        assert SECRET not in safe_url(url)
    assert SECRET not in safe_url(make_url(f"postgresql://u:{SECRET}@db/x"))


# ---------------------------------------------------------------- every message of the catalogue

# The policy for messages (docs: this test is the rule). A message id never quotes an input
# value directly: each {placeholder} is named from one of the two lists below, in both
# languages. NOT_PERSONAL placeholders are filled from what staff wrote or the machine says —
# the mapping, schema and code tables, the command line, file names and paths, counts, record
# numbers, byte offsets, reason codes, OS and driver errors (a driver's first line only: the
# detail lines where PostgreSQL repeats key values are never shown). MASKED placeholders can
# carry record content or secrets, so each place that fills one must mask it (pii.mask with the
# column's kind, pii.mask_url / safe_url, pii.mask_secrets, or a key shown through the masked
# key display): the test checks that the function that fills it calls a masking function, or
# is listed in MASKED_UPSTREAM with the reason its values are already masked.
# A new placeholder fails here until someone decides which list it belongs to.
_NOT_PERSONAL_BY_SOURCE = {
    "the mapping, schema, tables": ("allowed", "check", "code", "codes", "col", "column", "dtypes",
                                    "columns", "dtype", "enc", "encoding", "exactly", "extra",
                                    "field", "fmt", "format", "group", "key", "known", "layout",
                                    "left", "right", "precision", "scale", "meaning", "construct",
                                    "layouts", "held", "mapping", "missing", "name", "names",
                                    "ops", "part", "pii", "quote", "ref", "reference", "table",
                                    "constant", "match",
                                    "target", "type", "what", "width", "expect", "of",
                                    "figure", "order", "condition", "role", "other"),
    "the command line and files": ("address", "engine", "file", "files", "folder", "input",
                                   "module", "out", "output", "outputs", "pair", "path",
                                   "plan", "report", "run", "sink", "title",
                                   "source", "stem", "worker"),
    "counts, sizes, positions": ("a", "accepted", "b", "bytes", "changed", "chunks", "count",
                                 "defects", "end", "errors", "failed", "passed", "read", "runs",
                                 "total",
                                 "guess", "hits", "length", "limit", "line", "max", "maximum",
                                 "minimum", "most", "n", "nl", "offset", "only_a", "only_b",
                                 "rate", "record", "records", "rejected", "rest", "rows",
                                 "seconds", "size", "start", "stated", "stride", "agree",
                                 "block", "trailer", "lengths", "share"),
    "the program and the machine": ("error", "found", "items", "kind", "pid", "problem",
                                    "reason",
                                    "sha", "status", "tool", "version", "where"),
}
NOT_PERSONAL = frozenset(n for names in _NOT_PERSONAL_BY_SOURCE.values() for n in names)
MASKED = frozenset({"value", "char", "url", "keys", "expected", "actual"})
MASKERS = frozenset({"mask", "mask_url", "mask_secrets", "safe_url", "_key_display", "_masked",
                     "masked_totals"})
# (file, function) → why the values it puts into MASKED placeholders are already masked
MASKED_UPSTREAM = {
    ("migrate/layouts/writeback.py", "load_write_back"):
        "char is the mapping's own `missing:` replacement character, not a value of the data",
    ("migrate/report/reconciliation.py", "describe"):
        "keys come from RowDiff, built with _key_display",
    ("migrate/report/reconciliation.py", "check_line"):
        "expected/actual are verify_db's invariants, built with _masked, or check_files' "
        "SHA-256 and states",
    ("migrate/report/reconciliation.py", "print_reconciliation"): "url is DbCheck.url (safe_url)",
    ("migrate/read/delimited.py", "_check_newlines"): "expected/found are crlf or lf",
    ("migrate/report/summary.py", "print_summary"):
        "expected/actual are the ledger's invariants: counts and control totals summed over "
        "all records, never one record's value",
    ("migrate/report/summary.py", "_print_figures"):
        "expected/actual are trailer figures: counts and sums over a block of records, never "
        "one record's value",
}


def _catalogue_messages() -> list[tuple[str, str]]:
    from importlib.resources import files

    from babel.messages.pofile import read_po

    po = files("migrate.i18n") / "locale" / "ja" / "LC_MESSAGES" / "migrate.po"
    with po.open("rb") as handle:
        catalog = read_po(handle)
    return [(str(m.id), str(m.string)) for m in catalog if m.id]


def test_every_placeholder_of_every_message_is_classified():
    """The policy for messages: no message quotes an input value unmasked.

    Every {placeholder} of every message, in English and in Japanese, is named from one of two
    lists. NOT_PERSONAL placeholders are filled from what staff wrote or the machine says (the
    mapping, schema and code tables, the command line, paths, counts, record numbers, offsets,
    reason codes, OS errors, a database driver's first line). MASKED placeholders may carry
    record content or secrets and are masked where they are filled (next test). A new
    placeholder fails here until someone decides which list it belongs to."""
    import re

    placeholder = re.compile(r"\{(\w+)\}")
    both = NOT_PERSONAL & MASKED
    assert not both, both
    unknown = {}
    for msgid, msgstr in _catalogue_messages():
        for text in (msgid, msgstr):  # English and Japanese
            for name in placeholder.findall(text):
                if name not in NOT_PERSONAL | MASKED:
                    unknown.setdefault(name, text)
    assert not unknown, f"classify these placeholders (NOT_PERSONAL or MASKED): {unknown}"


def _filled_placeholders(call) -> dict[str, object]:
    """placeholder → the expression that fills it, in a t()/error/fail() call."""
    import ast

    filled: dict[str, object] = {k.arg: k.value for k in call.keywords
                                 if k.arg and k.arg not in ("hint", "file", "line", "record",
                                                            "offset", "field_name")}
    for node in [*call.args[1:2], *(k.value for k in call.keywords if k.arg == "hint_params")]:
        if isinstance(node, ast.Dict):
            for key, value in zip(node.keys, node.values, strict=True):
                if isinstance(key, ast.Constant) and isinstance(key.value, str):
                    filled[key.value] = value
    return filled


def test_masked_placeholders_are_filled_with_masked_values():
    import ast

    from migrate.i18n.extract import ERROR_CLASSES, PACKAGE

    def calls_a_masker(node: ast.AST) -> bool:
        return any(isinstance(n, ast.Call) and getattr(n.func, "id", getattr(n.func, "attr", ""))
                   in MASKERS for n in ast.walk(node))

    unmasked = []
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = str(path.relative_to(PACKAGE.parent))
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for function in ast.walk(tree):
            if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            for call in ast.walk(function):
                if not isinstance(call, ast.Call):
                    continue
                name = getattr(call.func, "id", getattr(call.func, "attr", ""))
                if name not in ("t", "_", "fail", *ERROR_CLASSES):
                    continue
                for placeholder, value in _filled_placeholders(call).items():
                    if placeholder not in MASKED or (rel, function.name) in MASKED_UPSTREAM:
                        continue
                    if not (calls_a_masker(value) or calls_a_masker(function)):
                        unmasked.append(f"{rel}:{call.lineno} {function.name}: {placeholder}")
    assert not unmasked, "mask these values, or say in MASKED_UPSTREAM why they are masked " \
                         "already:\n" + "\n".join(sorted(set(unmasked)))


def test_the_policy_would_catch_a_leak(tmp_path):
    """The checker itself: a message filling {value} from a raw cell is found."""
    import ast

    source = "def f(cell):\n    raise InputFormatError('bad {value}', {'value': cell})\n"
    call = next(n for n in ast.walk(ast.parse(source)) if isinstance(n, ast.Call))
    filled = _filled_placeholders(call)
    assert set(filled) == {"value"} and isinstance(filled["value"], ast.Name)
