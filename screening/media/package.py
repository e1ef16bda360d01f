"""The packaging job: one ffmpeg run from the source to both forensic variants of an encrypted HLS ladder.

What ``out_dir`` holds afterwards (all of it is meant for the media store, nothing else is in it)::

    master.m3u8                       variants with BANDWIDTH (of the padded segments), RESOLUTION, CODECS
    <rendition>/index.m3u8            VOD media playlist: per segment an #EXT-X-KEY line
                                      (URI="key/NNNNN", IV = its sequence number) and its door name
                                      seg_NNNNN.ts, which the per-grant playlist points at its door
    <rendition>/seg_NNNNN_<tag>.ts    two objects per segment, variant A and variant B
                                      (``mark.object_name``: the tag tells no one which is which)
    poster.jpg                        one frame at 10 % of the duration, at most 1280 wide
    thumbs/thumb_0000.jpg ...         320 wide, thumb N shows second 10 * N
    forensics/timeline.npz            tiny grey thumbnails of every frame, for tracing leaks (never served)

The variants (``screening.forensics.mark``): ffmpeg writes variant A's ladder and variant B's marked
windows, unencrypted, into a private temporary folder (0700); ``tsplice`` builds each B segment from A's
by swapping the window in. Both variants of a segment are then padded with null packets to the same
length (a viewer who could compare sizes would learn their variant) and encrypted with AES-128-CBC
under their own key (``mark.segment_key``: one per segment and variant, the same in every rendition),
the IV being the sequence number (RFC 8216 METHOD=AES-128). A viewer thus holds keys that open only
the segments they were given. Nothing unencrypted is ever in ``out_dir``.

Every call to ``on_progress`` carries the whole job's percent (never decreasing) and a stage:
``transcoding`` (0-90: the single ffmpeg pass, which makes the thumbnails too), ``sealing`` (90-97:
building, padding and encrypting the variants), ``poster`` (97: a second, tiny ffmpeg run),
``verifying`` (98) and ``packaged`` (100).
"""

from __future__ import annotations

import math
import re
import shutil
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import av
import av.error
from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from screening.forensics import mark
from screening.forensics.reference import TIMELINE, build_timeline
from screening.media.command import (
    MASTER_PLAYLIST,
    MEDIA_PLAYLIST,
    POSTER,
    THUMBS_DIR,
    Thumbnails,
    b_windows_file,
    ladder_command,
    poster_command,
)
from screening.media.errors import PackagingCancelled, PackagingFailed
from screening.media.keys import CONTENT_KEY_BYTES
from screening.media.ladder import Rendition
from screening.media.playlist import MediaPlaylist, read_media_playlist
from screening.media.probe import OPEN_OPTIONS
from screening.media.runner import ProgressBlock, run_ffmpeg
from screening.media.tsplice import SpliceError, WindowReader, pad, splice_window, timeline_shift

__all__ = [
    "PackageResult",
    "PackagingCancelled",
    "PackagingFailed",
    "RenditionOutput",
    "check_alignment",
    "check_encryption",
    "encrypt_segment",
    "key_uri",
    "package_hls",
]

ALIGNMENT_TOLERANCE_S = 0.05
POSTER_AT_SHARE = 0.10
POSTER_MAX_WIDTH = 1280
THUMB_WIDTH = 320
THUMB_EVERY_S = 10
TRANSCODING_SHARE = 90.0
SEALING_SHARE = 7.0
POSTER_SHARE = 1.0
# The pattern stream runs two segments past the probed duration: the blends stop with the video
# (shortest=1), and a probe that under-reads the duration must not end the video early.
PATTERN_SPARE_SEGMENTS = 2
_SAFE_NAME = re.compile(r"^[A-Za-z0-9_-]+$")
_BANDWIDTH = re.compile(r"(?<![A-Z-])BANDWIDTH=[0-9]+")
_AVERAGE_BANDWIDTH = re.compile(r"AVERAGE-BANDWIDTH=[0-9]+")

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


