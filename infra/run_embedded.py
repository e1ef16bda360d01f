#!/usr/bin/env python3
"""`make run`'s launcher: the embedded default's processes, started together and watched.

- the ASGI server (uvicorn: HTTP and WebSocket) on HOST:PORT;
- a Celery worker on the file-system broker (two threads: packaging never holds up the emails), which also
  listens to the ``demo`` queue where `make demo` leaves the demo films' screener jobs;
- Celery beat, which sends the periodic tasks (instalments falling due);
- while the demo screeners are being packaged, a line of progress whenever it changes.

Supervision: a process that stops is announced loudly and started again; one that stops
``MAX_RESTARTS`` times within ``RESTART_WINDOW`` seconds stops everything, and the launcher exits 1, so
that nothing runs half-dead unnoticed. Ctrl-C or SIGTERM stops every process (each gets SIGTERM, then
SIGKILL after ``STOP_GRACE`` seconds) and exits 0. The processes are in process groups of their own (a
terminal's Ctrl-C reaches the launcher only, which stops them in order) and get SIGTERM from the kernel
if the launcher dies however it dies (PR_SET_PDEATHSIG, Linux), as in infra/serve.py.

Environment: HOST, PORT and VENV as `make run` passes them; VAR_DIR, DATABASE_URL, ... as the settings
read them. SITE_URL (the links in emails) defaults to http://HOST:PORT, ALLOWED_HOSTS to the usual local
names plus HOST, LOG_LEVEL to WARNING. DEMO_SCREENERS limits the demo screeners followed to the first N.
"""

from __future__ import annotations

import collections
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from processes import die_with_parent, uvicorn_options

ROOT = Path(__file__).resolve().parents[1]
MAX_RESTARTS = 3
RESTART_WINDOW = 60.0  # seconds
RESTART_PAUSE = 1.0  # seconds between two starts of one process
STOP_GRACE = 10.0  # seconds each process gets to stop before it is killed
POLL = 0.2
WILDCARDS = {"0.0.0.0", "::", ""}  # noqa: S104 (names of the wildcard address, compared, not bound)
# Celery warns on every start when run as root (a container, CI): `make run` is a development server.
QUIET_ROOT_WARNING = "ignore:You're running the worker with superuser privileges"


def say(message: str) -> None:
    print(f"run-embedded: {message}", file=sys.stderr, flush=True)


def shout(message: str) -> None:
    bar = "*" * 78
    print(f"\n{bar}\nrun-embedded: {message}\n{bar}\n", file=sys.stderr, flush=True)


class Child:
    """One supervised process. ``essential`` ones are restarted; others may end when their work is done."""

    def __init__(self, name: str, argv: list[str], env: dict[str, str], *, essential: bool = True) -> None:
        self.name, self.argv, self.env, self.essential = name, argv, env, essential
        self.process: subprocess.Popen[bytes] | None = None
        self.started = 0.0
        self.deaths: collections.deque[float] = collections.deque()

    def start(self) -> None:
        self.process = subprocess.Popen(  # noqa: S603 (our own programs, our arguments)
            self.argv,
            cwd=ROOT,
            env=self.env,
            process_group=0,
            preexec_fn=die_with_parent,
        )
        self.started = time.monotonic()

    def exited(self) -> int | None:
        return None if self.process is None else self.process.poll()

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None


def site_host(host: str) -> str:
    """The host to put in links for a server bound to ``host``."""
    if host in WILDCARDS:
        return "127.0.0.1"
    return f"[{host}]" if ":" in host else host


def child_environment(host: str, port: int) -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("SITE_URL", f"http://{site_host(host)}:{port}")
    if "ALLOWED_HOSTS" not in env:
        names = ["127.0.0.1", "localhost", "[::1]"]
        if host in WILDCARDS:
            names.append(socket.gethostname())
        elif host not in names:
            names.append(host)
        env["ALLOWED_HOSTS"] = ",".join(names)
    env.setdefault("LOG_LEVEL", "WARNING")
    env.setdefault("PYTHONUNBUFFERED", "1")
    return env


