"""Packaging: both forensic variants of an encrypted, aligned HLS ladder, each segment opening only with its
own key, and A and B differing only by the mark, in the window.

The ladders are made once per worker (conftest ``packaged_720``, ``packaged_ntsc``, ``packaged_silent``);
the tests read them. A grant's stream is simulated as the doors serve it: per segment, one variant's
object under the door name ``seg_NNNNN.ts`` and that variant's key at ``key/NNNNN``.
"""

from __future__ import annotations

import functools
import io
import math
import os
import re
import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from itertools import zip_longest
from pathlib import Path

import av
import numpy as np
import pytest
from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from screening.forensics import mark
from screening.forensics.reference import TIMELINE
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
from screening.media.tsplice import NULL_PACKET, PACKET, WindowReader, pad, splice_window, timeline_shift
from tests.screening.conftest import looks_like_clear_mpeg_ts
from tests.screening.media.conftest import (
    CLIP_SECONDS,
    NTSC_SECONDS,
    SEGMENT_SECONDS,
    Packaged,
    fixed_key,
    key_material,
    make_clip,
    probe_clip,
)

ts_synced = looks_like_clear_mpeg_ts

PACKAGED = ("packaged_720", "packaged_ntsc", "packaged_silent")
LADDERS = [
    ("packaged_720", "720p"),
    ("packaged_720", "360p"),
    ("packaged_ntsc", "360p"),
    ("packaged_silent", "360p"),
]
LADDER_IDS = [f"{name.removeprefix('packaged_')}-{rendition}" for name, rendition in LADDERS]
# What each clip is: frames, seconds, and frames in each segment's window (the first third of 2 s:
# 16.7 frames at 25 fps, 20.0 at 29.97).
FRAMES = {"clip_720": 200, "clip_ntsc": 159, "clip_silent": 100}
SECONDS = {"clip_720": CLIP_SECONDS, "clip_ntsc": NTSC_SECONDS, "clip_silent": 4}
WINDOW_FRAMES = {"clip_720": 17, "clip_ntsc": 20, "clip_silent": 17}
# A grant's mix of variants, repeated over the segments; the two together show every segment in both
# variants and every transition (A to B, B to B, B to A, A to A), B first and A first.
MIXES = ("abba", "baab")

# The mark, measured on the decoded difference of the variants (module docstring of screening.forensics.mark).
OWN_PATTERN_MIN = 1.5  # B - A projects on its segment's pattern with a coefficient near +2 (mean per window)
OWN_PATTERN_FRAME_MIN = 1.4  # ... and no window frame lost it
OTHER_PATTERN_MAX = 0.5  # ... and near 0 on another segment's pattern
MARK_RMS_MAX = 1.6  # grey levels: the pattern's share of (B - A) / 2, what a viewer of B sees added
DIFFERENCE_RMS_MAX = 2.0  # grey levels: all of (B - A) / 2, the two encoders' different noise included


def mixed(pattern: str, count: int) -> str:
    return (pattern * count)[:count]


@dataclass(frozen=True)
class Store:
    """What a packaged ladder left for the media store, and its content key."""

    out_dir: Path
    key: bytes


def store(packaged: Packaged) -> Store:
    return Store(packaged.out_dir, packaged.key)


def segment_count(ladder: Packaged | Store, rendition: str) -> int:
    return len(read_media_playlist(ladder.out_dir / rendition / "index.m3u8").segments)


def stored(ladder: Packaged | Store, rendition: str, index: int, variant: str) -> Path:
    return ladder.out_dir / rendition / mark.object_name(ladder.key, rendition, index, variant)


def decrypt_raw(data: bytes, key: bytes, index: int) -> bytes:
    decryptor = Cipher(algorithms.AES(key), modes.CBC(index.to_bytes(16, "big"))).decryptor()
    return decryptor.update(data) + decryptor.finalize()


def unpad(data: bytes) -> bytes:
    unpadder = padding.PKCS7(128).unpadder()
    return unpadder.update(data) + unpadder.finalize()


def opened(ladder: Packaged | Store, rendition: str, index: int, variant: str) -> bytes:
    """One variant of a segment, decrypted with its key and IV (the sequence number)."""
    data = stored(ladder, rendition, index, variant).read_bytes()
    return unpad(decrypt_raw(data, mark.segment_key(ladder.key, index, variant), index))


def stream(ladder: Packaged | Store, rendition: str, pattern: str) -> bytes:
    """The decrypted segments back to back, variant ``pattern[i]`` for segment ``i``."""
    return b"".join(opened(ladder, rendition, i, v) for i, v in enumerate(pattern))


