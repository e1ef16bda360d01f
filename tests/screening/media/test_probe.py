"""Probing: facts about a good clip, and each kind of bad upload refused with its own code."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from screening.media.errors import REJECTION_CODES
from screening.media.probe import MediaRejected, probe
from tests.screening.media.conftest import CLIP_FPS, CLIP_SECONDS, make_clip, probe_clip


def rejected(path: Path, *, max_duration_s: float = 3600, max_bytes: int = 10**10) -> MediaRejected:
    with pytest.raises(MediaRejected) as refusal:
        probe(path, max_duration_s=max_duration_s, max_bytes=max_bytes)
    assert refusal.value.code in REJECTION_CODES
    assert refusal.value.message.endswith(".") and refusal.value.message[0].isupper()
    assert str(refusal.value) == refusal.value.message
    return refusal.value


def test_a_good_clip(clip_360: Path) -> None:
    facts = probe_clip(clip_360)
    assert facts.duration_s == pytest.approx(CLIP_SECONDS, abs=0.1)
    assert facts.size_bytes == clip_360.stat().st_size
    assert "mp4" in facts.container
    video = facts.video
    assert (video.width, video.height, video.codec, video.rotation) == (640, 360, "h264", 0)
    assert video.fps == pytest.approx(CLIP_FPS)
    assert facts.has_audio and facts.audio is not None
    assert (facts.audio.codec, facts.audio.channels, facts.audio.sample_rate) == ("aac", 1, 48000)


def test_a_clip_without_audio(clip_silent: Path) -> None:
    facts = probe_clip(clip_silent)
    assert not facts.has_audio and facts.audio is None


def test_a_rotated_phone_clip_reports_its_display_size(ffmpeg: str, clip_360: Path, tmp_path: Path) -> None:
    rotated = tmp_path / "rotated.mp4"
    argv = [ffmpeg, "-loglevel", "error", "-display_rotation:v:0", "90", "-i", str(clip_360), "-c", "copy"]
    subprocess.run([*argv, str(rotated)], check=True)
    video = probe_clip(rotated).video
    assert video.rotation in (90, 270)
    assert (video.width, video.height) == (360, 640)
    assert (video.coded_width, video.coded_height) == (640, 360)


def test_anamorphic_pixels_are_widened_to_the_display_size(ffmpeg: str, tmp_path: Path) -> None:
    pal = make_clip(
        ffmpeg,
        tmp_path / "pal.mp4",
        width=720,
        height=576,
        seconds=1,
        audio=False,
        extra=("-vf", "setsar=64/45"),
    )
    video = probe_clip(pal).video
    assert (video.width, video.height) == (1024, 576)
    assert video.sample_aspect_ratio == pytest.approx(64 / 45)


def test_a_text_file_is_not_a_video(tmp_path: Path) -> None:
    text = tmp_path / "screener.mp4"
    text.write_text("This is my film, I promise.\n" * 100)
    assert rejected(text).code == "not_video"


def test_an_empty_file_is_not_a_video(tmp_path: Path) -> None:
    empty = tmp_path / "empty.mp4"
    empty.touch()
    assert rejected(empty).code == "not_video"


def test_a_still_image_renamed_mp4_is_not_a_video(ffmpeg: str, tmp_path: Path) -> None:
    image = tmp_path / "poster.mp4"
    argv = [ffmpeg, "-loglevel", "error", "-f", "lavfi", "-i", "testsrc2=size=640x360", "-frames:v", "1"]
    subprocess.run([*argv, "-f", "image2", "-c:v", "png", str(image)], check=True)
    assert image.read_bytes().startswith(b"\x89PNG")
    refusal = rejected(image)
    assert refusal.code == "not_video"
    assert "still image" in refusal.message


def test_a_single_frame_video_is_a_still_image(ffmpeg: str, tmp_path: Path) -> None:
    one = make_clip(ffmpeg, tmp_path / "one.mp4", width=320, height=180, seconds=0.04, audio=False)
    assert "still image" in rejected(one).message


def test_an_hls_playlist_disguised_as_mp4_is_not_opened(tmp_path: Path) -> None:
    """ffmpeg would follow a playlist's URIs and read other files into the "video"."""
    playlist = tmp_path / "screener.mp4"
    playlist.write_text(
        "#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXTINF:10,\nfile:///etc/passwd\n#EXT-X-ENDLIST\n"
    )
    assert rejected(playlist).code == "not_video"


def test_an_mp4_cut_in_half_is_truncated(clip_360: Path, tmp_path: Path) -> None:
    """ffmpeg writes the index (moov) at the end: the first half has no index at all."""
    data = clip_360.read_bytes()
    half = tmp_path / "half.mp4"
    half.write_bytes(data[: len(data) // 2])
    assert rejected(half).code == "truncated"


def test_a_faststart_mp4_cut_in_half_is_truncated(ffmpeg: str, clip_360: Path, tmp_path: Path) -> None:
    """With the index first the file opens and declares 8 s; reading near the end fails."""
    faststart = tmp_path / "faststart.mp4"
    argv = [ffmpeg, "-loglevel", "error", "-i", str(clip_360), "-c", "copy", "-movflags", "+faststart"]
    subprocess.run([*argv, str(faststart)], check=True)
    data = faststart.read_bytes()
    half = tmp_path / "half.mp4"
    half.write_bytes(data[: len(data) // 2])
    assert rejected(half).code == "truncated"


def test_a_file_whose_tail_is_zeros_is_truncated(ffmpeg: str, tmp_path: Path) -> None:
    """A resumed upload written into a preallocated file: full size, the second half never arrived."""
    clip = make_clip(
        ffmpeg,
        tmp_path / "gop1s.mp4",
        width=320,
        height=180,
        audio=False,
        extra=("-g", "25", "-movflags", "+faststart"),
    )
    data = clip.read_bytes()
    zeroed = tmp_path / "zeroed.mp4"
    zeroed.write_bytes(data[: len(data) // 2] + bytes(len(data) - len(data) // 2))
    assert rejected(zeroed).code == "truncated"


def test_a_matroska_cut_short_is_truncated(ffmpeg: str, clip_360: Path, tmp_path: Path) -> None:
    mkv = tmp_path / "clip.mkv"
    subprocess.run([ffmpeg, "-loglevel", "error", "-i", str(clip_360), "-c", "copy", str(mkv)], check=True)
    data = mkv.read_bytes()
    cut = tmp_path / "cut.mkv"
    cut.write_bytes(data[: len(data) * 6 // 10])
    assert rejected(cut).code == "truncated"


def test_an_audio_file_has_no_video_stream(ffmpeg: str, tmp_path: Path) -> None:
    audio = tmp_path / "soundtrack.m4a"
    argv = [ffmpeg, "-loglevel", "error", "-f", "lavfi", "-i", "sine=duration=3", "-c:a", "aac"]
    subprocess.run([*argv, str(audio)], check=True)
    assert rejected(audio).code == "no_video_stream"


def test_too_long(clip_360: Path) -> None:
    refusal = rejected(clip_360, max_duration_s=5)
    assert refusal.code == "too_long"
    assert "8 s" in refusal.message and "5 s" in refusal.message


def test_too_large_is_refused_before_reading(clip_360: Path) -> None:
    refusal = rejected(clip_360, max_bytes=1000)
    assert refusal.code == "too_large"
    assert "1000 bytes" in refusal.message or "1.0 KB" in refusal.message


def test_within_the_limits_passes(clip_360: Path) -> None:
    size = clip_360.stat().st_size
    assert probe(clip_360, max_duration_s=CLIP_SECONDS + 0.5, max_bytes=size).size_bytes == size
