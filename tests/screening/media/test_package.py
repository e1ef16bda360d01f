"""Packaging: an encrypted, aligned HLS ladder that ffmpeg itself can play back with the key, and not without.

The ladder of the 1280x720 clip is made once per worker (conftest ``packaged_720``); the tests read it.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from screening.media.keys import new_content_key
from screening.media.ladder import plan_ladder
from screening.media.package import (
    PackagingCancelled,
    PackagingFailed,
    check_alignment,
    check_encryption,
    package_hls,
)
from screening.media.playlist import read_master_playlist, read_media_playlist
from screening.media.runner import TERMINATE_GRACE_S
from tests.screening.conftest import looks_like_clear_mpeg_ts
from tests.screening.media.conftest import CLIP_FPS, CLIP_SECONDS, KEY_URI, Packaged, probe_clip

ts_synced = looks_like_clear_mpeg_ts


def decrypt(data: bytes, key: bytes, iv_hex: str) -> bytes:
    decryptor = Cipher(algorithms.AES(key), modes.CBC(bytes.fromhex(iv_hex[2:]))).decryptor()
    plain = decryptor.update(data) + decryptor.finalize()
    return plain[: -plain[-1]]  # PKCS#7


def decode(ffmpeg: str, playlist: Path, stream: str = "v:0") -> tuple[int, float]:
    """Frames and seconds of ``stream`` ffmpeg decodes from ``playlist``; (0, 0.0) if it cannot."""
    argv = [ffmpeg, "-hide_banner", "-nostdin", "-loglevel", "error", "-allowed_extensions", "ALL"]
    argv += ["-i", str(playlist), "-map", f"0:{stream}", "-f", "null", "-progress", "pipe:1", "-"]
    run = subprocess.run(argv, capture_output=True, text=True, timeout=60)
    if run.returncode != 0:
        return 0, 0.0
    values = dict(
        line.split("=", 1) for line in run.stdout.splitlines() if "=" in line
    )  # the last block wins
    return int(values.get("frame", "0")), int(values["out_time_us"]) / 1e6


def decoded_frames(ffmpeg: str, playlist: Path) -> int:
    return decode(ffmpeg, playlist)[0]


def decoded_audio_s(ffmpeg: str, playlist: Path) -> float:
    return decode(ffmpeg, playlist, "a:0")[1]


def local_copy(packaged: Packaged, rendition: str, tmp_path: Path, key: bytes | None) -> Path:
    """The rendition's folder copied, its key URI pointing at a local key file (as the key endpoint would)."""
    folder = tmp_path / rendition
    shutil.copytree(packaged.out_dir / rendition, folder)
    key_file = tmp_path / "served.key"
    key_file.write_bytes(key if key is not None else new_content_key())
    playlist = folder / "index.m3u8"
    text = playlist.read_text().replace(f'URI="{KEY_URI}"', f'URI="file:{key_file}"')
    playlist.write_text(text)
    return playlist


def test_output_layout(packaged_720: Packaged) -> None:
    result, out = packaged_720.result, packaged_720.out_dir
    assert result.master_playlist == out / "master.m3u8"
    assert [(o.rendition.name, o.playlist, o.segment_count) for o in result.renditions] == [
        ("720p", out / "720p" / "index.m3u8", 2),
        ("360p", out / "360p" / "index.m3u8", 2),
    ]
    assert result.files == sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file())
    assert set(result.files) == {
        "master.m3u8",
        "poster.jpg",
        "thumbs/thumb_0000.jpg",
        "720p/index.m3u8",
        "720p/seg_00000.ts",
        "720p/seg_00001.ts",
        "360p/index.m3u8",
        "360p/seg_00000.ts",
        "360p/seg_00001.ts",
    }
    assert result.duration_s == pytest.approx(CLIP_SECONDS, abs=0.05)


def test_master_playlist_lists_each_rendition(packaged_720: Packaged) -> None:
    variants = read_master_playlist(packaged_720.result.master_playlist)
    renditions = [o.rendition for o in packaged_720.result.renditions]
    assert [v.uri for v in variants] == ["720p/index.m3u8", "360p/index.m3u8"]
    for variant, rendition in zip(variants, renditions, strict=True):
        assert (variant.width, variant.height) == (rendition.width, rendition.height)
        nominal = (rendition.video_bitrate_k + rendition.audio_bitrate_k) * 1000
        peak = (rendition.maxrate_k + rendition.audio_bitrate_k) * 1000
        assert 0.8 * nominal <= variant.bandwidth <= 1.25 * peak
        assert variant.codecs.startswith("avc1.64") and "mp4a.40.2" in variant.codecs  # H.264 High + AAC-LC
    assert variants[0].bandwidth > variants[1].bandwidth