@dataclass(frozen=True)
class Decoded:
    pts: int
    time_base: Fraction
    key_frame: bool
    luma: np.ndarray  # uint8, the coded values (no conversion to full range)


def decoded(data: bytes) -> Iterator[Decoded]:
    """Every frame PyAV decodes from an MPEG-TS stream, in presentation order."""
    with av.open(io.BytesIO(data), "r", format="mpegts") as container:
        for frame in container.decode(video=0):
            assert frame.pts is not None and frame.time_base is not None
            yield Decoded(frame.pts, frame.time_base, frame.key_frame, frame.to_ndarray()[: frame.height])


def place(t: Fraction) -> tuple[int, bool]:
    """The segment of a frame ``t`` seconds after the first, and whether it is in that segment's window
    (the first third): by time alone, as the design defines them."""
    segment = math.floor(t / SEGMENT_SECONDS)
    return segment, t - segment * SEGMENT_SECONDS < Fraction(SEGMENT_SECONDS, 3)


@dataclass(frozen=True)
class FrameDiff:
    """One frame of a mixed stream against the same frame of the all-A stream."""

    segment: int
    in_window: bool
    variant: str  # the mixed stream's variant of that segment
    identical: bool
    own: float  # (mixed - A) projected on its segment's pattern: <D, P_i> / <P_i, P_i>
    others: tuple[float, ...]  # ... on every other segment's pattern
    rms: float  # of (mixed - A) / 2, grey levels
    mark_rms: float  # of the pattern's share of (mixed - A) / 2: own / 2 * RMS(P_i)


@dataclass(frozen=True)
class Comparison:
    a_pts: list[int]
    mixed_pts: list[int]
    frames: list[FrameDiff]


@functools.cache
def compare(ladder: Store, rendition: str, pattern: str) -> Comparison:
    """Decode the all-A stream and the mix ``pattern`` side by side, frame by frame; cached, as several
    tests read the same comparison."""
    count = segment_count(ladder, rendition)
    variants = mixed(pattern, count)
    secret = mark.mark_secret(ladder.key)
    fields = np.empty(0)
    a_pts: list[int] = []
    mixed_pts: list[int] = []
    frames = []
    origin = None
    side_by_side = zip_longest(
        decoded(stream(ladder, rendition, "a" * count)), decoded(stream(ladder, rendition, variants))
    )
    for a, m in side_by_side:
        if a is None or m is None:  # one stream has more frames: recorded, not compared
            a_pts.extend([a.pts] if a else [])
            mixed_pts.extend([m.pts] if m else [])
            continue
        a_pts.append(a.pts)
        mixed_pts.append(m.pts)
        origin = a.pts if origin is None else origin
        segment, in_window = place((a.pts - origin) * a.time_base)
        difference = m.luma.astype(np.float32) - a.luma.astype(np.float32)
        own, others, mark_rms = 0.0, tuple[float, ...](), 0.0
        if in_window:
            if not fields.size:  # every segment's pattern, one row each
                height, width = difference.shape
                fields = np.stack(
                    [mark.pattern_field(secret, i, width, height).ravel() for i in range(count)]
                )
            projections = fields @ difference.ravel() / np.einsum("ij,ij->i", fields, fields)
            own = float(projections[segment])
            others = tuple(float(p) for i, p in enumerate(projections) if i != segment)
            mark_rms = abs(own) / 2 * float(np.sqrt((fields[segment] ** 2).mean()))
        frames.append(
            FrameDiff(
                segment=segment,
                in_window=in_window,
                variant=variants[segment],
                identical=not difference.any(),
                own=own,
                others=others,
                rms=float(np.sqrt(((difference / 2) ** 2).mean())),
                mark_rms=mark_rms,
            )
        )
    return Comparison(a_pts, mixed_pts, frames)


@pytest.fixture(params=LADDERS, ids=LADDER_IDS)
def ladder(request: pytest.FixtureRequest) -> tuple[Packaged, str]:
    name, rendition = request.param
    packaged: Packaged = request.getfixturevalue(name)
    return packaged, rendition


