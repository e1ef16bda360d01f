"""Playlist and key doors under load, against a bare view on the same server (the floor).

Starts the project's ASGI app as production serves it (`infra/serve.py`: 2 uvicorn workers, a listening
socket each) with a database of its own (PostgreSQL when DATABASE_URL points at one, as in CI; SQLite
otherwise), 100 viewers with live grants, then drives 100 keep-alive connections back to back for a
fixed time with wrk (Debian's package; `make bench` installs it when missing), first at /healthz (the
floor), then rotating over every viewer's media playlist and key with that viewer's cookies. Prints:
  BENCH playlist_rps_vs_floor <doors rps / floor rps> ratio (goal >= 0.7)
  BENCH playlist_p99_ms <p99 latency of the doors> ms (goal <= 100)
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from tests.live import free_port

ROOT = Path(__file__).resolve().parents[2]
CONNECTIONS = 100
WORKERS = 2
SECONDS = float(os.environ.get("BENCH_SECONDS", "10"))
WARMUP = 2.0


def _database(tmp: Path) -> str:
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        return f"sqlite:///{tmp / 'bench.sqlite3'}"
    import psycopg

    name = f"bench_playlists_{os.getpid()}"
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    return url.rsplit("/", 1)[0] + "/" + name


def _drop_database(url: str) -> None:
    if not url.startswith("postgres"):
        return
    import psycopg

    name = url.rsplit("/", 1)[1]
    with psycopg.connect(os.environ["DATABASE_URL"], autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def _load(base: str, targets: list[dict[str, Any]], floor: bool) -> tuple[int, list[float], int]:
    latencies: list[float] = []
    errors = 0
    count = 0
    start = time.perf_counter()
    measure_from = start + WARMUP
    stop = measure_from + SECONDS

    async def worker(target: dict[str, Any]) -> None:
        nonlocal errors, count
        urls = ["/healthz"] if floor else [target["playlist"], target["key"]]
        async with httpx.AsyncClient(base_url=base, cookies=target["cookies"], timeout=30) as client:
            i = 0
            while (now := time.perf_counter()) < stop:
                sent = now
                response = await client.get(urls[i % len(urls)])
                i += 1
                done = time.perf_counter()
                if sent >= measure_from:
                    count += 1
                    latencies.append((done - sent) * 1000)
                    if response.status_code != 200:
                        errors += 1

    await asyncio.gather(*(worker(t) for t in targets))
    return count, latencies, errors


def _wrk(base: str, requests: list[tuple[str, str]], tmp: Path) -> tuple[float, float, float, int]:
    """Requests/s, p50 and p99 in ms, and non-2xx count, from wrk rotating over ``requests``."""
    lines = ["local reqs = {}"]
    for i, (path, cookie) in enumerate(requests, start=1):
        headers = f'{{["Cookie"] = "{cookie}"}}' if cookie else "{}"
        lines.append(f'reqs[{i}] = wrk.format("GET", "{path}", {headers})')
    lines += ["local i = 0", "request = function() i = i % #reqs + 1; return reqs[i] end"]
    script = tmp / f"rotate-{len(requests)}.lua"
    script.write_text("\n".join(lines))
    subprocess.run(
        ["wrk", "-t2", f"-c{CONNECTIONS}", "-d2s", "-s", str(script), base], capture_output=True, check=True
    )  # warm-up
    out = subprocess.run(
        ["wrk", "-t2", f"-c{CONNECTIONS}", f"-d{SECONDS:.0f}s", "--latency", "-s", str(script), base],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    rps = float(re.search(r"Requests/sec:\s+([0-9.]+)", out).group(1))  # type: ignore[union-attr]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return rps, _ms(out, "50%"), _ms(out, "99%"), int(errors.group(1)) if errors else 0


def _process_cpu(pid: int) -> float:
    """CPU seconds used so far by ``pid`` and its children (uvicorn's workers); 0 without /proc."""
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if stat.parent.name == str(pid) or fields[1] == str(pid):
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def _machine_busy() -> float:
    """CPU seconds the whole machine has been busy so far (every core, every process); 0 without /proc."""
    try:
        values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    except OSError:
        return 0.0
    return (sum(values) - values[3] - values[4]) / os.sysconf("SC_CLK_TCK")


def _ms(out: str, percentile: str) -> float:
    value, unit = re.search(rf"{percentile}\s+([0-9.]+)(us|ms|s)", out).groups()  # type: ignore[union-attr]
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def _p99(values: list[float]) -> float:
    return statistics.quantiles(values, n=100)[98] if len(values) > 2 else float("nan")


def test_playlist_doors_against_the_floor(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.bench.playlist_settings",  # the base, pace buckets never empty
        "DATABASE_URL": _database(tmp_path),
        "VAR_DIR": str(tmp_path / "var"),
        "SCREENING_MEDIA_ROOT": str(tmp_path / "store"),
        "SECRET_KEY": "bench-secret-key-not-for-production-0123456789",
        "LOG_LEVEL": "WARNING",
        "PYTHONPATH": f"{ROOT}:{ROOT / 'platform'}",
    }
    fixture = subprocess.run(
        [sys.executable, str(ROOT / "tests/bench/playlist_fixture.py"), str(CONNECTIONS), str(tmp_path)],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    targets = json.loads(fixture.stdout.strip().splitlines()[-1])
    port = free_port()
    server = subprocess.Popen(  # as in production: infra/serve.py, a listening socket per worker
        [
            sys.executable,
            str(ROOT / "infra/serve.py"),
            *("--workers", str(WORKERS), "--port", str(port)),
            *("--log-level", "warning", "--no-access-log"),
        ],
        env=env,
        cwd=ROOT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            try:
                if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        check = httpx.get(base + targets[0]["playlist"], cookies=targets[0]["cookies"])
        assert check.status_code == 200, check.text
        if shutil.which("wrk"):
            tool = "wrk"
            doors = [
                (t[kind], "; ".join(f"{k}={v}" for k, v in t["cookies"].items()))
                for t in targets
                for kind in ("playlist", "key")
            ]
            cpu = [_process_cpu(server.pid), _machine_busy()]
            floor_rps, floor_p50, floor_p99, floor_err = _wrk(base, [("/healthz", "")], tmp_path)
            cpu += [_process_cpu(server.pid), _machine_busy()]
            door_rps, door_p50, door_p99, door_err = _wrk(base, doors, tmp_path)
            cpu += [_process_cpu(server.pid), _machine_busy()]
        else:  # a Python load generator, much weaker: the ratio still compares like with like
            tool = "httpx"
            cpu = []
            floor_n, floor_lat, floor_err = asyncio.run(_load(base, targets, floor=True))
            door_n, door_lat, door_err = asyncio.run(_load(base, targets, floor=False))
            floor_rps, door_rps = floor_n / SECONDS, door_n / SECONDS
            floor_p50, floor_p99 = statistics.median(floor_lat), _p99(floor_lat)
            door_p50, door_p99 = statistics.median(door_lat), _p99(door_lat)
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
        _drop_database(env["DATABASE_URL"])
    print()
    print(f"BENCH playlist_rps_vs_floor {door_rps / floor_rps:.3f} ratio (goal >= 0.7)")
    print(f"BENCH playlist_p99_ms {door_p99:.1f} ms (goal <= 100)")
    print(
        f"BENCH-INFO playlist doors {door_rps:.0f} req/s (p50 {door_p50:.1f} ms, {door_err} errors); "
        f"floor /healthz {floor_rps:.0f} req/s (p50 {floor_p50:.1f} ms, p99 {floor_p99:.1f} ms, "
        f"{floor_err} errors); {CONNECTIONS} connections via {tool}, {WORKERS} uvicorn workers "
        f"(infra/serve.py), {SECONDS:.0f} s each, "
        f"database {env['DATABASE_URL'].split(':')[0]}, cache {'redis' if env.get('REDIS_URL') else 'file'}"
    )
    if len(cpu) == 6 and cpu[0]:
        # Both runs include wrk's 2 s warm-up: a close estimate, independent of how busy the machine was.
        per_request = [
            (cpu[i + 2] - cpu[i]) * 1e6 / (rps * (SECONDS + 2)) for i, rps in ((0, floor_rps), (2, door_rps))
        ]
        busy = (cpu[5] - cpu[1]) / (2 * (SECONDS + 2))
        print(
            f"BENCH-INFO playlist server CPU per request: floor {per_request[0]:.0f} us, "
            f"doors {per_request[1]:.0f} us (database and Redis not included); machine busy {busy:.2f} of "
            f"{os.cpu_count()} cores on average (wrk, server, database, Redis and anything else running)"
        )
    assert floor_err == 0 and door_err == 0
