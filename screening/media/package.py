"""The packaging job: one ffmpeg run from the source to an AES-128 encrypted HLS ladder in ``out_dir``.

What ``out_dir`` holds afterwards (all of it is meant for the media store, nothing else is in it)::

    master.m3u8                     variants with BANDWIDTH, RESOLUTION and CODECS
    <rendition>/index.m3u8          VOD media playlist, an #EXT-X-KEY line (URI=key_uri, IV) per segment
    <rendition>/seg_00000.ts ...    MPEG-TS segments, AES-128-CBC encrypted
    poster.jpg                      one frame at 10 % of the duration, at most 1280 wide
    thumbs/thumb_0000.jpg ...       320 wide, thumb N shows second 10 * N

Encryption follows RFC 8216 METHOD=AES-128: one key per cut (every rendition), each segment's IV its
media sequence number, written into the playlist. The key reaches ffmpeg only through a file in a
private temporary folder (0700, the file 0600) that is deleted as soon as ffmpeg exits; it is never on
a command line, in ``out_dir`` or in a message. Segment N of every rendition shares IV N under the one
key: CBC then reveals only that two renditions' segments begin with the same bytes, which they do (the
MPEG-TS tables) and which is no secret. The forensic A/B variants should each get their own key, or
a variant's segments would show where they first differ from the other's.

Every call to ``on_progress`` carries the whole job's percent (never decreasing) and a stage:
``transcoding`` (0-97: the single ffmpeg pass, which makes the thumbnails too), ``poster`` (97: a
second, tiny ffmpeg run), ``verifying`` (98) and ``packaged`` (100).
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import av
import av.error

from screening.media.command import (
    MASTER_PLAYLIST,
    MEDIA_PLAYLIST,
    POSTER,
    THUMBS_DIR,
    Thumbnails,
    ladder_command,
    poster_command,
)
from screening.media.errors import PackagingCancelled, PackagingFailed
from screening.media.keys import CONTENT_KEY_BYTES
from screening.media.ladder import Rendition
from screening.media.playlist import MediaPlaylist, read_media_playlist
from screening.media.probe import OPEN_OPTIONS
from screening.media.runner import ProgressBlock, run_ffmpeg

__all__ = [
    "PackageResult",
    "PackagingCancelled",
    "PackagingFailed",
    "RenditionOutput",
    "check_alignment",
    "check_encryption",
    "package_hls",
]

ALIGNMENT_TOLERANCE_S = 0.05
POSTER_AT_SHARE = 0.10
POSTER_MAX_WIDTH = 1280
THUMB_WIDTH = 320
THUMB_EVERY_S = 10
TRANSCODING_SHARE = 97.0
POSTER_SHARE = 1.0
_SAFE_NAME = re.compile(r"^[A-Za-z0-9_-]+$")

ProgressCallback = Callable[[float, str], None]


@dataclass(frozen=True)
class RenditionOutput:
    rendition: Rendition
    playlist: Path
    segment_count: int


@dataclass(frozen=True)
class PackageResult:
    master_playlist: Path
    renditions: list[RenditionOutput]
    duration_s: float  # as packaged: the sum of the segments' durations
    poster: Path
    thumbnails: list[Path]
    files: list[str]  # every file in out_dir, relative POSIX paths, sorted: what to upload


def _even(value: float) -> int:
    return max(2, int(round(value / 2)) * 2)


def _scaled(top: Rendition, max_width: int) -> tuple[int, int]:
    """A still's size: ``max_width`` wide at most, the top rendition's aspect ratio, even sides."""
    width = min(max_width, top.width)
    return _even(width), _even(width * top.height / top.width)


def _validate(
    renditions: Sequence[Rendition], key: bytes, key_uri: str, segment_seconds: int, duration_s: float
) -> None:
    if not renditions:
        raise ValueError("At least one rendition is needed.")
    names = [r.name for r in renditions]
    if len(set(names)) != len(names) or not all(_SAFE_NAME.match(name) for name in names):
        raise ValueError("Rendition names must be unique letters, digits, '-' or '_' (they name folders).")
    if len(key) != CONTENT_KEY_BYTES:
        raise ValueError(f"The content key must be {CONTENT_KEY_BYTES} bytes.")
    if not key_uri or any(c in key_uri for c in '"\r\n'):
        raise ValueError("The key URI must be non-empty, on one line and without quotes.")
    if segment_seconds < 1:
        raise ValueError("Segments must last at least one second.")
    if duration_s <= 0:
        raise ValueError("The source's duration must be positive.")


def _source_streams(source: Path) -> tuple[float, bool]:
    """The source's frame rate and whether it has audio, when the caller did not pass them."""
    try:
        with av.open(str(source), options=OPEN_OPTIONS) as container:
            video = container.streams.video[0]
            rate = video.average_rate or video.guessed_rate
            return (float(rate) if rate else 0.0), bool(container.streams.audio)
    except (av.error.FFmpegError, ValueError, OSError, IndexError):
        raise PackagingFailed("The source video cannot be read.") from None


