"""core.hmacs gives exactly Django's salted_hmac digests and session hashes, so either side verifies the
other's: URLs signed before the change, sessions made by Django's login."""

from __future__ import annotations

import pytest
from django.test import override_settings
from django.utils.crypto import salted_hmac

from accounts.models import User
from core.hmacs import salted_hmac_digest, session_auth_hash


@pytest.mark.parametrize(
    ("salt", "value", "secret"),
    [
        ("screening.url", '["/play/x/360p/seg_00000.ts",1795807166,""]', "s3cret"),
        ("screening.url", b"bytes value", "another secret with accents: \u00e9\u00e8"),
        ("a" * 200, "long salt, longer than a block", "k" * 300),
        ("", "", "x"),
    ],
)
def test_salted_hmac_digest_is_djangos(salt: str, value: str | bytes, secret: str) -> None:
    expected = salted_hmac(salt, value, secret=secret, algorithm="sha256").digest()
    assert salted_hmac_digest(salt, value, secret=secret) == expected
    assert salted_hmac_digest(salt, value, secret=secret) == expected  # and again, from the derived key kept


def test_secret_defaults_to_the_settings_and_follows_a_change() -> None:
    with override_settings(SECRET_KEY="first-secret-key-for-this-test-0123456789"):
        first = salted_hmac_digest("salt", "value")
        assert first == salted_hmac("salt", "value", algorithm="sha256").digest()
    with override_settings(SECRET_KEY="second-secret-key-for-this-test-0123456789"):
        second = salted_hmac_digest("salt", "value")
        assert second == salted_hmac("salt", "value", algorithm="sha256").digest()
    assert first != second


def test_another_algorithm() -> None:
    assert salted_hmac_digest("s", "v", secret="k", algorithm="sha512") == (
        salted_hmac("s", "v", secret="k", algorithm="sha512").digest()
    )


def test_session_auth_hash_is_the_users_own() -> None:
    user = User(email="someone@example.com")
    user.set_password("a long enough password 123")
    assert session_auth_hash(user.password) == user.get_session_auth_hash()
    older = "an-older-secret-key-0123456789-abcdefghij"
    with override_settings(SECRET_KEY_FALLBACKS=[older]):
        assert [session_auth_hash(user.password, secret=older)] == list(user.get_session_auth_fallback_hash())
    other = User(email="other@example.com")
    other.set_password("a long enough password 123")  # same password, another salt: another hash
    assert session_auth_hash(other.password) != session_auth_hash(user.password)
