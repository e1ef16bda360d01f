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
    "missing", ["SECRET_KEY", "AUDIT_SEAL_KEY", "SCREENING_KEY_ENCRYPTION_KEY", "REDIS_URL"]
)
def test_missing_secret_refuses_to_start(missing: str) -> None:
    result = _check(_env(**{missing: ""}))
    assert result.returncode != 0
    assert missing in result.stderr


def test_sqlite_is_refused_in_production() -> None:
    result = _check(_env(DATABASE_URL="sqlite:////tmp/nope.sqlite3"))
    assert result.returncode != 0 and "PostgreSQL" in result.stderr