def grant_copy(
    packaged: Packaged, rendition: str, folder: Path, pattern: str, *, key_of: str | None = None
) -> Path:
    """A grant's stream as the doors serve it, in ``folder``: the stored media playlist; per segment, the
    object of variant ``pattern[i]`` under its door name and that variant's key (or, with ``key_of``, the
    key of the variant ``key_of[i]``) under its key URI. Returns the playlist."""
    folder.mkdir(parents=True)
    (folder / "key").mkdir()
    shutil.copy(packaged.out_dir / rendition / "index.m3u8", folder / "index.m3u8")
    count = segment_count(packaged, rendition)
    variants, keys = mixed(pattern, count), mixed(key_of or pattern, count)
    for index, (variant, key_variant) in enumerate(zip(variants, keys, strict=True)):
        shutil.copy(stored(packaged, rendition, index, variant), folder / f"seg_{index:05d}.ts")
        (folder / "key" / f"{index:05d}").write_bytes(mark.segment_key(packaged.key, index, key_variant))
    return folder / "index.m3u8"


def decode(ffmpeg: str, playlist: Path, stream: str = "v:0") -> tuple[int, float, str]:
    """Frames and seconds of ``stream`` ffmpeg decodes from ``playlist`` ((0, 0.0) if it cannot), and what
    it printed at ``-v warning``."""
    argv = [ffmpeg, "-hide_banner", "-nostdin", "-v", "warning", "-allowed_extensions", "ALL"]
    argv += ["-i", str(playlist), "-map", f"0:{stream}", "-f", "null", "-progress", "pipe:1", "-"]
    run = subprocess.run(argv, capture_output=True, text=True, timeout=60)
    if run.returncode != 0:
        return 0, 0.0, run.stderr
    values = dict(line.split("=", 1) for line in run.stdout.splitlines() if "=" in line)  # the last block
    return int(values.get("frame", "0")), int(values["out_time_us"]) / 1e6, run.stderr


def clip(packaged: Packaged) -> str:
    return packaged.source.stem


# --- What is stored -----------------------------------------------------------------------------------


def test_output_layout(packaged_720: Packaged) -> None:
    result, out, key = packaged_720.result, packaged_720.out_dir, packaged_720.key
    assert result.master_playlist == out / "master.m3u8"
    assert [(o.rendition.name, o.playlist, o.segment_count) for o in result.renditions] == [
        ("720p", out / "720p" / "index.m3u8", 4),
        ("360p", out / "360p" / "index.m3u8", 4),
    ]
    assert result.files == sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file())
    objects = {
        f"{r}/{mark.object_name(key, r, i, v)}" for r in ("720p", "360p") for i in range(4) for v in "ab"
    }
    assert set(result.files) == {
        "master.m3u8",
        "poster.jpg",
        "thumbs/thumb_0000.jpg",
        TIMELINE,
        "720p/index.m3u8",
        "360p/index.m3u8",
        *objects,
    }
    assert result.duration_s == pytest.approx(CLIP_SECONDS, abs=0.05)


@pytest.mark.parametrize("name", PACKAGED)
def test_both_variants_of_every_segment_are_stored_at_one_size(
    request: pytest.FixtureRequest, name: str
) -> None:
    packaged: Packaged = request.getfixturevalue(name)
    for rendition in packaged.renditions:
        for index in range(segment_count(packaged, rendition)):
            a, b = stored(packaged, rendition, index, "a"), stored(packaged, rendition, index, "b")
            assert a.is_file() and b.is_file()
            assert a.stat().st_size == b.stat().st_size
            assert a.read_bytes() != b.read_bytes()


def test_no_object_name_tells_its_variant(packaged_720: Packaged) -> None:
    """Presigned URLs show object names: a name carries the segment's number and a tag that only the key
    links to a variant. The two names of a segment share nothing but ``seg_NNNNN_``, the store's sorted
    listing puts A first for some segments and B first for others, and another content key gives other
    names."""
    key, other_key = packaged_720.key, new_content_key()
    names = []
    a_sorts_first = set()
    for rendition in packaged_720.renditions:
        for index in range(4):
            a, b = (mark.object_name(key, rendition, index, v) for v in "ab")
            prefix = f"seg_{index:05d}_"
            assert re.fullmatch(prefix + "[0-9a-f]{20}\\.ts", a) and re.fullmatch(
                prefix + "[0-9a-f]{20}\\.ts", b
            )
            assert len(os.path.commonprefix([a, b])) < len(prefix) + 4  # 1 in 65536 for random tags
            a_sorts_first.add(a < b)
            names += [a, b]
            assert {mark.object_name(other_key, rendition, index, v) for v in "ab"}.isdisjoint({a, b})
    assert len(set(names)) == len(names)  # no tag repeats across renditions either
    assert a_sorts_first == {True, False}


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