def children(venv: Path, host: str, port: int, env: dict[str, str]) -> list[Child]:
    bin_dir = venv / "bin"
    celery = [str(bin_dir / "celery"), "--quiet", "--workdir", "platform", "-A", "config"]
    celery_env = {
        **env,
        "PYTHONWARNINGS": ",".join(filter(None, [env.get("PYTHONWARNINGS"), QUIET_ROOT_WARNING])),
    }
    return [
        Child(
            "web server",
            [
                str(bin_dir / "uvicorn"),
                "--app-dir",
                "platform",
                "config.asgi:application",
                "--host",
                host,
                "--port",
                str(port),
                *uvicorn_options(["--log-level", "warning"]),
            ],
            env,
        ),
        Child(
            "Celery worker",
            [
                *celery,
                "worker",
                "--pool=threads",
                "--concurrency=2",
                "--queues=celery,demo",
                "--loglevel=warning",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
            ],
            celery_env,
        ),
        Child("Celery beat", [*celery, "beat", "--loglevel=warning"], celery_env),
    ]


DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # never through an HTTP proxy


def answers(host: str, port: int) -> bool:
    """Our server answers its health check (not merely something listening on the port)."""
    target = "127.0.0.1" if host in WILDCARDS - {"::"} else ("[::1]" if host == "::" else site_host(host))
    try:
        with DIRECT.open(f"http://{target}:{port}/healthz", timeout=2) as answer:
            return bool(answer.status == 200 and answer.read() == b"ok")
    except (OSError, ValueError):
        return False


def main() -> int:
    os.chdir(ROOT)
    venv = Path(os.environ.get("VENV") or ".venv").resolve()
    host = os.environ.get("HOST") or "127.0.0.1"
    port = int(os.environ.get("PORT") or 8000)
    env = child_environment(host, port)
    python = str(venv / "bin" / "python")
    processes = children(venv, host, port, env)
    follow = ["seed_demo_screeners", "--follow"]
    if env.get("DEMO_SCREENERS"):
        follow += ["--limit", env["DEMO_SCREENERS"]]
    progress = Child("demo screeners' progress", [python, "manage.py", *follow], env, essential=False)

    stopping: list[int] = []

    def stop(signum: int, _frame: object) -> None:
        stopping.append(signum)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    for child in processes:
        child.start()
    subprocess.run([python, "manage.py", "demo_accounts"], cwd=ROOT, env=env, check=False)  # noqa: S603

    announced = False
    code = 0
    while not stopping:
        if not announced and answers(host, port):
            announced = True
            print(
                f"\nServing on http://{site_host(host)}:{port}/  (links in emails: {env['SITE_URL']}; "
                "Ctrl-C stops the server, the worker and the beat)\n",
                flush=True,
            )
            progress.start()
        finished = progress.exited()
        if finished and not progress.deaths:  # its work is to print; a failure is said, not restarted
            progress.deaths.append(time.monotonic())
            say(f"following the demo screeners' progress failed (exit code {finished}); see above why")
        for child in processes:
            status = child.exited()
            if status is None or stopping:
                continue
            now = time.monotonic()
            child.deaths.append(now)
            while child.deaths and now - child.deaths[0] > RESTART_WINDOW:
                child.deaths.popleft()
            if len(child.deaths) > MAX_RESTARTS:
                shout(
                    f"the {child.name} stopped {len(child.deaths)} times in a minute (last exit code "
                    f"{status}); stopping everything. Its messages above say why."
                )
                code = 1
                stopping.append(0)
                break
            shout(f"the {child.name} stopped (exit code {status}); starting it again")
            time.sleep(max(0.0, RESTART_PAUSE - (now - child.started)))
            if not stopping:
                child.start()
        time.sleep(POLL)

    everyone = [(child, child.process) for child in [*processes, progress] if child.process is not None]
    for _child, process in everyone:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + STOP_GRACE
    for child, process in everyone:
        try:
            process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            say(f"the {child.name} did not stop within {STOP_GRACE:.0f} s: killing it")
            process.kill()
            process.wait()
    return code


if __name__ == "__main__":
    sys.exit(main())
