"""MPEG-TS surgery on real ffmpeg output: variant B's segment is A's with the window's video swapped in.

The streams are those ffmpeg wrote while the session's clips were packaged (conftest ``Packaged.plain``):
variant A's HLS segments and variant B's windows, unencrypted.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from screening.media import tsplice
from screening.media.playlist import read_media_playlist
from screening.media.tsplice import (
    NULL_PACKET,
    NULL_PID,
    PACKET,
    SpliceError,
    WindowReader,
    packets,
    pad,
    pids,
    splice_window,
    timeline_shift,
    units,
    video_pid,
)
from tests.screening.media.conftest import SEGMENT_SECONDS, Packaged

LADDERS = [
    ("packaged_720", "720p"),
    ("packaged_720", "360p"),
    ("packaged_ntsc", "360p"),
    ("packaged_silent", "360p"),
]
MIXES = ("abba", "baab", "bbbb")  # with the all-A stream: every transition, B first and B last
FFMPEG_PMT_PID = 0x1000  # ffmpeg's mpegts muxer's default (-mpegts_pmt_start_pid)


@dataclass(frozen=True)
class Ladder:
    """One rendition's unencrypted streams as ffmpeg wrote them, and B's segments spliced from them."""

    a: list[bytes]
    windows: list[bytes]
    shift: int
    b: list[bytes]
    b_file: Path

    def mixed(self, pattern: str) -> bytes:
        """The segments back to back, variant ``pattern[i % len(pattern)]`` for segment ``i``, each padded
        to the size both of its variants get (as they are served)."""
        chosen = []
        for index, (a, b) in enumerate(zip(self.a, self.b, strict=True)):
            size = max(len(a), len(b))
            chosen.append(pad(b if pattern[index % len(pattern)] == "b" else a, size))
        return b"".join(chosen)


_ladders: dict[tuple[str, str], Ladder] = {}


@pytest.fixture(params=LADDERS, ids=[f"{name.removeprefix('packaged_')}-{r}" for name, r in LADDERS])
def ladder(request: pytest.FixtureRequest) -> Ladder:
    name, rendition = request.param
    if (name, rendition) not in _ladders:
        packaged: Packaged = request.getfixturevalue(name)
        folder = packaged.plain / rendition
        a = [(folder / s.uri).read_bytes() for s in read_media_playlist(folder / "index.m3u8").segments]
        b_file = packaged.plain / f"b_{rendition}.ts"
        windows = [window for _, window in WindowReader(b_file, SEGMENT_SECONDS)]
        shift = timeline_shift(a[0], windows[0])
        b = [splice_window(segment, window, shift) for segment, window in zip(a, windows, strict=True)]
        _ladders[name, rendition] = Ladder(a, windows, shift, b, b_file)
    return _ladders[name, rendition]


def continuity_breaks(data: bytes) -> list[tuple[int, int, int, int]]:
    """(packet, PID, expected, found) wherever a PID's continuity counter does not follow on: +1 for a
    packet with payload, unchanged for one without (ISO/IEC 13818-1 2.4.3.3). Null packets are exempt."""
    table = packets(data)
    last: dict[int, int] = {}
    breaks = []
    for number, (row, pid) in enumerate(zip(table, pids(table), strict=True)):
        pid = int(pid)
        if pid == NULL_PID:
            continue
        counter, has_payload = int(row[3]) & 0x0F, (int(row[3]) >> 4) & 1
        if pid in last and counter != (last[pid] + has_payload) % 16:
            breaks.append((number, pid, (last[pid] + has_payload) % 16, counter))
        last[pid] = counter
    return breaks


def video_counters(data: bytes) -> tuple[int, int]:
    """The first and last continuity counters of the video PID."""
    table = packets(data)
    mine = table[pids(table) == video_pid(table)]
    return int(mine[0, 3]) & 0x0F, int(mine[-1, 3]) & 0x0F


def pcrs(data: bytes) -> list[int]:
    """The 33-bit base of every PCR in ``data``, in order."""
    found = []
    for row in packets(data):
        if (int(row[3]) >> 4) & 2 and row[4] >= 7 and row[5] & 0x10:
            b = bytes(row[6:11])
            found.append((b[0] << 25) | (b[1] << 17) | (b[2] << 9) | (b[3] << 1) | (b[4] >> 7))
    return found


def window_end(a_segment: bytes, frames: int) -> int:
    """Index of the packet that starts A's first unit after a window of ``frames`` units (or the end)."""
    table = packets(a_segment)
    found = units(table, video_pid(table))
    return found[frames].packet if frames < len(found) else len(table)


