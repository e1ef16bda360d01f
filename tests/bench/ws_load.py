"""The WebSocket benchmark's load generator: asyncio and the ``websockets`` client in one process.

Every thread has two sockets per phase, one per party, on different server processes. Once a second each
thread sends one message, its two parties taking turns, the threads spread evenly over the second; a
message's latency runs from the moment the sender hands it to its socket to the moment the OTHER party's
socket receives it. The same schedule drives the negotiation thread (``ws/offers/<id>/``: persisted,
numbered, broadcast on commit) and the bare echo floor (``ws/bench-echo/<id>/``: relayed through the same
channel layer, nothing else).

The phases share one run, in an A-B-B-A order: the echo floor for the first quarter, the thread for the
middle half, the echo again for the last quarter. Both phases are then centred on the same moment, so a
machine that drifts over the run (a disk filling its cache, a neighbour's burst, the servers warming)
weighs on both alike. Every socket of both phases is connected before the first message. The first
``SETTLE`` seconds after each switch are not measured for either phase: when a phase's sockets fall idle
and the other's wake, both servers' cyclic GC and channel-layer receive tasks catch up for a second
(measured: a gen0 collection of 30,000 objects, 10-30 ms, about 1.2 s after every switch).
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

from tests.bench.ws_stack import origin, ws_headers

CONNECT_AT_ONCE = 50  # handshakes in flight: a burst of 400 would measure the handshake path instead


@dataclass
class Thread:
    index: int
    offer: int
    last_seq: int
    sessions: tuple[str, str]  # offeror's, producer's
    ports: tuple[int, int]  # the server of each party (different processes)


SETTLE = 5  # seconds after each switch of phase (and at the start) that are not measured


@dataclass
class Phase:
    name: str
    sent: dict[str, tuple[float, int]] = field(default_factory=dict)  # client id -> (sent at, sender party)
    settling: set[str] = field(default_factory=set)  # sent while settling: losses count, latencies do not
    latencies: dict[str, float] = field(default_factory=dict)  # ms, other party's receipt
    acks: dict[str, float] = field(default_factory=dict)  # ms, sender's ack (thread only)
    duplicates: int = 0
    errors: list[str] = field(default_factory=list)
    late_sends: list[float] = field(default_factory=list)  # ms behind schedule: the generator's own lag
    connect_s: float = 0.0
    cpu: list[float] = field(default_factory=list)  # CPU seconds of each watched process during its blocks
    wall: float = 0.0  # seconds of its blocks

    def measured(self) -> list[float]:
        return [ms for cid, ms in self.latencies.items() if cid not in self.settling]

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
        origin=origin(thread.ports[party]),
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


async def _connect(phase: Phase, threads: list[Thread]) -> list[list[ClientConnection]]:
    """Both parties' sockets of every thread for ``phase`` (the thread's sockets resumed and synced)."""
    echo = phase.name == "echo"
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
    return sockets


def abba(first: str, second: str, seconds: int) -> list[str]:
    """The phase of each second: ``first`` for a quarter, ``second`` for half, ``first`` again, each for
    ``seconds`` in all."""
    quarter = seconds // 2
    return [first] * quarter + [second] * seconds + [first] * (seconds - quarter)


def settling(schedule: list[str]) -> list[bool]:
    """Whether each second of ``schedule`` falls within SETTLE seconds of the start or of a switch."""
    since, out = 0, []
    for tick, name in enumerate(schedule):
        since = since + 1 if tick and schedule[tick - 1] == name else 0
        out.append(since < SETTLE)
    return out


async def run_schedule(
    schedule: list[str], threads: list[Thread], *, drain: float, watch: tuple[int, ...] = ()
) -> dict[str, Phase]:
    """Connect every socket of every phase in ``schedule`` (a phase name per second); run it; wait up to
    ``drain`` for the last receipts; close. The CPU time of the processes ``watch`` (and of this one,
    last) is added up per phase, second by second."""
    names = tuple(dict.fromkeys(schedule))
    phases = {name: Phase(name) for name in names}
    sockets = {name: await _connect(phases[name], threads) for name in names}
    readers = [
        asyncio.create_task(_reader(socket, party, phases[name]))
        for name in names
        for pair in sockets[name]
        for party, socket in enumerate(pair)
    ]
    await asyncio.sleep(1.0)  # presence chatter of the last connections settles

    own_tick = [schedule[:tick].count(name) for tick, name in enumerate(schedule)]  # the phase's own second
    unmeasured = settling(schedule)
    loop = asyncio.get_running_loop()
    start = loop.time() + 0.5

    async def speak(thread: Thread) -> None:
        offset = thread.index / len(threads)
        for tick, name in enumerate(schedule):
            due = start + tick + offset
            await asyncio.sleep(max(0.0, due - loop.time()))
            phase = phases[name]
            phase.late_sends.append(max(0.0, loop.time() - due) * 1000)
            party = (
                own_tick[tick] + thread.index
            ) % 2  # the parties take turns; half the threads start each side
            cid = f"{name}-{thread.index}-{own_tick[tick]}"
            body = json.dumps(
                {
                    "type": "message",
                    "body": f"Message {own_tick[tick]} of thread {thread.index}",
                    "client_id": cid,
                }
            )
            phase.sent[cid] = (time.perf_counter(), party)
            if unmeasured[tick]:
                phase.settling.add(cid)
            try:
                await sockets[name][thread.index][party].send(body)
            except Exception as error:
                phase.errors.append(f"send failed: {error!r}")

    async def account() -> None:
        """Each second's CPU time and wall time, to the phase whose second it was."""
        for tick, name in enumerate(schedule):
            await asyncio.sleep(max(0.0, start + tick - loop.time()))
            before, wall = _cpu(watch), time.perf_counter()
            await asyncio.sleep(max(0.0, start + tick + 1 - loop.time()))
            phase = phases[name]
            used = [b - a for a, b in zip(before, _cpu(watch), strict=True)]
            phase.cpu = [a + b for a, b in zip(phase.cpu, used, strict=True)] if phase.cpu else used
            phase.wall += time.perf_counter() - wall

    await asyncio.gather(account(), *(speak(t) for t in threads))
    deadline = time.perf_counter() + drain
    while any(len(p.latencies) < len(p.sent) for p in phases.values()) and time.perf_counter() < deadline:
        await asyncio.sleep(0.1)
    await asyncio.sleep(0.2)  # late duplicates, if any
    for name in names:
        for pair in sockets[name]:
            for socket in pair:
                await socket.close()
    await asyncio.gather(*readers, return_exceptions=True)
    return phases


def _cpu(pids: tuple[int, ...]) -> list[float]:
    return [cpu_seconds(pid) for pid in pids] + [time.process_time()]


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
