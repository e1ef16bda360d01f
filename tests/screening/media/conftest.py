"""Short generated clips (ffmpeg testsrc2 plus a sine tone) and their packaged ladders, made once per worker.

No database: everything under test here is plain Python around ffmpeg.

Each clip is packaged once, under a fixed content key: the ladder (both variants, x264 is deterministic)
and so the mark's measurements are the same on every run. While it is packaged, every ffmpeg run is
watched (``Packaged.runs``): its command line, and every file in the private folder it works in, read
for key material before and after it ran; the unencrypted folder ffmpeg wrote is copied out before
``package_hls`` removes it (``Packaged.plain``), for the splicing tests.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import av
import pytest

from screening.forensics import mark
from screening.media import package as package_module
from screening.media.binary import ffmpeg_binary
from screening.media.ladder import plan_ladder
from screening.media.package import PackageResult, package_hls
from screening.media.probe import ProbeResult, probe
from screening.media.runner import ProgressBlock

CLIP_SECONDS = 8
CLIP_FPS = 25
NTSC_FPS = "30000/1001"
NTSC_SECONDS = 5.3  # not a whole number of 2-s segments: the last one lasts 1.3 s
SEGMENT_SECONDS = 2  # package_hls's default


def make_clip(
    ffmpeg: str,
    path: Path,
    *,
    width: int,
    height: int,
    seconds: float = CLIP_SECONDS,
    fps: int | str = CLIP_FPS,
    audio: bool = True,
    extra: tuple[str, ...] = (),
) -> Path:
    """An H.264 (+ AAC tone) clip of the testsrc2 pattern, small and quick to make. ``fps`` may be a
    fraction as ffmpeg writes it (``"30000/1001"``)."""
    argv = [ffmpeg, "-hide_banner", "-loglevel", "error", "-nostdin", "-y"]
    argv += ["-f", "lavfi", "-i", f"testsrc2=size={width}x{height}:rate={fps}:duration={seconds}"]
    if audio:
        argv += ["-f", "lavfi", "-i", f"sine=frequency=440:sample_rate=48000:duration={seconds}"]
    argv += ["-c:v", "libx264", "-preset", "ultrafast", "-crf", "30", "-pix_fmt", "yuv420p", *extra]
    if audio:
        argv += ["-c:a", "aac", "-b:a", "64k"]
    subprocess.run([*argv, str(path)], check=True)
    return path


def probe_clip(path: Path) -> ProbeResult:
    return probe(path, max_duration_s=3600, max_bytes=10**10)


def fixed_key(name: str) -> bytes:
    """A content key of 16 bytes that is the same on every run (for ``name``)."""
    return hashlib.sha256(b"test content key|" + name.encode()).digest()[:16]


def key_material(key: bytes, segments: int) -> list[bytes]:
    """Every secret of a cut that must never reach ffmpeg nor the store in clear: the content key, the mark's
    secret and every segment key, raw and in hex."""
    secrets = [key, mark.mark_secret(key), mark.codeword_secret(key)]
    secrets += [mark.segment_key(key, i, v) for i in range(segments) for v in mark.VARIANTS]
    return [
        form for secret in secrets for form in (secret, secret.hex().encode(), secret.hex().upper().encode())
    ]


@pytest.fixture(scope="session")
def ffmpeg() -> str:
    return ffmpeg_binary()


@pytest.fixture(scope="session")
def clips(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("clips")


@pytest.fixture(scope="session")
def clip_360(ffmpeg: str, clips: Path) -> Path:
    return make_clip(ffmpeg, clips / "clip_360.mp4", width=640, height=360)


@pytest.fixture(scope="session")
def clip_720(ffmpeg: str, clips: Path) -> Path:
    return make_clip(ffmpeg, clips / "clip_720.mp4", width=1280, height=720)


@pytest.fixture(scope="session")
def clip_silent(ffmpeg: str, clips: Path) -> Path:
    return make_clip(ffmpeg, clips / "clip_silent.mp4", width=640, height=360, seconds=4, audio=False)


@pytest.fixture(scope="session")
def clip_ntsc(ffmpeg: str, clips: Path) -> Path:
    return make_clip(
        ffmpeg, clips / "clip_ntsc.mp4", width=640, height=360, seconds=NTSC_SECONDS, fps=NTSC_FPS
    )


@dataclass
class FfmpegRun:
    """One ffmpeg run during packaging, as the test saw it."""

    argv: list[str]
    folder_mode: int  # of the folder its log (and, for the ladder, its plain output) is in
    files: list[str]  # in that folder after the run, relative POSIX paths
    files_with_key_material: list[str]  # before or after the run


@dataclass
class Packaged:
    """A packaged ladder and what was seen while it was made."""

    source: Path
    out_dir: Path
    key: bytes
    result: PackageResult
    progress: list[tuple[float, str]]
    fps: Fraction  # the source's exact frame rate
    plain: Path  # a copy of the unencrypted folder ffmpeg wrote (variant A's ladder, B's windows)
    runs: list[FfmpegRun] = field(default_factory=list)
    leftover_private_dirs: list[str] = field(default_factory=list)

    @property
    def renditions(self) -> list[str]:
        return [output.rendition.name for output in self.result.renditions]


def _files_with(folder: Path, needles: Sequence[bytes]) -> list[str]:
    found = []
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            data = path.read_bytes()
            if any(needle in data for needle in needles):
                found.append(path.relative_to(folder).as_posix())
    return found


def _watching(runs: list[FfmpegRun], needles: Sequence[bytes], plain_copy: Path) -> Callable[..., None]:
    """A stand-in for ``run_ffmpeg`` that runs it and records what ffmpeg was given and left behind."""
    real = package_module.run_ffmpeg

    def run(
        argv: Sequence[str],
        *,
        log_path: Path,
        on_progress: Callable[[ProgressBlock], None] | None = None,
        should_cancel: Callable[[], bool] | None = None,
    ) -> None:
        folder = log_path.parent
        before = _files_with(folder, needles)
        real(argv, log_path=log_path, on_progress=on_progress, should_cancel=should_cancel)
        files = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())
        leaks = sorted(set(before) | set(_files_with(folder, needles)))
        runs.append(FfmpegRun(list(argv), folder.stat().st_mode & 0o777, files, leaks))
        if not plain_copy.exists() and any(name.endswith(".m3u8") for name in files):
            shutil.copytree(folder, plain_copy)

    return run


def package(source: Path, out_dir: Path, ffmpeg: str, temp_root: Path, name: str) -> Packaged:
    """Package ``source`` under ``fixed_key(name)``, watching every ffmpeg run (module docstring)."""
    facts = probe_clip(source)
    key = fixed_key(name)
    progress: list[tuple[float, str]] = []
    runs: list[FfmpegRun] = []
    plain = out_dir.parent / "plain-copy"
    needles = key_material(key, segments=int(facts.duration_s // SEGMENT_SECONDS) + 4)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(tempfile, "tempdir", str(temp_root))
        patch.setattr(package_module, "run_ffmpeg", _watching(runs, needles, plain))
        result = package_hls(
            source,
            out_dir,
            renditions=plan_ladder(facts.video.width, facts.video.height),
            key=key,
            ffmpeg=ffmpeg,
            on_progress=lambda percent, stage: progress.append((percent, stage)),
            should_cancel=lambda: False,
            duration_s=facts.duration_s,
            fps=facts.video.fps,
            has_audio=facts.has_audio,
        )
    with av.open(str(source)) as container:  # the exact rate: probe's is a float
        rate = Fraction(container.streams.video[0].average_rate or 0)
    packaged = Packaged(source, out_dir, key, result, progress, rate, plain, runs)
    packaged.leftover_private_dirs = [p.name for p in temp_root.iterdir()]
    return packaged


def _packaged(source: Path, ffmpeg: str, factory: pytest.TempPathFactory, name: str) -> Packaged:
    temp_root = factory.mktemp(f"private-temp-{name}")
    return package(source, factory.mktemp(name) / "out", ffmpeg, temp_root, name)


@pytest.fixture(scope="session")
def packaged_720(clip_720: Path, ffmpeg: str, tmp_path_factory: pytest.TempPathFactory) -> Packaged:
    """The 1280x720 clip (8 s at 25 fps) as a two-rung (720p, 360p) ladder of four 2-s segments."""
    return _packaged(clip_720, ffmpeg, tmp_path_factory, "clip_720")


@pytest.fixture(scope="session")
def packaged_silent(clip_silent: Path, ffmpeg: str, tmp_path_factory: pytest.TempPathFactory) -> Packaged:
    return _packaged(clip_silent, ffmpeg, tmp_path_factory, "clip_silent")


@pytest.fixture(scope="session")
def packaged_ntsc(clip_ntsc: Path, ffmpeg: str, tmp_path_factory: pytest.TempPathFactory) -> Packaged:
    """The 640x360 clip at 30000/1001 fps, 5.3 s: segments of 2.002, 2.002 and 1.301 s."""
    return _packaged(clip_ntsc, ffmpeg, tmp_path_factory, "clip_ntsc")


@pytest.fixture
def private_temp(tmp_path: Path) -> Iterator[Path]:
    """Temporary folders (the private one among them) go here for one test, so a test can see what is
    left."""
    root = tmp_path / "private-temp"
    root.mkdir()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(tempfile, "tempdir", str(root))
        yield root