def test_windows_come_one_per_segment_in_order(ladder: Ladder) -> None:
    assert len(ladder.windows) == len(ladder.a)
    indexes = [index for index, _ in WindowReader(ladder.b_file, SEGMENT_SECONDS)]
    assert indexes == list(range(len(ladder.a)))
    # Every packet of B's stream is in exactly one window, in order.
    assert b"".join(ladder.windows) == ladder.b_file.read_bytes()


@pytest.mark.parametrize("chunk", [3, 7, 50, 257])
def test_windows_are_the_same_whatever_the_read_chunk(
    ladder: Ladder, chunk: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Reads end inside windows (many reads per window when the chunk is small); the windows do not
    depend on where reads end."""
    ends = np.cumsum([len(window) // PACKET for window in ladder.windows])
    starts = ends - [len(window) // PACKET for window in ladder.windows]
    assert any(start // chunk != (end - 1) // chunk for start, end in zip(starts, ends, strict=True))
    monkeypatch.setattr(tsplice, "_READ_PACKETS", chunk)
    windows = list(WindowReader(ladder.b_file, SEGMENT_SECONDS))
    assert [index for index, _ in windows] == list(range(len(ladder.a)))
    assert [window for _, window in windows] == ladder.windows


def test_a_window_holds_the_frames_of_its_segments_window(ladder: Ladder) -> None:
    """B's encoder saw the window frames only; each window holds the frames of the first third of its
    segment, which start with a keyframe (a keyframe at every segment start)."""
    for a_segment, window in zip(ladder.a, ladder.windows, strict=True):
        a_table, pid = packets(a_segment), video_pid(packets(a_segment))  # a window may carry no tables
        a_units, b_units = units(a_table, pid), units(packets(window), pid)
        start = min(u.pts for u in a_units)
        shifted = sorted(u.pts + ladder.shift for u in b_units)
        assert shifted == sorted(u.pts for u in a_units)[: len(b_units)]
        assert shifted[0] == start
        assert shifted[-1] - start < SEGMENT_SECONDS * tsplice.TS_CLOCK // 3


@pytest.mark.parametrize("pattern", MIXES)
def test_continuity_counters_run_on_across_mixed_variants(ladder: Ladder, pattern: str) -> None:
    assert continuity_breaks(ladder.mixed("a")) == []  # ffmpeg's own stream, the reference
    assert continuity_breaks(ladder.mixed(pattern)) == []


def test_both_variants_of_a_segment_start_and_end_on_the_same_counter(ladder: Ladder) -> None:
    for a_segment, b_segment in zip(ladder.a, ladder.b, strict=True):
        assert video_counters(b_segment) == video_counters(a_segment)
        assert continuity_breaks(b_segment) == []


def test_splicing_keeps_audio_and_tables_byte_identical(ladder: Ladder) -> None:
    for a_segment, b_segment in zip(ladder.a, ladder.b, strict=True):
        a_table, b_table = packets(a_segment), packets(b_segment)
        pid = video_pid(a_table)
        a_others, b_others = a_table[pids(a_table) != pid], b_table[pids(b_table) != pid]
        assert len(a_others) and np.array_equal(a_others, b_others)
        assert video_pid(b_table) == pid


def test_splicing_keeps_the_rest_of_the_segment_byte_identical(ladder: Ladder) -> None:
    """After the window, B's segment is A's, byte for byte (the counters included); before it, the
    tables are A's."""
    for a_segment, b_segment, window in zip(ladder.a, ladder.b, ladder.windows, strict=True):
        frames = len(units(packets(window), video_pid(packets(a_segment))))
        end = window_end(a_segment, frames)
        assert end < len(packets(a_segment))  # every segment of these clips outlasts its window
        assert b_segment.endswith(a_segment[end * PACKET :])
        first = units(packets(a_segment), video_pid(packets(a_segment)))[0].packet
        assert b_segment[: first * PACKET] == a_segment[: first * PACKET]


def test_b_gets_as_timestamps_and_only_as_clock(ladder: Ladder) -> None:
    """B's frames carry A's decode timestamps, in order, and the presentation times of A's frames; its
    clock references are A's (B's own, on its gapped clock, are gone)."""
    for a_segment, b_segment in zip(ladder.a, ladder.b, strict=True):
        a_table, b_table = packets(a_segment), packets(b_segment)
        a_units, b_units = units(a_table, video_pid(a_table)), units(b_table, video_pid(b_table))
        assert [u.dts for u in b_units] == [u.dts for u in a_units]
        assert sorted(u.pts for u in b_units) == sorted(u.pts for u in a_units)
        assert all(u.dts <= u.pts for u in b_units)
        b_clock = pcrs(b_segment)
        assert b_clock and set(b_clock) <= set(pcrs(a_segment)) and b_clock == sorted(b_clock)


def test_the_window_is_really_replaced(ladder: Ladder) -> None:
    """Not a copy of A: B's window video bytes are B's encoder's."""
    for a_segment, b_segment in zip(ladder.a, ladder.b, strict=True):
        assert a_segment != b_segment


def test_b_spends_on_a_window_about_what_a_does(ladder: Ladder) -> None:
    """B's encoder sees only the windows; with x264's force-cfr it spends a window's bits as A's does
    (without it, about twice as much: ``screening.media.command.ladder_command``), so the padding that
    hides the variant is cheap."""
    for a_segment, b_segment, window in zip(ladder.a, ladder.b, ladder.windows, strict=True):
        a_table, window_table = packets(a_segment), packets(window)
        pid = video_pid(a_table)
        first = units(a_table, pid)[0].packet
        end = window_end(a_segment, len(units(window_table, pid)))
        a_window = int((pids(a_table)[first:end] == pid).sum())
        b_window = int((pids(window_table) == pid).sum())
        assert 2 / 3 <= b_window / a_window <= 3 / 2
        assert max(len(a_segment), len(b_segment)) <= 1.15 * min(len(a_segment), len(b_segment))


def test_padding_makes_the_variants_the_same_size(ladder: Ladder) -> None:
    for a_segment, b_segment in zip(ladder.a, ladder.b, strict=True):
        size = max(len(a_segment), len(b_segment))
        padded_a, padded_b = pad(a_segment, size), pad(b_segment, size)
        assert len(padded_a) == len(padded_b) == size
        assert padded_a.startswith(a_segment) and padded_b.startswith(b_segment)
        for padded, original in ((padded_a, a_segment), (padded_b, b_segment)):
            tail = padded[len(original) :]
            assert tail == NULL_PACKET * (len(tail) // PACKET)
            assert set(pids(packets(tail)).tolist()) <= {NULL_PID}
    assert pad(ladder.a[0], len(ladder.a[0])) == ladder.a[0]


def test_padding_refuses_to_shrink_or_to_cut_a_packet() -> None:
    data = NULL_PACKET * 3
    with pytest.raises(SpliceError):
        pad(data, len(data) - PACKET)
    with pytest.raises(SpliceError):
        pad(data, len(data) + 100)
    with pytest.raises(SpliceError):
        pad(data, len(data) + PACKET + 1)
    assert pad(data, len(data) + 2 * PACKET) == NULL_PACKET * 5


def _without_pid(data: bytes, pid: int) -> bytes:
    table = packets(data)
    return table[pids(table) != pid].tobytes()


def test_junk_raises_splice_errors(ladder: Ladder) -> None:
    a_segment, window = ladder.a[0], ladder.windows[0]
    with pytest.raises(SpliceError, match="188-byte"):
        splice_window(a_segment[:-1], window, ladder.shift)
    with pytest.raises(SpliceError, match="188-byte"):
        splice_window(a_segment, window + b"\x47", ladder.shift)
    broken = bytearray(a_segment)
    broken[5 * PACKET] = 0x00
    with pytest.raises(SpliceError, match="sync"):
        splice_window(bytes(broken), window, ladder.shift)
    with pytest.raises(SpliceError, match="PAT"):
        splice_window(_without_pid(a_segment, 0), window, ladder.shift)
    with pytest.raises(SpliceError, match="PAT"):
        timeline_shift(_without_pid(a_segment, 0), window)
    assert FFMPEG_PMT_PID in pids(packets(a_segment))
    with pytest.raises(SpliceError, match="PMT"):
        splice_window(_without_pid(a_segment, FFMPEG_PMT_PID), window, ladder.shift)


def test_junk_b_streams_raise_splice_errors(ladder: Ladder, tmp_path: Path) -> None:
    junk = tmp_path / "b.ts"
    for data, message in [
        (ladder.b_file.read_bytes()[:-1], "188-byte"),
        (b"\x00" * PACKET * 4, "sync"),
        (_without_pid(ladder.b_file.read_bytes(), 0), "PAT"),
    ]:
        junk.write_bytes(data)
        with pytest.raises(SpliceError, match=message):
            list(WindowReader(junk, SEGMENT_SECONDS))


def test_a_window_of_another_segment_is_refused(ladder: Ladder) -> None:
    if len(ladder.a) < 2:
        pytest.skip("one segment")
    with pytest.raises(SpliceError, match="frames of A's window"):
        splice_window(ladder.a[0], ladder.windows[1], ladder.shift)
    with pytest.raises(SpliceError, match="frames"):
        splice_window(ladder.a[1], ladder.windows[0] + ladder.windows[1], ladder.shift)
    with pytest.raises(SpliceError, match="frames of A's window"):
        splice_window(ladder.a[0], ladder.windows[0], ladder.shift + 3600)  # a frame off
    with pytest.raises(SpliceError, match="0 frames"):
        splice_window(ladder.a[0], b"", ladder.shift)
