"""A signed per-session WM token (ETSI TS 104 002, DASH-IF forensic A/B watermarking) from which a CDN edge
picks each segment's variant, so the A/B choice our segment door makes today can move to an edge.

The token is a compact JWS (JWT), HS256, header ``{"alg": "HS256", "kid": ..., "typ": "JWT"}``; JWT is
the form edges accept in practice beside the CWT the spec defines. Claims, as we read the spec:

``wmver``         1, the token version
``wmvnd``         ``WM_VENDOR``, our vendor id (uint, one byte; not registered with DASH-IF)
``wmpatlen``      the pattern's length in bits (uint, two bytes: at most 65,535 segments, 36 h at 2 s)
``wmsegduration`` ``[ticks, ticks per second]``: a segment lasts ``ticks / scale`` seconds
``wmpattern``     the pattern, base64url: the grant's codeword bits packed most significant bit first
                  (bit ``i`` is bit ``7 - i % 8`` of byte ``i // 8``, the spec's big-endian addressing)
                  and, when encrypted, ``nonce (12) || AES-256-GCM(pattern) || tag (16)`` with the
                  associated data ``b"wmpattern|%d|%s" % (wmkeyver, wmopid)``
``wmkeyver``      present only when the pattern is encrypted: which edge pattern key opens it
``wmopid``        an opaque operation id: the grant id (its canonical UUID text)
``iat``, ``exp``, ``sub`` (the grant id, for edges that check a subject)

Where we depart from the letter of the spec: it signs and encrypts with COSE (a CWT; the pattern a
``COSE_Encrypt0``), names ``wmopid`` a uint and uses ``wmopid``/``wmkeyver`` in its *indirect* mode (a
vendor derives the pattern at the edge), while we carry the pattern directly and use them for the
operation and the pattern key's version. The CWT form's integer labels are 300 ``wmver``, 301 ``wmvnd``,
302 ``wmpatlen``, 303 ``wmsegduration``, 304 ``wmpattern``, 305 ``wmid``, 306 ``wmopid``, 307
``wmkeyver``; CWT is not implemented here.

Why encrypt the pattern: the token travels through the viewer's device. In clear, it tells a viewer (and
two colluders, without comparing any picture) which variant every segment carries.

The pattern must cover every segment of the cut: an edge reads bit ``index % wmpatlen``, and a wrapped
bit is not the codeword bit a trace scores (``codeword``).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import math
import os
import re
import time
import uuid
from collections.abc import Mapping
from fractions import Fraction
from typing import Any

import numpy as np
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

WM_VERSION = 1
WM_VENDOR = 255  # ours; the top of the one-byte range, away from registered vendors numbered from 1
ALGORITHM = "HS256"
MAX_TOKEN_CHARS = 16 * 1024  # an edge parses this on every segment request
MAX_PATTERN_BITS = 0xFFFF
MIN_SIGNING_KEY_BYTES = 32  # RFC 7518 3.2: an HS256 key is at least as long as the hash
PATTERN_KEY_BYTES = 32  # AES-256
NONCE_BYTES = 12
TAG_BYTES = 16
FUTURE_LEEWAY_S = 60  # clock skew tolerated on iat between the issuer and a verifier
_BASE64URL = re.compile(r"[A-Za-z0-9_-]*")


class TokenError(ValueError):
    """A token that must not be honoured; the message says why (for logs, not for viewers)."""


def _b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64decode(text: str, what: str) -> bytes:
    """Strict base64url without padding; non-canonical spellings (stray low bits) are refused, so that one
    token has one text."""
    if not isinstance(text, str) or not _BASE64URL.fullmatch(text) or len(text) % 4 == 1:
        raise TokenError(f"The {what} is not base64url.")
    data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    if _b64encode(data) != text:
        raise TokenError(f"The {what} is not canonical base64url.")
    return data


def _json_bytes(value: dict[str, Any]) -> bytes:
    return json.dumps(value, separators=(",", ":"), sort_keys=True).encode("ascii")


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise TokenError(f"The key {key[:40]!r} appears twice.")
        result[key] = value
    return result


def _refuse_constant(name: str) -> None:
    raise TokenError(f"{name} is not a JSON number.")


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(key) or _has_nul(item) for key, item in value.items())
    if isinstance(value, list):
        return any(_has_nul(item) for item in value)
    return False


def _json_object(data: bytes, what: str) -> dict[str, Any]:
    try:
        value = json.loads(
            data.decode("utf-8"), object_pairs_hook=_unique_keys, parse_constant=_refuse_constant
        )
    except TokenError as error:
        raise TokenError(f"The {what} is refused: {error}") from None
    except (ValueError, RecursionError):  # UnicodeDecodeError and JSONDecodeError are ValueErrors
        raise TokenError(f"The {what} is not JSON.") from None
    if not isinstance(value, dict):
        raise TokenError(f"The {what} is not a JSON object.")
    if _has_nul(value):
        raise TokenError(f"The {what} contains a NUL character.")
    return value


def _is_int(value: Any, low: int, high: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and low <= value <= high


def _pattern_bytes(bits: int) -> int:
    return -(-bits // 8)


def _check_claims(claims: Mapping[str, Any]) -> None:
    """Types and ranges of every claim we rely on (extra claims are allowed, as the spec's wmext)."""
    if not isinstance(claims, Mapping):
        raise TokenError("The claims are not a JSON object.")
    if claims.get("wmver") != WM_VERSION or not _is_int(claims.get("wmver"), 1, 1):
        raise TokenError(f"wmver must be {WM_VERSION}.")
    if claims.get("wmvnd") != WM_VENDOR or not _is_int(claims.get("wmvnd"), 0, 255):
        raise TokenError(f"wmvnd must be {WM_VENDOR}.")
    if not _is_int(claims.get("wmpatlen"), 1, MAX_PATTERN_BITS):
        raise TokenError(f"wmpatlen must be an integer from 1 to {MAX_PATTERN_BITS}.")
    duration = claims.get("wmsegduration")
    if not (
        isinstance(duration, list) and len(duration) == 2 and all(_is_int(v, 1, 2**32) for v in duration)
    ):
        raise TokenError("wmsegduration must be [ticks, ticks per second], two positive integers.")
    for name in ("wmopid", "sub"):
        value = claims.get(name)
        if not (isinstance(value, str) and 0 < len(value) <= 64):
            raise TokenError(f"{name} must be a non-empty string of at most 64 characters.")
    for name in ("iat", "exp"):
        if not _is_int(claims.get(name), 0, 2**53):
            raise TokenError(f"{name} must be an integer number of seconds.")
    if claims["exp"] <= claims["iat"]:
        raise TokenError("exp must come after iat.")
    expected = _pattern_bytes(claims["wmpatlen"])
    if "wmkeyver" in claims:
        if not _is_int(claims["wmkeyver"], 0, 2**32 - 1):
            raise TokenError("wmkeyver must be an unsigned integer.")
        expected += NONCE_BYTES + TAG_BYTES
    if len(_b64decode(claims.get("wmpattern", ""), "wmpattern")) != expected:
        raise TokenError("wmpattern does not hold wmpatlen bits.")


def _aad(key_version: int, operation: str) -> bytes:
    return b"wmpattern|%d|%s" % (key_version, operation.encode("utf-8"))


def issue(
    *,
    grant_id: uuid.UUID,
    pattern: np.ndarray,
    segment_seconds: int,
    signing_key: bytes,
    key_id: str,
    ttl_s: int,
    pattern_key: bytes | None = None,
    key_version: int = 1,
    now: int | None = None,
) -> str:
    """A WM token giving ``pattern`` (0 = A, 1 = B, one bit per segment from segment 0: normally
    ``codeword.codeword(secret, grant_id, segment_count)``) to the edge, valid for ``ttl_s`` seconds. With
    ``pattern_key`` (32 bytes, the edge's key version ``key_version``) the pattern is encrypted."""
    bits = np.asarray(pattern)
    if bits.ndim != 1 or not 1 <= bits.shape[0] <= MAX_PATTERN_BITS:
        raise ValueError(f"A pattern is a 1-D array of 1 to {MAX_PATTERN_BITS} bits.")
    if not np.all((bits == 0) | (bits == 1)):
        raise ValueError("A pattern holds only 0 (A) and 1 (B).")
    if not _is_int(segment_seconds, 1, 2**32):
        raise ValueError("segment_seconds is a positive integer.")
    if not _is_int(ttl_s, 1, 2**31):
        raise ValueError("ttl_s is a positive integer.")
    if not (isinstance(signing_key, bytes) and len(signing_key) >= MIN_SIGNING_KEY_BYTES):
        raise ValueError(f"An HS256 signing key has at least {MIN_SIGNING_KEY_BYTES} bytes.")
    if not (isinstance(key_id, str) and key_id.isascii() and key_id.isprintable() and 0 < len(key_id) <= 64):
        raise ValueError("A key id is 1 to 64 printable ASCII characters.")
    issued = int(time.time()) if now is None else now
    operation = str(grant_id)
    packed = np.packbits(bits.astype(np.uint8)).tobytes()  # MSB first, zero padding
    claims: dict[str, Any] = {
        "wmver": WM_VERSION,
        "wmvnd": WM_VENDOR,
        "wmpatlen": int(bits.shape[0]),
        "wmsegduration": [segment_seconds, 1],
        "wmopid": operation,
        "sub": operation,
        "iat": issued,
        "exp": issued + ttl_s,
    }
    if pattern_key is None:
        claims["wmpattern"] = _b64encode(packed)
    else:
        if not (isinstance(pattern_key, bytes) and len(pattern_key) == PATTERN_KEY_BYTES):
            raise ValueError("A pattern key is 32 bytes (AES-256).")
        if not _is_int(key_version, 0, 2**32 - 1):
            raise ValueError("key_version is an unsigned integer.")
        nonce = os.urandom(NONCE_BYTES)
        sealed = AESGCM(pattern_key).encrypt(nonce, packed, _aad(key_version, operation))
        claims["wmpattern"] = _b64encode(nonce + sealed)
        claims["wmkeyver"] = key_version
    header = {"alg": ALGORITHM, "kid": key_id, "typ": "JWT"}
    signing_input = _b64encode(_json_bytes(header)) + "." + _b64encode(_json_bytes(claims))
    signature = hmac.new(signing_key, signing_input.encode("ascii"), hashlib.sha256).digest()
    token = signing_input + "." + _b64encode(signature)
    if len(token) > MAX_TOKEN_CHARS:  # cannot happen within MAX_PATTERN_BITS; kept as the verifier's rule
        raise ValueError("The token would exceed the size an edge accepts.")
    return token


def verify(token: str, *, signing_keys: Mapping[str, bytes], now: int | None = None) -> dict[str, Any]:
    """The claims of ``token`` once its form, key, signature, claims and lifetime are checked; else
    ``TokenError``. The payload is parsed only after the signature holds."""
    if not isinstance(token, str):
        raise TokenError("A token is a string.")
    if len(token) > MAX_TOKEN_CHARS:
        raise TokenError(f"The token is longer than {MAX_TOKEN_CHARS} characters.")
    if "\x00" in token:
        raise TokenError("The token contains a NUL character.")
    if not token.isascii():
        raise TokenError("The token is not ASCII.")
    parts = token.split(".")
    if len(parts) != 3:
        raise TokenError("A token is three base64url parts joined by dots.")
    header = _json_object(_b64decode(parts[0], "header"), "header")
    algorithm = header.get("alg")
    if algorithm != ALGORITHM:
        raise TokenError(f"The algorithm {str(algorithm)[:20]!r} is refused: only {ALGORITHM} is accepted.")
    if "crit" in header:
        raise TokenError("The header names critical extensions, which we do not implement.")
    if header.get("typ", "JWT") != "JWT":
        raise TokenError("The header's typ is not JWT.")
    key_id = header.get("kid")
    if not isinstance(key_id, str):
        raise TokenError("The header names no key id.")
    key = signing_keys.get(key_id)
    if key is None:
        raise TokenError(f"Unknown key id {key_id[:64]!r}.")
    if len(key) < MIN_SIGNING_KEY_BYTES:
        raise ValueError(f"Signing key {key_id!r} is shorter than {MIN_SIGNING_KEY_BYTES} bytes.")
    signature = _b64decode(parts[2], "signature")
    expected = hmac.new(key, (parts[0] + "." + parts[1]).encode("ascii"), hashlib.sha256).digest()
    if not hmac.compare_digest(signature, expected):
        raise TokenError("Bad signature.")
    claims = _json_object(_b64decode(parts[1], "payload"), "payload")
    _check_claims(claims)
    moment = int(time.time()) if now is None else now
    if moment >= claims["exp"]:
        raise TokenError("The token has expired.")
    if claims["iat"] > moment + FUTURE_LEEWAY_S:
        raise TokenError("The token is issued in the future.")
    return claims


def pattern_bytes(claims: Mapping[str, Any], *, pattern_keys: Mapping[int, bytes] | None = None) -> bytes:
    """The pattern packed MSB first, decrypted when ``wmkeyver`` says it is encrypted. An edge would keep
    it for the session rather than decrypt it on every request."""
    _check_claims(claims)
    raw = _b64decode(claims["wmpattern"], "wmpattern")
    if "wmkeyver" not in claims:
        return raw
    version = claims["wmkeyver"]
    key = (pattern_keys or {}).get(version)
    if key is None:
        raise TokenError(f"The pattern is encrypted under key version {version}, which is not given.")
    try:
        return AESGCM(key).decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], _aad(version, claims["wmopid"]))
    except InvalidTag:
        raise TokenError(f"The pattern does not open with key version {version}.") from None


