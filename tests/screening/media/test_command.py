"""The packaging command line: aligned closed GOPs, one HLS output, and never a key on it."""

from __future__ import annotations

from pathlib import Path

import pytest

from screening.media.command import Thumbnails, gop_frames, ladder_command, poster_command
from screening.media.keys import new_content_key
from screening.media.ladder import plan_ladder


def command(tmp_path: Path, *, has_audio: bool = True, fps: float = 25.0) -> list[str]:
    return ladder_command(
        ffmpeg="ffmpeg",
        source=tmp_path / "source.mov",
        out_dir=tmp_path / "out",
        renditions=plan_ladder(1920, 1080),
        fps=fps,
        has_audio=has_audio,
        duration_s=30.0,
        segment_seconds=6,
        key_info_file=tmp_path / "private" / "key.info",
        thumbnails=Thumbnails(10, 320, 180),
    )


def option(argv: list[str], name: str) -> str:
    return argv[argv.index(name) + 1]


def test_one_decode_split_to_every_rendition_and_the_thumbnails(tmp_path: Path) -> None:
    argv = command(tmp_path)
    assert argv.count("-i") == 1
    graph = option(argv, "-filter_complex")
    assert graph.startswith("[0:v]split=4[v0][v1][v2][thumb_in]")
    for size in ("1920:1080", "1280:720", "640:360", "320:180"):
        assert f"scale={size},setsar=1" in graph


def test_closed_gops_aligned_on_segment_boundaries(tmp_path: Path) -> None:
    argv = command(tmp_path)
    assert option(argv, "-force_key_frames:v") == "expr:gte(t,n_forced*6)"
    assert option(argv, "-g:v") == option(argv, "-keyint_min:v") == "150"
    assert option(argv, "-sc_threshold:v") == "0"
    assert option(argv, "-flags:v") == "+cgop"
    assert option(argv, "-preset") == "veryfast" and option(argv, "-profile:v") == "high"
    assert option(argv, "-pix_fmt") == "yuv420p"
    assert (option(argv, "-b:v:0"), option(argv, "-maxrate:v:1"), option(argv, "-bufsize:v:2")) == (
        "5000k",
        "2996k",
        "1200k",
    )


def test_hls_output_with_named_variants(tmp_path: Path) -> None:
    argv = command(tmp_path)
    assert option(argv, "-var_stream_map") == "v:0,a:0,name:1080p v:1,a:1,name:720p v:2,a:2,name:360p"
    assert option(argv, "-hls_time") == "6"
    assert option(argv, "-hls_playlist_type") == "vod"
    assert option(argv, "-hls_segment_type") == "mpegts"
    assert option(argv, "-hls_flags") == "independent_segments+periodic_rekey"
    assert option(argv, "-master_pl_name") == "master.m3u8"
    assert option(argv, "-hls_segment_filename") == str(tmp_path / "out" / "%v" / "seg_%05d.ts")
    assert str(tmp_path / "out" / "%v" / "index.m3u8") in argv
    assert option(argv, "-hls_key_info_file") == str(tmp_path / "private" / "key.info")


def test_source_opened_only_as_a_whitelisted_local_file(tmp_path: Path) -> None:
    argv = command(tmp_path)
    assert option(argv, "-i") == f"file:{tmp_path / 'source.mov'}"
    assert option(argv, "-protocol_whitelist") == "file"
    assert "mov" in option(argv, "-format_whitelist").split(",")
    assert "hls" not in option(argv, "-format_whitelist").split(",")


def test_audio_from_the_source_or_silence(tmp_path: Path) -> None:
    with_audio = command(tmp_path)
    assert "anullsrc" not in " ".join(with_audio)
    assert with_audio.count("0:a:0") == 3
    silent = command(tmp_path, has_audio=False)
    assert option(silent, "-f") == "lavfi" and "anullsrc=channel_layout=stereo:sample_rate=48000" in silent
    assert option(silent, "-t") == "30.000"
    assert silent.count("1:a:0") == 3
    for argv in (with_audio, silent):
        assert (option(argv, "-c:a"), option(argv, "-ac"), option(argv, "-ar")) == ("aac", "2", "48000")


def test_no_key_material_on_the_command_line(tmp_path: Path) -> None:
    key = new_content_key()
    poster = poster_command(
        ffmpeg="ffmpeg", source=tmp_path / "s", out_path=tmp_path / "p.jpg", at_s=3.0, width=1280, height=720
    )
    text = "\n".join(command(tmp_path) + poster)
    assert key.hex() not in text
    assert "-hls_enc_key" not in text and "-hls_enc " not in text and "-hls_enc_iv" not in text


def test_gop_follows_the_frame_rate() -> None:
    assert gop_frames(25, 6) == 150
    assert gop_frames(30000 / 1001, 6) == 180
    assert gop_frames(0, 6) == 180  # unknown rate: a ceiling only, keyframes are forced by time


def test_a_percent_sign_in_the_output_path_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="%"):
        command(tmp_path / "100%")


def test_poster_seeks_before_decoding(tmp_path: Path) -> None:
    argv = poster_command(
        ffmpeg="ffmpeg",
        source=tmp_path / "s.mp4",
        out_path=tmp_path / "p.jpg",
        at_s=12.5,
        width=1280,
        height=534,
    )
    assert argv.index("-ss") < argv.index("-i")
    assert option(argv, "-ss") == "12.500" and option(argv, "-frames:v") == "1"
    assert option(argv, "-vf") == "scale=1280:534,setsar=1"
