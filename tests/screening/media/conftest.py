"""Short generated clips (ffmpeg testsrc2 plus a sine tone) and one packaged ladder, made once per worker.

No database: everything under test here is plain Python around ffmpeg.
"""

from __future__ import annotations

import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from screening.media.binary import ffmpeg_binary
from screening.media.keys import new_content_key
from screening.media.ladder import plan_ladder
from screening.media.package import PackageResult, package_hls
from screening.media.probe import ProbeResult, probe

CLIP_SECONDS = 8
CLIP_FPS = 25
KEY_URI = "https://screening.example/keys/cut-1"


def make_clip(
    ffmpeg: str,
    path: Path,
    *,
    width: int,
    height: int,
    seconds: float = CLIP_SECONDS,
    fps: int = CLIP_FPS,
    audio: bool = True,
    extra: tuple[str, ...] = (),
) -> Path:
    """An H.264 (+ AAC tone) clip of the testsrc2 pattern, small and quick to make."""
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


@dataclass
class Packaged:
    """A packaged ladder and what was seen while it was made."""

    source: Path
    out_dir: Path
    key: bytes
    result: PackageResult
    progress: list[tuple[float, str]]
    private_dir_modes: dict[str, int] = field(default_factory=dict)
    leftover_private_dirs: list[str] = field(default_factory=list)


def package(source: Path, out_dir: Path, ffmpeg: str, temp_root: Path) -> Packaged:
    """Package ``source``; while ffmpeg runs, record the permissions of the private key folder."""
    facts = probe_clip(source)
    key = new_content_key()
    progress: list[tuple[float, str]] = []
    modes: dict[str, int] = {}

    def peek_at_private_dir() -> bool:
        for folder in temp_root.glob("screening-key-*"):
            modes.setdefault("dir", folder.stat().st_mode & 0o777)
            for item in folder.iterdir():
                modes.setdefault(item.name, item.stat().st_mode & 0o777)
        return False

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(tempfile, "tempdir", str(temp_root))
        result = package_hls(
            source,
            out_dir,
            renditions=plan_ladder(facts.video.width, facts.video.height),
            key=key,
            key_uri=KEY_URI,
            ffmpeg=ffmpeg,
            on_progress=lambda percent, stage: progress.append((percent, stage)),
            should_cancel=peek_at_private_dir,
            duration_s=facts.duration_s,
            fps=facts.video.fps,
            has_audio=facts.has_audio,
        )
    packaged = Packaged(source, out_dir, key, result, progress, modes)
    packaged.leftover_private_dirs = [p.name for p in temp_root.iterdir()]
    return packaged


@pytest.fixture(scope="session")
def packaged_720(clip_720: Path, ffmpeg: str, tmp_path_factory: pytest.TempPathFactory) -> Packaged:
    """The 1280x720 clip as a two-rung (720p, 360p) encrypted ladder."""
    temp_root = tmp_path_factory.mktemp("private-temp")
    return package(clip_720, tmp_path_factory.mktemp("ladder") / "out", ffmpeg, temp_root)


@pytest.fixture(scope="session")
def packaged_silent(clip_silent: Path, ffmpeg: str, tmp_path_factory: pytest.TempPathFactory) -> Packaged:
    temp_root = tmp_path_factory.mktemp("private-temp-silent")
    return package(clip_silent, tmp_path_factory.mktemp("silent") / "out", ffmpeg, temp_root)


@pytest.fixture
def private_temp(tmp_path: Path) -> Iterator[Path]:
    """Temporary folders (the key's among them) go here for one test, so a test can see what is left."""
    root = tmp_path / "private-temp"
    root.mkdir()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(tempfile, "tempdir", str(root))
        yield root