def variant_at(
    claims: Mapping[str, Any], index: int, *, pattern_keys: Mapping[int, bytes] | None = None
) -> str:
    """ "a" or "b" for segment ``index``: bit ``index % wmpatlen`` of the pattern, MSB first."""
    if isinstance(index, bool) or not isinstance(index, int) or index < 0:
        raise ValueError(f"A segment index is an integer >= 0, not {index!r}.")
    packed = pattern_bytes(claims, pattern_keys=pattern_keys)
    position = index % claims["wmpatlen"]
    return "b" if (packed[position // 8] >> (7 - position % 8)) & 1 else "a"


def variant_at_time(
    claims: Mapping[str, Any], seconds: float, *, pattern_keys: Mapping[int, bytes] | None = None
) -> str:
    """The variant playing at ``seconds`` into the cut: segment ``floor(seconds * scale / ticks)`` (exact
    arithmetic: a time on a boundary belongs to the segment it starts)."""
    if not (isinstance(seconds, int | float) and math.isfinite(seconds) and seconds >= 0):
        raise ValueError(f"A playback time is a finite number of seconds >= 0, not {seconds!r}.")
    _check_claims(claims)
    ticks, scale = claims["wmsegduration"]
    return variant_at(claims, math.floor(Fraction(seconds) * scale / ticks), pattern_keys=pattern_keys)
