"""Expiring HMAC URL signatures: genuine ones pass, anything changed or late is refused."""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import parse_qs

import pytest

from screening.signing import SignatureExpired, SignatureInvalid, sign_path, verify_path

PATH = "/screening/blob/cuts/1/720p/seg_00001.ts"


def signed(path: str = PATH, *, expires_at: int | None = None, extra: str = "") -> tuple[str, str]:
    query = parse_qs(sign_path(path, expires_at=expires_at or int(time.time()) + 60, extra=extra))
    assert set(query) == {"exp", "sig"}
    return query["exp"][0], query["sig"][0]


def test_a_genuine_signature_passes() -> None:
    exp, sig = signed(extra="video/mp2t")
    verify_path(PATH, exp=exp, sig=sig, extra="video/mp2t")


@pytest.mark.parametrize(
    ("path", "extra", "change"),
    [
        (PATH.replace("00001", "00002"), "", "another path"),
        (PATH, "text/html", "another extra"),
        (PATH, "", "a later expiry"),
        (PATH, "", "a flipped signature character"),
        (PATH, "", "no signature"),
    ],
)
def test_anything_changed_is_invalid(path: str, extra: str, change: str) -> None:
    exp, sig = signed()
    if change == "a later expiry":
        exp = str(int(exp) + 3600)
    elif change == "a flipped signature character":
        sig = ("A" if sig[0] != "A" else "B") + sig[1:]
    elif change == "no signature":
        sig = ""
    with pytest.raises(SignatureInvalid):
        verify_path(path, exp=exp, sig=sig, extra=extra)


@pytest.mark.parametrize("exp", ["", "soon", "1.5"])
def test_a_malformed_expiry_is_invalid(exp: str) -> None:
    _exp, sig = signed()
    with pytest.raises(SignatureInvalid):
        verify_path(PATH, exp=exp, sig=sig)


def test_a_genuine_signature_past_its_expiry_is_expired() -> None:
    exp, sig = signed(expires_at=int(time.time()) - 1)
    with pytest.raises(SignatureExpired):
        verify_path(PATH, exp=exp, sig=sig)


def test_a_forged_signature_is_invalid_even_when_expired() -> None:
    """A forger learns nothing, not even that the URL would have been too old."""
    exp, sig = signed(expires_at=int(time.time()) - 1)
    with pytest.raises(SignatureInvalid):
        verify_path(PATH, exp=exp, sig=sig[::-1])


def test_a_signature_made_with_another_secret_key_is_invalid(settings: Any) -> None:
    exp, sig = signed()
    settings.SECRET_KEY = "a-completely-different-secret-key-for-this-test"
    with pytest.raises(SignatureInvalid):
        verify_path(PATH, exp=exp, sig=sig)


def test_signatures_made_before_a_key_rotation_still_verify(settings: Any) -> None:
    old_key = settings.SECRET_KEY
    exp, sig = signed()
    settings.SECRET_KEY = "the-new-secret-key-after-rotation-0123456789"
    settings.SECRET_KEY_FALLBACKS = [old_key]
    verify_path(PATH, exp=exp, sig=sig)
    settings.SECRET_KEY_FALLBACKS = []
    with pytest.raises(SignatureInvalid):
        verify_path(PATH, exp=exp, sig=sig)