@pytest.mark.parametrize("name", PACKAGED)
def test_master_bandwidth_covers_the_padded_segments(request: pytest.FixtureRequest, name: str) -> None:
    """BANDWIDTH is at least the peak bit rate of the segments as served (padded, encrypted), and
    AVERAGE-BANDWIDTH at least their mean: a player that trusts them never under-buffers."""
    packaged: Packaged = request.getfixturevalue(name)
    for variant in read_master_playlist(packaged.result.master_playlist):
        rendition = variant.uri.split("/", 1)[0]
        playlist = read_media_playlist(packaged.out_dir / variant.uri)
        sizes = [stored(packaged, rendition, i, "a").stat().st_size for i in range(len(playlist.segments))]
        durations = [segment.duration_s for segment in playlist.segments]
        peak = max(size * 8 / duration for size, duration in zip(sizes, durations, strict=True))
        assert peak <= variant.bandwidth <= 1.01 * peak
        assert variant.average_bandwidth is not None
        assert variant.average_bandwidth >= sum(sizes) * 8 / sum(durations)


@pytest.mark.parametrize("name", PACKAGED)
def test_stored_media_playlists_carry_a_key_line_and_door_name_per_segment(
    request: pytest.FixtureRequest, name: str
) -> None:
    packaged: Packaged = request.getfixturevalue(name)
    for output in packaged.result.renditions:
        lines = output.playlist.read_text().splitlines()
        assert lines[:6] == [
            "#EXTM3U",
            "#EXT-X-VERSION:3",
            f"#EXT-X-TARGETDURATION:{SEGMENT_SECONDS}",
            "#EXT-X-MEDIA-SEQUENCE:0",
            "#EXT-X-PLAYLIST-TYPE:VOD",
            "#EXT-X-INDEPENDENT-SEGMENTS",
        ]
        assert lines[-1] == "#EXT-X-ENDLIST"
        body = lines[6:-1]
        assert len(body) == 3 * output.segment_count
        for index in range(output.segment_count):
            key_line, duration_line, uri = body[3 * index : 3 * index + 3]
            assert key_line == f'#EXT-X-KEY:METHOD=AES-128,URI="key/{index:05d}",IV=0x{index:032x}'
            assert re.fullmatch(r"#EXTINF:[0-9]+\.[0-9]{6},", duration_line)
            assert uri == f"seg_{index:05d}.ts"
        playlist = read_media_playlist(output.playlist)
        assert playlist.ended and len(playlist.segments) == output.segment_count
        assert playlist.duration_s == pytest.approx(SECONDS[clip(packaged)], abs=0.05)
    check_encryption(packaged.out_dir, [o.rendition for o in packaged.result.renditions], packaged.key)


def test_segments_are_ciphertext_and_each_opens_only_with_its_own_key(ladder: tuple[Packaged, str]) -> None:
    """Each variant of a segment opens with its key and the segment's IV; not with the other variant's
    key, nor another segment's key, and a wrong IV spoils its first block."""
    packaged, rendition = ladder
    count = segment_count(packaged, rendition)
    for index in range(count):
        for variant, other in (("a", "b"), ("b", "a")):
            data = stored(packaged, rendition, index, variant).read_bytes()
            assert not ts_synced(data)
            right = decrypt_raw(data, mark.segment_key(packaged.key, index, variant), index)
            assert ts_synced(right)
            assert not ts_synced(decrypt_raw(data, mark.segment_key(packaged.key, index, other), index))
            for elsewhere in {index - 1, index + 1} & set(range(count)):
                wrong = decrypt_raw(data, mark.segment_key(packaged.key, elsewhere, variant), index)
                assert not ts_synced(wrong)
            wrong_iv = decrypt_raw(data, mark.segment_key(packaged.key, index, variant), index + 1)
            assert wrong_iv[:16] != right[:16] and wrong_iv[16:] == right[16:]


def test_stored_variants_are_ffmpegs_a_and_its_splice_padded(ladder: tuple[Packaged, str]) -> None:
    """Decrypted, variant A is the segment ffmpeg wrote and variant B that segment with B's window spliced
    in, both padded with null packets to the larger of the two."""
    packaged, rendition = ladder
    folder = packaged.plain / rendition
    a_segments = [(folder / s.uri).read_bytes() for s in read_media_playlist(folder / "index.m3u8").segments]
    windows = [w for _, w in WindowReader(packaged.plain / f"b_{rendition}.ts", SEGMENT_SECONDS)]
    shift = timeline_shift(a_segments[0], windows[0])
    assert len(a_segments) == len(windows) == segment_count(packaged, rendition)
    for index, (a, window) in enumerate(zip(a_segments, windows, strict=True)):
        b = splice_window(a, window, shift)
        size = max(len(a), len(b))
        assert opened(packaged, rendition, index, "a") == pad(a, size)
        assert opened(packaged, rendition, index, "b") == pad(b, size)
        assert size % PACKET == 0
    assert any(
        opened(packaged, rendition, i, v).endswith(NULL_PACKET) for i in range(len(windows)) for v in "ab"
    )


