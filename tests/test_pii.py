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
