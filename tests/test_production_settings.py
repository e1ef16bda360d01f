"""Production settings: refuse to start half-configured, and pass Django's deployment checklist."""

from __future__ import annotations

import base64
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _env(**overrides: str) -> dict[str, str]:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/test",
        "REDIS_URL": "redis://127.0.0.1:6379/0",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "AUDIT_SEAL_KEY": secrets.token_urlsafe(32),
        "AUDIT_CHECKPOINT_KEY": base64.urlsafe_b64encode(secrets.token_bytes(32)).decode(),
        "ALLOWED_HOSTS": "films-in-progress.example",
        "SCREENING_KEY_ENCRYPTION_KEY": base64.urlsafe_b64encode(secrets.token_bytes(32)).decode(),
    }
    env.update(overrides)
    return {k: v for k, v in env.items() if v != ""}


def _check(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_check_deploy_is_clean() -> None:
    result = _check(_env())
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    "missing",
    ["SECRET_KEY", "AUDIT_SEAL_KEY", "AUDIT_CHECKPOINT_KEY", "SCREENING_KEY_ENCRYPTION_KEY", "REDIS_URL"],
)
def test_missing_secret_refuses_to_start(missing: str) -> None:
    result = _check(_env(**{missing: ""}))
    assert result.returncode != 0
    assert missing in result.stderr


def test_sqlite_is_refused_in_production() -> None:
    result = _check(_env(DATABASE_URL="sqlite:////tmp/nope.sqlite3"))
    assert result.returncode != 0 and "PostgreSQL" in result.stderr


@pytest.mark.parametrize(
    "name", ["SECRET_KEY", "AUDIT_SEAL_KEY", "AUDIT_CHECKPOINT_KEY", "SCREENING_KEY_ENCRYPTION_KEY"]
)
@pytest.mark.parametrize(
    "made_by", ["the embedded default", "the old constant", "django's startproject"], ids=str
)
def test_a_development_secret_refuses_to_start(name: str, made_by: str, tmp_path: Path) -> None:
    from config.settings.embedded_secrets import embedded_secret

    if made_by == "the embedded default":  # what `make run` wrote to var/secrets/, copied into production
        value = embedded_secret(tmp_path, name.lower())
    elif made_by == "the old constant":
        value = "embedded-default-insecure-key-change-me-in-production"
    else:
        value = "django-insecure-" + secrets.token_urlsafe(40)
    result = _check(_env(**{name: value}))
    assert result.returncode != 0
    assert f"{name} is a development key" in result.stderr


def test_the_language_cookie_is_secure_same_site_and_http_only() -> None:
    """Under the production settings, the cookie set when a reader picks a language."""
    code = (
        "import django; django.setup(); from django.test import Client; "
        "r = Client(HTTP_HOST='films-in-progress.example').post("
        "'/i18n/setlang/', {'language': 'fr', 'next': '/'}, secure=True); "
        "print(r.status_code, r.cookies['django_language'].OutputString())"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT / "platform",
        env=_env(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    status, cookie = done.stdout.strip().splitlines()[-1].split(" ", 1)
    assert status == "302" and cookie.startswith("django_language=fr")
    flags = {part.strip().split("=")[0].lower(): part.strip() for part in cookie.split(";")}
    assert "secure" in flags and "httponly" in flags
    assert flags["samesite"].lower() == "samesite=lax"