def test_a_segment_alone_does_not_decode(packaged_720: Packaged, ffmpeg: str, tmp_path: Path) -> None:
    for variant in "ab":
        lone = tmp_path / f"lone_{variant}.ts"
        shutil.copy(stored(packaged_720, "720p", 0, variant), lone)
        run = subprocess.run(
            [ffmpeg, "-nostdin", "-i", str(lone), "-f", "null", "-"], capture_output=True, timeout=60
        )
        assert run.returncode != 0


# --- Playback of a grant's mix -------------------------------------------------------------------------


@pytest.mark.parametrize("pattern", MIXES)
def test_a_grants_mix_plays_through_when_its_keys_are_served(
    ladder: tuple[Packaged, str], ffmpeg: str, tmp_path: Path, pattern: str
) -> None:
    """ffmpeg itself plays a grant's playlist (AES-128 per segment, variants mixed): every frame, the
    whole sound track, and not a warning."""
    packaged, rendition = ladder
    playlist = grant_copy(packaged, rendition, tmp_path / "grant", pattern)
    frames, _, video_log = decode(ffmpeg, playlist)
    _, audio_s, audio_log = decode(ffmpeg, playlist, "a:0")
    assert frames == FRAMES[clip(packaged)]
    assert audio_s == pytest.approx(SECONDS[clip(packaged)], abs=0.2)
    assert video_log == audio_log == ""


def test_a_grants_mix_does_not_play_with_the_other_variants_keys(
    packaged_720: Packaged, ffmpeg: str, tmp_path: Path
) -> None:
    playlist = grant_copy(packaged_720, "360p", tmp_path / "grant", "abba", key_of="baab")
    assert decode(ffmpeg, playlist)[0] == 0


def test_the_playlist_does_not_decode_with_another_key(
    packaged_720: Packaged, ffmpeg: str, tmp_path: Path
) -> None:
    playlist = grant_copy(packaged_720, "360p", tmp_path / "grant", "abba")
    for key_file in (tmp_path / "grant" / "key").iterdir():
        key_file.write_bytes(new_content_key())
    assert decode(ffmpeg, playlist)[0] == 0


def test_a_source_without_audio_gets_a_silent_track(
    packaged_silent: Packaged, ffmpeg: str, tmp_path: Path
) -> None:
    (variant,) = read_master_playlist(packaged_silent.result.master_playlist)
    assert "mp4a.40.2" in variant.codecs
    playlist = grant_copy(packaged_silent, "360p", tmp_path / "grant", "ab")
    assert decode(ffmpeg, playlist, "a:0")[1] == pytest.approx(4, abs=0.2)


# --- The variants, frame by frame ----------------------------------------------------------------------


