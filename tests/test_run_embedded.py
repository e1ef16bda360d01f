"""`make run` itself (Makefile -> infra/run-embedded -> infra/run_embedded.py) on a fresh VAR_DIR, with
the embedded default (SQLite, file-system broker): it serves, prints the demo accounts with their films,
packages a demo screener in the background and says how far it is; a process of its that dies is
announced loudly and replaced; then an upload is packaged by its worker, an email is written with links
to the host and port it serves, and its beat ticks (an instalment falls due); Ctrl-C stops every process.

The tests of the module share one `make run` and run in order (the supervision tests come before the
journeys, so the journeys prove the replacements work). No test builds a command line of the worker,
the beat or the server: `make run` starts them as it does for a developer.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import httpx
import pytest

from festival import demo_data
from screening.media.binary import ffmpeg_binary
from tests.conftest import totp_code
from tests.live import ROOT, MakeRun, free_port, make_run, make_run_environment, person

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc"),
    pytest.mark.xdist_group("make-run"),  # one xdist worker, one `make run`, the tests in their order
]

BEAT_SECONDS = 2  # PAYMENTS_RELEASE_INTERVAL_SECONDS for this run: the beat sends the task this often


def _children(pid: int) -> dict[int, str]:
    """Live child processes of ``pid``: their command lines."""
    found = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if fields[1] == str(pid) and fields[0] not in ("Z", "X"):
                found[int(stat.parent.name)] = (
                    (stat.parent / "cmdline").read_bytes().replace(b"\0", b" ").decode()
                )
        except (OSError, IndexError):
            continue
    return found


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except OSError:
        return False


def _launcher(run: MakeRun) -> int:
    """The launcher's pid: make's child (infra/run-embedded execs infra/run_embedded.py)."""

    def find() -> int | None:
        level = _children(run.process.pid)
        while level:  # make runs its recipe through a shell, which may or may not exec
            found = next((pid for pid, command in level.items() if "run_embedded.py" in command), None)
            if found:
                return found
            level = {pid: c for parent in level for pid, c in _children(parent).items()}
        return None

    run.wait_until(lambda: find() is not None, "the launcher running")
    return find() or 0


ROLES = {"web server": "uvicorn", "Celery worker": " worker ", "Celery beat": " beat "}


def _supervised(launcher: int) -> dict[str, int]:
    """The launcher's server, worker and beat, by name."""
    found = {}
    for pid, command in _children(launcher).items():
        for name, mark in ROLES.items():
            if mark in command + " ":
                found[name] = pid
    return found


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MakeRun]:
    var = tmp_path_factory.mktemp("make-run")
    started = make_run(
        var, free_port(), demo_screeners=1, PAYMENTS_RELEASE_INTERVAL_SECONDS=str(BEAT_SECONDS)
    )
    try:
        started.wait_until(started.answers, "the server answering")
        yield started
    finally:
        if started.process.poll() is None:
            started.interrupt()


def _login(base: str, email: str) -> dict[str, str]:
    start = httpx.post(
        base + "/_allauth/app/v1/auth/login", json={"email": email, "password": demo_data.DEMO_PASSWORD}
    )
    token = start.json()["meta"]["session_token"]
    done = httpx.post(
        base + "/_allauth/app/v1/auth/2fa/authenticate",
        json={"code": totp_code(demo_data.DEMO_TOTP_SECRET)},
        headers={"X-Session-Token": token},
    )
    assert done.status_code == 200, done.text
    return {"X-Session-Token": str(done.json()["meta"]["session_token"])}


def test_it_serves_first_then_packages_the_demo_screeners_showing_progress(run: MakeRun) -> None:
    run.wait_until(lambda: f"Serving on {run.base}/" in run.output(), "the launcher saying where it serves")
    output = run.output()
    for producer in (p for p in demo_data.PEOPLE if p["role"] == "producer"):
        # The account list's line (the worker may print an email to the same person before or after it)
        line = next(
            line for line in output.splitlines() if line.split()[:2] == ["producer", producer["email"]]
        )
        assert 'produces "' in line, line
    run.wait_until(lambda: run.ready_cuts() >= 1, "the demo screener packaged by the worker")
    # Its progress is printed as it goes, after the server started serving (packaged before serving, there
    # would be nothing left to follow and no such line).
    run.wait_until(lambda: "Demo screeners: 1 of 1 ready." in run.output(), "the progress line saying so")
    assert run.output().index(f"Serving on {run.base}/") < run.output().index("Demo screeners: 1 of 1 ready.")


