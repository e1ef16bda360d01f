#!/usr/bin/env python3
"""Serve the project's ASGI application with N uvicorn worker processes, each on a listening socket of
its own (SO_REUSEPORT), so that the kernel spreads connections evenly over the workers.

``uvicorn --workers N`` shares one listening socket: whichever worker wakes first accepts, and a burst of
keep-alive connections (a load balancer's, a player's) can settle 70/30 or 85/15 on two workers for as
long as they live. The busy worker's requests then wait up to twice as long as they should (measured by
the playlist benchmark: p99 105-310 ms with one shared socket, 68-84 ms with a socket per worker). With a
socket per worker the kernel assigns each new connection to a worker by a hash of its addresses.

A worker gets its socket bound but not listening: uvicorn (asyncio) calls listen() when it is ready to
accept, after the application is loaded, and only then does the kernel hash connections to it. So no
connection waits for a worker that is still booting, at start or after a restart. When a worker exits,
the supervisor closes its socket at once (new connections go to the live workers; any still queued on
it are reset, as they would be by a dead worker) and starts a replacement on a fresh unlistened socket.
The trade-off that remains: a connection assigned to a worker that is alive but stuck waits for it.
SIGTERM or SIGINT stops every worker gracefully (uvicorn's own shutdown), then the supervisor exits.

Every uvicorn option the caller does not give takes the project's default (``processes.UVICORN_DEFAULTS``:
WebSocket limits, a connection limit, no ``server: uvicorn`` header unless ``--server-header`` is given).

    python infra/serve.py --workers 2 --host 127.0.0.1 --port 8000 [uvicorn options...]

Every other option goes to uvicorn as it is (``--ws websockets-sansio``, ``--log-level warning``...).
Where SO_REUSEPORT does not exist, the workers share one socket, as with ``uvicorn --workers``.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from processes import die_with_parent, uvicorn_options

ROOT = Path(__file__).resolve().parents[1]
APP = ["--app-dir", str(ROOT / "platform"), "config.asgi:application"]
BACKLOG = 2048  # uvicorn's default
RESTART_PAUSE = 1.0  # seconds between restarts of one worker
STOP_GRACE = 30.0  # seconds the workers get to finish their requests


def bound_socket(host: str, port: int, *, reuse_port: bool) -> socket.socket:
    """A TCP socket bound to host:port, not listening yet: the worker's server calls listen() when ready."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if reuse_port:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    sock.set_inheritable(True)
    return sock


class Worker:
    def __init__(
        self,
        index: int,
        sock: socket.socket,
        uvicorn: str,
        options: list[str],
        *,
        address: tuple[str, int] | None,
    ) -> None:
        """``address``: the worker has a socket of its own there (SO_REUSEPORT), renewed at each restart;
        None: ``sock`` is shared by every worker and kept."""
        self.index, self.sock, self.uvicorn, self.options, self.address = (
            index,
            sock,
            uvicorn,
            options,
            address,
        )
        self.process: subprocess.Popen[bytes] | None = None
        self.started = 0.0

    def restart(self) -> None:
        """After the worker exited: its socket closed at once (no new connection is hashed to it), a fresh
        one bound, and the worker started on it after a pause (at most one start per RESTART_PAUSE)."""
        if self.address is not None:
            self.sock.close()
            self.sock = bound_socket(*self.address, reuse_port=True)
        time.sleep(max(0.0, RESTART_PAUSE - (time.monotonic() - self.started)))
        self.start()

    def start(self) -> None:
        fd = self.sock.fileno()
        self.process = subprocess.Popen(  # noqa: S603 (our own uvicorn, our options)
            [self.uvicorn, "--fd", str(fd), *APP, *self.options],
            pass_fds=[fd],
            process_group=0,  # a terminal's Ctrl-C reaches the supervisor only; it stops the workers
            preexec_fn=die_with_parent,
        )
        self.started = time.monotonic()

    def exited(self) -> int | None:
        return None if self.process is None else self.process.poll()


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", type=int, default=int(os.environ.get("WEB_CONCURRENCY", "1")))
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    args, options = parser.parse_known_args(argv)
    if args.workers < 1:
        parser.error("--workers must be at least 1")
    options = uvicorn_options(options)
    uvicorn = str(Path(sys.executable).parent / "uvicorn")
    reuse_port = hasattr(socket, "SO_REUSEPORT") and args.workers > 1
    address = (args.host, args.port)
    if reuse_port:
        workers = [
            Worker(i, bound_socket(*address, reuse_port=True), uvicorn, options, address=address)
            for i in range(args.workers)
        ]
    else:
        shared = bound_socket(*address, reuse_port=False)
        shared.listen(BACKLOG)  # every worker accepts from it, and connections queue during a restart
        workers = [Worker(i, shared, uvicorn, options, address=None) for i in range(args.workers)]

    stopping = False

    def stop(signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    for worker in workers:
        worker.start()
    while not stopping:
        time.sleep(0.2)
        for worker in workers:
            code = worker.exited()
            if code is not None and not stopping:
                print(f"serve: worker {worker.index} exited with {code}; restarting", file=sys.stderr)
                worker.restart()

    for worker in workers:
        if worker.process is not None and worker.process.poll() is None:
            worker.process.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + STOP_GRACE
    for worker in workers:
        if worker.process is None:
            continue
        try:
            worker.process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            worker.process.kill()
            worker.process.wait()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
