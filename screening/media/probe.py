"""What an uploaded file is, read with PyAV (the ffmpeg wheel has no ffprobe), or why it is refused.

Checks run cheapest first and stop at the first failure: size (a stat), then the container (only
demuxers on ``DEMUXER_WHITELIST`` are tried), the streams, the duration, two decoded frames at the start
(a still image is not a screener) and one near the end (a file cut off in transit is refused now, not
after an hour of transcoding).

The whitelist matters for safety: ffmpeg can also read playlists (HLS, concat) that pull in other
files or URLs, so an uploaded "video" that is really such a playlist could make the worker read local
files into a screener. Only self-contained media containers are opened, and only through the file
protocol. ``package`` passes the same options to ffmpeg.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import av
import av.error

from screening.media.errors import MediaRejected

__all__ = ["DEMUXER_WHITELIST", "AudioInfo", "MediaRejected", "ProbeResult", "VideoInfo", "probe"]

# ffmpeg demuxer names; mov covers mp4/m4a/3gp, matroska covers webm. Audio-only containers are here so
# that an audio file is told "no video stream" rather than "not a video".
DEMUXER_WHITELIST = "mov,matroska,avi,mpegts,mpeg,mxf,asf,flv,ogg,dv,mp3,wav,flac,aac"
OPEN_OPTIONS = {"format_whitelist": DEMUXER_WHITELIST, "protocol_whitelist": "file"}

# The first bytes of containers we accept. A file that starts like one but will not open was damaged
# or cut off ("truncated"); anything else is "not_video".
_MAGIC_AT_4 = (b"ftyp", b"moov", b"mdat", b"free", b"wide", b"skip", b"pnot")
_MAGIC_AT_0 = (
    b"\x1a\x45\xdf\xa3",  # EBML: Matroska, WebM
    b"\x00\x00\x01\xba",  # MPEG program stream
    b"FLV",
    b"\x30\x26\xb2\x75",  # ASF, WMV
    b"\x06\x0e\x2b\x34",  # MXF (SMPTE universal label)
    b"OggS",
)
_TS_PACKET = 188
_IMAGE_MAGIC = (b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"BM", b"II*\x00", b"MM\x00*")

# The truncation check seeks this far before the end, then decodes from the keyframe before that point:
# its cost is one GOP plus this window, whatever the length of the film.
END_WINDOW_S = 1.0


@dataclass(frozen=True)
class VideoInfo:
    """The first video stream. ``width``/``height`` are the display size: rotation and sample aspect ratio
    applied, square pixels. That is the size a viewer sees and the size the ladder is planned from;
    ``coded_width``/``coded_height`` are the stored frames."""

    width: int
    height: int
    fps: float
    codec: str
    rotation: int
    coded_width: int
    coded_height: int
    sample_aspect_ratio: float


@dataclass(frozen=True)
class AudioInfo:
    codec: str
    channels: int
    sample_rate: int


@dataclass(frozen=True)
class ProbeResult:
    duration_s: float
    size_bytes: int
    container: str
    video: VideoInfo
    audio: AudioInfo | None

    @property
    def has_audio(self) -> bool:
        return self.audio is not None


def _human_bytes(count: float) -> str:
    for unit in ("bytes", "KB", "MB", "GB"):
        if round(count, 1) < 1000 or unit == "GB":
            return f"{count:.0f} {unit}" if unit == "bytes" else f"{count:.1f} {unit}"
        count /= 1000
    raise AssertionError("unreachable")


def _human_duration(seconds: float) -> str:
    if seconds < 60:
        return f"{max(seconds, 0):.0f} s"
    minutes = math.ceil(seconds / 60)
    return f"{minutes // 60} h {minutes % 60:02d} min" if minutes >= 60 else f"{minutes} min"


def _unreadable(path: Path) -> MediaRejected:
    """Why a file that would not open is refused: damaged if it starts like a video container."""
    with path.open("rb") as handle:
        head = handle.read(_TS_PACKET * 2 + 1)
    if head.startswith(_IMAGE_MAGIC) or (head.startswith(b"RIFF") and head[8:12] == b"WEBP"):
        return _still_image()
    if (
        head[4:8] in _MAGIC_AT_4
        or head.startswith(_MAGIC_AT_0)
        or (head.startswith(b"RIFF") and head[8:12] == b"AVI ")
        or (len(head) > _TS_PACKET * 2 and head[0] == head[_TS_PACKET] == head[_TS_PACKET * 2] == 0x47)
    ):
        return _truncated()
    return _not_video()


def _not_video() -> MediaRejected:
    return MediaRejected("not_video", "The file is not a video we can read.")


def _still_image() -> MediaRejected:
    return MediaRejected("not_video", "The file holds a still image, not a video.")


def _truncated() -> MediaRejected:
    return MediaRejected(
        "truncated",
        "The file looks like a video but cannot be read to its end: it was probably cut off during the "
        "upload or is damaged. Please upload it again.",
    )


def _seconds(value: int | None, time_base: Any) -> float | None:
    return None if value is None or time_base is None else float(value * time_base)


def _video_info(stream: Any, rotation: int) -> VideoInfo:
    coded_width, coded_height = int(stream.codec_context.width), int(stream.codec_context.height)
    sar = float(stream.sample_aspect_ratio) if stream.sample_aspect_ratio else 1.0
    width, height = round(coded_width * sar), coded_height
    if rotation % 180:
        width, height = height, width
    rate = stream.average_rate or stream.guessed_rate or stream.base_rate
    return VideoInfo(
        width=width,
        height=height,
        fps=float(rate) if rate else 0.0,
        codec=stream.codec_context.name,
        rotation=rotation,
        coded_width=coded_width,
        coded_height=coded_height,
        sample_aspect_ratio=sar,
    )


def _first_frames(container: Any, stream: Any) -> tuple[int, int]:
    """How many frames (0, 1 or 2) decode from the start, and the first one's display rotation."""
    count, rotation = 0, 0
    for frame in container.decode(stream):
        if count == 0:
            rotation = int(frame.rotation or 0) % 360
        count += 1
        if count == 2:
            break
    return count, rotation


