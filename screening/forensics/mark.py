"""The picture mark that tells variant A of a segment from variant B (numpy and OpenCV: the packaging and
trace jobs load it, never a web process; the keys and names derived for each variant are in ``variants``).

Method: a keyed, smooth, low-frequency luma pattern, added antipodally during the first third of every
segment (the *window*): variant A carries ``-P_i``, variant B ``+P_i``, where ``P_i`` is drawn afresh for
segment ``i`` from the cut's secret. The rest of the segment is the same bytes in both variants.

Why this method (docs/forensics.md has the measurements):

* **Low frequency survives what leaks suffer.** ``P_i`` is a 32x18 grid of random signs, smoothly
  interpolated to the frame. Its energy sits far below the frequencies that re-encoding at a low bitrate,
  downscaling to 360p, blurring, noise or a camera's optics remove; a 4 % crop or a rescale moves it by a
  fraction of a cell, which registration recovers. Brightness, contrast and gamma change its amplitude,
  not its shape.
* **Antipodal, non-blind.** The tracer holds both variants, so it asks "is this copy closer to A or to
  B?" of the difference ``B - A`` itself: nothing about the pattern has to be guessed from the copy, and
  the distance between the variants is twice the mark's amplitude for the same visibility.
* **Imperceptible.** About 1.3 grey levels RMS (PSNR near 46 dB against the unmarked picture), spread over
  cells a thirtieth of the frame wide and constant through the window: below the eye's contrast
  threshold at such sizes, and static, so it cannot flicker.
* **A fresh pattern per segment.** Two colluders who compare their copies learn ``B_i - A_i`` for the
  segments where they differ, and nothing about any other segment's pattern.
* **Cheap.** Only the window differs, so variant B encodes a third of the frames (share of decoding and
  scaling with A: all of it); ``screening.media.tsplice`` swaps B's window into A's segment.

Every secret is derived from the cut's content key (``variants``), so a cut carries no second secret:
its mark patterns, per-segment content keys and object names.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np

# The keys and names derived from the content key are ``variants``' (standard library only, for the
# doors); they are this module's names too, as the packager and the detector know them.
from screening.forensics.variants import VARIANTS as VARIANTS
from screening.forensics.variants import codeword_secret as codeword_secret
from screening.forensics.variants import mark_secret as mark_secret
from screening.forensics.variants import object_name as object_name
from screening.forensics.variants import segment_key as segment_key

GRID_W, GRID_H = 32, 18  # random cells across and down the frame, whatever its aspect ratio
PATTERN_W, PATTERN_H = 64, 36  # the pattern stream's frame: the cells smoothly interpolated
AMPLITUDE = 1.6  # grey levels at a cell's centre: about 1.3 levels RMS once interpolated (PSNR 45.9 dB)
NEUTRAL = 128  # the pattern stream's zero (ffmpeg's grainmerge adds value - 128)
FRAMES_PER_SEGMENT = 3  # the pattern stream carries the window's pattern, then two neutral frames
WINDOW_SHARE = 1 / FRAMES_PER_SEGMENT
EDGE_S = 0.001  # boundaries are taken 1 ms early, so a frame exactly on one falls after it everywhere


def window_seconds(segment_seconds: int) -> float:
    """How long the marked window at the start of every segment lasts."""
    return segment_seconds * WINDOW_SHARE


def pattern_cells(secret: bytes, index: int) -> np.ndarray:
    """The GRID_H x GRID_W signs (+1/-1, int8) of segment ``index``'s pattern: HMAC-SHA256 in counter
    mode, so the same secret gives the same pattern on every machine and in every future version."""
    needed = GRID_W * GRID_H
    stream = b"".join(
        hmac.new(secret, b"pattern|%d|%d" % (index, block), hashlib.sha256).digest()
        for block in range(-(-needed // 256))
    )
    bits = np.unpackbits(np.frombuffer(stream, np.uint8))[:needed]
    return (bits.astype(np.int8) * 2 - 1).reshape(GRID_H, GRID_W)


def pattern_field(secret: bytes, index: int, width: int = PATTERN_W, height: int = PATTERN_H) -> np.ndarray:
    """Segment ``index``'s pattern as a smooth float32 field of ``height`` x ``width`` (grey levels)."""
    cells = pattern_cells(secret, index).astype(np.float32) * AMPLITUDE
    return cv2.resize(cells, (width, height), interpolation=cv2.INTER_CUBIC)


