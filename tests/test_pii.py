"""Masking keeps personal data out of reports while showing where bytes are broken."""

from __future__ import annotations

from migrate.pii import mask, show_bytes


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