@pytest.mark.parametrize("pattern", MIXES)
def test_a_mixed_stream_decodes_frame_for_frame_like_the_all_a_stream(
    ladder: tuple[Packaged, str], ffmpeg: str, tmp_path: Path, pattern: str
) -> None:
    packaged, rendition = ladder
    comparison = compare(store(packaged), rendition, pattern)
    assert len(comparison.a_pts) == FRAMES[clip(packaged)]
    assert comparison.mixed_pts == comparison.a_pts
    assert comparison.a_pts == sorted(set(comparison.a_pts))
    count = segment_count(packaged, rendition)
    mixed_file = tmp_path / "mixed.ts"
    mixed_file.write_bytes(stream(packaged, rendition, mixed(pattern, count)))
    run = subprocess.run(
        [ffmpeg, "-hide_banner", "-nostdin", "-v", "warning", "-i", str(mixed_file), "-f", "null", "-"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert (run.returncode, run.stderr) == (0, "")


@pytest.mark.parametrize("pattern", MIXES)
def test_variants_differ_only_in_the_window_by_the_segments_pattern(
    ladder: tuple[Packaged, str], pattern: str
) -> None:
    """Outside the windows, and in A's segments, the mixed stream's frames are A's, bit for bit. In B's
    windows, (B - A) is +2 P_i: it projects on segment i's pattern with a coefficient near 2 and on every
    other segment's near 0."""
    packaged, rendition = ladder
    frames = compare(store(packaged), rendition, pattern).frames
    count = segment_count(packaged, rendition)
    assert {f.segment for f in frames} == set(range(count))
    for frame in frames:
        if frame.variant == "a" or not frame.in_window:
            assert frame.identical, frame
    for segment in range(count):
        window = [f for f in frames if f.segment == segment and f.in_window]
        assert len(window) == WINDOW_FRAMES[clip(packaged)]
        if window[0].variant == "b":
            assert np.mean([f.own for f in window]) >= OWN_PATTERN_MIN
            assert min(f.own for f in window) >= OWN_PATTERN_FRAME_MIN
            assert max(abs(p) for f in window for p in f.others) <= OTHER_PATTERN_MAX


@pytest.mark.parametrize("pattern", MIXES)
def test_the_mark_is_faint(ladder: tuple[Packaged, str], pattern: str) -> None:
    """What B adds to A in a window: the pattern's share about the mark's nominal 1.3 grey levels RMS, at
    most 1.6 in any frame; all of (B - A) / 2, the different coding noise of the two encoders included, at
    most 2 levels RMS over a window. Nothing outside the windows (previous test)."""
    packaged, rendition = ladder
    frames = compare(store(packaged), rendition, pattern).frames
    marked = [f for f in frames if f.variant == "b" and f.in_window]
    assert marked
    assert max(f.mark_rms for f in marked) <= MARK_RMS_MAX
    for segment in {f.segment for f in marked}:
        window = [f.rms for f in marked if f.segment == segment]
        assert math.sqrt(np.mean(np.square(window))) <= DIFFERENCE_RMS_MAX


def test_each_segment_decodes_alone_from_its_keyframe(ladder: tuple[Packaged, str]) -> None:
    """Closed GOPs cut on segment boundaries: each variant of each segment decodes alone, its frames all
    belong to it by time, and its keyframes are its first frame and the first after the window (where B's
    window ends and A's bytes resume)."""
    packaged, rendition = ladder
    origin = None
    total = 0
    for index in range(segment_count(packaged, rendition)):
        counts = []
        for variant in "ab":
            frames = list(decoded(opened(packaged, rendition, index, variant)))
            origin = frames[0].pts if origin is None else origin
            keyframes = [n for n, frame in enumerate(frames) if frame.key_frame]
            assert keyframes == [0, WINDOW_FRAMES[clip(packaged)]]
            for frame in frames:
                assert place((frame.pts - origin) * frame.time_base)[0] == index
            counts.append(len(frames))
        assert counts[0] == counts[1]
        total += counts[0]
    assert total == FRAMES[clip(packaged)]


def segment_starts(packaged: Packaged, rendition: str) -> list[int]:
    starts = []
    for index in range(segment_count(packaged, rendition)):
        starts.append(next(decoded(opened(packaged, rendition, index, "b"))).pts)
    return starts


def test_segment_boundaries_are_identical_across_renditions(packaged_720: Packaged) -> None:
    renditions = [o.rendition for o in packaged_720.result.renditions]
    check_alignment(packaged_720.plain, renditions)
    durations = [
        [s.duration_s for s in read_media_playlist(o.playlist).segments]
        for o in packaged_720.result.renditions
    ]
    assert durations[0] == pytest.approx([2.0] * 4, abs=0.05)
    assert durations[0] == durations[1]
    assert segment_starts(packaged_720, "720p") == segment_starts(packaged_720, "360p")


def test_segments_of_a_clip_at_29_97_fps_and_5_3_s(packaged_ntsc: Packaged) -> None:
    assert packaged_ntsc.fps == Fraction(30000, 1001)
    durations = [
        s.duration_s for s in read_media_playlist(packaged_ntsc.result.renditions[0].playlist).segments
    ]
    assert durations == pytest.approx([2.002, 2.002, 1.301], abs=0.002)


# --- The job -------------------------------------------------------------------------------------------


def test_poster_and_thumbnails(packaged_720: Packaged) -> None:
    with av.open(str(packaged_720.result.poster)) as poster:
        assert (poster.streams.video[0].width, poster.streams.video[0].height) == (1280, 720)
    (thumb,) = packaged_720.result.thumbnails
    with av.open(str(thumb)) as image:
        assert (image.streams.video[0].width, image.streams.video[0].height) == (320, 180)


def test_progress_rises_to_100_through_the_stages(packaged_720: Packaged) -> None:
    percents = [percent for percent, _ in packaged_720.progress]
    stages = [stage for _, stage in packaged_720.progress]
    assert percents == sorted(percents)
    assert percents[0] == 0 and packaged_720.progress[-1] == (100.0, "packaged")
    assert list(dict.fromkeys(stages)) == ["transcoding", "sealing", "poster", "verifying", "packaged"]
    assert any(0 < p < 90 for p, stage in packaged_720.progress if stage == "transcoding")
    assert all(p <= 90 for p, stage in packaged_720.progress if stage == "transcoding")
    sealing = [p for p, stage in packaged_720.progress if stage == "sealing"]
    assert sealing[0] == 90 and sealing[-1] == 97 and len(sealing) > 2
    assert ("poster", 97) in [(s, p) for p, s in packaged_720.progress]


@pytest.mark.parametrize("name", PACKAGED)
def test_no_key_reaches_ffmpeg_and_its_private_folder_goes(request: pytest.FixtureRequest, name: str) -> None:
    """ffmpeg gets no key: not on its command line, not in any file of the folder it works in (before or
    after it ran: the pattern stream, its plain output, its log). That folder is 0700 and removed, and no
    key material is in what goes to the store."""
    packaged: Packaged = request.getfixturevalue(name)
    needles = key_material(packaged.key, segments=12)
    assert len(packaged.runs) == 2  # the ladder, the poster
    for run in packaged.runs:
        command_line = "\n".join(run.argv).encode()
        assert not any(needle in command_line for needle in needles)
        assert not any("-hls_enc" in part or "key_info" in part for part in run.argv)
        assert run.folder_mode == 0o700
        assert run.files_with_key_material == []
        assert not any("key" in Path(file).name for file in run.files)
    assert packaged.leftover_private_dirs == []
    for path in packaged.out_dir.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            assert not any(needle in data for needle in needles), path


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


def test_cancelling_after_sealing_leaves_nothing(
    clip_360: Path, ffmpeg: str, tmp_path: Path, private_temp: Path
) -> None:
    """A stop asked once the variants are sealed still empties the output folder (which held them)."""
    facts = probe_clip(clip_360)
    out = tmp_path / "out"
    stages: list[str] = []
    sealed: list[int] = []

    def cancel() -> bool:
        if stages[-1] == "transcoding":
            return False
        sealed.append(len(list(out.rglob("seg_*.ts"))))
        return True

    with pytest.raises(PackagingCancelled):
        package_hls(
            clip_360,
            out,
            renditions=plan_ladder(640, 360),
            key=new_content_key(),
            ffmpeg=ffmpeg,
            on_progress=lambda _, stage: stages.append(stage),
            should_cancel=cancel,
            duration_s=facts.duration_s,
            fps=facts.video.fps,
            has_audio=True,
        )
    assert "sealing" in stages and "packaged" not in stages
    assert sealed and sealed[-1] == 2 * 4  # both variants of the four segments were there
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
            ffmpeg=ffmpeg,
            duration_s=8.0,
            fps=25.0,
            has_audio=True,
        )


def test_a_missing_ffmpeg_fails(clip_360: Path, tmp_path: Path, private_temp: Path) -> None:
    with pytest.raises(PackagingFailed, match="could not be started"):
        package_hls(
            clip_360,
            tmp_path / "out",
            renditions=plan_ladder(640, 360),
            key=new_content_key(),
            ffmpeg=str(tmp_path / "no-ffmpeg"),
            duration_s=8.0,
            fps=25.0,
            has_audio=True,
        )
    assert list((tmp_path / "out").iterdir()) == []
    assert list(private_temp.iterdir()) == []


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"key": b"short"}, "16 bytes"),
        ({"renditions": []}, "rendition"),
        ({"renditions": plan_ladder(640, 360) * 2}, "unique"),
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
        "ffmpeg": ffmpeg,
        "duration_s": 8.0,
        "segment_seconds": 2,
    }
    arguments.update(change)
    with pytest.raises(ValueError, match=message):
        package_hls(clip_360, tmp_path / "out", **arguments)  # type: ignore[arg-type]
    assert not (tmp_path / "out").exists()


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
            ffmpeg=ffmpeg,
            duration_s=8.0,
        )
    assert (out / "old.m3u8").exists()


