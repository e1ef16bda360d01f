"""The reference a trace compares a suspect copy with: a packaged cut's own variants, from the media store.

Two things come from the packaged cut (docs/forensics.md):

* **The timeline** (``timeline.npz``, written at packaging next to the ladder, never served by a door):
  a small grey thumbnail of every frame of variant A's smallest rendition and its time. The detector
  finds where a suspect excerpt sits on the cut's timeline by matching against it; a two-hour film's
  timeline is a few tens of megabytes.
* **The windows**: both variants of a segment of the smallest rendition, decrypted with their keys and
  decoded to grey frames at the detector's working size. The mark is a low-frequency pattern, so the
  smallest rendition carries it as well as the largest, and decodes many times faster.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import av
import cv2
import numpy as np
from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from screening.forensics import detect, mark

if TYPE_CHECKING:  # the packager imports this module, and needs no Django
    from screening.storage import MediaStore

TIMELINE = "forensics/timeline.npz"


def decrypt_segment(data: bytes, key: bytes, index: int) -> bytes:
    """The inverse of ``package.encrypt_segment``."""
    decryptor = Cipher(algorithms.AES(key), modes.CBC(index.to_bytes(16, "big"))).decryptor()
    unpadder = padding.PKCS7(128).unpadder()
    return unpadder.update(decryptor.update(data) + decryptor.finalize()) + unpadder.finalize()


def _grey_frames(
    segment: bytes, size: tuple[int, int], until_s: float | None = None
) -> tuple[list[float], list[np.ndarray]]:
    """(presentation times in seconds on the stream's clock, grey frames resized to ``size``) of one
    MPEG-TS segment, in display order; stops after ``until_s`` (seconds from the segment's first frame)."""
    times: list[float] = []
    frames: list[np.ndarray] = []
    with av.open(io.BytesIO(segment), mode="r", format="mpegts") as container:
        stream = container.streams.video[0]
        time_base = stream.time_base
        if time_base is None:
            raise ValueError("The segment's video stream has no time base.")
        for frame in container.decode(stream):
            if frame.pts is None:
                continue
            seconds = float(frame.pts * time_base)
            if until_s is not None and times and seconds - min(times) >= until_s:
                break
            grey = frame.to_ndarray(format="gray")
            frames.append(cv2.resize(grey, size, interpolation=cv2.INTER_AREA))
            times.append(seconds)
    order = np.argsort(times)
    return [times[i] for i in order], [frames[i] for i in order]


def build_timeline(segments: Sequence[Path], segment_seconds: int, fps: float, out: Path) -> None:
    """Write ``timeline.npz`` from variant A's plain segments of one rendition (at packaging): a
    thumbnail every 1 / (2 THUMB_FPS) s or so, twice what the detector needs, so that it can thin them."""
    all_times: list[float] = []
    thumbs: list[np.ndarray] = []
    origin: float | None = None
    spacing = 1 / (2 * detect.THUMB_FPS) - 1e-3
    for path in segments:
        times, frames = _grey_frames(path.read_bytes(), (detect.THUMB_W, detect.THUMB_H))
        if origin is None and times:
            origin = times[0]
        for seconds, frame in zip(times, frames, strict=True):
            seconds -= origin or 0.0
            if not all_times or seconds - all_times[-1] >= spacing:
                all_times.append(seconds)
                thumbs.append(frame)
    if not thumbs:
        raise ValueError("No frame could be decoded for the timeline.")
    out.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(
        out,
        times=np.asarray(all_times, np.float64),
        thumbs=np.stack(thumbs).astype(np.uint8),
        origin=np.float64(origin or 0.0),
        fps=np.float64(fps),
        segment_seconds=np.int64(segment_seconds),
    )


class StoredReference:
    """``detect.Reference`` over a published cut in the media store (``content_key`` already unsealed)."""

    def __init__(
        self,
        *,
        store: MediaStore,
        media_prefix: str,
        content_key: bytes,
        renditions: Sequence[dict],
        segment_count: int,
        duration_s: float,
    ) -> None:
        self.store = store
        self.media_prefix = media_prefix
        self.content_key = content_key
        self.rendition = str(renditions[-1]["name"])  # the smallest
        self.segment_count = segment_count
        self.duration_s = duration_s
        self._windows: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
        data = b"".join(self.store.open_stream(self.media_prefix + TIMELINE))
        with np.load(io.BytesIO(data)) as loaded:
            self._timeline = {name: loaded[name] for name in loaded.files}
        self.fps = float(self._timeline["fps"])
        self.segment_seconds = int(self._timeline["segment_seconds"])

    def timeline(self) -> tuple[np.ndarray, np.ndarray]:
        return self._timeline["times"], self._timeline["thumbs"]

    def _segment(self, index: int, variant: str) -> bytes:
        name = mark.object_name(self.content_key, self.rendition, index, variant)
        sealed = b"".join(self.store.open_stream(f"{self.media_prefix}{self.rendition}/{name}"))
        return decrypt_segment(sealed, mark.segment_key(self.content_key, index, variant), index)

    def window(self, index: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        if index not in self._windows:
            window_s = mark.window_seconds(self.segment_seconds) - mark.EDGE_S
            origin = float(self._timeline["origin"])
            size = (detect.WORK_W, detect.WORK_H)
            times_a, frames_a = _grey_frames(self._segment(index, "a"), size, window_s)
            times_b, frames_b = _grey_frames(self._segment(index, "b"), size, window_s)
            count = min(len(frames_a), len(frames_b))
            if count == 0:
                raise ValueError(f"Segment {index} has no frame in its window.")
            self._windows = {
                index: (
                    np.asarray(times_a[:count]) - origin,
                    np.stack(frames_a[:count]).astype(np.float32),
                    np.stack(frames_b[:count]).astype(np.float32),
                )
            } | (self._windows if len(self._windows) < 64 else {})
        return self._windows[index]


__all__ = ["TIMELINE", "StoredReference", "build_timeline", "decrypt_segment"]
