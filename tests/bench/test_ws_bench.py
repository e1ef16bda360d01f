"""Negotiation threads under load, against a bare echo consumer on the same stack (the floor).

Builds 200 threads (offers between two ready users each) in a database of its own (PostgreSQL, from
DATABASE_URL), starts two separate uvicorn processes on the project's ASGI app with the Redis channel
layer (REDIS_URL) and the echo route (BENCH_ECHO=1), and connects 400 sockets: the two parties of every
thread on different processes (and as many for the echo floor). Each thread then sends one message a
second for a minute, its parties taking turns; latency runs from the send to the receipt by the OTHER
party. The two phases share the run in an A-B-B-A order (``ws_load.abba``): the echo floor (no
database: relayed through the thread's channel-layer group) for the first and last 30 s, the real
thread (persisted, numbered, broadcast on commit) for the minute between, same sockets' layout, same
schedule, so that both are centred on the same moment of the run. Prints:
  BENCH ws_roundtrip_p99_ms <p99 of the thread> ms (goal <= 30)
  BENCH ws_vs_echo_floor <thread p99 / echo p99> ratio (goal <= 1.5)
  BENCH ws_lost_messages <sent, never received by the other party> messages (goal 0)
The load generator (asyncio + websockets, one process) shares the 2 cores with both servers, PostgreSQL
and Redis; its own scheduling lag is printed. WS_BENCH_THREADS and WS_BENCH_SECONDS shrink the run.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

import pytest

from tests.bench.ws_load import SETTLE, Phase, Thread, abba, percentile, run, run_schedule
from tests.bench.ws_stack import ROOT, server_env, uvicorn_servers, with_database

THREADS = int(os.environ.get("WS_BENCH_THREADS", "200"))
SECONDS = float(os.environ.get("WS_BENCH_SECONDS", "60"))
DRAIN = 10.0


def _database() -> str:
    import psycopg

    url = os.environ["DATABASE_URL"]
    name = f"{url.rsplit('/', 1)[1] or 'bench'}_ws_{os.getpid()}"
    with psycopg.connect(with_database(url, "postgres"), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    return with_database(url, name)


def _drop(database_url: str) -> None:
    import psycopg

    name = database_url.rsplit("/", 1)[1]
    with psycopg.connect(with_database(database_url, "postgres"), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _persisted(database_url: str, phase: Phase) -> int:
    import psycopg

    with psycopg.connect(database_url) as conn:
        row = conn.execute(
            "SELECT count(*) FROM offers_threadevent WHERE client_id LIKE %s", [f"{phase.name}-%"]
        ).fetchone()
    return int(row[0]) if row else 0


def _summary(phase: Phase) -> str:
    values = phase.measured()
    acks = list(phase.acks.values())
    ack = (
        f", sender's ack p50 {statistics.median(acks):.1f} ms p99 {percentile(acks, 99):.1f} ms"
        if acks
        else ""
    )
    return (
        f"{phase.name}: p50 {statistics.median(values):.1f} ms, p95 {percentile(values, 95):.1f} ms, "
        f"p99 {percentile(values, 99):.1f} ms, max {max(values):.1f} ms over {len(values)} measured; "
        f"sent {len(phase.sent)}, received by the other party {len(phase.latencies)}, lost {phase.lost}, "
        f"duplicates {phase.duplicates}, errors {len(phase.errors)}{ack}; "
        f"generator lag p99 {percentile(phase.late_sends, 99):.1f} ms; {2 * THREADS} sockets connected in "
        f"{phase.connect_s:.1f} s"
    )


@pytest.mark.skipif(
    not os.environ.get("REDIS_URL") or not os.environ.get("DATABASE_URL", "").startswith("postgres"),
    reason="the WebSocket benchmark needs REDIS_URL and a PostgreSQL DATABASE_URL",
)
def test_thread_round_trip_against_the_echo_floor(tmp_path: Path) -> None:
    database_url = _database()
    env = server_env(
        database_url=database_url,
        redis_url=os.environ["REDIS_URL"],
        BENCH_ECHO="1",
        VAR_DIR=str(tmp_path / "var"),
        SECRET_KEY="bench-secret-key-not-for-production-0123456789",
    )
    try:
        fixture = subprocess.run(
            [sys.executable, str(ROOT / "tests/bench/ws_fixture.py"), str(THREADS)],
            # Celery's Redis URL parser (kombu) refuses redis-py options such as ?socket_timeout=
            env={
                **env,
                "DJANGO_SETTINGS_MODULE": "config.settings.test",
                "REDIS_URL": env["REDIS_URL"].split("?")[0],
            },
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        )
        made = json.loads(fixture.stdout.strip().splitlines()[-1])
        with uvicorn_servers(env, count=2) as servers:
            threads = [
                Thread(
                    index=i,
                    offer=row["offer"],
                    last_seq=row["last_seq"],
                    sessions=(row["offeror"], row["producer"]),
                    ports=(servers[i % 2].port, servers[(i + 1) % 2].port),
                )
                for i, row in enumerate(made)
            ]
            schedule = abba("echo", "thread", int(SECONDS))
            phases = run(
                run_schedule(schedule, threads, drain=DRAIN, watch=tuple(server.pid for server in servers))
            )
        persisted = _persisted(database_url, phases["thread"])
    finally:
        _drop(database_url)

    echo, thread = phases["echo"], phases["thread"]
    echo_p99, thread_p99 = percentile(echo.measured(), 99), percentile(thread.measured(), 99)
    print()
    print(f"BENCH ws_roundtrip_p99_ms {thread_p99:.1f} ms (goal <= 30)")
    print(f"BENCH ws_vs_echo_floor {thread_p99 / echo_p99:.2f} ratio (goal <= 1.5)")
    print(f"BENCH ws_lost_messages {thread.lost} messages (goal 0)")
    for phase in (echo, thread):
        print(f"BENCH-INFO ws {_summary(phase)}")
        shares = ", ".join(f"{seconds / phase.wall * 100:.0f}%" for seconds in phase.cpu)
        print(f"BENCH-INFO ws {phase.name} CPU of one core: server A, server B, load generator = {shares}")
    print(
        f"BENCH-INFO ws thread messages persisted {persisted} of {len(thread.sent)} sent; {THREADS} threads, "
        f"{2 * THREADS} sockets per phase, {SECONDS:.0f} s per phase in the order echo-thread-thread-echo "
        f"(the first {SETTLE} s after the start and after each switch not measured), 2 uvicorn "
        f"processes (--ws websockets-sansio), RedisChannelLayer, PostgreSQL; the load generator (one "
        f"process, asyncio + websockets) shares the machine's {os.cpu_count()} cores"
    )
    for error in sorted(set(echo.errors + thread.errors))[:10]:
        print(f"BENCH-INFO ws error: {error}")
    assert len(echo.sent) == len(thread.sent) == THREADS * int(SECONDS)  # the schedule ran in full