def pattern_frame(secret: bytes, index: int) -> np.ndarray:
    """The pattern stream's frame for segment ``index``: ``NEUTRAL + round(field)`` as uint8."""
    field = np.rint(pattern_field(secret, index))
    return np.clip(NEUTRAL + field, 0, 255).astype(np.uint8)


def pattern_stream_frames(secret: bytes, segment_count: int) -> Iterator[bytes]:
    """yuv420p frames: the pattern as luma, neutral chroma. Not gray8: ffmpeg would convert gray's full
    range to video range on the way to yuv420p, turning the neutral 128 into 126 and adding a brightness
    shift to every frame."""
    chroma = np.full(2 * (PATTERN_H // 2) * (PATTERN_W // 2), NEUTRAL, np.uint8).tobytes()
    neutral = np.full((PATTERN_H, PATTERN_W), NEUTRAL, np.uint8).tobytes() + chroma
    for index in range(segment_count):
        yield pattern_frame(secret, index).tobytes() + chroma
        for _ in range(FRAMES_PER_SEGMENT - 1):
            yield neutral


def write_pattern_stream(path: Path, secret: bytes, segment_count: int) -> None:
    """The raw yuv420p stream ffmpeg reads beside the source (``pattern_input``): at ``FRAMES_PER_SEGMENT``
    frames per segment, each segment's pattern during its window and neutral grey after it."""
    with path.open("wb") as handle:
        for frame in pattern_stream_frames(secret, segment_count):
            handle.write(frame)


def pattern_input(path: Path, segment_seconds: int) -> list[str]:
    """ffmpeg input options for the pattern stream written by ``write_pattern_stream``."""
    return [
        "-f", "rawvideo", "-pix_fmt", "yuv420p", "-s", f"{PATTERN_W}x{PATTERN_H}",
        "-framerate", f"{FRAMES_PER_SEGMENT}/{segment_seconds}",
        "-i", f"file:{path}",
    ]  # fmt: skip


def in_window_expr(segment_seconds: int) -> str:
    """ffmpeg expression: true for a frame in the marked window of its segment."""
    return f"lt(mod(t+{EDGE_S},{segment_seconds}),{window_seconds(segment_seconds):.6f})"


def keyframe_expr(segment_seconds: int) -> str:
    """force_key_frames expression for variant A: a keyframe at every segment start and window end, so
    that B's window can replace A's and the rest of the segment decodes without it."""
    window = window_seconds(segment_seconds)
    return f"expr:gte(t+{EDGE_S},floor(n_forced/2)*{segment_seconds}+mod(n_forced,2)*{window:.6f})"


def window_keyframe_expr(segment_seconds: int) -> str:
    """force_key_frames expression for variant B, which holds the windows only: one at each start."""
    return f"expr:gte(t+{EDGE_S},n_forced*{segment_seconds})"


def mark_filters(
    *, pattern: str, branch: str, width: int, height: int, segment_seconds: int, out_a: str, out_b: str
) -> list[str]:
    """Filter-graph parts turning one scaled rendition ``branch`` into ``out_a`` (every frame, the window
    carrying -P) and ``out_b`` (the window's frames only, carrying +P). ``pattern`` labels one split of
    the pattern stream, already shifted by EDGE_S (``pattern_split``)."""
    pa, pb, va, vb, vm = (f"{branch}_{name}" for name in ("pa", "pb", "va", "vb", "vm"))
    return [
        f"[{pattern}]scale={width}:{height}:flags=bilinear,split=2[{pa}][{pb}]",
        f"[{branch}]split=2[{va}][{vb}]",
        # grainextract: main - pattern + 128; grainmerge: main + pattern - 128 (chroma: pattern is 128).
        # shortest=1: the pattern stream runs past the video, and the blend must end with the video (a
        # blend that outlives its main input repeats the last frame at the pattern's timestamps).
        f"[{va}][{pa}]blend=all_mode=grainextract:shortest=1[{out_a}]",
        # B is marked before frames are selected: the blend then sees every frame, like A's.
        f"[{vb}][{pb}]blend=all_mode=grainmerge:shortest=1[{vm}]",
        f"[{vm}]select='{in_window_expr(segment_seconds)}'[{out_b}]",
    ]


def pattern_split(input_label: str, count: int) -> str:
    """The pattern input shifted 1 ms early (see EDGE_S), split into ``count`` labels ``pat0``... for
    ``mark_filters``."""
    labels = "".join(f"[pat{i}]" for i in range(count))
    # settb first: in the stream's own time base (2/3 s a tick) the shift would round a whole tick away.
    return f"[{input_label}]settb=1/90000,setpts=PTS-{EDGE_S}/TB,split={count}{labels}"