def _reaches_the_end(container: Any, stream: Any, end_s: float, fps: float) -> bool:
    """Whether the video goes on to its declared end: seek just before it, read every packet from the
    keyframe there to the end of the file, and decode the keyframes among them.

    A file cut off in transit runs out of packets early (or fails to read); a damaged tail fails to
    decode. Only keyframes are decoded, so the cost is reading one GOP, whatever the film's length.
    """
    time_base = stream.time_base
    container.seek(
        int(max(0.0, end_s - END_WINDOW_S) / time_base), stream=stream, backward=True, any_frame=False
    )
    stream.codec_context.skip_frame = "NONKEY"
    last_end = None
    pictures = 0
    for packet in container.demux(stream):
        if packet.pts is not None:
            packet_end = float((packet.pts + (packet.duration or 0)) * time_base)
            last_end = packet_end if last_end is None else max(last_end, packet_end)
        pictures += len(packet.decode())  # the final, empty packet flushes the decoder
    frame_s = 1 / fps if fps > 0 else 0.1
    tolerance = max(2.0, 5 * frame_s, 0.01 * end_s)
    return pictures > 0 and last_end is not None and last_end >= end_s - tolerance


def probe(path: Path, *, max_duration_s: float, max_bytes: int) -> ProbeResult:
    """Facts about the video at ``path``, or ``MediaRejected`` with a code and a sentence saying why not."""
    size = path.stat().st_size
    if size > max_bytes:
        raise MediaRejected(
            "too_large",
            f"The file is {_human_bytes(size)}; the largest accepted is {_human_bytes(max_bytes)}.",
        )
    if size == 0:
        raise MediaRejected("not_video", "The file is empty.")
    try:
        container = av.open(str(path), options=OPEN_OPTIONS)
    except (av.error.FFmpegError, ValueError, OSError):
        raise _unreadable(path) from None
    with container:
        return _inspect(container, size, max_duration_s)


def _inspect(container: Any, size: int, max_duration_s: float) -> ProbeResult:
    videos = [s for s in container.streams.video if not s.disposition & av.stream.Disposition.attached_pic]
    if not videos:
        raise MediaRejected("no_video_stream", "The file has no video in it (is it an audio file?).")
    stream = videos[0]
    audios = list(container.streams.audio)
    start_s = (container.start_time or 0) / av.time_base
    duration_s = container.duration / av.time_base if container.duration else None
    stream_start = _seconds(stream.start_time, stream.time_base)
    stream_duration = _seconds(stream.duration, stream.time_base)
    if stream_duration:
        video_end_s = (stream_start or start_s) + stream_duration
    elif duration_s:
        video_end_s = start_s + duration_s
    else:
        raise MediaRejected("not_video", "The length of the video cannot be read from the file.")
    duration_s = duration_s or stream_duration or 0.0
    if duration_s <= 0:
        raise _not_video()
    if duration_s > max_duration_s:
        raise MediaRejected(
            "too_long",
            f"The video lasts {_human_duration(duration_s)}; the longest accepted is "
            f"{_human_duration(max_duration_s)}.",
        )
    try:
        frames, rotation = _first_frames(container, stream)
    except (av.error.FFmpegError, ValueError):
        raise _truncated() from None
    if frames < 2:
        raise _still_image()
    video = _video_info(stream, rotation)
    try:
        complete = _reaches_the_end(container, stream, video_end_s, video.fps)
    except (av.error.FFmpegError, ValueError):
        complete = False
    if not complete:
        raise _truncated()
    audio = None
    if audios:
        context = audios[0].codec_context
        audio = AudioInfo(
            codec=context.name, channels=int(context.channels), sample_rate=int(context.sample_rate)
        )
    return ProbeResult(
        duration_s=float(duration_s),
        size_bytes=size,
        container=container.format.name,
        video=video,
        audio=audio,
    )
