"""Putting a suspect copy back on the cut: when (time), where (picture geometry) and how bright (tone).

``detect`` reads the mark by subtracting the cut from the suspect, so the two must first be brought into
register; the mark itself is a faint low-frequency pattern that says nothing about where it is. This
module holds the pure numpy/OpenCV steps, each robust by construction rather than tuned to one attack:

* ``active_box``: the part of the picture that changes over time. Letterbox or pillarbox bars added by a
  re-encode (or present in the cut) are constant, so they are left out before anything is compared.
* ``descriptors``: a 16x9 grid of the active picture, rank-transformed (the ranks of grey levels do not
  change under any monotone tone change: brightness, contrast, gamma, a camera's curve), centre-weighted
  (crops and overlays hit the edges) and normalised. Small enough to compare a whole film in seconds.
* ``fit_time``: short sequences of suspect descriptors (probes of 3 s) are matched against every position
  of the cut, under a few playback speeds; each probe votes for a (suspect time, cut time) pair weighted by
  how far its best match stands out from all the others. A robust line ``t_cut = a t_suspect + b`` through
  the votes (RANSAC, then weighted least squares on the inliers) gives the offset of an excerpt and any
  speed change; a different film gives votes that agree on no line.
* ``register``: the homography taking the cut's working frame to the suspect's, by OpenCV's ECC
  (maximises the correlation coefficient, so it ignores gain and offset) from coarse to fine, started
  from the bars' geometry or from the previous windows' estimate.
* ``ToneCurve``: the suspect's grey level as a monotone function of the cut's, fitted per window from binned
  means and isotonic regression; its slope says how much of the mark's amplitude a tone change left.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np

DESC_W, DESC_H = 16, 9
DESC_MARGIN = 0.06  # the descriptor grid leaves this share of the active picture out on each side
FLAT_STD = 1.0  # a thumbnail whose grid varies less than this (grey levels) is blank: no descriptor
PROBE_SAMPLES = 12  # a probe: 12 consecutive samples (3 s at 4 per second)
SPEEDS = (1.0, 24 / 25, 25 / 24, 0.92, 1.08)  # playback speeds tried by the probes (suspect -> cut)
SPEED_RANGE = (0.85, 1.15)  # the line's slope is looked for within this range
INLIER_TOL_S = 0.35  # a vote agrees with a line when it falls this close to it (seconds of the cut)
MIN_PEAK = 0.5  # a probe whose best similarity is below this does not vote (another film reaches ~0.3)
MAX_PROBES = 1500  # longer suspects take probes further apart

Box = tuple[float, float, float, float]  # x0, y0, x1, y1 as shares of the frame's width and height
FULL_BOX: Box = (0.0, 0.0, 1.0, 1.0)


def active_box(frames: np.ndarray, threshold: float = 2.0) -> Box:
    """The bounding box of the pixels that change over ``frames`` (n, h, w), as shares of the frame.

    Bars are constant, whatever their colour; a still suspect, or one where nothing seems to move, keeps
    the whole frame. A side is trimmed by at most 35 %: beyond that it is content that happens to be still.
    """
    if len(frames) < 4:
        return FULL_BOX
    step = max(1, len(frames) // 1500)
    sample = frames[::step].astype(np.float32)
    spread = sample.std(axis=0)
    _, h, w = sample.shape
    rows = np.flatnonzero(np.percentile(spread, 75, axis=1) > threshold)
    cols = np.flatnonzero(np.percentile(spread, 75, axis=0) > threshold)
    if len(rows) < h // 3 or len(cols) < w // 3:
        return FULL_BOX
    x0, x1 = cols[0] / w, (cols[-1] + 1) / w
    y0, y1 = rows[0] / h, (rows[-1] + 1) / h
    x0, y0 = (v if v <= 0.35 else 0.0 for v in (x0, y0))
    x1, y1 = (v if v >= 0.65 else 1.0 for v in (x1, y1))
    return (float(x0), float(y0), float(x1), float(y1))


def _grid_maps(box: Box, width: int, height: int) -> tuple[np.ndarray, np.ndarray, float]:
    x0, y0, x1, y1 = box
    inner = 1 - 2 * DESC_MARGIN
    u = x0 + (x1 - x0) * (DESC_MARGIN + inner * (np.arange(DESC_W) + 0.5) / DESC_W)
    v = y0 + (y1 - y0) * (DESC_MARGIN + inner * (np.arange(DESC_H) + 0.5) / DESC_H)
    map_x, map_y = np.meshgrid(u * width - 0.5, v * height - 0.5)
    sigma = 0.5 * max((x1 - x0) * inner * width / DESC_W, (y1 - y0) * inner * height / DESC_H)
    return map_x.astype(np.float32), map_y.astype(np.float32), float(sigma)


_CENTRE = np.outer(np.hanning(DESC_H + 2)[1:-1], np.hanning(DESC_W + 2)[1:-1]) ** 0.5
_CENTRE_WEIGHT = (0.35 + 0.65 * _CENTRE / _CENTRE.max()).ravel().astype(np.float32)


def descriptors(frames: np.ndarray, box: Box = FULL_BOX) -> np.ndarray:
    """Unit-norm descriptors (n, DESC_H * DESC_W) float32 of grey thumbnails ``frames`` (n, h, w).

    A blank thumbnail (black, a flat card) gets a zero descriptor: it matches nothing, rather than every
    other blank frame. Ties in a thumbnail share their mean rank for the same reason.
    """
    n, h, w = frames.shape
    out = np.zeros((n, DESC_H * DESC_W), np.float32)
    if n == 0:
        return out
    map_x, map_y, sigma = _grid_maps(box, w, h)
    chunk = 128  # OpenCV filters up to 128 channels at once: the frames of a chunk are its channels
    for start in range(0, n, chunk):
        block: np.ndarray = np.ascontiguousarray(frames[start : start + chunk].transpose(1, 2, 0), np.float32)
        if sigma > 0.6:
            block = cv2.GaussianBlur(block, (0, 0), sigma, borderType=cv2.BORDER_REFLECT)
        grid = cv2.remap(block, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
        grid = grid.reshape(DESC_H * DESC_W, -1).T
        for row, values in enumerate(grid):
            if values.std() < FLAT_STD:
                continue
            ordered = np.sort(values)
            ranks = np.searchsorted(ordered, values, "left") + np.searchsorted(ordered, values, "right")
            vector = (ranks.astype(np.float32) - ranks.mean()) * _CENTRE_WEIGHT
            vector -= vector.mean()
            norm = float(np.linalg.norm(vector))
            if norm > 0:
                out[start + row] = vector / norm
    return out


@dataclass(frozen=True)
class TimeFit:
    """``t_cut = a * t_suspect + b`` and how well the suspect's probes agree with it."""

    a: float
    b: float
    probes: int  # probes with a picture (blank ones do not vote)
    inliers: int  # voting probes whose best match lies on the line
    residual_s: float  # RMS distance of the inliers' votes from the line
    peak: float  # median, over the inliers, of the probe's best similarity (1: identical pictures)
    margin: float  # median, over the inliers, of how far that best match stands above the next best

    @property
    def share(self) -> float:
        return self.inliers / self.probes if self.probes else 0.0