def key_uri(index: int) -> str:
    """The key URI a stored media playlist gives segment ``index``; the grant's playlist makes it a door."""
    return f"key/{index:05d}"


def iv_for(index: int) -> bytes:
    return index.to_bytes(16, "big")


def encrypt_segment(data: bytes, key: bytes, index: int) -> bytes:
    """AES-128-CBC with PKCS#7 padding and the sequence number as IV (RFC 8216 METHOD=AES-128)."""
    padder = padding.PKCS7(128).padder()
    encryptor = Cipher(algorithms.AES(key), modes.CBC(iv_for(index))).encryptor()
    return encryptor.update(padder.update(data) + padder.finalize()) + encryptor.finalize()


def _even(value: float) -> int:
    return max(2, int(round(value / 2)) * 2)


def _scaled(top: Rendition, max_width: int) -> tuple[int, int]:
    """A still's size: ``max_width`` wide at most, the top rendition's aspect ratio, even sides."""
    width = min(max_width, top.width)
    return _even(width), _even(width * top.height / top.width)


def _validate(renditions: Sequence[Rendition], key: bytes, segment_seconds: int, duration_s: float) -> None:
    if not renditions:
        raise ValueError("At least one rendition is needed.")
    names = [r.name for r in renditions]
    if len(set(names)) != len(names) or not all(_SAFE_NAME.match(name) for name in names):
        raise ValueError("Rendition names must be unique letters, digits, '-' or '_' (they name folders).")
    if len(key) != CONTENT_KEY_BYTES:
        raise ValueError(f"The content key must be {CONTENT_KEY_BYTES} bytes.")
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


def check_alignment(plain_dir: Path, renditions: Sequence[Rendition]) -> None:
    """Every rendition has the same segments: same count, same durations (within 0.05 s), all files present.

    Players switch renditions at segment boundaries, and a grant's stream mixes the variants segment by
    segment, so a boundary that differs between renditions would show as a jump.
    """
    playlists = _playlists(plain_dir, renditions)
    reference_name, reference = next(iter(playlists.items()))
    for name, playlist in playlists.items():
        if not playlist.ended or not playlist.segments:
            raise PackagingFailed(f"The {name} rendition is incomplete.")
        for segment in playlist.segments:
            if not (plain_dir / name / segment.uri).is_file():
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


def check_encryption(out_dir: Path, renditions: Sequence[Rendition], key: bytes) -> None:
    """Every segment has its own key line (``key_uri``, IV its sequence number), and both of its variants
    are stored, of equal size, encrypted (they do not start with an MPEG-TS sync byte pattern)."""
    for name, playlist in _playlists(out_dir, renditions).items():
        for offset, segment in enumerate(playlist.segments):
            index = playlist.media_sequence + offset
            if (
                segment.key_method != "AES-128"
                or segment.key_uri != key_uri(index)
                or (segment.iv or "").lower() != f"0x{index:032x}"
                or segment.uri != f"seg_{index:05d}.ts"
            ):
                raise PackagingFailed(
                    f"Segment {segment.uri} of the {name} rendition is not encrypted as expected."
                )
            sizes = set()
            for variant in mark.VARIANTS:
                path = out_dir / name / mark.object_name(key, name, index, variant)
                if not path.is_file():
                    raise PackagingFailed(f"The {name} rendition lacks variant {variant} of segment {index}.")
                with path.open("rb") as handle:
                    head = handle.read(188 * 2)
                if len(head) == 188 * 2 and head[0] == head[188] == 0x47:
                    raise PackagingFailed(f"Variant {variant} of segment {index} ({name}) is not encrypted.")
                sizes.add(path.stat().st_size)
            if len(sizes) != 1:
                raise PackagingFailed(f"The variants of segment {index} ({name}) differ in size.")


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


