"""Reading the forensic mark from a suspect copy: A or B, with a calibrated strength, per segment.

What is looked for (``mark``): during the first third of every segment (the *window*) variant A carries
``-P_i`` and variant B ``+P_i`` on luma, a faint smooth pattern drawn afresh for each segment; elsewhere
A and B are the same. A leak is a recording of one grant's stream (A or B per segment), then attacked:
re-encoded, scaled, cropped, tone-changed, cut, retimed. The tracer holds the cut's own variants (a
``Reference``), so it never has to guess the pattern: it asks, window by window, whether the copy lies
closer to A or to B.

The method, in the order ``trace`` runs it; each step exists because an attack would otherwise break it:

1. **Decode small, twice, never at full size in Python** (ffmpeg through a pipe). Pass 1 reads the whole
   suspect at 4 frames a second as 64x36 grey thumbnails (skipping the frames nothing refers to, and
   deblocking: half the decoding work, and thumbnails do not need them). Pass 2 reads only the frames in a
   window (ffmpeg's ``select`` with the time model found in between), scaled so that the active picture
   is about the working size (``WORK_W`` x ``WORK_H``). Any file ffmpeg cannot decode is ``not_video``.
2. **Where the copy sits in time** (``align.fit_time``). Thumbnails become small rank-transformed,
   centre-weighted descriptors (blind to monotone tone changes, little moved by crops, scaling, noise or
   re-encoding), after bars that never change are cut off (letterbox, pillarbox). Probes of 3 s of the
   suspect are matched against the cut's whole timeline under a few speeds; a robust line
   ``t_cut = a t_suspect + b`` through their votes locates an excerpt and measures frame-rate or speed
   changes (duplicated or dropped frames do not matter: matching is by time, not by frame count). A copy
   whose votes agree on no line is ``not_this_film``; one too short for a probe is ``too_short``. A
   mirrored copy is recognised here (its mirrored descriptors match better) and flipped back.
3. **Where the picture sits** (``align.register``): per window, the homography from the cut's working
   frame to the suspect's, by ECC on the window's mean frames (the mean over a window is the same scene
   in both, and is less noisy than any one frame), started from a running median of the previous
   windows, and rejected for that median when it disagrees (a blank window, a cut). Covers scaling,
   crops, letterbox, small rotations and a camera's perspective. The suspect's frames are then resampled
   into the cut's working frame.
4. **Which frame is which**: the time model is refined per window by matching each suspect frame to the
   cut's window frames (a few frames either side), so a 25 fps copy of a 24 fps cut finds the frame it
   duplicated and a slightly wrong offset costs nothing.
5. **How the grey levels map** (``align.ToneCurve``): a monotone curve ``f`` fitted per window from the
   cut's mid-point picture ``M = (A+B)/2`` to the suspect. Its slope ``f'`` says how much of the mark's
   amplitude a contrast or gamma change left where (none in crushed blacks or clipped whites).
6. **The decision**: residual ``r = s - f(M)`` and direction ``d = f'(M) * D`` with ``D = (B-A)/2`` (the
   window's mean: the pattern is static through a window, encoding noise is not), projected onto the
   fields the mark can take (its 32x18 cells, interpolated as ``mark`` and the packager do): the noise
   of the two variants' separate encodes mostly falls outside that span. Both are band-passed
   (a difference of Gaussians of 1.5 and 4 working pixels, a pattern cell being 8): the pattern's
   sign changes between neighbouring cells stand out there, while the residual of the picture itself
   is mostly coarser (a re-encode's drift and banding in smooth areas, tone and lighting changes) or
   finer (encoding noise, misregistered edges). The band was chosen by measurement, not by a model:
   moving it an octave either way costs a fifth to a third of the strength on the attacked copies.
   Frames are summed with weights ``1 / local variance of r`` (textured or moving regions, where the
   copy is noisy, count less). A B copy gives ``r = +d``, an A copy ``r = -d``, an unmarked copy ``r``
   independent of ``d``.
7. **A calibrated strength.** ``C(s) = <G, D shifted by s>`` with ``G`` the weighted, slope-scaled
   residual sum. At ``s = 0`` it is the evidence; at shifts of three cells or more the pattern is
   uncorrelated with itself, so the many other ``C(s)`` (one FFT) are what the same residual gives
   against a pattern it cannot contain: an empirical null drawn from this very window, with its noise
   level, texture, weights and frame count (measured: Gaussian, kurtosis 3.0). Why not other windows'
   patterns as the null: they are as independent, but give one sample each, and their decoded
   ``B - A`` carries *their* content's encoding noise; the shifts give thousands per window for one FFT.
   One thing the shifts cannot see: an unmarked picture is not exactly at ``M``. A and B are encoded
   separately and keep the pattern with gains that differ by about 1 % (up to 5 % in some windows), so
   ``M`` itself carries a trace of ``+-P``; on a clean copy, where the noise is tiny, that offset alone
   would read as ``|z| ~ 4``. So the spread is widened by ``MIDPOINT_SPREAD`` (2 %) of what a perfect B
   copy would give: ``strength = (C(0) - mean) / sqrt(std^2 + (0.02 C_B)^2)``. On an unmarked copy
   ``|z| >= 3`` is then rarer than for N(0, 1) (0 of 340 windows measured against 17 keys; without the
   widening 5 of 340); on attacked marked copies it costs about a tenth of the strength. Under a strong
   mark the shifted correlations include the pattern's own small sidelobes, so ``z`` saturates near
   ``20`` instead of growing without bound; that costs nothing at the threshold of 3.

Measured (tests/screening/forensics/detect_media.py; docs/forensics.md): every benchmark attack, other
codecs (MPEG-4, VP9, HEVC), noise, blur, a 1 degree rotation, a camera-like perspective, letterbox bars,
3 % and 4 % speed changes, 25 fps, and a mirrored copy. Not handled: a copy edited out of order (one
time line is fitted; parts off it are not read), overlays or picture-in-picture covering much of the
frame, rotations of more than a few degrees, speed changes beyond about 8 %, frame blending across a
window's edge, excerpts shorter than 3 s (``too_short``).
"""

