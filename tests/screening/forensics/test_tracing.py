"""End to end: two viewers watch a marked screener; a copy one of them saves with ffmpeg through the
doors and re-encodes is traced to that viewing and to no other; unmarked copies, other videos and
non-videos get a clear answer and accuse nobody; the named viewer can be revoked at once, at every door
and for both variants.

The screener is a 64-second generated clip (motion, texture, flat areas: the alignment needs content
that does not repeat), packaged once per worker by the real packager; traces run in-process
(``run_now``), exactly the job the worker runs.
"""

from __future__ import annotations

import subprocess
import uuid
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.urls import reverse

from audit.models import AuditEntry
from core.errors import Forbidden, InvalidInput
from screening.forensics import mark
from screening.forensics.codeword import variant_for
from screening.forensics.tracing import trace_request, trace_revoke
from screening.media.binary import ffmpeg_binary
from screening.models import Cut, LeakTrace, TraceResult, TraceStatus
from tests.conftest import World, accredit, make_user
from tests.screening.conftest import DEVICE, Packaged, package_clip, publish, viewer_client

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow, pytest.mark.xdist_group("forensics")]

SECONDS = 64


def rich_clip(path: Path, seconds: int) -> Path:
    """Non-repeating generated content: a Mandelbrot zoom beside the moving test pattern, over a gradient
    with a flat band, and a tone."""
    graph = (
        "mandelbrot=size=320x360:rate=24:start_x=-0.743:start_y=0.1318:start_scale=3,"
        "format=yuv420p[m];"
        "testsrc2=size=320x180:rate=24[t];"
        "gradients=size=320x180:rate=24:speed=0.02,format=yuv420p[g];"
        "[t][g]vstack[right];[m][right]hstack,drawbox=x=0:y=300:w=640:h=60:color=0x406080:t=fill[v]"
    )
    subprocess.run(
        [
            ffmpeg_binary(), "-hide_banner", "-loglevel", "error", "-y",
            "-f", "lavfi", "-i", f"sine=frequency=330:sample_rate=48000:duration={seconds}",
            "-filter_complex", graph, "-map", "[v]", "-map", "0:a", "-t", str(seconds),
            "-c:v", "libx264", "-preset", "veryfast", "-crf", "18", "-pix_fmt", "yuv420p",
            "-c:a", "aac", str(path),
        ],
        check=True,
        timeout=300,
    )  # fmt: skip
    return path


@pytest.fixture(scope="session")
def marked(tmp_path_factory: pytest.TempPathFactory) -> Packaged:
    folder = tmp_path_factory.mktemp("marked")
    return package_clip(rich_clip(folder / "source.mp4", SECONDS), folder / "out", seconds=SECONDS)


def other_clip(path: Path, seconds: int) -> Path:
    """Another film: a cellular automaton and bars, nothing of the marked cut's picture."""
    graph = "life=size=640x360:rate=24:ratio=0.3:mold=8:death_color=#202840,format=yuv420p[v]"
    subprocess.run(
        [ffmpeg_binary(), "-hide_banner", "-loglevel", "error", "-y", "-filter_complex", graph,
         "-map", "[v]", "-t", str(seconds), "-c:v", "libx264", "-preset", "veryfast", str(path)],
        check=True,
        timeout=300,
    )  # fmt: skip
    return path