def test_every_segment_is_aes128_with_its_sequence_number_as_iv(packaged_720: Packaged) -> None:
    for output in packaged_720.result.renditions:
        text = output.playlist.read_text()
        assert f'#EXT-X-KEY:METHOD=AES-128,URI="{KEY_URI}"' in text
        assert "#EXT-X-PLAYLIST-TYPE:VOD" in text and "#EXT-X-INDEPENDENT-SEGMENTS" in text
        playlist = read_media_playlist(output.playlist)
        for number, segment in enumerate(playlist.segments):
            assert segment.key_method == "AES-128" and segment.key_uri == KEY_URI
            assert segment.iv == f"0x{number:032x}"
    check_encryption(packaged_720.out_dir, [o.rendition for o in packaged_720.result.renditions], KEY_URI)


def test_segments_are_ciphertext_and_open_with_the_key_and_iv(packaged_720: Packaged) -> None:
    for output in packaged_720.result.renditions:
        for segment in read_media_playlist(output.playlist).segments:
            data = (output.playlist.parent / segment.uri).read_bytes()
            assert not ts_synced(data)
            assert segment.iv is not None
            assert ts_synced(decrypt(data, packaged_720.key, segment.iv))


def test_a_segment_alone_does_not_decode(packaged_720: Packaged, ffmpeg: str, tmp_path: Path) -> None:
    lone = tmp_path / "lone.ts"
    shutil.copy(packaged_720.out_dir / "720p" / "seg_00000.ts", lone)
    run = subprocess.run(
        [ffmpeg, "-nostdin", "-i", str(lone), "-f", "null", "-"], capture_output=True, timeout=60
    )
    assert run.returncode != 0


def test_the_playlist_does_not_decode_with_another_key(
    packaged_720: Packaged, ffmpeg: str, tmp_path: Path
) -> None:
    assert decoded_frames(ffmpeg, local_copy(packaged_720, "360p", tmp_path, key=None)) == 0


@pytest.mark.parametrize("rendition", ["720p", "360p"])
def test_the_ladder_decodes_when_the_key_is_served(
    packaged_720: Packaged, ffmpeg: str, tmp_path: Path, rendition: str
) -> None:
    playlist = local_copy(packaged_720, rendition, tmp_path, key=packaged_720.key)
    assert decoded_frames(ffmpeg, playlist) == pytest.approx(CLIP_SECONDS * CLIP_FPS, abs=2)
    assert decoded_audio_s(ffmpeg, playlist) == pytest.approx(CLIP_SECONDS, abs=0.2)


def test_segment_boundaries_are_identical_across_renditions(packaged_720: Packaged) -> None:
    renditions = [o.rendition for o in packaged_720.result.renditions]
    check_alignment(packaged_720.out_dir, renditions)
    durations = [
        [s.duration_s for s in read_media_playlist(o.playlist).segments]
        for o in packaged_720.result.renditions
    ]
    assert durations[0] == pytest.approx([6.0, 2.0], abs=0.05)
    assert durations[0] == pytest.approx(durations[1], abs=0.05)


def test_poster_and_thumbnails(packaged_720: Packaged) -> None:
    from av import open as av_open

    with av_open(str(packaged_720.result.poster)) as poster:
        assert (poster.streams.video[0].width, poster.streams.video[0].height) == (1280, 720)
    (thumb,) = packaged_720.result.thumbnails
    with av_open(str(thumb)) as image:
        assert (image.streams.video[0].width, image.streams.video[0].height) == (320, 180)


def test_progress_rises_to_100(packaged_720: Packaged) -> None:
    percents = [percent for percent, _ in packaged_720.progress]
    stages = [stage for _, stage in packaged_720.progress]
    assert percents == sorted(percents)
    assert percents[0] == 0 and packaged_720.progress[-1] == (100.0, "packaged")
    assert all(0 <= p <= 100 for p in percents)
    assert {"transcoding", "poster", "verifying", "packaged"} <= set(stages)
    assert any(0 < p < 97 for p, stage in packaged_720.progress if stage == "transcoding")


