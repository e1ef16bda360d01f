"""The embedded default as `make run` serves it, in real processes: a fresh SQLite database with the
seeded demo, the ASGI server (uvicorn) and a Celery worker on the file-system broker."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from festival import demo_data

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--autoplay-policy=no-user-gesture-required",
]
needs_chromium = pytest.mark.skipif(
    not CHROMIUM.exists() and not os.environ.get("CI"), reason="Debian's chromium is not installed"
)


def uvicorn_command(port: int, *options: str) -> list[str]:
    """The project's ASGI application under uvicorn on 127.0.0.1:``port``, as the tests and benchmarks
    start it (``infra/run-embedded`` serves ``make run`` the same way)."""
    uvicorn = str(Path(sys.executable).parent / "uvicorn")
    return [
        uvicorn,
        "--app-dir",
        "platform",
        "config.asgi:application",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        *options,
    ]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _person(role: str, index: int = 0) -> demo_data.PersonData:
    return [p for p in demo_data.PEOPLE if p["role"] == role][index]


def _start_server(tmp_path_factory: pytest.TempPathFactory, screeners: int = 0) -> Iterator[tuple[str, Path]]:
    var = tmp_path_factory.mktemp("var")
    env = {
        **os.environ,
        "VAR_DIR": str(var),
        "DATABASE_URL": f"sqlite:///{var / 'db.sqlite3'}",
        "REDIS_URL": "",
        "DJANGO_SETTINGS_MODULE": "config.settings.base",
        "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
        "EMAIL_FILE_PATH": str(var / "mail"),
    }
    python = sys.executable
    commands: list[list[str]] = [
        ["migrate", "--noinput", "-v0"],
        ["collectstatic", "--noinput", "-v0"],
        ["seed_demo"],
        ["seed_demo_offers"],
        ["seed_demo_payments"],
    ]
    if screeners:
        commands.append(["seed_demo_screeners", "--limit", str(screeners)])
    for command in commands:
        subprocess.run([python, "manage.py", *command], cwd=ROOT, env=env, check=True, timeout=300)
    port = free_port()
    bin_dir = Path(python).parent
    worker = subprocess.Popen(
        [
            str(bin_dir / "celery"),
            "--workdir",
            "platform",
            "-A",
            "config",
            "worker",
            "--pool=solo",
            "-l",
            "warning",
        ],
        cwd=ROOT,
        env=env,
    )
    web = subprocess.Popen(uvicorn_command(port, "--log-level", "warning"), cwd=ROOT, env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                httpx.get(base + "/", timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.1)
        yield base, var
    finally:
        for process in (web, worker):
            process.send_signal(signal.SIGTERM)
        for process in (web, worker):
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    yield from _start_server(tmp_path_factory)


@pytest.fixture(scope="module")
def server_with_screener(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """The same, with the first Toulouse film's demo screener packaged."""
    yield from _start_server(tmp_path_factory, screeners=1)


def person(role: str, index: int = 0) -> demo_data.PersonData:
    return [p for p in demo_data.PEOPLE if p["role"] == role][index]


def browser_login(browser: Any, base: str, email: str, locale: str) -> Any:
    """A new browser context signed in as a demo account (password, then its TOTP code); its page."""
    from tests.conftest import totp_code

    context = browser.new_context(locale=locale, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(base + "/accounts/login/")
    page.fill("input[name=login]", email)
    page.fill("input[name=password]", demo_data.DEMO_PASSWORD)
    page.click("main button[type=submit]")
    page.fill("input[name=code]", totp_code(demo_data.DEMO_TOTP_SECRET))
    page.click("main button[type=submit]")
    page.wait_for_url(base + "/dashboard/")
    return page
