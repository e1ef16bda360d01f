"""Content keys: one random AES-128 key per cut, sealed at rest under a key-encryption key (KEK).

The sealed form is a versioned text token, ``v1:`` + base64url(nonce || AES-256-GCM ciphertext+tag), so
it fits a text column and a later scheme can sit beside it. GCM authenticates: a flipped byte or the
wrong KEK is refused, never silently turned into a wrong key. The associated data binds the token to its
purpose, so a token sealed for something else under the same KEK does not open as a content key.

No function here puts key material in an exception message or a log; errors name only what is wrong.
"""

from __future__ import annotations

import base64
import binascii
import secrets

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

CONTENT_KEY_BYTES = 16  # HLS METHOD=AES-128
KEK_BYTES = 32  # AES-256-GCM
NONCE_BYTES = 12
VERSION = "v1"
_AAD = b"screening-content-key:v1"
_KEK_INFO = b"screening-kek"


class KeyMaterialError(ValueError):
    """Base of the key errors below."""


class SealedKeyError(KeyMaterialError):
    """A sealed key could not be opened: malformed, tampered with, or sealed under another KEK."""


class KekError(KeyMaterialError):
    """The configured key-encryption key is unusable."""


def _b64url_decode(text: str) -> bytes:
    """Strict base64url: padding optional, any character outside the alphabet is an error."""
    return base64.b64decode(text + "=" * (-len(text) % 4), altchars=b"-_", validate=True)


def new_content_key() -> bytes:
    """16 bytes from the operating system's CSPRNG: the AES-128 key of one cut."""
    return secrets.token_bytes(CONTENT_KEY_BYTES)


def _check_kek(kek: bytes) -> None:
    if len(kek) != KEK_BYTES:
        raise KekError(f"The key-encryption key must be {KEK_BYTES} bytes.")


def seal_key(key: bytes, kek: bytes) -> str:
    """``key`` encrypted under ``kek`` with a fresh random nonce, as a ``v1:`` text token."""
    if len(key) != CONTENT_KEY_BYTES:
        raise SealedKeyError(f"A content key must be {CONTENT_KEY_BYTES} bytes.")
    _check_kek(kek)
    nonce = secrets.token_bytes(NONCE_BYTES)
    sealed = AESGCM(kek).encrypt(nonce, key, _AAD)
    return f"{VERSION}:" + base64.urlsafe_b64encode(nonce + sealed).decode("ascii").rstrip("=")


def open_key(sealed: str, kek: bytes) -> bytes:
    """The content key inside a ``v1:`` token; ``SealedKeyError`` if it is not exactly what we sealed."""
    _check_kek(kek)
    version, _, body = sealed.partition(":")
    if version != VERSION or not body:
        raise SealedKeyError("The sealed key is not a v1 token.")
    try:
        raw = _b64url_decode(body)
    except (binascii.Error, ValueError):
        raise SealedKeyError("The sealed key is not valid base64url.") from None
    if len(raw) != NONCE_BYTES + CONTENT_KEY_BYTES + 16:
        raise SealedKeyError("The sealed key has the wrong length.")
    try:
        key = AESGCM(kek).decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], _AAD)
    except InvalidTag:
        # "from None": the chained exception would add nothing but noise to a log.
        raise SealedKeyError(
            "The sealed key was altered or sealed under another key-encryption key."
        ) from None
    return key


def derive_kek(secret: str) -> bytes:
    """A 32-byte KEK derived from a secret string (the embedded default derives it from SECRET_KEY).

    Production sets SCREENING_KEY_ENCRYPTION_KEY instead, so rotating SECRET_KEY does not make every
    sealed content key unreadable.
    """
    if not secret:
        raise KekError("An empty secret cannot derive a key-encryption key.")
    return HKDF(algorithm=hashes.SHA256(), length=KEK_BYTES, salt=None, info=_KEK_INFO).derive(
        secret.encode()
    )


def parse_kek(value: str) -> bytes:
    """A KEK given as urlsafe base64 of 32 bytes (``base64.urlsafe_b64encode(os.urandom(32))``)."""
    text = value.strip()
    try:
        kek = _b64url_decode(text)
    except (binascii.Error, ValueError):
        raise KekError(
            "SCREENING_KEY_ENCRYPTION_KEY is not urlsafe base64; generate one with "
            "python -c 'import base64, os; print(base64.urlsafe_b64encode(os.urandom(32)).decode())'."
        ) from None
    if len(kek) != KEK_BYTES:
        raise KekError(f"SCREENING_KEY_ENCRYPTION_KEY must decode to {KEK_BYTES} bytes, not {len(kek)}.")
    return kek
