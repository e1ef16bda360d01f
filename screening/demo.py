"""Playable screeners for the demo films: a short generated clip per film, packaged by the real pipeline.

Each clip shows the film's poster with ffmpeg's moving test pattern and a tone, so a viewer sees at once
that the stream plays. Films that already have a cut are left alone (idempotent). `make run` serves first
and has its worker make them in the background (queue ``demo``), printing their progress as it goes.
"""

from __future__ import annotations

import logging
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from celery import shared_task
from django.conf import settings
from django.db import transaction

from festival.models import Film
from screening import services
from screening.media.binary import ffmpeg_binary
from screening.models import Cut, CutStatus
from screening.tasks import package_cut

CLIP_SECONDS = 12
logger = logging.getLogger(__name__)
DEMO_QUEUE = "demo"  # `make run`'s worker listens to it beside the default queue


def demo_clip(path: Path, *, poster: Path | None, seconds: int = CLIP_SECONDS) -> None:
    ffmpeg = ffmpeg_binary(settings.FFMPEG_BINARY or None)
    inputs = (
        ["-loop", "1", "-i", str(poster)] if poster else ["-f", "lavfi", "-i", "color=c=0x1d1b19:s=1280x720"]
    )
    graph = (
        "[0:v]scale=1280:720:force_original_aspect_ratio=decrease,pad=1280:720:(ow-iw)/2:(oh-ih)/2,setsar=1,fps=25[bg];"
        "[1:v]scale=480:270[inset];[bg][inset]overlay=x=760:y=420[v]"
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


def make_demo_screener_now(film: Film) -> Cut | None:
    """Make and package one film's demo screener in this process; None when the film has a cut already
    or no producer to own it. Safe to run twice at once for one film: one of them makes the cut."""
    if Cut.objects.filter(film=film).exists():
        return None
    producer = film.team_members.select_related("user").order_by("pk").first()
    if producer is None:
        return None
    with tempfile.TemporaryDirectory() as folder:
        clip = Path(folder) / "screener.mp4"
        demo_clip(clip, poster=Path(film.poster.path) if film.poster else None)
        with transaction.atomic():
            Film.objects.select_for_update().filter(pk=film.pk).first()  # one cut per film, even in a race
            if Cut.objects.filter(film=film).exists():
                return None
            cut = services.cut_import(user=producer.user, film=film, path=clip)
    package_cut(cut.pk)
    return Cut.objects.get(pk=cut.pk)


@shared_task(acks_late=True, reject_on_worker_lost=True)
def make_demo_screeners(film_ids: list[int]) -> str:
    """The worker's job for the demo films (queue ``demo``): one film after the other, so that the demo
    keeps one of `make run`'s two worker threads and the other stays free for uploads and emails."""
    from celery.worker import state

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
        if not Cut.objects.filter(film=film).exists() and film.team_members.exists()
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
    films = films if films is not None else [f for f in demo_films() if f.team_members.exists()]
    newest: dict[int, Cut] = {}
    for cut in Cut.objects.filter(film__in=films).select_related("film").order_by("film_id", "-number"):
        newest.setdefault(cut.film_id, cut)
    return DemoProgress(
        films=len(films),
        ready=sum(1 for c in newest.values() if c.status == CutStatus.READY),
        failed=sum(1 for c in newest.values() if c.status in (CutStatus.FAILED, CutStatus.CANCELLED)),
        packaging=[(c.film.title, c.progress) for c in newest.values() if c.status == CutStatus.PROCESSING],
    )