def _seal_rendition(
    plain_dir: Path,
    out_dir: Path,
    rendition: Rendition,
    key: bytes,
    segment_seconds: int,
    on_segment: Callable[[], None],
) -> list[int]:
    """Both variants of every segment of ``rendition``, padded and encrypted into ``out_dir``, and its
    stored media playlist. Returns the segments' stored sizes (for the master's bandwidth)."""
    playlist = read_media_playlist(plain_dir / rendition.name / MEDIA_PLAYLIST)
    windows = iter(WindowReader(b_windows_file(plain_dir, rendition), segment_seconds))
    lines = [
        "#EXTM3U",
        "#EXT-X-VERSION:3",
        f"#EXT-X-TARGETDURATION:{playlist.target_duration_s}",
        f"#EXT-X-MEDIA-SEQUENCE:{playlist.media_sequence}",
        "#EXT-X-PLAYLIST-TYPE:VOD",
        "#EXT-X-INDEPENDENT-SEGMENTS",
    ]
    sizes = []
    shift: int | None = None
    for offset, segment in enumerate(playlist.segments):
        index = playlist.media_sequence + offset
        plain_a = (plain_dir / rendition.name / segment.uri).read_bytes()
        window_index, window = next(windows, (None, b""))
        if window_index != offset:
            raise PackagingFailed(
                f"Variant B of the {rendition.name} rendition lacks the window of segment {index}."
            )
        try:
            shift = timeline_shift(plain_a, window) if shift is None else shift
            plain_b = splice_window(plain_a, window, shift)
        except SpliceError as error:
            raise PackagingFailed(
                f"Variant B of segment {index} ({rendition.name}) cannot be built: {error}"
            ) from None
        size = max(len(plain_a), len(plain_b))
        for variant, plain in zip(mark.VARIANTS, (plain_a, plain_b), strict=True):
            sealed = encrypt_segment(pad(plain, size), mark.segment_key(key, index, variant), index)
            (out_dir / rendition.name / mark.object_name(key, rendition.name, index, variant)).write_bytes(
                sealed
            )
        sizes.append(len(sealed))
        lines += [
            f'#EXT-X-KEY:METHOD=AES-128,URI="{key_uri(index)}",IV=0x{index:032x}',
            f"#EXTINF:{segment.duration_s:.6f},",
            f"seg_{index:05d}.ts",
        ]
        on_segment()
    if next(windows, None) is not None:
        raise PackagingFailed(f"Variant B of the {rendition.name} rendition has more windows than segments.")
    lines.append("#EXT-X-ENDLIST")
    (out_dir / rendition.name / MEDIA_PLAYLIST).write_text("\n".join(lines) + "\n", encoding="utf-8")
    return sizes


def _write_master(plain_dir: Path, out_dir: Path, bandwidths: dict[str, tuple[int, int]]) -> None:
    """ffmpeg's master playlist, with each variant's bandwidth measured on what is actually served."""
    lines = (plain_dir / MASTER_PLAYLIST).read_text(encoding="utf-8").splitlines()
    for number, line in enumerate(lines):
        if line.startswith("#EXT-X-STREAM-INF:") and number + 1 < len(lines):
            peak, average = bandwidths[lines[number + 1].split("/", 1)[0]]
            line = _BANDWIDTH.sub(f"BANDWIDTH={peak}", line)
            lines[number] = _AVERAGE_BANDWIDTH.sub(f"AVERAGE-BANDWIDTH={average}", line)
    (out_dir / MASTER_PLAYLIST).write_text("\n".join(lines) + "\n", encoding="utf-8")