@pytest.mark.parametrize("name", list(ROLES))
def test_a_process_that_dies_is_announced_loudly_and_started_again(run: MakeRun, name: str) -> None:
    launcher = _launcher(run)
    run.wait_until(lambda: name in _supervised(launcher), f"the {name} running")
    dead = _supervised(launcher)[name]
    os.kill(dead, signal.SIGKILL)
    run.wait_until(
        lambda: f"the {name} stopped (exit code -9); starting it again" in run.errors(), "the alarm"
    )
    run.wait_until(lambda: _supervised(launcher).get(name, dead) != dead, f"a new {name}")
    run.wait_until(run.answers, "the server answering again")
    assert run.process.poll() is None


def _clip(path: Path) -> Path:
    subprocess.run(
        [
            ffmpeg_binary(),
            "-loglevel",
            "error",
            "-y",
            "-f",
            "lavfi",
            "-i",
            "testsrc2=size=320x180:rate=25:duration=3",
        ]
        + [
            "-f",
            "lavfi",
            "-i",
            "sine=duration=3",
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-pix_fmt",
            "yuv420p",
        ]
        + ["-c:a", "aac", str(path)],
        check=True,
    )
    return path


def test_an_upload_is_packaged_by_its_worker(run: MakeRun, tmp_path: Path) -> None:
    producer = person("producer", 0)
    title = next(f["title"] for f in demo_data.FILMS if f["producers"][0] == producer["key"])
    with contextlib.closing(run.database()) as db:
        film_id = db.execute("select id from festival_film where title = ?", (title,)).fetchone()[0]
    data = _clip(tmp_path / "fine-cut.mp4").read_bytes()
    with httpx.Client(base_url=run.base, headers=_login(run.base, producer["email"]), timeout=30) as api:
        started = api.post(
            f"/api/films/{film_id}/cuts/",
            json={"filename": "fine-cut.mp4", "size": len(data), "content_type": "video/mp4"},
        )
        assert started.status_code == 201, started.text
        upload = started.json()["upload"]
        assert upload["part_count"] == 1
        urls = api.post(f"/api/uploads/{upload['id']}/part-urls/", json={"part_numbers": [1]}).json()["urls"]
        put = httpx.put(run.base + urls["1"], content=data)  # the signed URL is the authorisation
        assert put.status_code == 200, put.text
        assert put.headers["etag"] == f'"{hashlib.md5(data).hexdigest()}"'  # noqa: S324 (S3's part ETag)
        done = api.post(
            f"/api/uploads/{upload['id']}/complete/",
            json={"parts": [{"number": 1, "etag": put.headers["etag"]}]},
        )
        assert done.status_code == 200, done.text
        cut_id = started.json()["cut"]["id"]

        def cut() -> dict[str, object]:
            return dict(next(c for c in api.get(f"/api/films/{film_id}/cuts/").json() if c["id"] == cut_id))

        run.wait_until(lambda: cut()["status"] in ("ready", "failed"), "the upload packaged")
        packaged = cut()
    assert packaged["status"] == "ready", packaged
    assert packaged["renditions"] and packaged["duration_s"]


def test_an_email_is_written_with_links_to_the_host_and_port_it_serves(run: MakeRun) -> None:
    applicant = person("applicant")
    admin = _login(run.base, person("admin")["email"])
    pending = httpx.get(run.base + "/api/accreditations/?status=pending", headers=admin).json()["results"]
    accreditation = next(a for a in pending if a["user_email"] == applicant["email"])
    approved = httpx.post(f"{run.base}/api/accreditations/{accreditation['id']}/approve/", headers=admin)
    assert approved.status_code == 200, approved.text

    def sent() -> bool:  # the console backend: the worker prints each email into make run's output
        output = run.output()
        return f"To: {applicant['email']}" in output and f"{run.base}/films/" in output

    run.wait_until(sent, "the approval email")
    emails = run.output().split(f"To: {applicant['email']}")[1]
    assert re.search(re.escape(run.base) + r"/films/", emails)


