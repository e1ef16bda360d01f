"""The key-encryption key that seals every cut's AES-128 content key at rest.

``SCREENING_KEY_ENCRYPTION_KEY`` is 32 bytes in urlsafe base64: set in production (production.py refuses
to start without it), made at random on first start in the embedded default (config.settings.
embedded_secrets, which prefixes it with a development marker that is removed here). Nothing derives it
from another secret any more, so no constant in the code can open a sealed key.
"""

from __future__ import annotations

from functools import cache

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from core.insecure import DEV_MARKER
from screening.media.keys import open_key, parse_kek, seal_key


@cache
def _kek(configured: str) -> bytes:
    if not configured:
        raise ImproperlyConfigured("SCREENING_KEY_ENCRYPTION_KEY is not set.")
    return parse_kek(configured.removeprefix(DEV_MARKER))


def kek() -> bytes:
    return _kek(settings.SCREENING_KEY_ENCRYPTION_KEY)


def seal(content_key: bytes) -> str:
    return seal_key(content_key, kek())


def unseal(sealed: str) -> bytes:
    return open_key(sealed, kek())
