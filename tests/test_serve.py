"""infra/serve.py, the production launcher: N uvicorn workers, each on a listening socket of its own
(SO_REUSEPORT), restarted when one dies, all stopped by one SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.live import ROOT, free_port

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc"),
]


def _children(pid: int) -> set[int]:
    found = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[1] == str(pid) and fields[0] != "Z":
            found.add(int(stat.parent.name))
    return found


def _alive(pid: int) -> bool:
    """Running (a zombie that no one has reaped yet does not count)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except OSError:
        return False


def _listening_sockets(port: int) -> int:
    """Listening TCP sockets on 127.0.0.1:``port`` (one per worker with SO_REUSEPORT, else one)."""
    wanted = f"0100007F:{port:04X}"
    rows = Path("/proc/net/tcp").read_text().splitlines()[1:]
    return sum(1 for row in rows if row.split()[1] == wanted and row.split()[3] == "0A")  # 0A: LISTEN


def _wait(condition: object, timeout: float = 60) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return True
        time.sleep(0.1)
    return False


def _answers(base: str, timeout: float = 2) -> bool:
    try:
        return httpx.get(base + "/healthz", timeout=timeout).text == "ok"
    except httpx.TransportError:
        return False


def _answers_promptly(base: str) -> bool:
    """Twenty fresh connections (the kernel hashes each to a worker's socket) all answered. The timeout
    is generous (a busy machine): readiness is waited for before, never guessed."""
    return all(_answers(base, timeout=30) for _ in range(20))


def _serve(tmp_path: Path, port: int) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "VAR_DIR": str(tmp_path),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "REDIS_URL": "",
        "DJANGO_SETTINGS_MODULE": "config.settings.base",
    }
    return subprocess.Popen(
        [sys.executable, str(ROOT / "infra/serve.py"), "--workers", "2", "--port", str(port)]
        + ["--log-level", "warning"],
        env=env,
        cwd=ROOT,
    )


def test_workers_each_listen_are_restarted_and_stop_together(tmp_path: Path) -> None:
    port = free_port()
    server = _serve(tmp_path, port)
    base = f"http://127.0.0.1:{port}"
    try:
        assert _wait(lambda: _answers(base) and len(_children(server.pid)) == 2)
        workers = _children(server.pid)
        assert _listening_sockets(port) == 2  # a socket per worker: the kernel spreads connections
        with httpx.Client(base_url=base) as client:
            assert all(client.get("/healthz").text == "ok" for _ in range(20))

        dead = min(workers)
        os.kill(dead, signal.SIGKILL)
        assert _wait(lambda: len(_children(server.pid) - {dead}) == 2), "the dead worker was not replaced"
        # Ready: the replacement listens (it calls listen() once its application is loaded)
        assert _wait(lambda: _listening_sockets(port) == 2), "the replacement never listened"
        assert _answers_promptly(base)
        workers = _children(server.pid)
    finally:
        server.send_signal(signal.SIGTERM)
        code = server.wait(timeout=60)
    assert code == 0
    assert not any(_alive(pid) for pid in workers)
    assert _listening_sockets(port) == 0


def test_no_connection_waits_for_a_worker_that_is_not_ready(tmp_path: Path) -> None:
    """A worker dies and its replacement is held before it is ready (SIGSTOP while it loads Django): every
    connection goes to the live worker, none is queued on a socket nobody accepts from; the replacement
    takes its share once it is ready."""
    port = free_port()
    server = _serve(tmp_path, port)
    base = f"http://127.0.0.1:{port}"
    held = None
    try:
        assert _wait(lambda: _answers(base) and _listening_sockets(port) == 2)
        first = _children(server.pid)
        dead = min(first)
        os.kill(dead, signal.SIGKILL)
        assert _wait(lambda: len(_children(server.pid) - first) == 1, timeout=30)
        (held,) = _children(server.pid) - first  # the replacement, still importing the project
        os.kill(held, signal.SIGSTOP)
        assert _listening_sockets(port) == 1  # only the live worker's socket takes connections
        assert all(_answers(base, timeout=10) for _ in range(20))
        os.kill(held, signal.SIGCONT)
        assert _wait(lambda: _listening_sockets(port) == 2), "the replacement never listened"
        assert _answers_promptly(base)
    finally:
        if held is not None:
            os.kill(held, signal.SIGCONT)
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=60)


def test_no_server_header_unless_asked(tmp_path: Path) -> None:
    port = free_port()
    server = _serve(tmp_path, port)
    base = f"http://127.0.0.1:{port}"
    try:
        assert _wait(lambda: _answers(base))
        answer = httpx.get(base + "/healthz")
        assert answer.text == "ok" and "server" not in answer.headers
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=60)


def test_the_workers_do_not_outlive_a_killed_supervisor(tmp_path: Path) -> None:
    port = free_port()
    server = _serve(tmp_path, port)
    try:
        assert _wait(lambda: _answers(f"http://127.0.0.1:{port}") and len(_children(server.pid)) == 2)
        workers = _children(server.pid)
    finally:
        server.kill()  # no chance to stop them itself
        server.wait(timeout=30)
    assert _wait(lambda: not any(_alive(pid) for pid in workers), timeout=30)
    # A worker's leader thread turns zombie before its other threads have closed its files: the port
    # is released a few hundred milliseconds after the workers look gone.
    assert _wait(lambda: _listening_sockets(port) == 0, timeout=10)


def test_at_least_one_worker() -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "infra/serve.py"), "--workers", "0"], capture_output=True, text=True
    )
    assert done.returncode == 2 and "--workers must be at least 1" in done.stderr