@dataclass(frozen=True)
class _Votes:
    t_suspect: np.ndarray
    t_cut: np.ndarray
    peak: np.ndarray
    margin: np.ndarray
    speed: np.ndarray
    probes: int

    @property
    def weight(self) -> np.ndarray:
        return np.where(self.peak >= MIN_PEAK, np.clip(self.margin, 0.0, 1.0), 0.0)


def _uniform(times: np.ndarray, desc: np.ndarray, step: float) -> tuple[float, np.ndarray]:
    """``desc`` resampled (nearest) to a grid of ``step`` seconds from ``times[0]``."""
    count = max(1, int(round((times[-1] - times[0]) / step)) + 1)
    grid = times[0] + step * np.arange(count)
    index = np.clip(np.searchsorted(times, grid), 1, len(times) - 1)
    nearer_left = (grid - times[index - 1]) < (times[index] - grid)
    index = np.where(nearer_left, index - 1, index)
    return float(times[0]), desc[index]


def _centred(desc: np.ndarray, mean: np.ndarray) -> np.ndarray:
    """Descriptors less the cut's mean descriptor, renormalised: what every frame of the film shares (a
    fixed layout, a logo, a vignette) would otherwise make every position look alike."""
    live = np.abs(desc).sum(axis=1) > 0
    out = np.where(live[:, None], desc - mean, 0.0)
    norm = np.linalg.norm(out, axis=1, keepdims=True)
    return (out / np.maximum(norm, 1e-6)).astype(np.float32)


