"""Real ASGI server processes for the WebSocket tests and benchmark: uvicorn on the project's ASGI app,
several processes sharing one PostgreSQL database and one Redis channel layer.

Used by tests/offers/test_thread_two_servers.py (in ``make test``) and tests/bench/test_ws_bench.py.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
from websockets.typing import Origin

from tests.live import free_port, uvicorn_command

ROOT = Path(__file__).resolve().parents[2]
# The options `infra/run-embedded` serves with, plus no access log (one line per handshake otherwise).
UVICORN_OPTIONS = [
    "--ws",
    "websockets-sansio",
    "--ws-max-size",
    "65536",
    "--ws-ping-interval",
    "20",
    "--limit-concurrency",
    "2000",
    "--no-server-header",
    "--no-access-log",
    "--log-level",
    "warning",
]


@dataclass(frozen=True)
class Server:
    port: int
    pid: int


def with_database(url: str, name: str) -> str:
    """``url`` (a PostgreSQL URL) pointing at database ``name`` instead."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + name, parts.query, parts.fragment))


def server_env(*, database_url: str, redis_url: str, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.base",
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "LOG_LEVEL": "WARNING",
        "PYTHONPATH": f"{ROOT}:{ROOT / 'platform'}",
        **extra,
    }


@contextmanager
def uvicorn_servers(
    env: Mapping[str, str], count: int = 2, options: list[str] | None = None, cpus: list[int] | None = None
) -> Iterator[list[Server]]:
    """Start ``count`` separate uvicorn processes (not one with --workers: each gets its own port so a
    client chooses its process); yields them once every one answers /healthz."""
    ports = [free_port() for _ in range(count)]
    processes: list[subprocess.Popen[bytes]] = []
    try:
        for i, port in enumerate(ports):
            command = uvicorn_command(port, *(UVICORN_OPTIONS if options is None else options))
            if cpus is not None:
                command = ["taskset", "-c", str(cpus[i % len(cpus)]), *command]
            processes.append(subprocess.Popen(command, cwd=ROOT, env=dict(env)))
        deadline = time.monotonic() + 60
        for port, process in zip(ports, processes, strict=True):
            while True:
                if process.poll() is not None:
                    raise RuntimeError(f"uvicorn on port {port} exited with {process.returncode}")
                try:
                    if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError(f"uvicorn on port {port} did not answer within 60 s")
                time.sleep(0.1)
        yield [Server(port, process.pid) for port, process in zip(ports, processes, strict=True)]
    finally:
        for process in processes:
            process.send_signal(signal.SIGTERM)
        for process in processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def create_session(user: Any) -> str:
    """A signed-in Django session for ``user`` written straight to the database; returns its key."""
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore

    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.create()
    assert session.session_key is not None
    return session.session_key


def ws_headers(session_key: str) -> dict[str, str]:
    return {"Cookie": f"sessionid={session_key}"}


def origin(port: int) -> Origin:
    """The server's own origin: the socket gate compares scheme, host and port (core/socket_gate.py)."""
    return Origin(f"http://127.0.0.1:{port}")