from __future__ import annotations

import functools
import math
import queue
import re
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol

import cv2
import numpy as np

from screening.forensics import align, mark
from screening.forensics.codeword import SegmentDecision
from screening.media.probe import DEMUXER_WHITELIST

# What the reference must provide (the packager writes exactly this; see Reference).
THUMB_W, THUMB_H = 32, 18  # the timeline's grey thumbnails, whatever the cut's aspect ratio (stretched)
THUMB_FPS = 4.0  # thumbnails needed per second of the cut (more are accepted, and thinned)
WORK_W, WORK_H = 256, 144  # window frames, stretched to this whatever the cut's aspect ratio: the mark's
# 32x18 cells then span 8x8 working pixels for every film

PASS1_W, PASS1_H = 64, 36  # the suspect's thumbnails (bars are found on these, then cut off)
BUFFER_FRAMES = 256  # decoded frames waiting for the tracer (a few MB)
MARGIN_S = 0.3  # pass 2 also reads this much before and after each window (the time model's error)
SEARCH_FRAMES = 6  # a window's frames are matched within this many frames of the time model
RHO_MIN = 0.5  # an ECC estimate below this correlation is not trusted
CELL = WORK_W / mark.GRID_W  # one pattern cell in working pixels (8)
SIGMA_FINE = CELL * 3 / 16  # the band-pass (1.5 and 4 working pixels): finer detail is encoding noise,
SIGMA_TREND = CELL / 2  # coarser structure the residue of smooth content (tone, lighting, banding)
SIGMA_VAR = 1.5 * CELL  # the neighbourhood over which the residual's variance is measured
NULL_EXCLUDE = 3 * CELL  # shifts closer than this (both ways) to zero are not part of the null
MIDPOINT_SPREAD = 0.02  # how far off (A+B)/2 an unmarked picture may lie, as a share of (B-A)/2
MIN_SHARE = 0.3  # a copy of this film has at least this share of its probes on one time line
MIN_PEAK = 0.6  # ... whose median best similarity reaches this (another film's: about 0.3)
MIN_MARGIN = 0.08  # ... standing this far above their next best match (another film's: about 0.05),
# unless many probes agree on the line: content that resembles itself a few seconds away (a slow zoom, a
# repeated pattern) has small margins everywhere, but another film's probes agree on no line at all
CONSENSUS_PROBES, CONSENSUS_SHARE = 8, 0.6

Status = Literal["aligned", "not_video", "not_this_film", "too_short"]