def _votes(
    sus_t: np.ndarray,
    sus_d: np.ndarray,
    ref_start: float,
    ref_d: np.ndarray,
    step: float,
    tick: Callable[[float], None],
) -> _Votes:
    length = PROBE_SAMPLES
    n_sus, n_ref = len(sus_d), len(ref_d)
    starts_all = np.arange(0, n_sus - length + 1)
    stride = max(2, int(np.ceil(len(starts_all) / MAX_PROBES)))
    starts = starts_all[::stride]
    # Probes whose samples are mostly blank cannot vote.
    live = (np.abs(sus_d).sum(axis=1) > 0).astype(np.float32)
    liveness = np.convolve(live, np.ones(length), "valid")[starts] / length
    starts = starts[liveness >= 0.5]
    offsets = {a: np.round(np.arange(length) * a).astype(int) for a in SPEEDS}
    span = int(max(o[-1] for o in offsets.values()))
    usable = n_ref - span
    if usable < 4 or len(starts) == 0:
        empty = np.zeros(0)
        return _Votes(empty, empty, empty, empty, empty, probes=int(len(starts)))
    positions = np.arange(usable)
    ts, tc, peaks, margins, sp = [], [], [], [], []
    block = max(1, min(256, int(2e7 // max(1, n_ref * 4))))
    for first in range(0, len(starts), block):
        group = starts[first : first + block]
        count = len(group)
        row0 = int(group[0])
        sim = sus_d[row0 : int(group[-1]) + length] @ ref_d.T  # cosine similarity of every sample pair
        local = group - row0
        best_p = np.full(count, -np.inf)
        best_q = np.zeros(count)
        best_j = np.zeros(count)
        best_a = np.ones(count)
        for a, offs in offsets.items():
            score = np.zeros((count, usable), np.float32)
            for k in range(length):
                score += sim[local + k, offs[k] : offs[k] + usable]
            score /= length
            peak = np.argmax(score, axis=1)
            rows = np.arange(count)
            p = score[rows, peak]
            far = np.abs(positions[None, :] - peak[:, None]) > length
            q = np.where(far, score, -1.0).max(axis=1)
            # sub-sample peak by a parabola through the peak and its neighbours
            left = score[rows, np.clip(peak - 1, 0, usable - 1)]
            right = score[rows, np.clip(peak + 1, 0, usable - 1)]
            curve = left - 2 * p + right
            shift = np.where(curve < 0, 0.5 * (left - right) / np.where(curve < 0, curve, -1), 0.0)
            better = p > best_p
            best_p = np.where(better, p, best_p)
            best_q = np.where(better, q, best_q)
            best_j = np.where(better, peak + np.clip(shift, -0.5, 0.5), best_j)
            best_a = np.where(better, a, best_a)
        centre_k = (length - 1) / 2
        ts.append((sus_t[group] + sus_t[group + length - 1]) / 2)
        tc.append(ref_start + (best_j + centre_k * best_a) * step)
        peaks.append(best_p)
        margins.append(best_p - best_q)
        sp.append(best_a)
        tick(min(1.0, (first + block) / len(starts)))
    return _Votes(
        np.concatenate(ts),
        np.concatenate(tc),
        np.concatenate(peaks),
        np.concatenate(margins),
        np.concatenate(sp),
        len(starts),
    )


def _line(votes: _Votes, rng: np.random.Generator) -> TimeFit | None:
    t_s, t_c = votes.t_suspect, votes.t_cut
    weight = votes.weight
    if len(t_s) == 0 or weight.max() <= 0:
        return None
    hypotheses: list[tuple[float, float]] = []
    strong = np.flatnonzero(weight > 0)
    for i in strong[np.argsort(-weight[strong])][:200]:
        for a in {float(votes.speed[i]), *SPEEDS}:
            hypotheses.append((a, float(t_c[i] - a * t_s[i])))
    if len(strong) >= 2:
        pairs = rng.integers(0, len(strong), size=(3000, 2))
        i, j = strong[pairs[:, 0]], strong[pairs[:, 1]]
        far = np.abs(t_s[j] - t_s[i]) > 5.0
        i, j = i[far], j[far]
        a = (t_c[j] - t_c[i]) / (t_s[j] - t_s[i])
        ok = (a > SPEED_RANGE[0]) & (a < SPEED_RANGE[1])
        hypotheses += [(float(x), float(y)) for x, y in zip(a[ok], (t_c[i] - a * t_s[i])[ok], strict=True)]
    hyp = np.asarray(hypotheses)
    scores = np.zeros(len(hyp))
    for first in range(0, len(hyp), 512):
        part = hyp[first : first + 512]
        resid = np.abs(t_c[None, :] - (part[:, :1] * t_s[None, :] + part[:, 1:]))
        # MSAC: a vote counts less the further it falls from the line, so among lines that take the same
        # votes the one through their middle wins (a 16 s excerpt fits a 4 % slope within the tolerance)
        kernel = np.clip(1.0 - (resid / INLIER_TOL_S) ** 2, 0.0, None)
        scores[first : first + 512] = (kernel * weight[None, :]).sum(axis=1)
    a, b = hyp[int(np.argmax(scores))]
    for _ in range(4):
        w = weight * (np.abs(t_c - (a * t_s + b)) < INLIER_TOL_S)
        if w.sum() <= 0:
            return None
        mean_s, mean_c = np.average(t_s, weights=w), np.average(t_c, weights=w)
        spread = np.average((t_s - mean_s) ** 2, weights=w)
        if spread > 9.0:  # the inliers span enough time (about 10 s) to measure the slope
            a = float(np.clip(np.average((t_s - mean_s) * (t_c - mean_c), weights=w) / spread, *SPEED_RANGE))
        b = float(mean_c - a * mean_s)
    inl = (np.abs(t_c - (a * t_s + b)) < INLIER_TOL_S) & (weight > 0)
    if not inl.any():
        return None
    return TimeFit(
        a=float(a),
        b=float(b),
        probes=votes.probes,
        inliers=int(inl.sum()),
        residual_s=float(np.sqrt(np.mean((t_c[inl] - (a * t_s[inl] + b)) ** 2))),
        peak=float(np.median(votes.peak[inl])),
        margin=float(np.median(votes.margin[inl])),
    )


def fit_time(
    sus_t: np.ndarray,
    sus_d: np.ndarray,
    ref_t: np.ndarray,
    ref_d: np.ndarray,
    *,
    step: float,
    tick: Callable[[float], None] = lambda share: None,
) -> TimeFit | None:
    """The line ``t_cut = a t_suspect + b`` best supported by the suspect's probes, or None.

    ``sus_t``/``sus_d``: the suspect's sample times (one every ``step`` s) and descriptors;
    ``ref_t``/``ref_d``: the cut's (any sampling; resampled to ``step``). ``tick(share)`` reports progress.
    """
    if len(sus_d) < PROBE_SAMPLES or len(ref_d) < PROBE_SAMPLES:
        return None
    ref_start, ref_grid = _uniform(ref_t, ref_d, step)
    live = np.abs(ref_grid).sum(axis=1) > 0
    mean = ref_grid[live].mean(axis=0) if live.any() else np.zeros(ref_grid.shape[1], np.float32)
    votes = _votes(sus_t, _centred(sus_d, mean), ref_start, _centred(ref_grid, mean), step, tick)
    return _line(votes, np.random.default_rng(0))


# --- geometry --------------------------------------------------------------------------------------


def box_homography(
    ref_box: Box, ref_size: tuple[int, int], sus_box: Box, sus_size: tuple[int, int]
) -> np.ndarray:
    """The 3x3 map from the cut's working pixels to the suspect's that takes one active box onto the other
    (pixel centres at integers, as OpenCV has them)."""
    (rw, rh), (sw, sh) = ref_size, sus_size
    sx = (sus_box[2] - sus_box[0]) * sw / ((ref_box[2] - ref_box[0]) * rw)
    sy = (sus_box[3] - sus_box[1]) * sh / ((ref_box[3] - ref_box[1]) * rh)
    # x_s + 0.5 = sus_x0 * sw + ((x_r + 0.5) - ref_x0 * rw) * sx
    tx = sus_box[0] * sw - 0.5 + (0.5 - ref_box[0] * rw) * sx
    ty = sus_box[1] * sh - 0.5 + (0.5 - ref_box[1] * rh) * sy
    return np.array([[sx, 0.0, tx], [0.0, sy, ty], [0.0, 0.0, 1.0]])


def _level(matrix: np.ndarray, scale: float) -> np.ndarray:
    """``matrix`` (full resolution, both sides) expressed at a pyramid level ``scale`` of both images."""
    s = np.array([[scale, 0, 0.5 * scale - 0.5], [0, scale, 0.5 * scale - 0.5], [0, 0, 1]])
    return s @ matrix @ np.linalg.inv(s)


def _prepare(image: np.ndarray, scale: float) -> np.ndarray:
    if scale != 1.0:
        size = (max(8, int(round(image.shape[1] * scale))), max(8, int(round(image.shape[0] * scale))))
        image = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
    image = image.astype(np.float32)
    return (image - image.mean()) / (image.std() + 1e-3)


def register(
    template: np.ndarray,
    image: np.ndarray,
    init: np.ndarray,
    *,
    image_mask: np.ndarray | None = None,
    levels: int = 2,
    homography: bool = True,
) -> tuple[np.ndarray, float] | None:
    """The homography (3x3) mapping ``template`` pixels onto ``image`` pixels, refined from ``init`` by ECC
    coarse to fine (affine on the coarse levels, full homography last), and its correlation coefficient;
    None when ECC does not converge (a blank or featureless picture). ``image_mask`` (the image's size,
    1 = picture) leaves bars out."""
    matrix = init.astype(np.float64) / init[2, 2]
    rho = 0.0
    criteria = (cv2.TERM_CRITERIA_COUNT | cv2.TERM_CRITERIA_EPS, 60, 1e-5)
    plan = [(0.5**level, cv2.MOTION_AFFINE) for level in range(levels - 1, -1, -1)]
    if homography:
        plan.append((1.0, cv2.MOTION_HOMOGRAPHY))
    for scale, motion in plan:
        t = _prepare(template, scale)
        im = _prepare(image, scale)
        # OpenCV's mask is the input image's: which of its pixels are picture (not bars)
        valid: np.ndarray = np.full(im.shape, 255, np.uint8)
        if image_mask is not None:
            size = (im.shape[1], im.shape[0])
            picture = cv2.resize(image_mask.astype(np.float32), size, interpolation=cv2.INTER_AREA) > 0.99
            valid = picture.astype(np.uint8) * 255
        warp = _level(matrix, scale)
        if motion == cv2.MOTION_AFFINE:
            warp = warp / warp[2, 2]
            start = np.ascontiguousarray(warp[:2], np.float32)
        else:
            start = np.ascontiguousarray(warp, np.float32)
        try:
            rho, found = cv2.findTransformECC(t, im, start, motion, criteria, valid, 3)
        except cv2.error:
            return None
        full = np.vstack([found, [0, 0, 1]]) if motion == cv2.MOTION_AFFINE else found.astype(np.float64)
        matrix = _level(full.astype(np.float64), 1 / scale)
        matrix /= matrix[2, 2]
    return matrix, float(rho)


def corner_shift(first: np.ndarray, second: np.ndarray, size: tuple[int, int]) -> float:
    """The largest distance (pixels of the suspect) between where two homographies put the corners of a
    ``size`` frame: how different two geometric estimates are, in terms that matter."""
    w, h = size
    corners = np.array([[0, 0, 1], [w - 1, 0, 1], [0, h - 1, 1], [w - 1, h - 1, 1]], np.float64).T
    p, q = first @ corners, second @ corners
    return float(np.max(np.hypot(*(p[:2] / p[2] - q[:2] / q[2]))))


# --- tone ------------------------------------------------------------------------------------------


def _isotonic(values: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Weighted least-squares non-decreasing fit (pool adjacent violators)."""
    blocks: list[list[float]] = []  # [mean, weight, count]
    for value, weight in zip(values, weights, strict=True):
        blocks.append([float(value), float(weight), 1])
        while len(blocks) > 1 and blocks[-2][0] > blocks[-1][0]:
            v2, w2, c2 = blocks.pop()
            v1, w1, c1 = blocks.pop()
            total = w1 + w2
            blocks.append([(v1 * w1 + v2 * w2) / total if total > 0 else (v1 + v2) / 2, total, c1 + c2])
    return np.concatenate([np.full(int(c), v) for v, _, c in blocks])


@dataclass(frozen=True)
class ToneCurve:
    """A monotone map from the cut's grey levels to the suspect's, with its slope."""

    levels: np.ndarray  # bin centres on the cut's scale
    values: np.ndarray  # the suspect's grey level there
    slopes: np.ndarray

    @classmethod
    def fit(cls, cut: np.ndarray, suspect: np.ndarray, bins: int = 32) -> ToneCurve:
        index = np.clip((cut * (bins / 256.0)).astype(int), 0, bins - 1)
        count = np.bincount(index, minlength=bins).astype(np.float64)
        total = np.bincount(index, weights=suspect, minlength=bins)
        centre_sum = np.bincount(index, weights=cut, minlength=bins)
        present = count >= 20
        if present.sum() < 2:
            gain = float(np.std(suspect) / (np.std(cut) + 1e-6)) if cut.size else 1.0
            levels = np.array([0.0, 255.0])
            offset = float(np.mean(suspect) - gain * np.mean(cut)) if cut.size else 0.0
            return cls(levels, offset + gain * levels, np.array([gain, gain]))
        levels = (centre_sum[present] / count[present]).astype(np.float64)
        means = _isotonic(total[present] / count[present], count[present])
        # slope between neighbouring bins, smoothed; an isolated level gets its neighbours' slope
        if len(levels) == 2:
            slope = np.full(2, (means[1] - means[0]) / max(levels[1] - levels[0], 1e-3))
        else:
            slope = np.gradient(means, levels)
            slope = np.convolve(np.pad(slope, 1, mode="edge"), [0.25, 0.5, 0.25], "valid")
        return cls(levels, means, np.clip(slope, 0.0, None))

    def tables(self, steps: int = 4) -> tuple[np.ndarray, np.ndarray]:
        """The curve and its slope tabulated every ``1 / steps`` grey level over 0..256 (``lookup``)."""
        grid = np.arange(256 * steps + 1) / steps
        return (
            np.interp(grid, self.levels, self.values).astype(np.float32),
            np.interp(grid, self.levels, self.slopes).astype(np.float32),
        )


def lookup(table: np.ndarray, cut: np.ndarray, steps: int = 4) -> np.ndarray:
    """``table`` (from ``ToneCurve.tables``) at the grey levels ``cut``: far cheaper than ``np.interp``."""
    index = np.clip((cut * steps + 0.5).astype(np.int32), 0, len(table) - 1)
    return table[index]
