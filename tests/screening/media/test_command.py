"""The packaging command line: one decode for both variants of every rendition, closed GOPs cut where the
segments and the marked windows end, A's ladder and B's windows in the private folder, and never a key."""

from __future__ import annotations

import math
from fractions import Fraction
from pathlib import Path

import pytest

from screening.forensics import mark
from screening.media.command import (
    Thumbnails,
    b_windows_file,
    gop_frames,
    ladder_command,
    poster_command,
)
from screening.media.keys import new_content_key
from screening.media.ladder import plan_ladder


def command(
    tmp_path: Path, *, has_audio: bool = True, fps: float = 25.0, segment_seconds: int = 6
) -> list[str]:
    return ladder_command(
        ffmpeg="ffmpeg",
        source=tmp_path / "source.mov",
        plain_dir=tmp_path / "private",
        out_dir=tmp_path / "out",
        renditions=plan_ladder(1920, 1080),
        fps=fps,
        has_audio=has_audio,
        duration_s=30.0,
        segment_seconds=segment_seconds,
        pattern_file=tmp_path / "private" / "pattern.gray",
        thumbnails=Thumbnails(10, 320, 180),
    )


def option(argv: list[str], name: str) -> str:
    return argv[argv.index(name) + 1]


def options(argv: list[str], name: str) -> list[str]:
    return [argv[i + 1] for i, part in enumerate(argv) if part == name]


def outputs(argv: list[str]) -> list[list[str]]:
    """The argv after the last input, one list per output ending with its path: every option there takes
    a value, so the output path is the first word where an option would be."""
    found: list[list[str]] = []
    current: list[str] = []
    at = max(i for i, part in enumerate(argv) if part == "-i") + 2
    while at < len(argv):
        if argv[at].startswith("-"):
            current += argv[at : at + 2]
            at += 2
        else:
            found.append([*current, argv[at]])
            current = []
            at += 1
    assert not current
    return found


def evaluate(expression: str, t: float, n_forced: int = 0) -> bool:
    """An ffmpeg expression of ``gte``, ``lt``, ``floor``, ``mod``, ``t`` and ``n_forced``, evaluated
    (its syntax is Python's for these)."""
    functions = {"gte": lambda a, b: a >= b, "lt": lambda a, b: a < b, "floor": math.floor, "mod": math.fmod}
    return bool(eval(expression, {"__builtins__": {}}, {**functions, "t": t, "n_forced": n_forced}))  # noqa: S307


def forced_keyframes(expression: str, times: list[Fraction]) -> list[int]:
    """The frames ffmpeg's ``-force_key_frames expr:...`` makes keyframes: it evaluates the expression on
    every frame and counts the frames it forced in ``n_forced``."""
    assert expression.startswith("expr:")
    forced: list[int] = []
    for number, t in enumerate(times):
        if evaluate(expression.removeprefix("expr:"), float(t), len(forced)):
            forced.append(number)
    return forced


def frame_times(fps: Fraction, seconds: int) -> list[Fraction]:
    return [n / fps for n in range(math.ceil(seconds * fps))]


def test_one_decode_split_to_every_rendition_both_variants_and_the_thumbnails(tmp_path: Path) -> None:
    argv = command(tmp_path)
    inputs = options(argv, "-i")
    assert inputs == [f"file:{tmp_path / 'source.mov'}", f"file:{tmp_path / 'private' / 'pattern.gray'}"]
    graph = option(argv, "-filter_complex")
    assert graph.startswith("[0:v]split=4[v0][v1][v2][thumb_in];")
    assert "[1:v]settb=1/90000,setpts=PTS-0.001/TB,split=3[pat0][pat1][pat2]" in graph
    for i, size in enumerate(("1920:1080", "1280:720", "640:360")):
        assert f"[v{i}]scale={size},setsar=1[s{i}]" in graph
        # A and B of a rendition are two branches of one scaled picture: A carries -P, B +P.
        assert f"[s{i}]split=2[s{i}_va][s{i}_vb]" in graph
        assert f"[s{i}_va][s{i}_pa]blend=all_mode=grainextract:shortest=1[a{i}]" in graph
        assert f"[s{i}_vb][s{i}_pb]blend=all_mode=grainmerge:shortest=1[s{i}_vm]" in graph
        assert f"[s{i}_vm]select='{mark.in_window_expr(6)}'[b{i}]" in graph
    assert "scale=320:180,setsar=1[thumbs]" in graph