def test_the_key_stays_private_and_leaves_no_trace(packaged_720: Packaged) -> None:
    modes = packaged_720.private_dir_modes
    assert (modes["dir"], modes["content.key"], modes["key.info"]) == (0o700, 0o600, 0o600)
    assert packaged_720.leftover_private_dirs == []
    for path in packaged_720.out_dir.rglob("*"):
        assert path.suffix != ".key"
        if path.is_file():
            assert packaged_720.key not in path.read_bytes()
            assert packaged_720.key.hex() not in path.read_bytes().decode("latin-1")


def test_a_source_without_audio_gets_a_silent_track(
    packaged_silent: Packaged, ffmpeg: str, tmp_path: Path
) -> None:
    (variant,) = read_master_playlist(packaged_silent.result.master_playlist)
    assert "mp4a.40.2" in variant.codecs
    playlist = local_copy(packaged_silent, "360p", tmp_path, key=packaged_silent.key)
    assert decoded_frames(ffmpeg, playlist) == pytest.approx(4 * CLIP_FPS, abs=2)
    assert decoded_audio_s(ffmpeg, playlist) == pytest.approx(4, abs=0.2)


def _ffmpeg_children() -> list[int]:
    """Processes whose parent is this one and that run ffmpeg (read from /proc: no psutil here)."""
    children = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            comm = stat.read_text().split("(", 1)[1].rsplit(")", 1)[0]
        except (OSError, IndexError):
            continue
        if int(fields[1]) == os.getpid() and "ffmpeg" in comm:
            children.append(int(stat.parent.name))
    return children


def test_cancelling_stops_ffmpeg_quickly(
    clip_720: Path, ffmpeg: str, tmp_path: Path, private_temp: Path
) -> None:
    facts = probe_clip(clip_720)
    out = tmp_path / "out"
    asked: list[float] = []
    seen_running: list[list[int]] = []

    def cancel() -> bool:
        asked.append(time.monotonic())
        seen_running.append(_ffmpeg_children())
        return True

    with pytest.raises(PackagingCancelled):
        package_hls(
            clip_720,
            out,
            renditions=plan_ladder(1280, 720),
            key=new_content_key(),
            key_uri=KEY_URI,
            ffmpeg=ffmpeg,
            should_cancel=cancel,
            duration_s=facts.duration_s,
            fps=facts.video.fps,
            has_audio=True,
        )
    assert len(asked) == 1  # the first "stop" was obeyed
    # SIGTERM ended ffmpeg within its grace period: stopped, not waited for.
    assert time.monotonic() - asked[0] < TERMINATE_GRACE_S
    assert seen_running[0]  # ffmpeg was running when we said stop ...
    assert _ffmpeg_children() == []  # ... and is gone now
    assert list(out.iterdir()) == []
    assert list(private_temp.iterdir()) == []


def test_a_corrupt_source_fails_with_ffmpegs_reason(ffmpeg: str, tmp_path: Path, private_temp: Path) -> None:
    source = tmp_path / "corrupt.mp4"
    source.write_bytes(os.urandom(200_000))
    key = new_content_key()
    out = tmp_path / "out"
    with pytest.raises(PackagingFailed) as failure:
        package_hls(
            source,
            out,
            renditions=plan_ladder(640, 360),
            key=key,
            key_uri=KEY_URI,
            ffmpeg=ffmpeg,
            duration_s=8.0,
            fps=25.0,
            has_audio=True,
        )
    assert "exit status" in failure.value.reason
    assert failure.value.detail  # the tail of ffmpeg's log
    assert key.hex() not in str(failure.value)
    assert list(out.iterdir()) == []
    assert list(private_temp.iterdir()) == []


def test_an_unreadable_source_fails(ffmpeg: str, tmp_path: Path) -> None:
    source = tmp_path / "notes.mp4"
    source.write_text("not a video")
    with pytest.raises(PackagingFailed, match="cannot be read"):
        package_hls(
            source,
            tmp_path / "out",
            renditions=plan_ladder(640, 360),
            key=new_content_key(),
            key_uri=KEY_URI,
            ffmpeg=ffmpeg,
            duration_s=8.0,
        )


