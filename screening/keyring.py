"""The key-encryption key that seals every cut's AES-128 content key at rest."""

from __future__ import annotations

from functools import cache

from django.conf import settings

from screening.media.keys import derive_kek, open_key, parse_kek, seal_key


@cache
def _kek(configured: str, secret: str) -> bytes:
    return parse_kek(configured) if configured else derive_kek(secret)


def kek() -> bytes:
    return _kek(settings.SCREENING_KEY_ENCRYPTION_KEY, settings.SECRET_KEY)


def seal(content_key: bytes) -> str:
    return seal_key(content_key, kek())


def unseal(sealed: str) -> bytes:
    return open_key(sealed, kek())