# --- The checks on their own ---------------------------------------------------------------------------


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


def _store_copy(packaged: Packaged, folder: Path) -> Path:
    """The 360p rendition of ``packaged`` as stored, copied to ``folder / "360p"``."""
    shutil.copytree(packaged.out_dir / "360p", folder / "360p")
    return folder / "360p"


def _swap_in_plain(packaged: Packaged, rendition_dir: Path) -> None:
    target = rendition_dir / mark.object_name(packaged.key, "360p", 1, "b")
    plain = (packaged.plain / "360p" / "seg_00001.ts").read_bytes()
    target.write_bytes(plain[: target.stat().st_size].ljust(target.stat().st_size, b"\xff"))


def _replace_line(rendition_dir: Path, old: str, new: str) -> None:
    playlist = rendition_dir / "index.m3u8"
    assert old in playlist.read_text()
    playlist.write_text(playlist.read_text().replace(old, new))


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        ("plain", "Variant b of segment 1 \\(360p\\) is not encrypted"),
        ("missing", "lacks variant b of segment 1"),
        ("longer", "variants of segment 1 \\(360p\\) differ in size"),
        ("uri", "seg_00001.ts of the 360p rendition is not encrypted as expected"),
        ("iv", "seg_00001.ts of the 360p rendition is not encrypted as expected"),
        ("object name", "is not encrypted as expected"),
        ("method", "is not encrypted as expected"),
    ],
)
def test_check_encryption_catches_a_damaged_store(
    packaged_720: Packaged, tmp_path: Path, damage: str, message: str
) -> None:
    renditions = [o.rendition for o in packaged_720.result.renditions if o.rendition.name == "360p"]
    folder = _store_copy(packaged_720, tmp_path)
    check_encryption(tmp_path, renditions, packaged_720.key)  # intact, it passes
    b_1 = folder / mark.object_name(packaged_720.key, "360p", 1, "b")
    if damage == "plain":
        _swap_in_plain(packaged_720, folder)
    elif damage == "missing":
        b_1.unlink()
    elif damage == "longer":
        b_1.write_bytes(b_1.read_bytes() + bytes(16))
    elif damage == "uri":
        _replace_line(folder, 'URI="key/00001"', 'URI="key/00000"')
    elif damage == "iv":
        _replace_line(folder, f"IV=0x{1:032x}", f"IV=0x{0:032x}")
    elif damage == "object name":
        _replace_line(folder, "seg_00001.ts", b_1.name)
    elif damage == "method":
        _replace_line(folder, "METHOD=AES-128", "METHOD=NONE")
    with pytest.raises(PackagingFailed, match=message):
        check_encryption(tmp_path, renditions, packaged_720.key)
    with pytest.raises(PackagingFailed):
        check_encryption(tmp_path, renditions, new_content_key())  # another key names other objects


