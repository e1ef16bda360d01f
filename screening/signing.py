"""Expiring HMAC signatures for URLs the app serves itself (blobs, upload parts, playback segments).

A signed URL is ``<path>?exp=<unix time>&sig=<base64url HMAC-SHA256>``. It plays the part S3 presigned
URLs play in production: whoever holds the URL may use it until it expires, and nobody can make one
without the key. The key is derived from ``SECRET_KEY`` with the salt ``screening.url`` (so a signature
made here is useless anywhere else Django signs things); ``SECRET_KEY_FALLBACKS`` are accepted when
verifying, so rotating the secret does not break URLs already handed out.
"""

from __future__ import annotations

import base64
import json
import time

from django.conf import settings
from django.utils.crypto import constant_time_compare

from core.hmacs import salted_hmac_digest

SALT = "screening.url"


class SignatureError(Exception):
    """A signed URL that must not be honoured."""


class SignatureInvalid(SignatureError):
    """Missing, malformed or forged: answer as if the thing did not exist (404)."""


class SignatureExpired(SignatureError):
    """Genuine but past its expiry: the holder was allowed once, so a 403 with a reason is fair."""


def _signature(path: str, expires_at: int, extra: str, secret: str) -> str:
    # JSON keeps the three fields unambiguous whatever characters they contain.
    message = json.dumps([path, expires_at, extra], separators=(",", ":"))
    digest = salted_hmac_digest(SALT, message, secret=secret)  # Django's salted_hmac, derived key kept
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def sign_path(path: str, *, expires_at: int, extra: str = "") -> str:
    """The query string ``exp=...&sig=...`` that authorises ``path`` (plus ``extra``) until ``expires_at``.

    ``extra`` binds anything else the URL carries (an object key, a content type) to the signature.
    """
    # Both values are URL-safe as they are (digits; unpadded base64url): no quoting needed.
    return f"exp={expires_at}&sig={_signature(path, expires_at, extra, settings.SECRET_KEY)}"


def expiry_from_now(seconds: int) -> int:
    """The ``expires_at`` for a URL valid for ``seconds`` from now."""
    return int(time.time()) + seconds


def verify_path(path: str, *, exp: str, sig: str, extra: str = "") -> None:
    """Raise unless ``sig`` is this app's signature of ``path`` and ``extra`` and ``exp`` has not passed.

    The signature is checked before the expiry, so a forged URL never learns whether it would have
    been expired.
    """
    try:
        expires_at = int(exp)
    except ValueError:
        raise SignatureInvalid("malformed expiry") from None
    if not sig or not any(
        constant_time_compare(sig, _signature(path, expires_at, extra, secret))
        for secret in [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]
    ):
        raise SignatureInvalid("bad signature")
    if expires_at < time.time():
        raise SignatureExpired("expired")


def seconds_left(exp: str) -> int:
    """Whole seconds until an already verified ``exp``; never negative."""
    return max(0, int(exp) - int(time.time()))
