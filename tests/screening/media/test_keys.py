"""Content keys sealed at rest: round trip, tampering and wrong KEK refused, no key material in errors."""

from __future__ import annotations

import base64

import pytest

from screening.media.keys import (
    KekError,
    SealedKeyError,
    derive_kek,
    new_content_key,
    open_key,
    parse_kek,
    seal_key,
)

KEK = bytes(range(32))


def key_forms(key: bytes) -> list[str]:
    """Every way a key could leak into a message."""
    return [
        key.hex(),
        key.hex().upper(),
        base64.b64encode(key).decode(),
        base64.urlsafe_b64encode(key).decode().rstrip("="),
        repr(key),
    ]


def assert_no_key_in(error: BaseException, *keys: bytes) -> None:
    texts = [str(error), repr(error), *map(str, error.args)]
    for key in keys:
        for form in key_forms(key):
            assert not any(form in text for text in texts)
    assert error.__cause__ is None and error.__suppress_context__


def test_new_content_keys_are_16_random_bytes() -> None:
    keys = {new_content_key() for _ in range(50)}
    assert len(keys) == 50
    assert all(len(key) == 16 for key in keys)


def test_seal_and_open_round_trip() -> None:
    key = new_content_key()
    token = seal_key(key, KEK)
    assert token.startswith("v1:")
    assert set(token[3:]) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
    assert not any(form in token for form in key_forms(key))
    assert open_key(token, KEK) == key


def test_each_seal_uses_a_fresh_nonce() -> None:
    key = new_content_key()
    assert seal_key(key, KEK) != seal_key(key, KEK)


def flip(token: str, position: int) -> str:
    raw = bytearray(base64.urlsafe_b64decode(token[3:] + "=" * (-len(token[3:]) % 4)))
    raw[position] ^= 0x01
    return "v1:" + base64.urlsafe_b64encode(bytes(raw)).decode().rstrip("=")


@pytest.mark.parametrize("position", [0, 11, 12, 20, 27, 43])  # nonce, ciphertext and tag bytes
def test_a_flipped_byte_is_refused(position: int) -> None:
    key = new_content_key()
    with pytest.raises(SealedKeyError) as refused:
        open_key(flip(seal_key(key, KEK), position), KEK)
    assert_no_key_in(refused.value, key, KEK)


def test_the_wrong_kek_is_refused() -> None:
    key = new_content_key()
    other = bytes(reversed(range(32)))
    with pytest.raises(SealedKeyError, match="another key-encryption key") as refused:
        open_key(seal_key(key, KEK), other)
    assert_no_key_in(refused.value, key, KEK, other)


@pytest.mark.parametrize("token", ["", "v1:", "v2:AAAA", "no-colon", "v1:not*base64!", "v1:AAAA"])
def test_malformed_tokens_are_refused(token: str) -> None:
    with pytest.raises(SealedKeyError):
        open_key(token, KEK)


def test_only_16_byte_keys_and_32_byte_keks() -> None:
    with pytest.raises(SealedKeyError):
        seal_key(b"short", KEK)
    with pytest.raises(KekError):
        seal_key(new_content_key(), b"k" * 16)


def test_derive_kek_is_stable_and_secret_specific() -> None:
    assert derive_kek("secret one") == derive_kek("secret one")
    assert derive_kek("secret one") != derive_kek("secret two")
    assert len(derive_kek("secret one")) == 32
    with pytest.raises(KekError):
        derive_kek("")


def test_parse_kek_accepts_urlsafe_base64_of_32_bytes() -> None:
    kek = bytes(range(200, 232))
    text = base64.urlsafe_b64encode(kek).decode()
    assert parse_kek(text) == kek
    assert parse_kek(text.rstrip("=") + "\n") == kek


@pytest.mark.parametrize(
    "value",
    [
        base64.urlsafe_b64encode(b"x" * 16).decode(),  # too short
        base64.urlsafe_b64encode(b"x" * 33).decode(),  # too long
        "this is not base64 at all!",
    ],
)
def test_parse_kek_refuses_with_a_clear_error_that_does_not_echo_the_value(value: str) -> None:
    with pytest.raises(KekError, match="SCREENING_KEY_ENCRYPTION_KEY") as refused:
        parse_kek(value)
    assert value not in str(refused.value) and value not in repr(refused.value)