def test_the_beat_ticks(run: MakeRun) -> None:
    """An instalment due on a date that has come falls due on the beat's next tick."""
    with contextlib.closing(run.database()) as db, db:
        row = db.execute(
            "select id from payments_instalment where status = 'scheduled' and trigger = 'on_date' limit 1"
        ).fetchone()
        assert row, "the demo has an instalment due on a date"
        db.execute("update payments_instalment set due_on = '2000-01-01' where id = ?", row)

    def due() -> bool:
        with contextlib.closing(run.database()) as db:
            return (
                db.execute("select status from payments_instalment where id = ?", row).fetchone()[0] == "due"
            )

    run.wait_until(due, "the instalment falling due", timeout=120)


def test_ctrl_c_stops_every_process(run: MakeRun) -> None:
    launcher = _launcher(run)
    processes = {launcher, *_children(launcher)}
    assert set(_supervised(launcher)) == set(ROLES)
    run.interrupt()
    assert not any(_alive(pid) for pid in processes)
    assert "Traceback" not in run.errors()


# --- The launcher on its own, as make calls it ------------------------------------------------------------


def _launcher_module() -> ModuleType:
    """infra/run_embedded.py as its script runs: with infra/ first on the path (it imports ``processes``)."""
    if str(ROOT / "infra") not in sys.path:
        sys.path.insert(0, str(ROOT / "infra"))
    spec = importlib.util.spec_from_file_location("run_embedded", ROOT / "infra" / "run_embedded.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize(
    ("host", "port", "given", "site_url"),
    [
        ("127.0.0.1", 8000, None, "http://127.0.0.1:8000"),
        ("localhost", 9123, None, "http://localhost:9123"),
        ("0.0.0.0", 8080, None, "http://127.0.0.1:8080"),  # noqa: S104 (a name, not a bind)
        ("::1", 8001, None, "http://[::1]:8001"),
        ("192.0.2.7", 8000, "https://films.example", "https://films.example"),
    ],
)
def test_links_follow_host_and_port_unless_site_url_is_set(
    host: str, port: int, given: str | None, site_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    launcher = _launcher_module()
    monkeypatch.delenv("ALLOWED_HOSTS", raising=False)
    if given is None:
        monkeypatch.delenv("SITE_URL", raising=False)
    else:
        monkeypatch.setenv("SITE_URL", given)
    env = launcher.child_environment(host, port)
    assert env["SITE_URL"] == site_url
    if host != "0.0.0.0":  # noqa: S104
        assert host in env["ALLOWED_HOSTS"].split(",") or f"[{host}]" in env["ALLOWED_HOSTS"].split(",")


def test_a_process_that_keeps_dying_stops_everything_loudly(tmp_path: Path) -> None:
    """The server cannot listen (its port is taken): after a few restarts in a minute the launcher stops
    the worker and the beat too and exits 1, rather than run half-dead."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = make_run_environment(tmp_path, HOST="127.0.0.1", PORT=str(port), VENV=sys.prefix)
        launcher = subprocess.Popen(
            [str(ROOT / "infra" / "run-embedded")],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        seen: set[int] = set()
        try:
            while launcher.poll() is None:
                seen.update(_children(launcher.pid))
                time.sleep(0.2)
            out, err = launcher.communicate(timeout=60)
        finally:
            if launcher.poll() is None:
                launcher.kill()
    assert launcher.returncode == 1, out + err
    assert "Serving on" not in out  # whatever listens on the port is not our server
    assert "the web server stopped 4 times in a minute" in err
    assert len(re.findall(r"the web server stopped \(exit code \d+\); starting it again", err)) == 3
    assert seen and not any(_alive(pid) for pid in seen)
