"""The ffmpeg commands: one that turns the source into the whole encrypted ladder and its thumbnails,
and a tiny one for the poster frame.

Why one command for the ladder: the source is decoded once and ``split`` to every encoder
(ARCHITECTURE.md measured 66 CPU-s for one command against 83 for three). The thumbnails are one more
branch of that split, so they cost no second decode: it keeps the first frame of every ten-second span
and scales only those. The poster is not a branch: ffmpeg prints no progress until every output has
received its first frame, and a poster at 10 % of a two-hour film would leave the job silent (and
uncancellable between progress reports) for twelve minutes. It comes from a second command that seeks
straight to its time, decoding one GOP.

Segment boundaries are the same in every rendition (the forensic A/B variants that come later swap
segments between variants): keyframes are forced at every multiple of the segment length, by time, in
every encoder; scene-cut keyframes are off; GOPs are closed. The HLS muxer cuts at the first keyframe
after each multiple, which is then the same frame in every rendition.

Built as explicit argv lists rather than with ffmpeg-python: one HLS output carrying several streams
under ``-var_stream_map`` with per-stream options (``-b:v:1``) reads plainly as a list and poorly as a
graph of ffmpeg-python nodes. Every path is an argument, never through a shell; the source is opened
as ``file:`` with the demuxer whitelist of ``probe``.

Keys never appear here: ffmpeg reads the key from the file named in the key info file.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

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


def _filter_graph(renditions: Sequence[Rendition], thumbnails: Thumbnails | None) -> str:
    branches = [f"[v{i}]" for i in range(len(renditions))] + (["[thumb_in]"] if thumbnails else [])
    parts = [f"[0:v]split={len(branches)}{''.join(branches)}"]
    for i, rendition in enumerate(renditions):
        parts.append(f"[v{i}]scale={rendition.width}:{rendition.height},setsar=1[out{i}]")
    if thumbnails:
        # Not the fps filter: it holds its first frame back until half a period has gone by, and
        # ffmpeg reports no progress until every output has had a frame.
        every = thumbnails.every_s
        first_of_span = f"isnan(prev_selected_t)+gt(floor(t/{every}),floor(prev_selected_t/{every}))"
        parts.append(
            f"[thumb_in]select='{first_of_span}',scale={thumbnails.width}:{thumbnails.height},setsar=1[thumbs]"
        )
    return ";".join(parts)


def ladder_command(
    *,
    ffmpeg: str,
    source: Path,
    out_dir: Path,
    renditions: Sequence[Rendition],
    fps: float,
    has_audio: bool,
    duration_s: float,
    segment_seconds: int,
    key_info_file: Path,
    thumbnails: Thumbnails | None,
) -> list[str]:
    """The argv of the packaging command. Progress goes to stdout (``-progress pipe:1``), logs to stderr.

    A source without audio gets a silent stereo track (anullsrc), so every rendition has the same streams
    whatever the source: one player path, and the later A/B variants stay interchangeable.
    """
    if "%" in str(out_dir):
        raise ValueError("The output folder's path must not contain '%' (ffmpeg reads it as a pattern).")
    gop = gop_frames(fps, segment_seconds)
    argv = [ffmpeg, "-hide_banner", "-nostdin", "-y", "-loglevel", "error", "-progress", "pipe:1", "-nostats"]
    argv += _input(source)
    if has_audio:
        audio_input = "0:a:0"
    else:
        silence = f"anullsrc=channel_layout=stereo:sample_rate={AUDIO_SAMPLE_RATE}"
        argv += ["-f", "lavfi", "-t", f"{duration_s:.3f}", "-i", silence]
        audio_input = "1:a:0"
    argv += ["-filter_complex", _filter_graph(renditions, thumbnails)]

    # Output 1: the HLS ladder, one video and one audio stream per rendition.
    for i in range(len(renditions)):
        argv += ["-map", f"[out{i}]", "-map", audio_input]
    argv += ["-map_metadata", "-1", "-map_chapters", "-1"]  # the source's tags stay with the source
    argv += ["-c:v", "libx264", "-preset", X264_PRESET, "-profile:v", X264_PROFILE, "-pix_fmt", "yuv420p"]
    for i, rendition in enumerate(renditions):
        argv += [
            f"-b:v:{i}", f"{rendition.video_bitrate_k}k",
            f"-maxrate:v:{i}", f"{rendition.maxrate_k}k",
            f"-bufsize:v:{i}", f"{rendition.bufsize_k}k",
            f"-b:a:{i}", f"{rendition.audio_bitrate_k}k",
        ]  # fmt: skip
    argv += [
        "-g:v", str(gop),
        "-keyint_min:v", str(gop),
        "-sc_threshold:v", "0",
        "-flags:v", "+cgop",
        "-force_key_frames:v", f"expr:gte(t,n_forced*{segment_seconds})",
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
        # periodic_rekey makes ffmpeg re-read the key info file at every segment; with no IV line in it,
        # each segment's IV is then its sequence number, written into the playlist. Without the flag ffmpeg
        # would reuse the first segment's IV for the whole rendition.
        "-hls_flags", "independent_segments+periodic_rekey",
        "-hls_key_info_file", str(key_info_file),
        "-master_pl_name", MASTER_PLAYLIST,
        "-var_stream_map", stream_map,
        "-hls_segment_filename", str(out_dir / "%v" / SEGMENT_PATTERN),
        str(out_dir / "%v" / MEDIA_PLAYLIST),
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
