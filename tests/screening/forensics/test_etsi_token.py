"""The ETSI TS 104 002 WM token: an edge holding it serves exactly the variants our segment door serves,
an encrypted pattern tells the viewer nothing, and every malformed or forged token is refused."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import uuid
from typing import Any

import numpy as np
import pytest

from screening.forensics.codeword import codeword, variant_for
from screening.forensics.etsi_token import (
    MAX_TOKEN_CHARS,
    WM_VENDOR,
    TokenError,
    issue,
    pattern_bytes,
    variant_at,
    variant_at_time,
    verify,
)

SECRET = hashlib.sha256(b"codeword secret of a cut").digest()
GRANT = uuid.UUID("0f0e0d0c-0b0a-4908-8706-050403020100")
SIGNING_KEY = hashlib.sha256(b"edge signing key").digest()
PATTERN_KEY = hashlib.sha256(b"edge pattern key v3").digest()
KEYS = {"edge-1": SIGNING_KEY}
NOW = 1_800_000_000
SEGMENTS = 300


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def signed(header: Any, payload: Any, key: bytes = SIGNING_KEY) -> str:
    """A token with arbitrary header and payload (objects, or raw bytes), correctly signed."""
    parts = [b64(p if isinstance(p, bytes) else json.dumps(p).encode()) for p in (header, payload)]
    signing_input = ".".join(parts)
    return signing_input + "." + b64(hmac.new(key, signing_input.encode(), hashlib.sha256).digest())


def token(**overrides: Any) -> str:
    arguments: dict[str, Any] = {
        "grant_id": GRANT,
        "pattern": codeword(SECRET, GRANT, SEGMENTS),
        "segment_seconds": 2,
        "signing_key": SIGNING_KEY,
        "key_id": "edge-1",
        "ttl_s": 3600,
        "now": NOW,
    }
    return issue(**(arguments | overrides))


def claims_of(text: str) -> dict[str, Any]:
    return json.loads(unb64(text.split(".")[1]))


HEADER = {"alg": "HS256", "kid": "edge-1", "typ": "JWT"}
ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


def non_canonical_signature(text: str) -> str:
    """The same signature bytes spelled differently: 43 characters carry 258 bits, and the last two are
    ignored by lenient decoders (the classic way to mint a second valid text of one JWT)."""
    last = ALPHABET.index(text[-1])
    return text[:-1] + ALPHABET[last ^ 1]


def test_round_trip() -> None:
    claims = verify(token(), signing_keys=KEYS, now=NOW + 10)
    assert claims["wmver"] == 1 and claims["wmvnd"] == WM_VENDOR
    assert claims["wmpatlen"] == SEGMENTS
    assert claims["wmsegduration"] == [2, 1]
    assert claims["wmopid"] == claims["sub"] == str(GRANT)
    assert (claims["iat"], claims["exp"]) == (NOW, NOW + 3600)
    assert "wmkeyver" not in claims
    # the pattern is the codeword packed MSB first
    assert unb64(claims["wmpattern"]) == np.packbits(codeword(SECRET, GRANT, SEGMENTS)).tobytes()
    header = json.loads(unb64(token().split(".")[0]))
    assert header == HEADER


@pytest.mark.parametrize("encrypted", [False, True])
def test_the_edge_serves_what_the_door_serves(encrypted: bool) -> None:
    """For every segment, the token's choice is the codeword's, by index and by playback time."""
    extra = {"pattern_key": PATTERN_KEY, "key_version": 3} if encrypted else {}
    claims = verify(token(**extra), signing_keys=KEYS, now=NOW)
    keys = {3: PATTERN_KEY}
    door = [variant_for(SECRET, GRANT, i) for i in range(SEGMENTS)]
    assert [variant_at(claims, i, pattern_keys=keys) for i in range(SEGMENTS)] == door
    assert [variant_at_time(claims, 2 * i + 1.999, pattern_keys=keys) for i in range(SEGMENTS)] == door
    assert [variant_at_time(claims, 2 * i, pattern_keys=keys) for i in range(SEGMENTS)] == door  # a boundary
    assert set(door) == {"a", "b"}
    assert variant_at(claims, SEGMENTS + 5, pattern_keys=keys) == door[5]  # bit index % wmpatlen


def test_odd_lengths_and_durations() -> None:
    pattern = np.array([1, 0, 0, 1, 1], np.uint8)
    claims = verify(token(pattern=pattern, segment_seconds=6), signing_keys=KEYS, now=NOW)
    assert unb64(claims["wmpattern"]) == bytes([0b10011000])
    assert [variant_at_time(claims, t) for t in (0, 5.9, 6, 12.5, 18, 29.99)] == [
        "b",
        "b",
        "a",
        "a",
        "b",
        "b",
    ]


def test_an_encrypted_pattern_is_unreadable_without_its_key() -> None:
    text = token(pattern_key=PATTERN_KEY, key_version=3)
    claims = verify(text, signing_keys=KEYS, now=NOW)
    plain = np.packbits(codeword(SECRET, GRANT, SEGMENTS)).tobytes()
    sealed = unb64(claims["wmpattern"])
    assert claims["wmkeyver"] == 3
    assert len(sealed) == 12 + len(plain) + 16
    assert plain[:8] not in sealed and plain[:8] not in unb64(text.split(".")[1])
    assert pattern_bytes(claims, pattern_keys={3: PATTERN_KEY}) == plain
    with pytest.raises(TokenError, match="key version 3, which is not given"):
        variant_at(claims, 0)
    with pytest.raises(TokenError, match="does not open"):
        variant_at(claims, 0, pattern_keys={3: hashlib.sha256(b"wrong").digest()})
    # the ciphertext is bound to its operation: moved into another grant's claims it does not open
    with pytest.raises(TokenError, match="does not open"):
        pattern_bytes(claims | {"wmopid": str(uuid.uuid4())}, pattern_keys={3: PATTERN_KEY})
    # two tokens for the same grant do not even repeat the ciphertext
    assert claims_of(token(pattern_key=PATTERN_KEY, key_version=3))["wmpattern"] != claims["wmpattern"]


def good_claims() -> dict[str, Any]:
    return claims_of(token())


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: signed({"alg": "none", "kid": "edge-1"}, good_claims())[:-43], "algorithm 'none'"),
        (lambda: signed({"alg": "none", "kid": "edge-1"}, good_claims()), "algorithm 'none'"),
        (lambda: signed({"alg": "HS512", "kid": "edge-1"}, good_claims()), "algorithm 'HS512'"),
        (lambda: signed({"alg": "RS256", "kid": "edge-1"}, good_claims()), "algorithm 'RS256'"),
        (lambda: signed({"kid": "edge-1"}, good_claims()), "algorithm 'None'"),
        (lambda: signed(HEADER | {"crit": ["exp"]}, good_claims()), "critical"),
        (lambda: signed(HEADER | {"typ": "at+jwt"}, good_claims()), "typ"),
        (lambda: signed({"alg": "HS256"}, good_claims()), "no key id"),
        (lambda: signed(HEADER | {"kid": "edge-9"}, good_claims()), "Unknown key id 'edge-9'"),
        (lambda: token().rsplit(".", 1)[0] + "." + b64(b"\0" * 32), "Bad signature"),
        (lambda: token(signing_key=hashlib.sha256(b"forger").digest()), "Bad signature"),
        (
            lambda: (
                signed(HEADER, good_claims() | {"exp": NOW + 7200}).rsplit(".", 1)[0]
                + "."
                + token().rsplit(".", 1)[1]
            ),
            "Bad signature",
        ),  # fmt: skip
        (lambda: token().replace(".", "+", 1), "three base64url parts"),
        (lambda: token() + ".", "three base64url parts"),
        (lambda: "a.b", "three base64url parts"),
        (lambda: "eyJ+.e30." + b64(b"x" * 32), "header is not base64url"),
        (lambda: token() + "=", "signature is not base64url"),
        (lambda: "eyJhbGciOiJIUzI1NiJ9a.e30." + b64(b"x"), "header is not base64url"),  # length % 4 == 1
        (lambda: non_canonical_signature(token()), "signature is not canonical"),
        (lambda: b64(b"{'alg': 'HS256'}") + ".e30." + b64(b"x" * 32), "header is not JSON"),
        (lambda: b64(b"\xff\xfe") + ".e30." + b64(b"x" * 32), "header is not JSON"),
        (lambda: b64(b"[" * 9000 + b"]" * 9000)[:4000] + ".e30.x", "header is not JSON"),
        (lambda: signed(["HS256"], good_claims()), "header is not a JSON object"),
        (lambda: signed(b'{"alg":"HS256","alg":"none","kid":"edge-1"}', good_claims()), "appears twice"),
        (lambda: signed(HEADER, b"not json"), "payload is not JSON"),
        (lambda: signed(HEADER, b'{"exp": NaN}'), "NaN is not a JSON number"),
        (lambda: signed(HEADER, [1, 2]), "payload is not a JSON object"),
        (lambda: signed(HEADER, good_claims() | {"wmpatlen": "300"}), "wmpatlen must be"),
        (lambda: signed(HEADER, good_claims() | {"wmpatlen": 70000}), "wmpatlen must be"),
        (lambda: signed(HEADER, good_claims() | {"wmpatlen": 200}), "does not hold wmpatlen bits"),
        (lambda: signed(HEADER, good_claims() | {"wmver": True}), "wmver must be 1"),
        (lambda: signed(HEADER, good_claims() | {"wmver": 2}), "wmver must be 1"),
        (lambda: signed(HEADER, good_claims() | {"wmvnd": 7}), f"wmvnd must be {WM_VENDOR}"),
        (lambda: signed(HEADER, good_claims() | {"wmsegduration": 2}), "wmsegduration"),
        (lambda: signed(HEADER, good_claims() | {"wmsegduration": [2, 0]}), "wmsegduration"),
        (lambda: signed(HEADER, good_claims() | {"wmsegduration": [2.0, 1]}), "wmsegduration"),
        (lambda: signed(HEADER, good_claims() | {"wmpattern": 5}), "wmpattern is not base64url"),
        (lambda: signed(HEADER, good_claims() | {"wmkeyver": "1"}), "wmkeyver"),
        (lambda: signed(HEADER, good_claims() | {"wmkeyver": 1}), "does not hold wmpatlen bits"),
        (lambda: signed(HEADER, good_claims() | {"wmopid": 12}), "wmopid must be"),
        (lambda: signed(HEADER, {k: v for k, v in good_claims().items() if k != "sub"}), "sub must be"),
        (lambda: signed(HEADER, good_claims() | {"exp": float(NOW + 60)}), "exp must be an integer"),
        (lambda: signed(HEADER, good_claims() | {"exp": NOW}), "exp must come after iat"),
        (lambda: signed(HEADER, good_claims() | {"sub": "grant\u0000x"}), "NUL character"),
        (lambda: signed(HEADER | {"kid": "edge-1\u0000"}, good_claims()), "NUL character"),
        (lambda: token() + "\0", "NUL character"),
        (lambda: "é" + token(), "not ASCII"),
        (lambda: signed(HEADER, good_claims() | {"pad": "x" * MAX_TOKEN_CHARS}), "longer than 16384"),
        (lambda: token(now=NOW - 3600), "expired"),
        (lambda: token(now=NOW - 3601), "expired"),
        (lambda: token(now=NOW + 61), "issued in the future"),
    ],
)
def test_refusals(make: Any, message: str) -> None:
    with pytest.raises(TokenError, match=message):
        verify(make(), signing_keys=KEYS, now=NOW)


def test_the_boundaries_of_a_lifetime_and_of_size() -> None:
    verify(token(now=NOW - 3599), signing_keys=KEYS, now=NOW)  # one second left
    verify(token(now=NOW + 60), signing_keys=KEYS, now=NOW)  # within the clock-skew leeway
    big = token(pattern=np.ones(0xFFFF, np.uint8), pattern_key=PATTERN_KEY)  # the longest pattern
    assert len(big) <= MAX_TOKEN_CHARS
    assert variant_at(verify(big, signing_keys=KEYS, now=NOW), 0xFFFE, pattern_keys={1: PATTERN_KEY}) == "b"
    assert verify(token(), signing_keys={"old": b"o" * 32, "edge-1": SIGNING_KEY}, now=NOW)  # key rotation


def test_not_a_string() -> None:
    with pytest.raises(TokenError, match="string"):
        verify(token().encode(), signing_keys=KEYS, now=NOW)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"pattern": np.array([0, 1, 2])}, "only 0"),
        ({"pattern": np.zeros((2, 2))}, "1-D"),
        ({"pattern": np.zeros(0)}, "1-D"),
        ({"pattern": np.zeros(0x10000)}, "1-D"),
        ({"signing_key": b"short"}, "at least 32 bytes"),
        ({"pattern_key": b"k" * 16}, "32 bytes"),
        ({"key_id": ""}, "key id"),
        ({"key_id": "a\x00b"}, "key id"),
        ({"ttl_s": 0}, "ttl_s"),
        ({"segment_seconds": 0}, "segment_seconds"),
    ],
)
def test_issue_refuses_bad_arguments(overrides: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        token(**overrides)


def test_lookup_arguments_are_checked() -> None:
    claims = verify(token(), signing_keys=KEYS, now=NOW)
    with pytest.raises(ValueError, match="index"):
        variant_at(claims, -1)
    with pytest.raises(ValueError, match="playback time"):
        variant_at_time(claims, float("nan"))
    with pytest.raises(TokenError, match="wmpatlen"):
        variant_at(claims | {"wmpatlen": 0}, 0)  # claims that did not come from verify are checked too
