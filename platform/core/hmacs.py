"""Django's ``salted_hmac``, for the hot paths that compute it on every request.

``django.utils.crypto.salted_hmac`` derives its key (a hash of the salt and the secret) on every call and
then builds an ``hmac`` object. The derived key depends only on the salt, the secret and the algorithm,
so it is worked out once here; the HMAC itself runs through ``hmac.digest``, the one-shot C path. The
digests are byte for byte those of ``salted_hmac(...).digest()`` (tests/core/test_hmacs.py proves it), so
signatures made either way verify the other way.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterator
from functools import lru_cache

from django.conf import settings
from django.utils.encoding import force_bytes


@lru_cache(maxsize=32)
def _derived_key(key_salt: str, secret: str | bytes, algorithm: str) -> bytes:
    return hashlib.new(algorithm, force_bytes(key_salt) + force_bytes(secret)).digest()


def salted_hmac_digest(
    key_salt: str, value: str | bytes, *, secret: str | bytes | None = None, algorithm: str = "sha256"
) -> bytes:
    """``salted_hmac(key_salt, value, secret, algorithm=algorithm).digest()``."""
    key = _derived_key(key_salt, settings.SECRET_KEY if secret is None else secret, algorithm)
    return hmac.digest(key, force_bytes(value), algorithm)


# The salt of django.contrib.auth's session hash (AbstractBaseUser._get_session_auth_hash).
SESSION_AUTH_SALT = "django.contrib.auth.models.AbstractBaseUser.get_session_auth_hash"


def session_auth_hash(password: str, *, secret: str | bytes | None = None) -> str:
    """``user.get_session_auth_hash()`` (or, with a fallback ``secret``, one of its fallback hashes) for a
    user whose password field is ``password``."""
    return salted_hmac_digest(SESSION_AUTH_SALT, password, secret=secret).hex()


def session_auth_hashes(password: str) -> Iterator[str]:
    """Every session hash a session may carry for this password: the current secret's, then each of
    ``SECRET_KEY_FALLBACKS``' (as ``get_session_auth_hash`` and ``get_session_auth_fallback_hash``)."""
    yield session_auth_hash(password)
    for fallback in settings.SECRET_KEY_FALLBACKS:
        yield session_auth_hash(password, secret=fallback)