def test_an_unwritable_output_folder_fails(clip_360: Path, ffmpeg: str, tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    with pytest.raises(PackagingFailed, match="cannot be written"):
        package_hls(
            clip_360,
            blocker / "out",
            renditions=plan_ladder(640, 360),
            key=new_content_key(),
            key_uri=KEY_URI,
            ffmpeg=ffmpeg,
            duration_s=8.0,
            fps=25.0,
            has_audio=True,
        )


def test_a_missing_ffmpeg_fails(clip_360: Path, tmp_path: Path) -> None:
    with pytest.raises(PackagingFailed, match="could not be started"):
        package_hls(
            clip_360,
            tmp_path / "out",
            renditions=plan_ladder(640, 360),
            key=new_content_key(),
            key_uri=KEY_URI,
            ffmpeg=str(tmp_path / "no-ffmpeg"),
            duration_s=8.0,
            fps=25.0,
            has_audio=True,
        )


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"key": b"short"}, "16 bytes"),
        ({"key_uri": 'bad"uri'}, "key URI"),
        ({"key_uri": "two\nlines"}, "key URI"),
        ({"renditions": []}, "rendition"),
        ({"segment_seconds": 0}, "second"),
        ({"duration_s": 0.0}, "duration"),
    ],
)
def test_impossible_arguments_are_refused(
    clip_360: Path, ffmpeg: str, tmp_path: Path, change: dict[str, object], message: str
) -> None:
    arguments: dict[str, object] = {
        "renditions": plan_ladder(640, 360),
        "key": new_content_key(),
        "key_uri": KEY_URI,
        "ffmpeg": ffmpeg,
        "duration_s": 8.0,
        "segment_seconds": 6,
    }
    arguments.update(change)
    with pytest.raises(ValueError, match=message):
        package_hls(clip_360, tmp_path / "out", **arguments)  # type: ignore[arg-type]


def test_a_non_empty_output_folder_is_refused(clip_360: Path, ffmpeg: str, tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "old.m3u8").write_text("#EXTM3U\n")
    with pytest.raises(ValueError, match="empty"):
        package_hls(
            clip_360,
            out,
            renditions=plan_ladder(640, 360),
            key=new_content_key(),
            key_uri=KEY_URI,
            ffmpeg=ffmpeg,
            duration_s=8.0,
        )
    assert (out / "old.m3u8").exists()


def write_playlist(folder: Path, durations: list[float]) -> None:
    folder.mkdir(parents=True)
    lines = ["#EXTM3U", "#EXT-X-TARGETDURATION:6", "#EXT-X-MEDIA-SEQUENCE:0"]
    for number, duration in enumerate(durations):
        (folder / f"seg_{number:05d}.ts").write_bytes(b"x")
        lines += [f"#EXTINF:{duration:.6f},", f"seg_{number:05d}.ts"]
    (folder / "index.m3u8").write_text("\n".join([*lines, "#EXT-X-ENDLIST", ""]))


@pytest.mark.parametrize(
    ("other", "problem"),
    [([6.0, 6.0], "360p has 2"), ([6.0, 6.0, 3.1], "segment 2 lasts"), ([6.0, 6.0, 2.9], "segment 2 lasts")],
)
def test_misaligned_renditions_are_caught(tmp_path: Path, other: list[float], problem: str) -> None:
    write_playlist(tmp_path / "720p", [6.0, 6.0, 3.0])
    write_playlist(tmp_path / "360p", other)
    with pytest.raises(PackagingFailed, match=re.escape(problem)):
        check_alignment(tmp_path, plan_ladder(1280, 720))


def test_alignment_within_the_tolerance_passes(tmp_path: Path) -> None:
    write_playlist(tmp_path / "720p", [6.0, 6.0, 3.0])
    write_playlist(tmp_path / "360p", [6.04, 5.96, 3.0])
    check_alignment(tmp_path, plan_ladder(1280, 720))


def test_a_missing_segment_file_is_caught(tmp_path: Path) -> None:
    write_playlist(tmp_path / "720p", [6.0, 2.0])
    write_playlist(tmp_path / "360p", [6.0, 2.0])
    (tmp_path / "360p" / "seg_00001.ts").unlink()
    with pytest.raises(PackagingFailed, match="seg_00001.ts"):
        check_alignment(tmp_path, plan_ladder(1280, 720))


def test_an_unencrypted_segment_is_caught(tmp_path: Path) -> None:
    write_playlist(tmp_path / "720p", [6.0, 2.0])
    with pytest.raises(PackagingFailed, match="not encrypted"):
        check_encryption(tmp_path, plan_ladder(1280, 720)[:1], KEY_URI)