def test_the_pattern_stream_is_raw_video_at_three_frames_per_segment(tmp_path: Path) -> None:
    argv = command(tmp_path)
    at = argv.index(f"file:{tmp_path / 'private' / 'pattern.gray'}")
    assert argv[at - 9 : at - 1] == [
        "-f",
        "rawvideo",
        "-pix_fmt",
        "yuv420p",
        "-s",
        "64x36",
        "-framerate",
        "3/6",
    ]


def test_closed_gops_aligned_on_segment_boundaries(tmp_path: Path) -> None:
    argv = command(tmp_path)
    assert option(argv, "-force_key_frames:v") == mark.keyframe_expr(6)
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


WINDOW_AT_2_S = {Fraction(25): 17, Fraction(30000, 1001): 20}  # frames in the first 2/3 s of a segment


@pytest.mark.parametrize("fps", [Fraction(25), Fraction(30000, 1001), Fraction(24000, 1001), Fraction(50)])
@pytest.mark.parametrize("segment_seconds", [2, 6])
def test_keyframes_fall_on_segment_starts_and_window_ends(
    tmp_path: Path, fps: Fraction, segment_seconds: int
) -> None:
    """Evaluated as ffmpeg does, frame by frame over five segments: A's expression forces a keyframe on
    the first frame of every segment and on the first after its window (the frames in the first third of
    the segment); ``select`` gives B's encoder the window frames, and B's expression a keyframe on the
    first of each."""
    argv = command(tmp_path, fps=float(fps), segment_seconds=segment_seconds)
    times = frame_times(fps, 5 * segment_seconds)
    segments = [math.floor(t / segment_seconds) for t in times]
    in_window = [
        t - s * segment_seconds < Fraction(segment_seconds, 3) for t, s in zip(times, segments, strict=True)
    ]
    starts = [n for n in range(len(times)) if n == 0 or segments[n] != segments[n - 1]]
    window_ends = [n for n in range(1, len(times)) if in_window[n - 1] and not in_window[n]]
    window = [n for n in range(len(times)) if in_window[n]]
    assert len(starts) == len(window_ends) == 5
    if segment_seconds == 2 and fps in WINDOW_AT_2_S:
        assert [end - start for start, end in zip(starts, window_ends, strict=True)] == [
            WINDOW_AT_2_S[fps]
        ] * 5

    a_keyframes = forced_keyframes(option(argv, "-force_key_frames:v"), times)
    assert a_keyframes == sorted(starts + window_ends)
    select = option(argv, "-filter_complex").split("select='", 1)[1].split("'", 1)[0]
    selected = [n for n, t in enumerate(times) if evaluate(select, float(t))]
    assert selected == window
    b_keyframes = forced_keyframes(options(argv, "-force_key_frames")[0], [times[n] for n in selected])
    assert [selected[k] for k in b_keyframes] == starts


def test_a_is_an_hls_ladder_in_the_private_folder(tmp_path: Path) -> None:
    argv = command(tmp_path)
    assert option(argv, "-var_stream_map") == "v:0,a:0,name:1080p v:1,a:1,name:720p v:2,a:2,name:360p"
    assert options(argv, "-map")[:6] == ["[a0]", "0:a:0", "[a1]", "0:a:0", "[a2]", "0:a:0"]
    assert option(argv, "-hls_time") == "6"
    assert option(argv, "-hls_playlist_type") == "vod"
    assert option(argv, "-hls_segment_type") == "mpegts"
    assert option(argv, "-hls_flags") == "independent_segments"
    assert option(argv, "-master_pl_name") == "master.m3u8"
    assert option(argv, "-hls_segment_filename") == str(tmp_path / "private" / "%v" / "seg_%05d.ts")
    assert str(tmp_path / "private" / "%v" / "index.m3u8") in argv


