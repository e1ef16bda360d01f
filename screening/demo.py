"""Playable screeners for the demo films: a short generated clip per film, packaged by the real pipeline.

Each clip shows the film's poster with ffmpeg's moving test pattern and a tone, so a viewer sees at once
that the stream plays. Films that already have a cut are left alone (idempotent). `make run` serves first
and has its worker make them in the background (queue ``demo``), printing their progress as it goes.

The last demo film that can be watched today (``leak_demo_film``: packaged late, and left out when
`DEMO_SCREENERS` limits the demo to the first films) also shows leak tracing (docs/forensics.md): its
clip is longer (a trace needs a minute or more of film to name one viewing with certainty) and changes
all the time, three demo professionals are recorded as having watched it, and a "leaked copy" of the
first one's stream, saved as a viewer would save it and re-encoded, is left in ``VAR_DIR/demo/`` for an
admin to trace on /staff/leaks/.
"""

from __future__ import annotations

import logging
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from celery import shared_task
from celery.worker import state
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from core.errors import DomainError
from festival.models import Film
from festival.policy import film_team_user_ids
from screening import services
from screening.doors import key_answer, segment_object_key
from screening.forensics.reference import decrypt_segment
from screening.media.binary import ffmpeg_binary
from screening.models import Cut, CutStatus
from screening.services.packaging import cut_package
from screening.storage import media_store

CLIP_SECONDS = 12
LEAK_DEMO_SECONDS = 80
LEAK_DEMO_VIEWERS = 3
logger = logging.getLogger(__name__)
DEMO_QUEUE = "demo"  # `make run`'s worker listens to it beside the default queue


def demo_clip(path: Path, *, poster: Path | None, seconds: int = CLIP_SECONDS, moving: bool = False) -> None:
    """``moving``: a Mandelbrot zoom beside the poster, so that no two moments look alike (the leak
    demo's tracer places an excerpt on the film's timeline by its pictures)."""
    ffmpeg = ffmpeg_binary(settings.FFMPEG_BINARY or None)
    inputs = (
        ["-loop", "1", "-i", str(poster)] if poster else ["-f", "lavfi", "-i", "color=c=0x1d1b19:s=1280x720"]
    )
    graph = (
        "[0:v]scale=1280:720:force_original_aspect_ratio=decrease,pad=1280:720:(ow-iw)/2:(oh-ih)/2,setsar=1,fps=25[bg];"
        "[1:v]scale=480:270[inset];[bg][inset]overlay=x=760:y=420[v]"
    )
    if moving:
        graph = graph.replace("[v]", "[withinset]") + (
            ";mandelbrot=size=320x360:rate=25:start_x=-0.743643887037151:start_y=0.13182590420533,"
            "scale=640:720,format=yuv420p[zoom];[withinset][zoom]overlay=x=0:y=0[v]"
        )
    command = [
        ffmpeg,
        "-hide_banner",
        "-loglevel",
        "error",
        "-y",
        *inputs,
        "-f",
        "lavfi",
        "-i",
        "testsrc2=size=480x270:rate=25",
        "-f",
        "lavfi",
        "-i",
        "sine=frequency=440:sample_rate=48000",
        "-filter_complex",
        graph,
        "-map",
        "[v]",
        "-map",
        "2:a",
        "-t",
        str(seconds),
        "-c:v",
        "libx264",
        "-preset",
        "veryfast",
        "-pix_fmt",
        "yuv420p",
        "-c:a",
        "aac",
        "-shortest",
        str(path),
    ]
    subprocess.run(command, check=True, timeout=120)  # noqa: S603 (a fixed argv, no shell)


def demo_films() -> list[Film]:
    """The films that get a demo screener: every film of a session, in the order of the sessions."""
    return list(Film.objects.filter(session__isnull=False).order_by("session__starts_on", "title", "pk"))


def has_team(film: Film) -> bool:
    """A film with a producer to own its demo screener."""
    return bool(film_team_user_ids(film.pk))


def make_demo_screener_now(film: Film) -> Cut | None:
    """Make and package one film's demo screener in this process; None when the film has a cut already
    or no producer to own it. Safe to run twice at once for one film: one of them makes the cut."""
    if Cut.objects.filter(film=film).exists():
        return None
    producer = User.objects.filter(pk__in=film_team_user_ids(film.pk)).order_by("pk").first()
    if producer is None:
        return None
    leak_demo = leak_demo_film() == film
    with tempfile.TemporaryDirectory() as folder:
        clip = Path(folder) / "screener.mp4"
        poster = Path(film.poster.path) if film.poster else None
        if leak_demo:
            demo_clip(clip, poster=poster, seconds=LEAK_DEMO_SECONDS, moving=True)
        else:
            demo_clip(clip, poster=poster)
        with transaction.atomic():
            Film.objects.select_for_update().filter(pk=film.pk).first()  # one cut per film, even in a race
            if Cut.objects.filter(film=film).exists():
                return None
            cut = services.cut_import(user=producer, film=film, path=clip)
    cut_package(cut_id=cut.pk)
    cut = Cut.objects.get(pk=cut.pk)
    if leak_demo and cut.status == CutStatus.READY:
        make_demo_leak(cut)
    return cut


