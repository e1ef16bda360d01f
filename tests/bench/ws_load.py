"""The WebSocket benchmark's load generator: asyncio and the ``websockets`` client in one process.

Every thread has two sockets, one per party, on different server processes. Once a second each thread
sends one message, its two parties taking turns, the threads spread evenly over the second; a message's
latency runs from the moment the sender hands it to its socket to the moment the OTHER party's socket
receives it. The same schedule drives the negotiation thread (``ws/offers/<id>/``: persisted, numbered,
broadcast on commit) and the bare echo floor (``ws/bench-echo/<id>/``: relayed through the same channel
layer, nothing else).
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import time
from dataclasses import dataclass, field
from typing import Any

from websockets.asyncio.client import ClientConnection, connect

from tests.bench.ws_stack import ORIGIN, ws_headers

CONNECT_AT_ONCE = 50  # handshakes in flight: a burst of 400 would measure the handshake path instead


@dataclass
class Thread:
    index: int
    offer: int
    last_seq: int
    sessions: tuple[str, str]  # offeror's, producer's
    ports: tuple[int, int]  # the server of each party (different processes)


@dataclass
class Phase:
    name: str
    sent: dict[str, tuple[float, int]] = field(default_factory=dict)  # client id -> (sent at, sender party)
    latencies: dict[str, float] = field(default_factory=dict)  # ms, other party's receipt
    acks: dict[str, float] = field(default_factory=dict)  # ms, sender's ack (thread only)
    duplicates: int = 0
    errors: list[str] = field(default_factory=list)
    late_sends: list[float] = field(default_factory=list)  # ms behind schedule: the generator's own lag
    measured_from: float = 0.0
    connect_s: float = 0.0

    def measured(self) -> list[float]:
        return [ms for cid, ms in self.latencies.items() if self.sent[cid][0] >= self.measured_from]

    @property
    def lost(self) -> int:
        return sum(1 for cid in self.sent if cid not in self.latencies)


def percentile(values: list[float], p: int) -> float:
    if len(values) < 2:
        return float("nan")
    return statistics.quantiles(values, n=100, method="inclusive")[p - 1]


async def _reader(socket: ClientConnection, party: int, phase: Phase) -> None:
    try:
        async for raw in socket:
            now = time.perf_counter()
            frame = json.loads(raw)
            kind = frame.get("type")
            if kind == "event":
                cid = frame["event"].get("client_id") or ""
            elif kind == "message":  # the echo floor relays our own frame
                cid = frame.get("client_id") or ""
            elif kind == "ack":
                cid = frame.get("client_id") or ""
                if cid in phase.sent:
                    phase.acks[cid] = (now - phase.sent[cid][0]) * 1000
                continue
            elif kind == "error":
                phase.errors.append(f"{frame.get('code')}: {frame.get('message')}")
                continue
            else:
                continue  # presence and the like
            sent = phase.sent.get(cid)
            if sent is None or sent[1] == party:
                continue  # our own message coming back (each side sees every event)
            if cid in phase.latencies:
                phase.duplicates += 1
            else:
                phase.latencies[cid] = (now - sent[0]) * 1000
    except Exception as error:  # a socket closed under us: counted, and its messages count as lost
        phase.errors.append(f"socket closed: {error!r}")


async def _open(path: str, thread: Thread, party: int, resume: bool) -> ClientConnection:
    socket = await connect(
        f"ws://127.0.0.1:{thread.ports[party]}{path}",
        origin=ORIGIN,
        additional_headers=ws_headers(thread.sessions[party]),
        open_timeout=60,
        ping_interval=None,
        compression=None,
    )
    if resume:
        await socket.send(json.dumps({"type": "resume", "after": thread.last_seq}))
        while json.loads(await asyncio.wait_for(socket.recv(), timeout=60)).get("type") != "synced":
            pass
    return socket


async def run_phase(
    name: str, threads: list[Thread], *, seconds: float, warmup: float, drain: float
) -> Phase:
    """Connect both parties of every thread, run the schedule for ``seconds``, wait up to ``drain`` for
    the last receipts, close. Latencies of messages sent in the first ``warmup`` seconds are not counted
    (their losses are)."""
    phase = Phase(name)
    echo = name == "echo"
    gate = asyncio.Semaphore(CONNECT_AT_ONCE)

    async def open_pair(thread: Thread) -> list[ClientConnection]:
        path = f"/ws/bench-echo/{thread.offer}/" if echo else f"/ws/offers/{thread.offer}/"
        pair = []
        for party in (0, 1):
            async with gate:
                pair.append(await _open(path, thread, party, resume=not echo))
        return pair

    started = time.perf_counter()
    sockets = await asyncio.gather(*(open_pair(t) for t in threads))
    phase.connect_s = time.perf_counter() - started
    readers = [
        asyncio.create_task(_reader(socket, party, phase))
        for pair in sockets
        for party, socket in enumerate(pair)
    ]
    await asyncio.sleep(1.0)  # presence chatter of the last connections settles

    loop = asyncio.get_running_loop()
    start = loop.time() + 0.5
    phase.measured_from = time.perf_counter() + 0.5 + warmup
    ticks = int(seconds)

    async def speak(thread: Thread, pair: list[ClientConnection]) -> None:
        offset = thread.index / len(threads)
        for tick in range(ticks):
            due = start + tick + offset
            await asyncio.sleep(max(0.0, due - loop.time()))
            phase.late_sends.append(max(0.0, loop.time() - due) * 1000)
            party = (tick + thread.index) % 2  # the two parties take turns; half the threads start each side
            cid = f"{name}-{thread.index}-{tick}"
            body = json.dumps(
                {"type": "message", "body": f"Message {tick} of thread {thread.index}", "client_id": cid}
            )
            phase.sent[cid] = (time.perf_counter(), party)
            try:
                await pair[party].send(body)
            except Exception as error:
                phase.errors.append(f"send failed: {error!r}")

    await asyncio.gather(*(speak(t, pair) for t, pair in zip(threads, sockets, strict=True)))
    deadline = time.perf_counter() + drain
    while len(phase.latencies) < len(phase.sent) and time.perf_counter() < deadline:
        await asyncio.sleep(0.1)
    await asyncio.sleep(0.2)  # late duplicates, if any
    for pair in sockets:
        for socket in pair:
            await socket.close()
    await asyncio.gather(*readers, return_exceptions=True)
    return phase


def run(coroutine: Any) -> Any:
    """uvloop when it is installed (as uvicorn's servers use), asyncio otherwise."""
    try:
        import uvloop
    except ImportError:  # pragma: no cover
        return asyncio.run(coroutine)
    return uvloop.run(coroutine)


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time of process ``pid`` (Linux /proc)."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
