"""The ffmpeg commands: one that turns the source into both forensic variants of the whole ladder and
its thumbnails, and a tiny one for the poster frame.

Why one command for the ladder: the source is decoded once and ``split`` to every encoder
(docs/architecture.md, figures: 66 CPU-s for one command against 83 for three). The thumbnails are one more
branch of that split, so they cost no second decode: it keeps the first frame of every ten-second span
and scales only those. The poster is not a branch: ffmpeg prints no progress until every output has
received its first frame, and a poster at 10 % of a two-hour film would leave the job silent (and
uncancellable between progress reports) for twelve minutes. It comes from a second command that seeks
straight to its time, decoding one GOP.

Segment boundaries are the same in every rendition and both variants (a grant's stream mixes A and B
segments, docs/forensics.md): keyframes are forced at every multiple of the segment length, by time, in
every encoder, and at the end of each segment's marked window in A's; scene-cut keyframes are off; GOPs
are closed. The HLS muxer cuts at the first keyframe after each multiple, which is then the same frame
in every rendition.

Built as explicit argv lists rather than with ffmpeg-python: one HLS output carrying several streams
under ``-var_stream_map`` with per-stream options (``-b:v:1``) reads plainly as a list and poorly as a
graph of ffmpeg-python nodes. Every path is an argument, never through a shell; the source is opened
as ``file:`` with the demuxer whitelist of ``probe``.

No key reaches ffmpeg: it writes plain segments into a private folder, and ``package`` encrypts them.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from screening.forensics import mark
from screening.media.ladder import Rendition
from screening.media.probe import DEMUXER_WHITELIST

X264_PRESET = "veryfast"
X264_PROFILE = "high"
AUDIO_CHANNELS = 2
AUDIO_SAMPLE_RATE = 48000
# Only sets the GOP ceiling when the source's frame rate is unknown: keyframes are forced by time.
FALLBACK_FPS = 30.0
MASTER_PLAYLIST = "master.m3u8"
MEDIA_PLAYLIST = "index.m3u8"
SEGMENT_PATTERN = "seg_%05d.ts"
POSTER = "poster.jpg"
THUMBS_DIR = "thumbs"
THUMB_PATTERN = "thumb_%04d.jpg"


@dataclass(frozen=True)
class Thumbnails:
    """``thumb_%04d.jpg`` number N is the first frame at or after second N * ``every_s``."""

    every_s: int
    width: int
    height: int


def gop_frames(fps: float, segment_seconds: int) -> int:
    """Frames per segment: x264's keyframe interval, so it never adds a keyframe inside a segment."""
    rate = fps if fps > 0 and math.isfinite(fps) else FALLBACK_FPS
    return max(1, round(rate * segment_seconds))


def _input(source: Path) -> list[str]:
    return ["-format_whitelist", DEMUXER_WHITELIST, "-protocol_whitelist", "file", "-i", f"file:{source}"]


def _filter_graph(
    renditions: Sequence[Rendition], thumbnails: Thumbnails | None, pattern: str, segment_seconds: int
) -> str:
    branches = [f"[v{i}]" for i in range(len(renditions))] + (["[thumb_in]"] if thumbnails else [])
    parts = [f"[0:v]split={len(branches)}{''.join(branches)}", mark.pattern_split(pattern, len(renditions))]
    for i, rendition in enumerate(renditions):
        parts.append(f"[v{i}]scale={rendition.width}:{rendition.height},setsar=1[s{i}]")
        parts += mark.mark_filters(
            pattern=f"pat{i}",
            branch=f"s{i}",
            width=rendition.width,
            height=rendition.height,
            segment_seconds=segment_seconds,
            out_a=f"a{i}",
            out_b=f"b{i}",
        )
    if thumbnails:
        # Not the fps filter: it holds its first frame back until half a period has gone by, and
        # ffmpeg reports no progress until every output has had a frame.
        every = thumbnails.every_s
        first_of_span = f"isnan(prev_selected_t)+gt(floor(t/{every}),floor(prev_selected_t/{every}))"
        parts.append(
            f"[thumb_in]select='{first_of_span}',scale={thumbnails.width}:{thumbnails.height},setsar=1[thumbs]"
        )
    return ";".join(parts)


def _video_rate(rendition: Rendition, index: int | str) -> list[str]:
    suffix = f":{index}" if index != "" else ""
    return [
        f"-b:v{suffix}", f"{rendition.video_bitrate_k}k",
        f"-maxrate:v{suffix}", f"{rendition.maxrate_k}k",
        f"-bufsize:v{suffix}", f"{rendition.bufsize_k}k",
    ]  # fmt: skip


def b_windows_file(folder: Path, rendition: Rendition) -> Path:
    """Where the command writes variant B's windows of ``rendition`` (see ``ladder_command``)."""
    return folder / f"b_{rendition.name}.ts"