class Reference(Protocol):
    """The cut as the tracer needs it (``screening.forensics.reference.StoredReference``)."""

    fps: float
    segment_seconds: int
    segment_count: int
    duration_s: float

    def timeline(self) -> tuple[np.ndarray, np.ndarray]:
        """Times (s, float64, ascending, the cut's first frame at 0) and grey thumbnails (n, THUMB_H,
        THUMB_W) uint8 of variant A, area-scaled; at least THUMB_FPS per second (every frame is fine)."""
        ...

    def window(self, index: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Times (s, the cut's clock), and the frames of variant A and of variant B (k, WORK_H, WORK_W)
        float32 grey levels (full range, as decoded to gray), of segment ``index``'s window."""
        ...


class TraceCancelled(Exception):
    """``should_cancel`` said stop."""


@dataclass(frozen=True)
class Alignment:
    a: float  # t_cut = a * t_suspect + b
    b: float
    inlier_share: float  # share of the suspect's probes that agree with the line
    probes: int
    residual_s: float  # RMS distance of the agreeing probes from the line
    mirrored: bool
    # the cut's frame onto the suspect's picture: a homography on shares of width and height (row-major
    # 3x3), so identity means same framing; after un-mirroring when ``mirrored``
    transform: tuple[float, ...]
    quality: float  # median ECC correlation of the windows' registrations (1 = perfect)


@dataclass(frozen=True)
class Evidence:
    status: Status
    detail: str
    alignment: Alignment | None = None
    covered_s: float = 0.0  # seconds of the cut's timeline the suspect covers
    decisions: list[SegmentDecision] = field(default_factory=list)
    suspect_s: float = 0.0  # seconds of suspect decoded

    def to_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "detail": self.detail,
            "alignment": asdict(self.alignment) if self.alignment else None,
            "covered_s": round(self.covered_s, 3),
            "suspect_s": round(self.suspect_s, 3),
            "decisions": [
                {"index": d.index, "strength": round(float(d.strength), 3), "frames": d.frames}
                for d in self.decisions
            ],
        }


# --- decoding --------------------------------------------------------------------------------------

_SHOWINFO = re.compile(r"\bn:\s*\d+\s+pts:\s*-?\d+\s+pts_time:\s*(-?[\d.]+(?:e[-+]?\d+)?)")
_DURATION = re.compile(r"Duration:\s*(\d+):(\d+):(\d+(?:\.\d+)?)")


class _Decoder:
    """ffmpeg decoding the suspect's first video stream to raw grey frames of ``size`` through a pipe;
    ``showinfo`` on stderr gives each frame's time. Only self-contained media containers are opened, and
    only as files (``screening.media.probe``: a playlist could make ffmpeg read other files)."""

    def __init__(self, ffmpeg: str, path: Path, vf: str, size: tuple[int, int], fast: bool = False) -> None:
        self.size = size
        self.duration_s: float | None = None
        self.times: queue.Queue[float] = queue.Queue()
        self.tail: list[str] = []
        self._stop = threading.Event()
        argv = [
            ffmpeg, "-nostdin", "-hide_banner", "-loglevel", "info",
            "-format_whitelist", DEMUXER_WHITELIST, "-protocol_whitelist", "file",
            *(["-skip_frame", "noref", "-skip_loop_filter", "all"] if fast else []),
            "-i", f"file:{path}",
            "-map", "0:v:0", "-an", "-sn", "-dn",
            "-vf", f"{vf},showinfo", "-fps_mode", "passthrough",
            "-f", "rawvideo", "-pix_fmt", "gray", "pipe:1",
        ]  # fmt: skip
        self.proc = subprocess.Popen(  # noqa: S603 - a fixed argv, the path behind file:
            argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        self._reader = threading.Thread(target=self._read_stderr, daemon=True)
        self._reader.start()

    def _read_stderr(self) -> None:
        if self.proc.stderr is None:
            return
        for raw in self.proc.stderr:
            line = raw.decode("utf-8", "replace")
            if (found := _SHOWINFO.search(line)) is not None:
                self.times.put(float(found.group(1)))
                continue
            if self.duration_s is None and (length := _DURATION.search(line)) is not None:
                h, m, s = length.groups()
                self.duration_s = int(h) * 3600 + int(m) * 60 + float(s)
            if "color_range" not in line:
                self.tail = [*self.tail[-20:], line.rstrip()]

    def frames(self) -> Iterator[tuple[float, np.ndarray]]:
        """The decoded frames with their times. A thread drains the pipe meanwhile, so ffmpeg decodes
        while the caller computes (a full pipe would stop it)."""
        ready: queue.Queue[tuple[float, np.ndarray] | None] = queue.Queue(maxsize=BUFFER_FRAMES)
        pump = threading.Thread(target=self._pump, args=(ready,), daemon=True)
        pump.start()
        while (item := ready.get()) is not None:
            yield item

    def _pump(self, ready: queue.Queue[tuple[float, np.ndarray] | None]) -> None:
        if self.proc.stdout is None:
            return
        width, height = self.size
        need = width * height
        item: tuple[float, np.ndarray] | None = None
        try:
            while not self._stop.is_set():
                data = self.proc.stdout.read(need)
                if len(data) < need:
                    break
                try:
                    moment = self.times.get(timeout=60)
                except queue.Empty:
                    break
                item = (moment, np.frombuffer(data, np.uint8).reshape(height, width))
                while not self._stop.is_set():
                    try:
                        ready.put(item, timeout=0.2)
                        break
                    except queue.Full:
                        continue
        except (OSError, ValueError):  # the pipe was closed under us: close() ran
            pass
        finally:
            while not self._stop.is_set():
                try:
                    ready.put(None, timeout=0.2)
                    break
                except queue.Full:
                    continue

    def close(self) -> int:
        self._stop.set()
        if self.proc.poll() is None:
            self.proc.kill()
        if self.proc.stdout is not None:
            self.proc.stdout.close()
        code = self.proc.wait()
        self._reader.join(timeout=5)
        return code


class _Progress:
    def __init__(
        self, on_progress: Callable[[float, str], None] | None, should_cancel: Callable[[], bool] | None
    ):
        self.on_progress = on_progress
        self.should_cancel = should_cancel
        self.last = 0.0

    def __call__(self, percent: float, stage: str, *, force: bool = False) -> None:
        if self.should_cancel is not None and self.should_cancel():
            raise TraceCancelled()
        now = time.monotonic()
        if self.on_progress is not None and (force or now - self.last >= 0.5):
            self.last = now
            self.on_progress(max(0.0, min(100.0, percent)), stage)


def _share(t: float, duration: float | None) -> float:
    if duration and duration > 0:
        return min(1.0, max(0.0, t / duration))
    return 1.0 - math.exp(-max(t, 0.0) / 600.0)


# --- the decision ----------------------------------------------------------------------------------


def _blur(image: np.ndarray, sigma: float) -> np.ndarray:
    """Gaussian blur, through a smaller image when ``sigma`` is large (the same result, far cheaper)."""
    if sigma <= 4:
        return cv2.GaussianBlur(image, (0, 0), sigma, borderType=cv2.BORDER_REFLECT)
    h, w = image.shape[:2]
    factor = 4
    small = cv2.resize(image, (max(4, w // factor), max(4, h // factor)), interpolation=cv2.INTER_AREA)
    small = cv2.GaussianBlur(small, (0, 0), sigma / factor, borderType=cv2.BORDER_REFLECT)
    return cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)


def _band(image: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Band-pass ``image`` over ``mask`` (normalised convolution: the mask's edge is no edge)."""
    eps = 1e-3
    masked = image * mask
    fine = _blur(masked, SIGMA_FINE) / np.maximum(_blur(mask, SIGMA_FINE), eps)
    trend = _blur(masked, SIGMA_TREND) / np.maximum(_blur(mask, SIGMA_TREND), eps)
    return (fine - trend) * mask


def _strength(evidence: np.ndarray, direction: np.ndarray, expected: float = 0.0) -> tuple[float, float]:
    """(z, C(0)): the correlation of ``evidence`` with ``direction`` against its correlations with the
    direction circularly shifted by at least NULL_EXCLUDE pixels one way or the other, widened by the
    midpoint's own uncertainty (MIDPOINT_SPREAD of ``expected``, what a perfect B copy would give)."""
    spectrum = np.conj(np.fft.rfft2(evidence)) * np.fft.rfft2(direction)
    corr = np.fft.irfft2(spectrum, s=evidence.shape)
    h, w = corr.shape
    dy = np.minimum(np.arange(h), h - np.arange(h))[:, None]
    dx = np.minimum(np.arange(w), w - np.arange(w))[None, :]
    null = corr[(dy >= NULL_EXCLUDE) | (dx >= NULL_EXCLUDE)]
    spread = math.hypot(float(null.std()), MIDPOINT_SPREAD * expected)
    if spread <= 0:
        return 0.0, 0.0
    return float((corr[0, 0] - null.mean()) / spread), float(corr[0, 0])


@dataclass
class _State:
    """What the windows learn from each other: the geometry and the fine time offset."""

    initial: np.ndarray
    sus_size: tuple[int, int]
    sus_mask: np.ndarray  # the suspect's active picture, in its decoded pixels
    fps: float
    estimates: list[np.ndarray] = field(default_factory=list)
    qualities: list[float] = field(default_factory=list)
    offsets: list[int] = field(default_factory=list)
    anchors: list[tuple[float, float]] = field(default_factory=list)  # (cut time by the line, correction)

    def geometry(self) -> np.ndarray:
        if not self.estimates:
            return self.initial
        return np.median(np.stack(self.estimates[-25:]), axis=0)

    def offset(self) -> int:
        return int(np.median(self.offsets[-15:])) if self.offsets else 0


def _normalised_rows(frames: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Frames (n, h, w) at a low resolution, z-scored over ``mask``, flattened: rows for NCC by dot."""
    small = np.stack([cv2.resize(f, (64, 36), interpolation=cv2.INTER_AREA) for f in frames])
    m = cv2.resize(mask, (64, 36), interpolation=cv2.INTER_AREA) > 0.99
    values = small[:, m].astype(np.float32)
    values -= values.mean(axis=1, keepdims=True)
    values /= np.linalg.norm(values, axis=1, keepdims=True) + 1e-6
    return values


@functools.cache
def _projectors(width: int, height: int) -> tuple[np.ndarray, np.ndarray]:
    """Orthogonal projectors onto the fields the mark can take along each axis: a cell's footprint
    (``mark.pattern_field``'s cubic interpolation to PATTERN_W x PATTERN_H, then the packager's bilinear
    scaling to the frame), one column per cell."""

    def footprints(cells: int, pattern: int, size: int) -> np.ndarray:
        unit = np.eye(cells, dtype=np.float32)
        wide = cv2.resize(unit, (pattern, cells), interpolation=cv2.INTER_CUBIC)
        return cv2.resize(wide, (size, cells), interpolation=cv2.INTER_LINEAR).T.astype(np.float64)

    across = footprints(mark.GRID_W, mark.PATTERN_W, width)
    down = footprints(mark.GRID_H, mark.PATTERN_H, height)
    return (
        (across @ np.linalg.pinv(across)).astype(np.float32),
        (down @ np.linalg.pinv(down)).astype(np.float32),
    )


def _cell_projection(field: np.ndarray) -> np.ndarray:
    """``field`` (h, w) projected onto the span of the mark's cells: the measured ``(B - A) / 2`` keeps the
    pattern and loses most of the encoding noise the two variants' separate encodes left in it (576
    cells against 36,864 pixels), noise that the suspect's residual could share."""
    across, down = _projectors(field.shape[1], field.shape[0])
    return (down @ field @ across.T).astype(np.float32)


def _nearest(times: np.ndarray, targets: np.ndarray, tolerance: float) -> tuple[np.ndarray, np.ndarray]:
    """For each target, the index of the nearest of ``times`` (ascending), and whether it is within
    ``tolerance``."""
    right = np.clip(np.searchsorted(times, targets), 0, len(times) - 1)
    left = np.clip(right - 1, 0, len(times) - 1)
    index = np.where(np.abs(times[left] - targets) <= np.abs(times[right] - targets), left, right)
    return index, np.abs(times[index] - targets) <= tolerance


def _measure(
    index: int, cut_times: np.ndarray, frames: list[np.ndarray], reference: Reference, state: _State
) -> SegmentDecision | None:
    try:
        ref_times, var_a, var_b = reference.window(index)
    except ValueError:  # the reference has no frame for this window (a cut's short last segment)
        return None
    if len(ref_times) == 0 or var_a.shape != var_b.shape or var_a.ndim != 3:
        return None
    _, h, w = var_a.shape
    mids = (var_a + var_b) * 0.5
    pattern = ((var_b - var_a) * 0.5).mean(axis=0)
    suspect = np.stack(frames).astype(np.float32)
    period = 1.0 / state.fps

    # Geometry: ECC between the window's mean pictures, checked against the running estimate.
    inside = (cut_times >= ref_times[0] - period) & (cut_times <= ref_times[-1] + period)
    running = state.geometry()
    found = None
    if inside.sum() >= 2:
        found = align.register(
            mids.mean(axis=0),
            suspect[inside].mean(axis=0),
            running,
            image_mask=state.sus_mask,
            levels=3 if not state.estimates else 2,
        )
    geometry = running
    if found is not None and found[1] >= RHO_MIN:
        limit = max(3.0, 0.04 * state.sus_size[0])
        if not state.estimates or align.corner_shift(found[0], running, (w, h)) <= limit:
            geometry = found[0]
            state.estimates.append(found[0])
            state.qualities.append(found[1])
    flags = cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP
    mask = cv2.warpPerspective(state.sus_mask, geometry, (w, h), flags=flags, borderValue=0)
    mask = cv2.erode((mask > 0.99).astype(np.uint8), np.ones((5, 5), np.uint8)).astype(np.float32)
    if mask.sum() < 0.2 * w * h:
        return None
    warped = np.stack([cv2.warpPerspective(f, geometry, (w, h), flags=flags) for f in suspect])

    # Time: one offset for the window (a few frames either way), then each frame's best neighbour.
    sim = _normalised_rows(warped, mask) @ _normalised_rows(mids, mask).T  # (suspect, cut)
    best: tuple[float, int] | None = None
    base = state.offset()
    for delta in range(base - SEARCH_FRAMES, base + SEARCH_FRAMES + 1):
        nearest, ok = _nearest(ref_times, cut_times + delta * period, 0.6 * period)
        if ok.sum() >= min(3, len(ref_times)):
            score = float(sim[np.flatnonzero(ok), nearest[ok]].mean()) - 1e-4 * abs(delta - base)
            if best is None or score > best[0]:
                best = (score, delta)
    if best is None:
        return None
    state.offsets.append(best[1])
    state.anchors.append((float(cut_times.mean()), best[1] * period))
    nearest, ok = _nearest(ref_times, cut_times + best[1] * period, 0.6 * period)
    chosen: list[tuple[int, int]] = []
    for row in (int(i) for i in np.flatnonzero(ok)):
        centre = int(nearest[row])
        near = [k for k in (centre - 1, centre, centre + 1) if 0 <= k < len(ref_times)]
        chosen.append((row, max(near, key=lambda k: float(sim[row, k]))))
    if not chosen:
        return None

    # Tone: one monotone curve for the window.
    picks = np.array(chosen)
    stride = 3
    sel = mask[::stride, ::stride] > 0
    cut_px = mids[picks[:, 1]][:, ::stride, ::stride][:, sel]
    sus_px = warped[picks[:, 0]][:, ::stride, ::stride][:, sel]
    curve = align.ToneCurve.fit(cut_px.ravel(), sus_px.ravel())

    # Evidence: slope-scaled, variance-weighted, band-passed residuals, summed over the frames.
    values, slopes = curve.tables()
    total = np.zeros((h, w), np.float32)
    energy = np.zeros((h, w), np.float32)
    coverage = np.maximum(_blur(mask, SIGMA_VAR), 1e-3)
    for j, k in chosen:
        residual = _band(warped[j] - align.lookup(values, mids[k]), mask)
        variance = _blur(residual * residual, SIGMA_VAR) / coverage
        floor = max(0.05 * float(variance[::4, ::4][mask[::4, ::4] > 0].mean()), 1e-4)
        weight = mask / (variance + floor) * align.lookup(slopes, mids[k])
        total += weight * residual
        energy += weight * align.lookup(slopes, mids[k])
    direction = _band(_cell_projection(pattern), np.ones((h, w), np.float32))
    z, _ = _strength(total, direction, float((energy * direction * direction).sum()))
    return SegmentDecision(index=index, strength=z, frames=len(chosen))


# --- the trace -------------------------------------------------------------------------------------


def _pass1(
    ffmpeg: str, suspect: Path, progress: _Progress
) -> tuple[np.ndarray, np.ndarray, float | None, int]:
    # The first frame of every 1 / THUMB_FPS s, with its own time (the fps filter would retime frames to
    # its ticks and hold the first one back: a bias of a frame or two).
    every = 1.0 / THUMB_FPS
    first_of_span = f"isnan(prev_selected_t)+gt(floor(t/{every:g}),floor(prev_selected_t/{every:g}))"
    vf = f"select='{first_of_span}',scale={PASS1_W}:{PASS1_H}:flags=area,format=gray"
    # Thumbnails need neither the frames nothing refers to nor deblocking: half the decoding work.
    decoder = _Decoder(ffmpeg, suspect, vf, (PASS1_W, PASS1_H), fast=True)
    times: list[float] = []
    thumbs: list[np.ndarray] = []
    try:
        for moment, frame in decoder.frames():
            times.append(moment)
            thumbs.append(frame)
            progress(45 * _share(moment, decoder.duration_s), "decoding")
    finally:
        code = decoder.close()
    stack = np.stack(thumbs) if thumbs else np.zeros((0, PASS1_H, PASS1_W), np.uint8)
    return np.asarray(times, np.float64), stack, decoder.duration_s, code


def _thin(times: np.ndarray, thumbs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The cut's thumbnails on a grid of 1 / THUMB_FPS s (nearest), so any sampling will do."""
    order = np.argsort(times, kind="stable")
    times, thumbs = np.asarray(times, np.float64)[order], thumbs[order]
    count = max(1, int(round((times[-1] - times[0]) * THUMB_FPS)) + 1)
    grid = times[0] + np.arange(count) / THUMB_FPS
    index = np.clip(np.searchsorted(times, grid), 0, len(times) - 1)
    left = np.clip(index - 1, 0, len(times) - 1)
    index = np.where(np.abs(times[left] - grid) < np.abs(times[index] - grid), left, index)
    return grid, thumbs[index]


def _mirror(desc: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(
        desc.reshape(-1, align.DESC_H, align.DESC_W)[:, :, ::-1].reshape(len(desc), -1)
    )


def _even(value: float, low: int, high: int) -> int:
    return int(min(high, max(low, 2 * round(value / 2))))


def _refined(a: float, b: float, anchors: list[tuple[float, float]]) -> tuple[float, float]:
    """The time line corrected by the windows' frame matching: each window says by how much (a whole
    number of frames) the thumbnails' line was off there; a robust line through those corrections
    (a median offset when the windows span less than 6 s)."""
    if not anchors:
        return a, b
    at = np.array([moment for moment, _ in anchors])
    shift = np.array([correction for _, correction in anchors])
    if len(anchors) < 3 or np.ptp(at) < 6.0:
        return a, b + float(np.median(shift))
    slope, offset = np.polyfit(at, shift, 1)
    keep = np.abs(shift - (slope * at + offset)) <= np.median(np.abs(shift - np.median(shift))) * 3 + 0.05
    if keep.sum() >= 3:
        slope, offset = np.polyfit(at[keep], shift[keep], 1)
    # t_cut = c + offset + slope c, with c = a t + b
    return float(a * (1 + slope)), float(b * (1 + slope) + offset)


def _normalised_transform(
    geometry: np.ndarray, ref_size: tuple[int, int], sus_size: tuple[int, int]
) -> tuple[float, ...]:
    def pixels(size: tuple[int, int]) -> np.ndarray:
        return np.array([[size[0], 0, -0.5], [0, size[1], -0.5], [0, 0, 1]], np.float64)

    matrix = np.linalg.inv(pixels(sus_size)) @ geometry @ pixels(ref_size)
    matrix /= matrix[2, 2]
    return tuple(round(float(v), 5) for v in matrix.ravel())


def trace(
    suspect: Path,
    reference: Reference,
    *,
    ffmpeg: str,
    on_progress: Callable[[float, str], None] | None = None,
    should_cancel: Callable[[], bool] | None = None,
) -> Evidence:
    """Read A or B, with a calibrated strength, from every segment window the ``suspect`` file covers.

    Never raises for bad input (a file ffmpeg cannot decode is ``not_video``); raises TraceCancelled
    when ``should_cancel()`` turns true. ``on_progress(percent, stage)`` comes about twice a second."""
    progress = _Progress(on_progress, should_cancel)
    progress(0.0, "decoding", force=True)
    sus_t, sus_thumbs, duration, code = _pass1(ffmpeg, suspect, progress)
    if len(sus_t) == 0:
        return Evidence("not_video", "ffmpeg found no video it could decode in this file.")
    suspect_s = float(sus_t[-1] - sus_t[0] + 1.0 / THUMB_FPS)
    if len(sus_t) < align.PROBE_SAMPLES:
        return Evidence(
            "too_short", f"{suspect_s:.1f} s of video: at least 3 s are needed.", suspect_s=suspect_s
        )

    progress(45.0, "aligning", force=True)
    ref_times, ref_thumbs = reference.timeline()
    ref_t, ref_grid = _thin(np.asarray(ref_times), np.asarray(ref_thumbs))
    ref_box = align.active_box(ref_grid)
    ref_d = align.descriptors(ref_grid, ref_box)
    sus_box = align.active_box(sus_thumbs)
    sus_d = align.descriptors(sus_thumbs, sus_box)

    def tick(share: float) -> None:
        progress(45.0 + 2.5 * share, "aligning")

    fits = []
    for mirrored, desc in ((False, sus_d), (True, _mirror(sus_d))):
        fit = align.fit_time(sus_t, desc, ref_t, ref_d, step=1.0 / THUMB_FPS, tick=tick)
        fits.append((fit.inliers * fit.peak if fit else 0.0, mirrored, fit))
    plain, flipped = fits
    score, mirrored, fit = flipped if flipped[0] > 1.5 * max(plain[0], 1e-9) else plain
    if (
        fit is None
        or fit.inliers < min(3, fit.probes)
        or fit.share < MIN_SHARE
        or fit.peak < MIN_PEAK
        or (fit.margin < MIN_MARGIN and (fit.inliers < CONSENSUS_PROBES or fit.share < CONSENSUS_SHARE))
    ):
        found = (
            f"{fit.inliers} of {fit.probes} probes agree, similarity {fit.peak:.2f}, margin {fit.margin:.2f}"
            if fit
            else "no match"
        )
        return Evidence(
            "not_this_film",
            f"The suspect matches no part of the cut's timeline ({found}).",
            suspect_s=suspect_s,
        )
    if mirrored:
        sus_box = (1 - sus_box[2], sus_box[1], 1 - sus_box[0], sus_box[3])

    start = max(0.0, fit.a * sus_t[0] + fit.b)
    end = min(reference.duration_s, fit.a * (sus_t[-1] + 1.0 / THUMB_FPS) + fit.b)
    covered = max(0.0, end - start)

    # Pass 2: only the windows' frames, at about the working size of the active picture.
    segment = reference.segment_seconds
    window = mark.window_seconds(segment)
    sus_w = _even(WORK_W * (ref_box[2] - ref_box[0]) / (sus_box[2] - sus_box[0]), 32, 4 * WORK_W)
    sus_h = _even(WORK_H * (ref_box[3] - ref_box[1]) / (sus_box[3] - sus_box[1]), 18, 4 * WORK_H)
    lead = MARGIN_S + mark.EDGE_S + 1000 * segment
    when = f"{fit.a:.9f}*t+{fit.b:.6f}"
    select = (
        f"select='lt(mod({when}+{lead:.6f},{segment}),{window + 2 * MARGIN_S:.6f})"
        f"*gte({when},{-MARGIN_S})*lte({when},{reference.duration_s + MARGIN_S:.6f})'"
    )
    flip = ",hflip" if mirrored else ""
    vf = f"{select},scale={sus_w}:{sus_h}:flags=area{flip},format=gray"
    sus_mask = np.zeros((sus_h, sus_w), np.float32)
    x0, y0, x1, y1 = sus_box
    sus_mask[
        int(round(y0 * sus_h)) : int(round(y1 * sus_h)), int(round(x0 * sus_w)) : int(round(x1 * sus_w))
    ] = 1.0
    state = _State(
        initial=align.box_homography(ref_box, (WORK_W, WORK_H), sus_box, (sus_w, sus_h)),
        sus_size=(sus_w, sus_h),
        sus_mask=sus_mask,
        fps=reference.fps if reference.fps > 0 else 24.0,
    )
    decisions: list[SegmentDecision] = []
    progress(50.0, "measuring", force=True)

    def flush(index: int | None, moments: list[float], frames: list[np.ndarray]) -> None:
        if index is None or not 0 <= index < reference.segment_count or not frames:
            return
        decision = _measure(index, np.asarray(moments), frames, reference, state)
        if decision is not None:
            decisions.append(decision)

    decoder = _Decoder(ffmpeg, suspect, vf, (sus_w, sus_h))
    current: int | None = None
    moments: list[float] = []
    frames: list[np.ndarray] = []
    try:
        for moment, frame in decoder.frames():
            progress(50.0 + 50.0 * _share(moment - sus_t[0], suspect_s), "measuring")
            cut_t = fit.a * moment + fit.b
            index = math.floor((cut_t + MARGIN_S + mark.EDGE_S) / segment)
            offset = cut_t + mark.EDGE_S - index * segment
            if not -MARGIN_S <= offset <= window + MARGIN_S:
                continue
            if index != current:
                flush(current, moments, frames)
                current, moments, frames = index, [], []
            moments.append(cut_t)
            frames.append(frame)
        flush(current, moments, frames)
    finally:
        decoder.close()
    progress(100.0, "done", force=True)
    decisions.sort(key=lambda d: d.index)
    geometry = state.geometry()
    fine_a, fine_b = _refined(fit.a, fit.b, state.anchors)
    alignment = Alignment(
        a=round(fine_a, 6),
        b=round(fine_b, 4),
        inlier_share=round(fit.share, 3),
        probes=fit.probes,
        residual_s=round(fit.residual_s, 4),
        mirrored=mirrored,
        transform=_normalised_transform(geometry, (WORK_W, WORK_H), (sus_w, sus_h)),
        quality=round(float(np.median(state.qualities)), 4) if state.qualities else 0.0,
    )
    confident = sum(abs(d.strength) >= 3 for d in decisions)
    detail = (
        f"Aligned at t_cut = {fine_a:.4f} t + {fine_b:.2f} s ({fit.inliers} of {fit.probes} probes agree"
        f"{', mirrored' if mirrored else ''}); {len(decisions)} windows read, {confident} with |z| >= 3."
    )
    return Evidence("aligned", detail, alignment, covered, decisions, suspect_s)


__all__ = [
    "THUMB_FPS",
    "THUMB_H",
    "THUMB_W",
    "WORK_H",
    "WORK_W",
    "Alignment",
    "Evidence",
    "Reference",
    "SegmentDecision",
    "TraceCancelled",
    "trace",
]
