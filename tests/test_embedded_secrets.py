"""The embedded default's secrets (config.settings.embedded_secrets): random per VAR_DIR, made once with
mode 0600, reused after, never a constant of the code; production refuses them."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from config.settings.embedded_secrets import MAKERS, embedded_secret, is_development_secret

ROOT = Path(__file__).resolve().parents[1]
NAMES = ("SECRET_KEY", "AUDIT_SEAL_KEY", "AUDIT_CHECKPOINT_KEY", "SCREENING_KEY_ENCRYPTION_KEY")


def _settings_in(var: Path) -> dict[str, str]:
    """The secrets as a fresh process with the embedded default (no secret in the environment) sees
    them with this VAR_DIR."""
    env = {k: v for k, v in os.environ.items() if k not in NAMES}
    env.update(VAR_DIR=str(var), DJANGO_SETTINGS_MODULE="config.settings.base", DATABASE_URL="", REDIS_URL="")
    code = (
        "import json, django; from django.conf import settings; django.setup(); "
        f"print(json.dumps({{n: getattr(settings, n) for n in {NAMES!r}}}))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT / "platform",
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def test_first_start_makes_private_random_secrets_and_later_starts_reuse_them(tmp_path: Path) -> None:
    first = _settings_in(tmp_path / "a")
    folder = tmp_path / "a" / "secrets"
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    files = sorted(p.name for p in folder.iterdir())
    assert files == sorted(MAKERS)  # no temporary file left behind
    for path in folder.iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(set(first.values())) == len(NAMES)  # all different
    assert _settings_in(tmp_path / "a") == first  # reused
    other = _settings_in(tmp_path / "b")
    for name in NAMES:
        assert other[name] != first[name], f"{name} is the same in two checkouts: a constant"
        assert is_development_secret(first[name])


def test_the_key_encryption_key_made_is_one_the_keyring_uses(tmp_path: Path) -> None:
    from screening.keyring import _kek

    value = embedded_secret(tmp_path, "screening_key_encryption_key")
    assert len(_kek(value)) == 32


def test_the_keyring_refuses_no_key_instead_of_deriving_one() -> None:
    from screening.keyring import _kek

    with pytest.raises(ImproperlyConfigured, match="SCREENING_KEY_ENCRYPTION_KEY"):
        _kek("")


def test_processes_starting_together_agree_on_one_secret(tmp_path: Path) -> None:
    values: list[str] = []
    barrier = threading.Barrier(8)

    def start() -> None:
        barrier.wait()
        values.append(embedded_secret(tmp_path, "secret_key"))

    threads = [threading.Thread(target=start) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(values) == 8 and len(set(values)) == 1
    assert [p.name for p in (tmp_path / "secrets").iterdir()] == ["secret_key"]


@pytest.mark.parametrize("problem", ["readable by others", "empty"])
def test_a_secret_file_others_can_read_or_an_empty_one_is_refused(tmp_path: Path, problem: str) -> None:
    embedded_secret(tmp_path, "audit_seal_key")
    path = tmp_path / "secrets" / "audit_seal_key"
    if problem == "empty":
        path.write_text("")
    else:
        path.chmod(0o644)
    with pytest.raises(ImproperlyConfigured, match="audit_seal_key"):
        embedded_secret(tmp_path, "audit_seal_key")