def _write_private(path: Path, data: bytes) -> None:
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(data)


def _empty(folder: Path) -> None:
    """Remove what a failed or cancelled run left in ``out_dir`` (which was empty when it started)."""
    if not folder.is_dir():
        return
    for child in folder.iterdir():
        if child.is_dir() and not child.is_symlink():
            shutil.rmtree(child, ignore_errors=True)
        else:
            child.unlink(missing_ok=True)


def _playlists(out_dir: Path, renditions: Sequence[Rendition]) -> dict[str, MediaPlaylist]:
    playlists = {}
    for rendition in renditions:
        path = out_dir / rendition.name / MEDIA_PLAYLIST
        try:
            playlists[rendition.name] = read_media_playlist(path)
        except (OSError, ValueError):
            raise PackagingFailed(f"The {rendition.name} rendition has no readable playlist.") from None
    return playlists


def check_alignment(out_dir: Path, renditions: Sequence[Rendition]) -> None:
    """Every rendition has the same segments: same count, same durations (within 0.05 s), all files present.

    Players switch renditions at segment boundaries, and the forensic A/B variants swap whole segments,
    so a boundary that differs between renditions would show as a jump.
    """
    playlists = _playlists(out_dir, renditions)
    reference_name, reference = next(iter(playlists.items()))
    for name, playlist in playlists.items():
        if not playlist.ended or not playlist.segments:
            raise PackagingFailed(f"The {name} rendition is incomplete.")
        for segment in playlist.segments:
            if not (out_dir / name / segment.uri).is_file():
                raise PackagingFailed(f"The {name} rendition lacks its segment {segment.uri}.")
        if len(playlist.segments) != len(reference.segments):
            raise PackagingFailed(
                f"The renditions are not aligned: {reference_name} has {len(reference.segments)} segments, "
                f"{name} has {len(playlist.segments)}."
            )
        for index, (ours, theirs) in enumerate(zip(playlist.segments, reference.segments, strict=True)):
            if abs(ours.duration_s - theirs.duration_s) > ALIGNMENT_TOLERANCE_S:
                raise PackagingFailed(
                    f"The renditions are not aligned: segment {index} lasts {theirs.duration_s:.3f} s in "
                    f"{reference_name} and {ours.duration_s:.3f} s in {name}."
                )


def check_encryption(out_dir: Path, renditions: Sequence[Rendition], key_uri: str) -> None:
    """Every segment is AES-128 encrypted, points at ``key_uri``, and its IV is its sequence number."""
    for name, playlist in _playlists(out_dir, renditions).items():
        for offset, segment in enumerate(playlist.segments):
            iv = f"0x{playlist.media_sequence + offset:032x}"
            if (
                segment.key_method != "AES-128"
                or segment.key_uri != key_uri
                or (segment.iv or "").lower() != iv
            ):
                raise PackagingFailed(
                    f"Segment {segment.uri} of the {name} rendition is not encrypted as expected."
                )


def _files(out_dir: Path) -> list[str]:
    return sorted(path.relative_to(out_dir).as_posix() for path in out_dir.rglob("*") if path.is_file())


class _Progress:
    """Turns ffmpeg's progress into the job's percent; calls back only when it moves forward.

    Counts encoded frames of the top rendition when the frame rate is known: ``out_time`` is the latest
    of all streams, and the audio encoders run seconds ahead of the video ones.
    """

    def __init__(self, callback: ProgressCallback | None, duration_s: float, fps: float) -> None:
        self.callback = callback
        self.duration_s = duration_s
        self.expected_frames = duration_s * fps
        self.percent = -1.0
        self.stage = ""

    def report(self, percent: float, stage: str) -> None:
        percent = round(min(100.0, max(percent, self.percent, 0.0)), 1)
        if self.callback is not None and (percent > self.percent or stage != self.stage):
            self.callback(percent, stage)
        self.percent, self.stage = percent, stage

    def transcoding(self, block: ProgressBlock) -> None:
        try:
            if self.expected_frames > 0:
                done = int(block["frame"]) / self.expected_frames
            else:  # out_time_ms is in microseconds too, a misnomer ffmpeg kept
                done = int(block.get("out_time_us") or block["out_time_ms"]) / 1e6 / self.duration_s
        except (KeyError, ValueError):  # "N/A" before the first frame
            return
        self.report(TRANSCODING_SHARE * min(1.0, done), "transcoding")