def ladder_command(
    *,
    ffmpeg: str,
    source: Path,
    plain_dir: Path,
    out_dir: Path,
    renditions: Sequence[Rendition],
    fps: float,
    has_audio: bool,
    duration_s: float,
    segment_seconds: int,
    pattern_file: Path,
    thumbnails: Thumbnails | None,
) -> list[str]:
    """The argv of the packaging command. Progress goes to stdout (``-progress pipe:1``), logs to stderr.

    Writes, in ``plain_dir`` (private, unencrypted): the HLS ladder of variant A (``<rendition>/index.m3u8``
    and its segments, ``master.m3u8``) and, per rendition, variant B's windows as one MPEG-TS stream
    (``b_windows_file``); in ``out_dir``: the thumbnails. ``screening.media.package`` then builds B's
    segments, pads and encrypts both variants into ``out_dir``.

    Both variants share the decoding, the scaling and the audio; B's encoder sees only the windows
    (a third of the frames). It runs with x264's ``force-cfr``: its rate control then spends the bits a
    frame gets at the rendition's frame rate, as A's does, instead of saving the gaps between windows
    for the first frame after each (twice A's bits, measured).

    A source without audio gets a silent stereo track (anullsrc), so every rendition has the same streams
    whatever the source: one player path.
    """
    for folder in (plain_dir, out_dir):
        if "%" in str(folder):
            raise ValueError("The output folders' paths must not contain '%' (ffmpeg reads it as a pattern).")
    gop = gop_frames(fps, segment_seconds)
    argv = [ffmpeg, "-hide_banner", "-nostdin", "-y", "-loglevel", "error", "-progress", "pipe:1", "-nostats"]
    argv += _input(source)
    if has_audio:
        audio_input = "0:a:0"
        pattern_index = 1
    else:
        silence = f"anullsrc=channel_layout=stereo:sample_rate={AUDIO_SAMPLE_RATE}"
        argv += ["-f", "lavfi", "-t", f"{duration_s:.3f}", "-i", silence]
        audio_input = "1:a:0"
        pattern_index = 2
    argv += mark.pattern_input(pattern_file, segment_seconds)
    argv += ["-filter_complex", _filter_graph(renditions, thumbnails, f"{pattern_index}:v", segment_seconds)]

    # Output 1: variant A's HLS ladder, one video and one audio stream per rendition.
    for i in range(len(renditions)):
        argv += ["-map", f"[a{i}]", "-map", audio_input]
    argv += ["-map_metadata", "-1", "-map_chapters", "-1"]  # the source's tags stay with the source
    argv += ["-c:v", "libx264", "-preset", X264_PRESET, "-profile:v", X264_PROFILE, "-pix_fmt", "yuv420p"]
    for i, rendition in enumerate(renditions):
        argv += [*_video_rate(rendition, i), f"-b:a:{i}", f"{rendition.audio_bitrate_k}k"]
    argv += [
        # Every frame as it comes, as B's outputs take them: ffmpeg's default for HLS would duplicate
        # frames across a variable-frame-rate source's gaps in A only, and the windows would differ.
        "-fps_mode:v", "passthrough",
        "-g:v", str(gop),
        "-keyint_min:v", str(gop),
        "-sc_threshold:v", "0",
        "-flags:v", "+cgop",
        "-force_key_frames:v", mark.keyframe_expr(segment_seconds),
        "-c:a", "aac",
        "-ac", str(AUDIO_CHANNELS),
        "-ar", str(AUDIO_SAMPLE_RATE),
    ]  # fmt: skip
    stream_map = " ".join(f"v:{i},a:{i},name:{r.name}" for i, r in enumerate(renditions))
    argv += [
        "-f", "hls",
        "-hls_time", str(segment_seconds),
        "-hls_playlist_type", "vod",
        "-hls_segment_type", "mpegts",
        "-hls_flags", "independent_segments",
        "-master_pl_name", MASTER_PLAYLIST,
        "-var_stream_map", stream_map,
        "-hls_segment_filename", str(plain_dir / "%v" / SEGMENT_PATTERN),
        str(plain_dir / "%v" / MEDIA_PLAYLIST),
    ]  # fmt: skip

    # Outputs 2...: variant B's windows, one MPEG-TS stream per rendition, video only.
    for i, rendition in enumerate(renditions):
        argv += ["-map", f"[b{i}]", "-map_metadata", "-1", "-map_chapters", "-1"]
        argv += ["-c:v", "libx264", "-preset", X264_PRESET, "-profile:v", X264_PROFILE, "-pix_fmt", "yuv420p"]
        argv += _video_rate(rendition, "")
        argv += [
            "-g", str(gop),
            "-sc_threshold", "0",
            "-flags", "+cgop",
            "-force_key_frames", mark.window_keyframe_expr(segment_seconds),
            "-x264-params", "force-cfr=1",
            "-fps_mode", "passthrough",
            "-f", "mpegts",
            str(b_windows_file(plain_dir, rendition)),
        ]  # fmt: skip

    if thumbnails:
        argv += ["-map", "[thumbs]", "-map_metadata", "-1", "-c:v", "mjpeg", "-q:v", "5"]
        argv += ["-fps_mode", "passthrough", "-f", "image2", "-start_number", "0"]
        argv += [str(out_dir / THUMBS_DIR / THUMB_PATTERN)]
    return argv


def poster_command(
    *, ffmpeg: str, source: Path, out_path: Path, at_s: float, width: int, height: int
) -> list[str]:
    """One frame at ``at_s`` as a JPEG: ``-ss`` before the input seeks to the keyframe before it and
    decodes only from there."""
    argv = [ffmpeg, "-hide_banner", "-nostdin", "-y", "-loglevel", "error", "-progress", "pipe:1", "-nostats"]
    argv += ["-ss", f"{at_s:.3f}", *_input(source)]
    argv += ["-map", "0:v:0", "-vf", f"scale={width}:{height},setsar=1", "-frames:v", "1"]
    argv += ["-map_metadata", "-1", "-c:v", "mjpeg", "-q:v", "3"]
    argv += ["-f", "image2", "-update", "1", str(out_path)]
    return argv
