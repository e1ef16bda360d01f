"""The embedded default as `make run` serves it, started by `make run` itself: a fresh SQLite database
with the seeded demo, and infra/run-embedded's ASGI server (uvicorn), Celery worker and beat on the
file-system broker. No test builds a worker or server command line of its own for this."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
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


def make_run_environment(var: Path, **extra: str) -> dict[str, str]:
    """The environment of a developer's shell for `make run` with its own VAR_DIR: the embedded default
    (no DATABASE_URL, no REDIS_URL: SQLite and the file-system broker in ``var``), without what pytest and
    pytest-django put in it (the test settings module)."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DJANGO_SETTINGS_MODULE", "MAKEFLAGS", "MAKELEVEL", "MFLAGS")
        and not k.startswith("PYTEST")
    }
    env.update({"VAR_DIR": str(var), "DATABASE_URL": "", "REDIS_URL": "", **extra})
    return env


@dataclass
class MakeRun:
    """`make run` started by a test, in a session (process group) of its own, its output in files."""

    process: subprocess.Popen[bytes]
    base: str
    var: Path
    stdout: Path
    stderr: Path

    def output(self) -> str:
        return self.stdout.read_text(errors="replace")

    def errors(self) -> str:
        return self.stderr.read_text(errors="replace")

    def database(self) -> sqlite3.Connection:
        return sqlite3.connect(self.var / "db.sqlite3", timeout=20)

    def wait_until(self, condition: Callable[[], bool], what: str, timeout: float = 300) -> None:
        """Until ``condition`` holds; fails at once, with the output, if `make run` ends meanwhile."""
        deadline = time.monotonic() + timeout
        while not condition():
            if self.process.poll() is not None:
                pytest.fail(f"make run ended ({self.process.returncode}) before {what}:\n{self.tail()}")
            if time.monotonic() > deadline:
                pytest.fail(f"no {what} within {timeout:.0f} s:\n{self.tail()}")
            time.sleep(0.3)

    def answers(self) -> bool:
        try:
            return httpx.get(self.base + "/healthz", timeout=5).text == "ok"
        except httpx.TransportError:
            return False

    def ready_cuts(self) -> int:
        with contextlib.closing(self.database()) as db:
            return int(db.execute("select count(*) from screening_cut where status = 'ready'").fetchone()[0])

    def tail(self) -> str:
        return "--- stdout\n" + self.output()[-4000:] + "\n--- stderr\n" + self.errors()[-4000:]

    def interrupt(self, timeout: float = 60) -> int:
        """What a terminal's Ctrl-C does: SIGINT to the foreground process group (make and the launcher)."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGINT)
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
            raise


def make_run(var: Path, port: int, *, demo_screeners: int | None = None, **env: str) -> MakeRun:
    """`make run` as a developer types it (HOST, PORT, the project's venv), on a fresh VAR_DIR.

    The only difference: make is told that the venv is installed (``-o`` its stamp), so a test never
    reinstalls the venv it runs in; `make install` is .ci/run's and the developer's business."""
    venv = Path(sys.prefix)
    arguments = ["make", "--no-print-directory", "-o", str(venv / ".installed-stamp"), "run"]
    arguments += [f"VENV={venv}", "HOST=127.0.0.1", f"PORT={port}"]
    if demo_screeners is not None:
        arguments.append(f"DEMO_SCREENERS={demo_screeners}")
    stdout, stderr = var / "make-run.out", var / "make-run.err"
    with stdout.open("wb") as out, stderr.open("wb") as err:
        process = subprocess.Popen(
            arguments,
            cwd=ROOT,
            env=make_run_environment(var, **env),
            stdout=out,
            stderr=err,
            start_new_session=True,
        )
    return MakeRun(process, f"http://127.0.0.1:{port}", var, stdout, stderr)


def _start_server(tmp_path_factory: pytest.TempPathFactory, screeners: int = 0) -> Iterator[tuple[str, Path]]:
    """`make run` on a fresh VAR_DIR (the demo, the server, the worker and the beat of infra/run-embedded),
    with the first ``screeners`` demo films' screeners packaged by its worker before the tests start."""
    var = tmp_path_factory.mktemp("var")
    run = make_run(var, free_port(), demo_screeners=screeners)
    try:
        run.wait_until(run.answers, "the server answering")
        if screeners:
            run.wait_until(lambda: run.ready_cuts() >= screeners, "the demo screeners packaged")
        yield run.base, var
    finally:
        run.interrupt()


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
    from allauth.mfa import app_settings as mfa_settings

    from tests.conftest import totp_code

    context = browser.new_context(locale=locale, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(base + "/accounts/login/")
    page.fill("input[name=login]", email)
    page.fill("input[name=password]", demo_data.DEMO_PASSWORD)
    page.click("main button[type=submit]")
    # A TOTP code works once per account: when another test (another `make run` sharing the Redis
    # cache) or the clock's turn of period spoiled this one, the next period's code signs in, as a
    # person would retry with their app's next code.
    for attempt in range(2):
        if attempt:
            time.sleep(mfa_settings.TOTP_PERIOD - time.time() % mfa_settings.TOTP_PERIOD + 0.5)
        page.fill("input[name=code]", totp_code(demo_data.DEMO_TOTP_SECRET))
        page.click("main button[type=submit]")
        try:
            page.wait_for_url(base + "/dashboard/", timeout=10_000 if not attempt else 30_000)
            return page
        except Exception:  # playwright's TimeoutError: the code was refused
            if attempt:
                raise
    return page
