"""Encryption for handover (optional): the finished bag as one tar file encrypted with age
(the `pyrage` library) to the recipients' public keys — `age1…` or `ssh-ed25519 …`/`ssh-rsa …`.

The tool only ever reads keys: public keys on export, the recipient's identity file on verify.
Nothing secret is written; the plain bag exists only in the staging folder while it is built,
and the decrypted copy only in a temporary folder while it is checked.
"""

from __future__ import annotations

import contextlib
import os
import tarfile
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from migrate.errors import UsageError
from migrate.sinks.atomic import private_open

SUFFIX = ".tar.age"


def recipients(keys: list[str]) -> list[Any]:
    """Public keys as pyrage recipients; a key that is not one is a usage error."""
    import pyrage

    found = []
    for key in keys:
        try:
            if key.startswith("age1"):
                found.append(pyrage.x25519.Recipient.from_str(key))
            else:
                found.append(pyrage.ssh.Recipient.from_str(key))
        except pyrage.RecipientError:
            raise UsageError("--encrypt-to {key} is not an age or SSH public key",
                             {"key": key[:16] + "…"},
                             hint="Give the recipient's public key: age1… (age-keygen -y) "
                                  "or an ssh-ed25519 / ssh-rsa line.") from None
    return found


def seal(bag: Path, target: Path, keys: list[Any]) -> Path:
    """tar the bag folder and encrypt it to `target` (…tar.age, owner-only)."""
    import pyrage

    plain = bag.parent / f".{bag.name}.tar"
    try:
        with private_open(plain, "wb") as handle, tarfile.open(fileobj=handle, mode="w") as tar:
            tar.add(bag, arcname=target.name.removesuffix(SUFFIX))
        temp = target.with_name(f".{target.name}.tmp-{os.getpid()}")
        private_open(temp, "wb").close()
        pyrage.encrypt_file(str(plain), str(temp), keys)
        os.chmod(temp, 0o600)
        os.replace(temp, target)
    finally:
        plain.unlink(missing_ok=True)
    return target


@contextlib.contextmanager
def opened(sealed: Path, identity: Path | None) -> Iterator[Path]:
    """The bag folder inside an encrypted package, in a temporary folder while in use."""
    import pyrage

    if identity is None:
        raise UsageError("{path} is encrypted", {"path": sealed},
                         hint="Give the recipient's age identity file with --identity.")
    try:
        lines = [line.strip() for line in identity.read_text(encoding="utf-8").splitlines()]
    except OSError as error:
        raise UsageError("cannot read {path}: {error}", {"path": identity,
                                                         "error": error.strerror}) from None
    secrets = [line for line in lines if line.startswith("AGE-SECRET-KEY-")]
    try:
        keys = [pyrage.x25519.Identity.from_str(line) for line in secrets]
    except pyrage.IdentityError:
        keys = []
    if not keys:
        raise UsageError("{path} holds no age identity", {"path": identity},
                         hint="An identity file has a line AGE-SECRET-KEY-1… (age-keygen).")
    with tempfile.TemporaryDirectory(prefix=".verify-", dir=sealed.parent) as scratch:
        plain = Path(scratch) / "package.tar"
        try:
            pyrage.decrypt_file(str(sealed), str(plain), keys)
        except pyrage.DecryptError as error:
            raise UsageError("cannot decrypt {path}: {reason}",
                             {"path": sealed, "reason": str(error)},
                             hint="Use the identity whose public key the package was "
                                  "encrypted to.") from None
        with tarfile.open(plain) as tar:
            tar.extractall(scratch, filter="data")
            names = {Path(m.name).parts[0] for m in tar.getmembers() if m.name}
        plain.unlink()
        if len(names) != 1:
            raise UsageError("{path} does not hold one package folder", {"path": sealed})
        yield Path(scratch) / names.pop()