def save_through_the_doors(live_url: str, client: Any, master_url: str, dest: Path) -> Path:
    """What a viewer who wants a copy does: ffmpeg plays the grant's stream through every door, with
    the viewer's cookies, and re-encodes it to a file of its own."""
    session = client.cookies[settings.SESSION_COOKIE_NAME].value
    cookie = f"{settings.SESSION_COOKIE_NAME}={session}; fip_device={DEVICE}"
    run = subprocess.run(
        [
            ffmpeg_binary(), "-hide_banner", "-nostdin", "-loglevel", "error", "-y",
            "-headers", f"Cookie: {cookie}\r\n", "-i", live_url + master_url,
            "-map", "0:v:0", "-c:v", "libx264", "-preset", "veryfast", "-b:v", "500k", str(dest),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr[-2000:]
    return dest


def reencode(source: Path, dest: Path, *extra: str) -> Path:
    subprocess.run(
        [ffmpeg_binary(), "-hide_banner", "-loglevel", "error", "-y", "-i", str(source), *extra,
         "-an", "-c:v", "libx264", "-preset", "veryfast", "-b:v", "600k", str(dest)],
        check=True,
        timeout=300,
    )  # fmt: skip
    return dest


@pytest.fixture
def watched(
    world: World, marked: Packaged, store_root: Path, live_server: Any, tmp_path: Path
) -> dict[str, Any]:
    """Two accredited professionals each watch the cut (one grant each); the first saves a copy."""
    cut = publish(world, marked)
    other = make_user("buyer@lumiere.example", full_name="Jean Martin")
    accredit(other, world.distributor_org, world.toulouse)
    viewers = {}
    for user in (world.pro, other):
        client = viewer_client(user)
        grant = client.post(reverse("screening:grant-create", args=[cut.public_id])).json()
        viewers[user.email] = (client, grant)
    leaker_client, leaker_grant = viewers[world.pro.email]
    copy = save_through_the_doors(
        live_server.url, leaker_client, leaker_grant["master_url"], tmp_path / "leak.mp4"
    )
    return {
        "cut": cut,
        "copy": copy,
        "leaker": leaker_grant["grant"],
        "other": viewers[other.email][1]["grant"],
        "leaker_client": leaker_client,
        "leaker_grant": leaker_grant,
        "other_user": other,
    }


def test_two_grants_receive_different_variant_sequences(
    world: World, watched: dict[str, Any], marked: Packaged
) -> None:
    cut: Cut = watched["cut"]
    secret = mark.codeword_secret(marked.key)
    first = [variant_for(secret, uuid.UUID(watched["leaker"]), i) for i in range(cut.segment_count)]
    second = [variant_for(secret, uuid.UUID(watched["other"]), i) for i in range(cut.segment_count)]
    assert first != second and {"a", "b"} <= set(first)
    differ = sum(a != b for a, b in zip(first, second, strict=True))
    assert 0.2 < differ / cut.segment_count < 0.8


def test_a_copy_saved_through_the_doors_is_traced_to_its_viewing_and_no_other(
    world: World, watched: dict[str, Any], tmp_path: Path
) -> None:
    trace = trace_request(
        admin=world.admin, film=world.film, path=watched["copy"], name="found-online.mp4", run_now=True
    )
    assert trace.status == TraceStatus.DONE
    assert trace.result == TraceResult.NAMED, (trace.detail, trace.evidence)
    assert [str(g.id) for g in trace.named_grants.all()] == [watched["leaker"]]
    best = trace.evidence["ranking"][0]
    assert best["grant"] == watched["leaker"] and best["viewer"] == world.pro.email
    assert best["p_family"] < 1e-6
    other_row = next(r for r in trace.evidence["ranking"] if r["grant"] == watched["other"])
    assert other_row["p_family"] > 1e-3  # the other viewer is nowhere near
    assert len(trace.evidence["decisions"]) >= SECONDS // 2 - 2
    actions = list(AuditEntry.objects.filter(target_id=str(trace.pk)).values_list("action", flat=True))
    assert actions == ["leak_trace.requested", "leak_trace.running", "leak_trace.done"]
    traced = AuditEntry.objects.get(action="leak_trace.done")
    assert traced.data["result"] == "named" and traced.data["named"][0]["grant"] == watched["leaker"]

    # The admin revokes the named viewer: every door refuses them, for segments of both variants.
    trace_revoke(admin=world.admin, trace=trace, grant_id=watched["leaker"])
    client, grant = watched["leaker_client"], watched["leaker_grant"]
    assert client.get(grant["master_url"]).status_code == 403
    prefix = grant["master_url"].removesuffix("master.m3u8")
    rendition = watched["cut"].renditions[0]["name"]
    secret = mark.codeword_secret(_content_key(watched["cut"]))
    variants = {
        variant_for(secret, uuid.UUID(watched["leaker"]), i): i for i in range(watched["cut"].segment_count)
    }
    for index in variants.values():  # one segment of each variant
        assert client.get(f"{prefix}{rendition}/seg_{index:05d}.ts").status_code == 403
        assert client.get(f"{prefix}key/{index:05d}").status_code == 403
    with pytest.raises(InvalidInput):
        trace_revoke(admin=world.admin, trace=trace, grant_id=watched["other"])  # not named: refused


def _content_key(cut: Cut) -> bytes:
    from screening.keyring import unseal

    return unseal(cut.sealed_key)


def test_unmarked_copies_and_other_videos_accuse_nobody(
    world: World, watched: dict[str, Any], marked: Packaged, tmp_path: Path
) -> None:
    unmarked = reencode(marked.source, tmp_path / "unmarked.mp4")
    trace = trace_request(
        admin=world.admin, film=world.film, path=unmarked, name="unmarked.mp4", run_now=True
    )
    assert trace.result == TraceResult.NOT_MARKED, (trace.result, trace.detail)
    assert not trace.named_grants.exists() and trace.detail

    other_film = other_clip(tmp_path / "other.mp4", 40)
    trace = trace_request(admin=world.admin, film=world.film, path=other_film, name="other.mp4", run_now=True)
    assert trace.result == TraceResult.NOT_THIS_FILM and not trace.named_grants.exists()

    text = tmp_path / "notes.mp4"
    text.write_text("not a video at all\n" * 100)
    trace = trace_request(admin=world.admin, film=world.film, path=text, name="notes.mp4", run_now=True)
    assert trace.result == TraceResult.NOT_VIDEO and not trace.named_grants.exists()

    excerpt = reencode(watched["copy"], tmp_path / "short.mp4", "-ss", "20", "-t", "12")
    trace = trace_request(admin=world.admin, film=world.film, path=excerpt, name="short.mp4", run_now=True)
    assert trace.result == TraceResult.TOO_SHORT, (trace.result, trace.detail)
    assert not trace.named_grants.exists()


def test_only_ready_admins_may_trace_and_bad_files_change_nothing(world: World, tmp_path: Path) -> None:
    video = tmp_path / "x.mp4"
    video.write_bytes(b"\0" * 1000)
    staff_without_totp = make_user("staff-nomfa@festival.example", staff=True, mfa=False)
    for user in (world.pro, staff_without_totp):
        with pytest.raises(Forbidden):
            trace_request(admin=user, film=world.film, path=video, name="x.mp4")
    empty = tmp_path / "empty.mp4"
    empty.write_bytes(b"")
    with pytest.raises(InvalidInput):
        trace_request(admin=world.admin, film=world.film, path=empty, name="empty.mp4")
    with pytest.raises(InvalidInput):
        trace_request(admin=world.admin, film=world.film, path=video, name="bad\0name.mp4")
    assert (
        not LeakTrace.objects.exists()
        and not AuditEntry.objects.filter(action__startswith="leak_trace.").exists()
    )
