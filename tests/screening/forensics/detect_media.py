"""Test media for the detector: a synthetic marked cut, a Reference over it, leaks and attacks.

The cut is ``SECONDS`` s of 1280x720 at 24 fps from ffmpeg's generators, chosen so that no stretch of it
repeats (a Mandelbrot zoom, drifting gradients, testsrc2's moving parts and clock, a cellular automaton):
texture, motion, flat areas and gradients. One ffmpeg run renders it and writes, with the mark of
``screening.forensics.mark`` in every window: variants A and B at 720p cut into 2 s MPEG-TS segments
(what a grant streams; B full length here for convenience) and at 360p (the rendition the reference
decodes), and the unmarked picture.

A leak is one grant's stream: per segment A or B, the 720p segments joined byte for byte as a player
holds them. Attacks are ffmpeg re-encodes of a leak (all of them in one ffmpeg run).

``python -m tests.screening.forensics.detect_media [folder]`` measures every attack and prints a table
(share of correct confident decisions, mean |z|, trace speed); the folder keeps the media between runs.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from screening.forensics import detect, mark

FPS = 24
SEGMENT_S = 2
SECONDS = 40
WIDTH, HEIGHT = 1280, 720
LOW_W, LOW_H = 640, 360
HIGH_RATE, LOW_RATE = "2800k", "800k"
CONTENT_KEY = bytes(range(32))
QUIET = ["-hide_banner", "-loglevel", "error", "-nostdin", "-y"]


def source_graph(seconds: float) -> str:
    """A lavfi graph ending in ``[src]``: 1280x720, 24 fps, ``seconds`` long, never repeating itself."""
    return (
        f"mandelbrot=s=320x360:r={FPS}:maxiter=120:end_scale=0.02:end_pts={FPS * 40},"
        "scale=640:720,format=yuv420p[m];"
        # every parameter of gradients given: left to itself it draws its points and colours at random
        f"gradients=s=320x180:r={FPS}:speed=0.02:n=4:c0=0x204060:c1=0xd0a080:c2=0x40a040:c3=0xf0f0e0"
        ":x0=40:y0=20:x1=280:y1=160,scale=640:360,format=yuv420p[g];"
        f"testsrc2=s=320x360:r={FPS},format=yuv420p[t];"
        f"cellauto=s=160x180:r={FPS}:rule=110:random_seed=5,scale=320:360:flags=neighbor,format=yuv420p[c];"
        "[t][c]hstack[tc];[g][tc]vstack[r];"
        f"[m][r]hstack,trim=duration={seconds},setpts=PTS-STARTPTS[src]"
    )


def x264(rate: str, preset: str = "veryfast") -> list[str]:
    return ["-c:v", "libx264", "-preset", preset, "-b:v", rate, "-pix_fmt", "yuv420p"]


@dataclass(frozen=True)
class Cut:
    ffmpeg: str
    folder: Path
    seconds: float
    unmarked: Path
    a_low: Path
    b_low: Path

    @property
    def segment_count(self) -> int:
        return -(-int(self.seconds) // SEGMENT_S)

    def segment(self, variant: str, index: int) -> Path:
        """Segment ``index`` of the 720p rendition of ``variant``, an MPEG-TS file as a player gets it."""
        return self.folder / f"{variant}_high_{index:03d}.ts"


def make_cut(ffmpeg: str, folder: Path, seconds: float = SECONDS) -> Cut:
    """Render the cut into ``folder`` (kept if already there): the unmarked picture, A and B at 360p for
    the reference, and A and B at 720p cut into segments at the forced keyframes, as packaging does."""
    folder.mkdir(parents=True, exist_ok=True)
    cut = Cut(ffmpeg, folder, seconds, folder / "unmarked.mp4", folder / "a_low.mp4", folder / "b_low.mp4")
    last = cut.segment_count - 1
    if all(
        p.exists()
        for p in (cut.unmarked, cut.a_low, cut.b_low, cut.segment("a", last), cut.segment("b", last))
    ):
        return cut
    pattern = folder / "pattern.yuv"
    mark.write_pattern_stream(pattern, mark.mark_secret(CONTENT_KEY), cut.segment_count + 2)
    graph = ";".join(
        [
            source_graph(seconds),
            "[src]split=3[u][hi][lo0]",
            f"[lo0]scale={LOW_W}:{LOW_H}:flags=bicubic,split=2[loa][lob]",
            "[hi]split=2[hia][hib]",
            mark.pattern_split("0:v", 4),
            f"[pat0]scale={WIDTH}:{HEIGHT}:flags=bilinear[p0]",
            f"[pat1]scale={WIDTH}:{HEIGHT}:flags=bilinear[p1]",
            f"[pat2]scale={LOW_W}:{LOW_H}:flags=bilinear[p2]",
            f"[pat3]scale={LOW_W}:{LOW_H}:flags=bilinear[p3]",
            "[hia][p0]blend=all_mode=grainextract:shortest=1[a_high]",
            "[hib][p1]blend=all_mode=grainmerge:shortest=1[b_high]",
            "[loa][p2]blend=all_mode=grainextract:shortest=1[a_low]",
            "[lob][p3]blend=all_mode=grainmerge:shortest=1[b_low]",
        ]
    )
    keys = ["-force_key_frames", mark.keyframe_expr(SEGMENT_S), "-g", str(FPS * SEGMENT_S)]
    argv = [ffmpeg, *QUIET, *mark.pattern_input(pattern, SEGMENT_S), "-filter_complex", graph]
    argv += ["-map", "[u]", *x264(HIGH_RATE), str(cut.unmarked)]
    for name in ("a_low", "b_low"):
        argv += ["-map", f"[{name}]", *x264(LOW_RATE), *keys, str(getattr(cut, name))]
    for variant in ("a", "b"):
        argv += ["-map", f"[{variant}_high]", *x264(HIGH_RATE), *keys, "-f", "segment"]
        argv += ["-segment_time", str(SEGMENT_S), "-segment_format", "mpegts"]
        argv += [str(folder / f"{variant}_high_%03d.ts")]
    subprocess.run(argv, check=True)
    return cut


def decode_grey(ffmpeg: str, path: Path, width: int, height: int) -> np.ndarray:
    """Every frame of ``path`` as grey (n, height, width) uint8, area-scaled."""
    argv = [ffmpeg, *QUIET, "-i", str(path), "-vf", f"scale={width}:{height}:flags=area,format=gray"]
    argv += ["-f", "rawvideo", "-pix_fmt", "gray", "pipe:1"]
    data = subprocess.run(argv, check=True, capture_output=True).stdout
    return np.frombuffer(data, np.uint8).reshape(-1, height, width)


@dataclass
class FileReference:
    """``detect.Reference`` over the cut's 360p variants, as the packaged store's reference gives it: a
    thumbnail of every frame of A, and both variants' window frames at the working size."""

    cut: Cut
    fps: float = float(FPS)
    segment_seconds: int = SEGMENT_S
    _frames: dict[str, np.ndarray] = field(default_factory=dict)

    @property
    def segment_count(self) -> int:
        return self.cut.segment_count

    @property
    def duration_s(self) -> float:
        return float(self.cut.seconds)

    def _decoded(self, name: str, width: int, height: int) -> np.ndarray:
        key = f"{name}-{width}x{height}"
        if key not in self._frames:
            self._frames[key] = decode_grey(self.cut.ffmpeg, getattr(self.cut, name), width, height)
        return self._frames[key]

    def timeline(self) -> tuple[np.ndarray, np.ndarray]:
        thumbs = self._decoded("a_low", detect.THUMB_W, detect.THUMB_H)
        return np.arange(len(thumbs)) / self.fps, thumbs

    def window(self, index: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        a = self._decoded("a_low", detect.WORK_W, detect.WORK_H)
        b = self._decoded("b_low", detect.WORK_W, detect.WORK_H)
        times = np.arange(min(len(a), len(b))) / self.fps
        start = index * self.segment_seconds - mark.EDGE_S
        inside = np.flatnonzero(
            (times >= start) & (times < start + mark.window_seconds(self.segment_seconds))
        )
        return times[inside], a[inside].astype(np.float32), b[inside].astype(np.float32)


def choices_for(count: int, seed: int = 7) -> list[int]:
    """A grant's codeword for the test: 1 = B, 0 = A, per segment."""
    return [int(bit) for bit in np.random.default_rng(seed).integers(0, 2, count)]


def make_leak(cut: Cut, choices: Sequence[int], out: Path) -> Path:
    """One grant's stream, byte for byte: segment i of B where ``choices[i]`` is 1, else of A, joined as a
    player's buffer would hold them (MPEG-TS segments concatenate)."""
    if not out.exists():
        with out.open("wb") as leak:
            for index, choice in enumerate(choices):
                leak.write(cut.segment("b" if choice else "a", index).read_bytes())
    return out


@dataclass(frozen=True)
class Attack:
    name: str
    vf: str = ""
    trim: tuple[str, ...] = ()  # filters that cut an excerpt (run before ``vf``)
    # x264's fastest preset: an attack's encode only has to be one more generation of loss (it is
    # worse than veryfast's at the same rate), and the tests make eight of them
    codec: tuple[str, ...] = tuple(x264(HIGH_RATE, "ultrafast"))
    start_s: float = 0.0  # where the attacked copy starts on the cut's timeline
    speed: float = 1.0  # t_cut = speed * t_suspect + start_s


EXCERPT = ("trim=start=12:duration=16", "setpts=PTS-STARTPTS")
BENCHMARK = (
    Attack("recording"),
    Attack("quarter_bitrate", codec=tuple(x264("700k"))),
    Attack("downscale_360p", vf="scale=640:360"),
    Attack("crop_4pct", vf="crop=iw*0.96:ih*0.96,scale=1280:720"),
    Attack("tone", vf="eq=brightness=0.06:contrast=1.2:gamma=1.3"),
    Attack("excerpt", trim=EXCERPT, start_s=12.0),
    Attack("fps25", vf="fps=25"),
    Attack(
        "combined",
        vf="crop=iw*0.96:ih*0.96,scale=640:360,eq=brightness=0.06:contrast=1.2:gamma=1.3,fps=25",
        trim=EXCERPT,
        codec=tuple(x264("700k")),
        start_s=12.0,
    ),
)
EXTRA = (
    Attack("mpeg4", codec=("-c:v", "mpeg4", "-q:v", "8")),
    Attack("vp9", codec=("-c:v", "libvpx-vp9", "-b:v", "700k", "-deadline", "realtime", "-cpu-used", "8")),
    Attack("noise", vf="noise=alls=12:allf=t"),
    Attack("blur", vf="gblur=sigma=3"),
    Attack("rotate_1deg", vf="rotate=1*PI/180:ow=iw:oh=ih,crop=iw*0.96:ih*0.96,scale=1280:720"),
    Attack("perspective", vf="perspective=x0=20:y0=10:x1=W-10:y1=0:x2=0:y2=H-5:x3=W-30:y3=H-20"),
    Attack("letterbox", vf="scale=960:540,pad=960:720:0:90"),
    Attack("speed_3pct", vf="setpts=PTS/1.03", speed=1.03),
    Attack("mirror", vf="hflip"),
    Attack("pal_speedup", vf="setpts=PTS*24/25,fps=25", speed=25 / 24),
    Attack(
        "hevc",
        codec=("-c:v", "libx265", "-preset", "ultrafast", "-b:v", "700k", "-x265-params", "log-level=0"),
    ),
)


def attacks(cut: Cut, leak: Path, hows: Sequence[Attack], folder: Path) -> dict[str, Path]:
    """Each attack's copy of ``leak`` (``folder/<name>.mkv``), made by one ffmpeg run for all of them."""
    paths = {how.name: folder / f"{how.name}.mkv" for how in hows}
    todo = [how for how in hows if not paths[how.name].exists()]
    if todo:
        parts = [f"[0:v]split={len(todo)}" + "".join(f"[in{i}]" for i in range(len(todo)))]
        for i, how in enumerate(todo):
            filters = [*how.trim, *([how.vf] if how.vf else [])]
            parts.append(f"[in{i}]{','.join(filters) or 'null'}[out{i}]")
        argv = [cut.ffmpeg, *QUIET, "-i", str(leak), "-filter_complex", ";".join(parts)]
        for i, how in enumerate(todo):
            argv += ["-map", f"[out{i}]", *how.codec, str(paths[how.name])]
        subprocess.run(argv, check=True)
    return paths


@dataclass(frozen=True)
class Score:
    windows: int
    confident: int
    correct: int
    mean_abs_z: float

    @property
    def accuracy(self) -> float:
        return self.correct / self.confident if self.confident else 0.0


def score(evidence: detect.Evidence, choices: Sequence[int]) -> Score:
    confident = [d for d in evidence.decisions if abs(d.strength) >= 3]
    correct = sum((d.strength > 0) == bool(choices[d.index]) for d in confident)
    mean = float(np.mean([abs(d.strength) for d in evidence.decisions])) if evidence.decisions else 0.0
    return Score(len(evidence.decisions), len(confident), correct, mean)


def main(folder: Path) -> None:  # pragma: no cover - a measuring tool, not a test
    from screening.media.binary import ffmpeg_binary

    ffmpeg = ffmpeg_binary()
    cut = make_cut(ffmpeg, folder)
    reference = FileReference(cut)
    reference.timeline()
    choices = choices_for(cut.segment_count)
    leak = make_leak(cut, choices, folder / "leak.ts")
    copies = {"stream": leak, **attacks(cut, leak, (*BENCHMARK, *EXTRA), folder), "unmarked": cut.unmarked}
    print(
        f"{'copy':16} {'windows':>7} {'conf':>5} {'correct':>8} {'mean|z|':>8} {'a':>7} {'b':>7} {'x rt':>6}"
    )
    for name, path in copies.items():
        begun = time.monotonic()
        evidence = detect.trace(path, reference, ffmpeg=ffmpeg)
        spent = time.monotonic() - begun
        result = score(evidence, choices)
        if evidence.alignment is None:
            print(f"{name:16} {evidence.status}: {evidence.detail}")
            continue
        print(
            f"{name:16} {result.windows:7} {result.confident:5} {result.correct:>3}/{result.confident:<4} "
            f"{result.mean_abs_z:8.1f} {evidence.alignment.a:7.4f} {evidence.alignment.b:7.3f} "
            f"{evidence.suspect_s / spent:6.1f}"
        )


if __name__ == "__main__":  # pragma: no cover
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path(tempfile.gettempdir()) / "detect-media")