def package_hls(
    source: Path,
    out_dir: Path,
    *,
    renditions: list[Rendition],
    key: bytes,
    key_uri: str,
    segment_seconds: int = 6,
    ffmpeg: str,
    on_progress: ProgressCallback | None = None,
    should_cancel: Callable[[], bool] | None = None,
    duration_s: float,
    fps: float | None = None,
    has_audio: bool | None = None,
) -> PackageResult:
    """Package ``source`` into ``out_dir`` (created if missing, and it must be empty).

    ``duration_s`` (from ``probe``) scales the progress and places the poster; ``fps`` and ``has_audio``
    (also from ``probe``) are read from the source when not given. ``key_uri`` is written as is into
    every #EXT-X-KEY line: a placeholder the per-grant playlist rewrites.

    Raises ``PackagingCancelled`` if ``should_cancel()`` returns True (checked about twice a second),
    ``PackagingFailed`` if ffmpeg fails or its output does not pass the checks, ``ValueError`` for
    arguments no source could fix. On any exception ``out_dir`` is left empty.
    """
    _validate(renditions, key, key_uri, segment_seconds, duration_s)
    if out_dir.is_dir() and any(out_dir.iterdir()):
        raise ValueError("The output folder must be empty.")
    if fps is None or has_audio is None:
        probed_fps, probed_audio = _source_streams(source)
        fps = probed_fps if fps is None else fps
        has_audio = probed_audio if has_audio is None else has_audio
    progress = _Progress(on_progress, duration_s, fps)
    progress.report(0.0, "transcoding")
    top = renditions[0]
    thumb_width, thumb_height = _scaled(top, THUMB_WIDTH)
    poster_width, poster_height = _scaled(top, POSTER_MAX_WIDTH)
    try:
        try:
            for folder in [out_dir, *(out_dir / r.name for r in renditions), out_dir / THUMBS_DIR]:
                folder.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise PackagingFailed("The output folder cannot be written.", str(error)) from None
        with tempfile.TemporaryDirectory(prefix="screening-key-") as private:  # mode 0700
            key_file = Path(private) / "content.key"
            key_info = Path(private) / "key.info"
            _write_private(key_file, key)
            # No third (IV) line: see the periodic_rekey note in command.py.
            _write_private(key_info, f"{key_uri}\n{key_file}\n".encode())
            argv = ladder_command(
                ffmpeg=ffmpeg,
                source=source,
                out_dir=out_dir,
                renditions=renditions,
                fps=fps,
                has_audio=has_audio,
                duration_s=duration_s,
                segment_seconds=segment_seconds,
                key_info_file=key_info,
                thumbnails=Thumbnails(THUMB_EVERY_S, thumb_width, thumb_height),
            )
            log = Path(private) / "ffmpeg.log"
            run_ffmpeg(argv, log_path=log, on_progress=progress.transcoding, should_cancel=should_cancel)
        # The key file is gone from here on.
        progress.report(TRANSCODING_SHARE, "poster")
        if should_cancel is not None and should_cancel():
            raise PackagingCancelled()
        with tempfile.TemporaryDirectory(prefix="screening-poster-") as scratch:
            poster = poster_command(
                ffmpeg=ffmpeg,
                source=source,
                out_path=out_dir / POSTER,
                at_s=duration_s * POSTER_AT_SHARE,
                width=poster_width,
                height=poster_height,
            )
            run_ffmpeg(poster, log_path=Path(scratch) / "ffmpeg.log", should_cancel=should_cancel)
        progress.report(TRANSCODING_SHARE + POSTER_SHARE, "verifying")
        result = _verify(out_dir, renditions, key_uri, duration_s, segment_seconds)
    except BaseException:
        _empty(out_dir)
        raise
    progress.report(100.0, "packaged")
    return result


def _verify(
    out_dir: Path, renditions: Sequence[Rendition], key_uri: str, duration_s: float, segment_seconds: int
) -> PackageResult:
    check_alignment(out_dir, renditions)
    check_encryption(out_dir, renditions, key_uri)
    playlists = _playlists(out_dir, renditions)
    packaged_s = next(iter(playlists.values())).duration_s
    if packaged_s < duration_s - max(2.0, 0.05 * duration_s, segment_seconds / 2):
        raise PackagingFailed(
            f"Only {packaged_s:.1f} s of the {duration_s:.1f} s video could be packaged; "
            "the file is probably damaged part-way through."
        )
    poster = out_dir / POSTER
    thumbnails = sorted((out_dir / THUMBS_DIR).glob("*.jpg"))
    if not poster.is_file() or not thumbnails:
        raise PackagingFailed("The poster frame or the thumbnails could not be made.")
    return PackageResult(
        master_playlist=out_dir / MASTER_PLAYLIST,
        renditions=[
            RenditionOutput(r, out_dir / r.name / MEDIA_PLAYLIST, len(playlists[r.name].segments))
            for r in renditions
        ],
        duration_s=packaged_s,
        poster=poster,
        thumbnails=thumbnails,
        files=_files(out_dir),
    )