def test_b_is_one_video_only_transport_stream_per_rendition(tmp_path: Path) -> None:
    argv = command(tmp_path)
    renditions = plan_ladder(1920, 1080)
    b_outputs = [o for o in outputs(argv) if o[-1].endswith(".ts") and "%v" not in o[-1]]
    assert [o[-1] for o in b_outputs] == [str(b_windows_file(tmp_path / "private", r)) for r in renditions]
    assert b_windows_file(tmp_path / "private", renditions[0]) == tmp_path / "private" / "b_1080p.ts"
    for i, (output, rendition) in enumerate(zip(b_outputs, renditions, strict=True)):
        assert options(output, "-map") == [f"[b{i}]"]  # no audio: A's is kept in B's segments
        assert option(output, "-f") == "mpegts"
        assert option(output, "-c:v") == "libx264" and option(output, "-profile:v") == "high"
        assert option(output, "-preset") == "veryfast" and option(output, "-pix_fmt") == "yuv420p"
        # A's rate, A's GOP rules, and force-cfr so that x264 budgets a window frame as A's encoder does.
        assert (option(output, "-b:v"), option(output, "-maxrate:v"), option(output, "-bufsize:v")) == (
            f"{rendition.video_bitrate_k}k",
            f"{rendition.maxrate_k}k",
            f"{rendition.bufsize_k}k",
        )
        assert option(output, "-g") == "150" and option(output, "-sc_threshold") == "0"
        assert option(output, "-flags") == "+cgop"
        assert option(output, "-force_key_frames") == mark.window_keyframe_expr(6)
        assert option(output, "-x264-params") == "force-cfr=1"
        assert option(output, "-fps_mode") == "passthrough"


def test_only_the_thumbnails_go_to_the_output_folder(tmp_path: Path) -> None:
    argv = command(tmp_path)
    paths = [output[-1] for output in outputs(argv)]
    assert len(paths) == 1 + 3 + 1  # A's ladder, B's three streams, the thumbnails
    assert [p for p in paths if not p.startswith(str(tmp_path / "private"))] == [
        str(tmp_path / "out" / "thumbs" / "thumb_%04d.jpg")
    ]


def test_source_opened_only_as_a_whitelisted_local_file(tmp_path: Path) -> None:
    argv = command(tmp_path)
    assert argv.index("-format_whitelist") < argv.index(f"file:{tmp_path / 'source.mov'}")
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
    # The pattern stream is then the third input.
    assert option(silent, "-filter_complex").split(";")[1].startswith("[2:v]settb=")
    for argv in (with_audio, silent):
        assert (option(argv, "-c:a"), option(argv, "-ac"), option(argv, "-ar")) == ("aac", "2", "48000")


def test_no_key_material_on_the_command_line(tmp_path: Path) -> None:
    key = new_content_key()
    poster = poster_command(
        ffmpeg="ffmpeg", source=tmp_path / "s", out_path=tmp_path / "p.jpg", at_s=3.0, width=1280, height=720
    )
    text = "\n".join(command(tmp_path) + poster)
    assert key.hex() not in text
    for encryption in ("-hls_enc", "-hls_key_info_file", "-encryption", "periodic_rekey", ".key"):
        assert encryption not in text


def test_gop_follows_the_frame_rate() -> None:
    assert gop_frames(25, 6) == 150
    assert gop_frames(30000 / 1001, 6) == 180
    assert gop_frames(30000 / 1001, 2) == 60
    assert gop_frames(0, 6) == 180  # unknown rate: a ceiling only, keyframes are forced by time


@pytest.mark.parametrize("folder", ["private", "out"])
def test_a_percent_sign_in_an_output_path_is_refused(tmp_path: Path, folder: str) -> None:
    with pytest.raises(ValueError, match="%"):
        ladder_command(
            ffmpeg="ffmpeg",
            source=tmp_path / "source.mov",
            plain_dir=tmp_path / ("100%" if folder == "private" else "private"),
            out_dir=tmp_path / ("100%" if folder == "out" else "out"),
            renditions=plan_ladder(640, 360),
            fps=25.0,
            has_audio=True,
            duration_s=30.0,
            segment_seconds=2,
            pattern_file=tmp_path / "pattern.gray",
            thumbnails=None,
        )


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
