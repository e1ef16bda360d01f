"""The embedded default's secrets: random, made on first start under ``VAR_DIR/secrets/``, reused after.

No secret is a constant in the code: the first process that needs one (``make run``, a management
command, a test run) draws it from the operating system's CSPRNG and writes it to a file of its own,
mode 0600 in a folder of mode 0700. The file is written under a temporary name opened with ``O_EXCL``
and then hard-linked to its final name, which fails if the name exists: two processes that start together
(the server, the worker and the beat of ``make run``, pytest's workers) all end up with the one value that
was linked first, and nobody ever reads a half-written file.

Every value made here carries the marker ``insecure-embedded-`` (the Django key also starts with
Django's own ``django-insecure-``, which ``check --deploy`` flags), so production settings recognise a
development secret copied into the environment and refuse it (``is_development_secret``).
"""

from __future__ import annotations

import base64
import contextlib
import os
import secrets
import stat
from collections.abc import Callable
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

from core.insecure import DEV_MARKER


def _django_key() -> str:
    return "django-" + DEV_MARKER + secrets.token_urlsafe(50)


def _token() -> str:
    return DEV_MARKER + secrets.token_urlsafe(32)


def _kek() -> str:
    # 32 random bytes in urlsafe base64, the form SCREENING_KEY_ENCRYPTION_KEY takes (screening.keyring
    # removes the marker before decoding it).
    return DEV_MARKER + base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()


MAKERS: dict[str, Callable[[], str]] = {
    "secret_key": _django_key,
    "audit_seal_key": _token,
    "audit_checkpoint_key": _kek,  # an Ed25519 private key: 32 random bytes, the same form
    "screening_key_encryption_key": _kek,
}


def is_development_secret(value: str) -> bool:
    """A value made here (or any "insecure" development key, such as Django's ``django-insecure-...``)."""
    return "insecure" in value.lower()


def _read(path: Path) -> str:
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        raise ImproperlyConfigured(
            f"{path} can be read by other users (mode {mode:o}): run `chmod 600 {path}` or delete it "
            "to have a new one made."
        )
    value = path.read_text().strip()
    if not value:
        raise ImproperlyConfigured(f"{path} is empty: delete it to have a new one made.")
    return value


def embedded_secret(var_dir: Path, name: str) -> str:
    """The secret ``name`` of this VAR_DIR, made on first use."""
    folder = var_dir / "secrets"
    path = folder / name
    if path.exists():
        return _read(path)
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    temporary = folder / f".{name}.{secrets.token_hex(8)}"
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "w") as file:
            file.write(MAKERS[name]() + "\n")
            file.flush()
            os.fsync(file.fileno())
        with contextlib.suppress(FileExistsError):  # another process made it first: theirs is the one
            os.link(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)
    return _read(path)