def leak_demo_film() -> Film | None:
    """The film of the leak demo: the last demo film that can be watched today (its session's
    screening window is open), so that its viewers could have watched it."""
    now = timezone.now()
    open_films = [f for f in demo_films() if f.session is not None and f.session.screening_window_open(now)]
    return open_films[-1] if open_films else None


def leaked_copy_path() -> Path:
    return Path(settings.VAR_DIR) / "demo" / "leaked-copy.mp4"


def make_demo_leak(cut: Cut) -> Path | None:
    """Record three demo professionals as viewers of ``cut`` and save the first one's stream, as
    ``ffmpeg`` would through the doors, re-encoded smaller and a little brighter: the copy to trace."""
    grants = []
    for user in (
        User.objects.filter(is_staff=False, accreditations__status="approved").distinct().order_by("pk")
    ):
        try:
            grants.append(services.grant_issue(user=user, cut=cut, device_token=f"demo-device-{user.pk:08d}"))
        except DomainError:
            continue  # not admitted to this film
        if len(grants) == LEAK_DEMO_VIEWERS:
            break
    if not grants:
        return None
    leaker, store, rendition = grants[0], media_store(), cut.renditions[0]["name"]
    destination = leaked_copy_path()
    destination.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as folder:
        stream = Path(folder) / "stream.ts"
        with stream.open("wb") as out:
            for index in range(cut.segment_count):
                sealed = b"".join(store.open_stream(segment_object_key(cut, leaker, rendition, index)))
                out.write(decrypt_segment(sealed, key_answer(leaker, index).body, index))
        command = [
            ffmpeg_binary(settings.FFMPEG_BINARY or None), "-hide_banner", "-loglevel", "error", "-y",
            "-i", str(stream), "-vf", "eq=brightness=0.04:contrast=1.1", "-c:v", "libx264",
            "-preset", "veryfast", "-b:v", "900k", "-c:a", "aac", str(destination),
        ]  # fmt: skip
        subprocess.run(command, check=True, timeout=600)  # noqa: S603 (a fixed argv, no shell)
    logger.info("demo leak: %s is %s's copy of %s", destination, leaker.viewer.email, cut)
    return destination


@shared_task(acks_late=True, reject_on_worker_lost=True)
def make_demo_screeners(film_ids: list[int]) -> str:
    """The worker's job for the demo films (queue ``demo``): one film after the other, so that the demo
    keeps one of `make run`'s two worker threads and the other stays free for uploads and emails."""
    made = 0
    for film in Film.objects.filter(pk__in=film_ids).order_by("session__starts_on", "title", "pk"):
        if state.should_stop is not None or state.should_terminate is not None:
            break  # the worker is stopping (Ctrl-C): the next `make run` queues the films left
        try:
            made += make_demo_screener_now(film) is not None
        except (OSError, subprocess.SubprocessError):
            logger.exception("the demo screener of film %s could not be made", film.pk)
    return f"made {made} demo screeners"


def seed_demo_screeners(*, films: list[Film] | None = None, background: bool = True) -> int:
    """Give every demo film without a cut a playable screener; returns how many films it was asked for.

    In the background (the default, `make run`), one job for all of them goes to the worker's ``demo``
    queue and this returns at once: the server does not wait for the demo to be packaged, each film's
    page shows its packaging progress, and ``seed_demo_screeners --follow`` prints it in the console.
    Otherwise every screener is made and packaged here before this returns.
    """
    pending = [
        film
        for film in (films if films is not None else demo_films())
        if not Cut.objects.filter(film=film).exists() and has_team(film)
    ]
    if background and pending:
        make_demo_screeners.apply_async(([film.pk for film in pending],), queue=DEMO_QUEUE)
    elif not background:
        for film in pending:
            make_demo_screener_now(film)
    return len(pending)


@dataclass(frozen=True)
class DemoProgress:
    films: int
    ready: int
    failed: int
    packaging: list[tuple[str, float]]  # (title, percent) of the cuts being packaged now

    @property
    def done(self) -> bool:
        return self.ready + self.failed >= self.films

    def line(self) -> str:
        text = f"Demo screeners: {self.ready} of {self.films} ready"
        if self.failed:
            text += f", {self.failed} failed"
        if self.packaging:
            text += "; packaging " + ", ".join(
                f"{title} ({percent:.0f}%)" for title, percent in self.packaging
            )
        return text


def demo_progress(films: list[Film] | None = None) -> DemoProgress:
    """Where the demo films' screeners are: each film counts by its newest cut."""
    films = films if films is not None else [f for f in demo_films() if has_team(f)]
    newest: dict[int, Cut] = {}
    for cut in Cut.objects.filter(film__in=films).select_related("film").order_by("film_id", "-number"):
        newest.setdefault(cut.film_id, cut)
    return DemoProgress(
        films=len(films),
        ready=sum(1 for c in newest.values() if c.status == CutStatus.READY),
        failed=sum(1 for c in newest.values() if c.status in (CutStatus.FAILED, CutStatus.CANCELLED)),
        packaging=[(c.film.title, c.progress) for c in newest.values() if c.status == CutStatus.PROCESSING],
    )
