"""Playable screeners for the demo films: a short generated clip per film, packaged by the real pipeline.

Each clip shows the film's poster with ffmpeg's moving test pattern and a tone, so a viewer sees at once
that the stream plays. Films that already have a cut are left alone (idempotent).
"""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

from django.conf import settings

from festival.models import Film
from screening import services
from screening.media.binary import ffmpeg_binary
from screening.models import Cut
from screening.tasks import package_cut

CLIP_SECONDS = 12


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


def seed_demo_screeners(*, films: list[Film] | None = None) -> int:
    """Give every demo film without a cut a packaged, playable screener. Returns how many were made."""
    made = 0
    for film in films if films is not None else Film.objects.filter(session__isnull=False):
        if Cut.objects.filter(film=film).exists():
            continue
        producer = film.team_members.select_related("user").first()
        if producer is None:
            continue
        with tempfile.TemporaryDirectory() as folder:
            clip = Path(folder) / "screener.mp4"
            demo_clip(clip, poster=Path(film.poster.path) if film.poster else None)
            cut = services.cut_import(user=producer.user, film=film, path=clip)
        package_cut(cut.pk)  # synchronously: the demo is ready when make run starts serving
        made += 1
    return made
