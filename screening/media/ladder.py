"""The rendition ladder: which sizes and bitrates to encode for a source of a given display size.

Rule: every standard rung whose box (1920x1080, 1280x720, 640x360) the source fills without being
upscaled, each scaled to fit its box with the source's aspect ratio kept (so a 1920x800 scope film gets
a 1920x800 "1080p" rung, and a portrait 1080x1920 phone clip a 608x1080 one). A source up to 10 % short
of a box (a 1248x702 crop, say) still gets that rung, at its own size. A source further between two
rungs keeps only the smaller ones: an 854x480 source gets 360p only. That keeps the names and bitrates of
the ladder fixed, which the players' bandwidth estimates and the later A/B watermark variants rely on;
SD screeners are rare, and they lose a little sharpness, not their picture. A source too small for any
rung gets a single rung at its own size, named after its height ("200p").

Widths and heights are even (H.264 in 4:2:0 needs it). Sizes are display sizes: square pixels, after the
source's rotation and sample aspect ratio (``probe`` reports them that way).
"""

from __future__ import annotations

from dataclasses import dataclass

AUDIO_BITRATE_K = 128
MAXRATE_FACTOR = 1.07  # capped VBR: peaks stay within 7 % of the nominal rate the master playlist announces
BUFSIZE_FACTOR = 1.5  # VBV buffer of 1.5 s of the nominal rate: room for scene changes, bounded peaks
MIN_VIDEO_BITRATE_K = 150
# A source up to 10 % short of a box (1248x702 after cropping, say) still gets that rung, at its own size.
NEAR_MISS = 0.10


@dataclass(frozen=True)
class Rendition:
    """One rung of the ladder. ``name`` is also its folder in the packaged output (``720p/index.m3u8``)."""

    name: str
    width: int
    height: int
    video_bitrate_k: int
    maxrate_k: int
    bufsize_k: int
    audio_bitrate_k: int = AUDIO_BITRATE_K


@dataclass(frozen=True)
class _Rung:
    name: str
    box_width: int
    box_height: int
    video_bitrate_k: int


STANDARD_RUNGS = (
    _Rung("1080p", 1920, 1080, 5000),
    _Rung("720p", 1280, 720, 2800),
    _Rung("360p", 640, 360, 800),
)


def _even(value: float, limit: int) -> int:
    """``value`` rounded to an even number, never above ``limit`` (the source size) and at least 2."""
    rounded = int(round(value / 2)) * 2
    if rounded > limit:
        rounded = limit - limit % 2
    return max(2, rounded)


def _rendition(name: str, width: int, height: int, video_bitrate_k: int) -> Rendition:
    return Rendition(
        name=name,
        width=width,
        height=height,
        video_bitrate_k=video_bitrate_k,
        maxrate_k=round(video_bitrate_k * MAXRATE_FACTOR),
        bufsize_k=round(video_bitrate_k * BUFSIZE_FACTOR),
    )


def plan_ladder(source_width: int, source_height: int, *, max_rungs: int = 3) -> list[Rendition]:
    """The renditions for a source of this display size, largest first, at most ``max_rungs`` of them.

    When ``max_rungs`` cuts the ladder short, the largest rungs are kept: a screener is judged on its
    picture.
    """
    if source_width < 2 or source_height < 2:
        raise ValueError(f"A source of {source_width}x{source_height} pixels cannot be encoded.")
    if max_rungs < 1:
        raise ValueError("A ladder needs at least one rung.")
    ladder = []
    for rung in STANDARD_RUNGS:
        scale = min(rung.box_width / source_width, rung.box_height / source_height)
        if scale > 1 + NEAR_MISS:
            continue  # the source would have to be upscaled to fill this box
        scale = min(scale, 1.0)  # a source just short of the box keeps the rung, at its own size
        width = _even(source_width * scale, source_width)
        height = _even(source_height * scale, source_height)
        ladder.append(_rendition(rung.name, width, height, rung.video_bitrate_k))
    if not ladder:
        smallest = STANDARD_RUNGS[-1]
        width, height = _even(source_width, source_width), _even(source_height, source_height)
        area_share = (width * height) / (smallest.box_width * smallest.box_height)
        bitrate = max(MIN_VIDEO_BITRATE_K, round(smallest.video_bitrate_k * area_share))
        ladder.append(_rendition(f"{height}p", width, height, bitrate))
    return ladder[:max_rungs]