# --- Sources that once broke the variants: a variable frame rate, a one-frame window ---------------


def test_a_variable_frame_rate_source_packages(ffmpeg: str, tmp_path: Path) -> None:
    """A source with a gap in its timing (testsrc2 at 30 fps, 6 s, frames 40 to 70 missing, as a phone
    or a dropped-frame export gives) packages: A's ladder takes frames as they come, as B's outputs do;
    with ffmpeg's default for HLS (cfr) A duplicated frames across the gap that B lacked, and the splice
    refused the segment."""
    source = make_clip(
        ffmpeg,
        tmp_path / "vfr.mp4",
        width=640,
        height=360,
        seconds=6,
        fps=30,
        extra=("-vf", "select='lt(n\\,40)+gt(n\\,70)'", "-fps_mode", "vfr"),
    )
    facts = probe_clip(source)
    result = package_hls(
        source,
        tmp_path / "out",
        renditions=plan_ladder(640, 360),
        key=fixed_key("vfr"),
        ffmpeg=ffmpeg,
        duration_s=facts.duration_s,
        fps=facts.video.fps,
        has_audio=True,
    )
    assert [output.segment_count for output in result.renditions] == [3]


def test_a_one_frame_window_of_a_flat_picture_splices(ffmpeg: str, tmp_path: Path) -> None:
    """A window of one frame of a flat picture splices (320x180 grey, 2.04 s at 25 fps: the last segment
    is one frame, B's window 5 video packets, 3 of them full, and 12 more packets are needed to end B's
    segment on A's continuity counter): the fullest packet is split as often as needed."""
    source = tmp_path / "grey.mp4"
    argv = [ffmpeg, "-hide_banner", "-loglevel", "error", "-nostdin", "-y"]
    argv += ["-f", "lavfi", "-i", "color=c=gray:size=320x180:rate=25:duration=2.04"]
    argv += ["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000:duration=2.04"]
    argv += ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac", str(source)]
    subprocess.run(argv, check=True)
    facts = probe_clip(source)
    result = package_hls(
        source,
        tmp_path / "out",
        renditions=plan_ladder(320, 180),
        key=fixed_key("grey"),
        ffmpeg=ffmpeg,
        duration_s=facts.duration_s,
        fps=facts.video.fps,
        has_audio=True,
    )
    assert [output.segment_count for output in result.renditions] == [2]
