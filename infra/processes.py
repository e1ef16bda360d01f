"""What the two launchers share: ``make run``'s (run_embedded.py) and production's (serve.py).

Both run next to this file as scripts, so it imports as ``processes``.
"""

from __future__ import annotations

import ctypes
import signal
import sys

# How every uvicorn of the project serves: WebSocket frames of at most 64 KiB, pings every 20 s, at most
# 2000 connections per process (beyond that it answers 503 rather than slowing every socket down), and no
# Server header. serve.py adds each one the caller did not give.
UVICORN_DEFAULTS: dict[str, str | None] = {
    "--ws": "websockets-sansio",
    "--ws-max-size": "65536",
    "--ws-ping-interval": "20",
    "--limit-concurrency": "2000",
    "--no-server-header": None,
}
_NEGATIONS = {"--no-server-header": "--server-header"}


def uvicorn_options(given: list[str]) -> list[str]:
    """``given`` plus every default whose option (or its negation) ``given`` does not set."""
    named = {option.split("=", 1)[0] for option in given if option.startswith("--")}
    options = list(given)
    for option, value in UVICORN_DEFAULTS.items():
        if option in named or _NEGATIONS.get(option) in named:
            continue
        options += [option] if value is None else [option, value]
    return options


def die_with_parent() -> None:
    """In a child, before it runs: a SIGTERM when its launcher dies, however it dies (Linux)."""
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
