"""Encryption for handover: the bag as one age-encrypted tar; verify opens it with the
recipient's identity; no key is ever written by the tool."""

from __future__ import annotations

from pathlib import Path

import pytest

from migrate.cli import main
from migrate.errors import UsageError
from migrate.export.package import ExportOptions, export
from migrate.export.verify import verify

pyrage = pytest.importorskip("pyrage")


@pytest.fixture
def identity(tmp_path) -> tuple[str, Path]:
    key = pyrage.x25519.Identity.generate()
    path = tmp_path / "key.txt"
    path.write_text(f"# created by the test\n{key}\n", encoding="utf-8")
    return str(key.to_public()), path


def test_an_encrypted_package_verifies_with_the_identity(plan_out, tmp_path, identity):
    public, key_file = identity
    before = {p.name for p in tmp_path.iterdir()}
    result = export(ExportOptions(plan_out, tmp_path / "handover", layouts=["juki/v1"],
                                  encrypt_to=[public]))
    assert result.path == tmp_path / "handover.tar.age"
    assert result.path.stat().st_mode & 0o077 == 0
    assert {p.name for p in tmp_path.iterdir()} - before == {"handover.tar.age"}  # only it
    assert b"juki" not in result.path.read_bytes()[200:]  # no plain text inside
    checked = verify(result.path, identity=key_file)
    assert checked.ok, [f for f in checked.findings if not f.ok]
    assert checked.package == result.path
    assert {p.name for p in tmp_path.iterdir()} - before == {"handover.tar.age"}


def test_wrong_or_missing_identity_and_bad_keys_are_usage_errors(plan_out, tmp_path, identity):
    public, _ = identity
    sealed = export(ExportOptions(plan_out, tmp_path / "h", layouts=["kokuho/v1"],
                                  encrypt_to=[public])).path
    other = tmp_path / "other.txt"
    other.write_text(str(pyrage.x25519.Identity.generate()) + "\n", encoding="utf-8")
    with pytest.raises(UsageError, match="decrypt"):
        verify(sealed, identity=other)
    with pytest.raises(UsageError, match="encrypted"):
        verify(sealed)
    with pytest.raises(UsageError, match="public key"):
        export(ExportOptions(plan_out, tmp_path / "x", encrypt_to=["age1notakey"]))
    assert not (tmp_path / "x.tar.age").exists() and not (tmp_path / "x").exists()


def test_cli(runner, plan_out, tmp_path, identity):
    public, key_file = identity
    done = runner.invoke(main, ["export", "--from", str(plan_out), "--to", str(tmp_path / "h"),
                                "--layout", "zeimu/v1", "--encrypt-to", public])
    assert done.exit_code == 0, done.output
    done = runner.invoke(main, ["verify", str(tmp_path / "h.tar.age"), "--identity",
                                str(key_file), "--out", str(tmp_path / "v.json")])
    assert done.exit_code == 0, done.output
    done = runner.invoke(main, ["verify", str(tmp_path / "h.tar.age"), "--out",
                                str(tmp_path / "v.json")])
    assert done.exit_code == 2 and "--identity" in done.output