def _seal(
    plain_dir: Path,
    out_dir: Path,
    renditions: Sequence[Rendition],
    key: bytes,
    segment_seconds: int,
    progress: _Progress,
    should_cancel: Callable[[], bool] | None,
) -> None:
    playlists = _playlists(plain_dir, renditions)
    total = sum(len(p.segments) for p in playlists.values())
    done = 0

    def on_segment() -> None:
        nonlocal done
        done += 1
        progress.report(TRANSCODING_SHARE + SEALING_SHARE * done / total, "sealing")
        if should_cancel is not None and done % 20 == 0 and should_cancel():
            raise PackagingCancelled()

    bandwidths = {}
    for rendition in renditions:
        durations = [s.duration_s for s in playlists[rendition.name].segments]
        sizes = _seal_rendition(plain_dir, out_dir, rendition, key, segment_seconds, on_segment)
        peak = max(size * 8 / max(duration, 0.001) for size, duration in zip(sizes, durations, strict=True))
        bandwidths[rendition.name] = (math.ceil(peak), math.ceil(sum(sizes) * 8 / sum(durations)))
    _write_master(plain_dir, out_dir, bandwidths)


def package_hls(
    source: Path,
    out_dir: Path,
    *,
    renditions: list[Rendition],
    key: bytes,
    segment_seconds: int = 2,
    ffmpeg: str,
    on_progress: ProgressCallback | None = None,
    should_cancel: Callable[[], bool] | None = None,
    duration_s: float,
    fps: float | None = None,
    has_audio: bool | None = None,
) -> PackageResult:
    """Package ``source`` into ``out_dir`` (created if missing, and it must be empty).

    ``key`` is the cut's content key: every segment key, mark pattern and object name derives from it
    (``screening.forensics.mark``). ``duration_s`` (from ``probe``) scales the progress, sizes the mark's
    pattern stream and places the poster; ``fps`` and ``has_audio`` (also from ``probe``) are read from
    the source when not given.

    Raises ``PackagingCancelled`` if ``should_cancel()`` returns True (checked about twice a second),
    ``PackagingFailed`` if ffmpeg fails or its output does not pass the checks, ``ValueError`` for
    arguments no source could fix. On any exception ``out_dir`` is left empty.
    """
    _validate(renditions, key, segment_seconds, duration_s)
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
        with tempfile.TemporaryDirectory(prefix="screening-plain-") as private:  # mode 0700
            plain_dir = Path(private)
            for rendition in renditions:
                (plain_dir / rendition.name).mkdir()
            pattern = plain_dir / "pattern.gray"
            segments = math.ceil(duration_s / segment_seconds) + PATTERN_SPARE_SEGMENTS
            mark.write_pattern_stream(pattern, mark.mark_secret(key), segments)
            argv = ladder_command(
                ffmpeg=ffmpeg,
                source=source,
                plain_dir=plain_dir,
                out_dir=out_dir,
                renditions=renditions,
                fps=fps,
                has_audio=has_audio,
                duration_s=duration_s,
                segment_seconds=segment_seconds,
                pattern_file=pattern,
                thumbnails=Thumbnails(THUMB_EVERY_S, thumb_width, thumb_height),
            )
            run_ffmpeg(
                argv,
                log_path=plain_dir / "ffmpeg.log",
                on_progress=progress.transcoding,
                should_cancel=should_cancel,
            )
            check_alignment(plain_dir, renditions)
            progress.report(TRANSCODING_SHARE, "sealing")
            _seal(plain_dir, out_dir, renditions, key, segment_seconds, progress, should_cancel)
            smallest = renditions[-1]
            build_timeline(
                [
                    plain_dir / smallest.name / s.uri
                    for s in _playlists(plain_dir, [smallest])[smallest.name].segments
                ],
                segment_seconds,
                fps,
                out_dir / TIMELINE,
            )
        # Nothing unencrypted is left from here on.
        progress.report(TRANSCODING_SHARE + SEALING_SHARE, "poster")
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
        progress.report(TRANSCODING_SHARE + SEALING_SHARE + POSTER_SHARE, "verifying")
        result = _verify(out_dir, renditions, key, duration_s, segment_seconds)
    except BaseException:
        _empty(out_dir)
        raise
    progress.report(100.0, "packaged")
    return result


def _verify(
    out_dir: Path, renditions: Sequence[Rendition], key: bytes, duration_s: float, segment_seconds: int
) -> PackageResult:
    check_encryption(out_dir, renditions, key)
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
