"""MPEG-TS surgery for the forensic variants: put variant B's window into variant A's segment.

Packaging encodes variant A whole and, of variant B, only the marked window at the start of every
segment (``screening.forensics.mark``). A's encoder places a keyframe at the window's end too, and GOPs
are closed, so the rest of a segment never refers back into the window: B's segment is A's segment with
the window's video access units replaced by B's. Audio, tables and the rest stay A's bytes.

What a replacement must keep right, and how:

* **Timestamps.** A's and B's muxers may start their clocks differently (A's carries audio, whose
  priming moves its origin), so B's presentation times (PTS) are moved by one constant, measured on
  the first window (``timeline_shift``); the window must then hold exactly A's frames (checked). B's
  encoder saw its windows with the gaps between them, so its first decode timestamps (DTS) of each
  window lag behind by a gap; decode times are the presentation times shifted by the encoder's fixed
  reordering delay, so B's units get A's DTS, in order. Should a B unit carry no DTS field
  while A's differs from its PTS, the window cannot be fixed in place and packaging fails loudly.
* **Clock references.** B's PCRs follow its gapped clock; they are turned into stuffing bytes (the
  packet keeps its size). The segment's clock comes from A's packets after the window.
* **Continuity counters.** Players read a screener's segments back to back, A and B mixed, as one
  stream; a counter that jumps at a boundary marks the next packet corrupt. B's segment therefore
  carries as many video packets as A's, modulo 16, so that it ends on the counter A's ends on: up to 15
  times its fullest packet is split in two around adaptation-field stuffing (the video bytes unchanged),
  and every packet of the video PID is renumbered in order from A's first counter.

Only the MPEG-TS that ffmpeg's own muxer writes is handled: 188-byte packets, one PAT, one PMT, H.264
video and AAC audio. Anything else raises ``SpliceError``, never produces a damaged segment.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

PACKET = 188
SYNC = 0x47
NULL_PID = 0x1FFF
H264_STREAM_TYPE = 0x1B
TS_CLOCK = 90_000
NULL_PACKET = bytes([SYNC, 0x1F, 0xFF, 0x10]) + b"\xff" * (PACKET - 4)
_READ_PACKETS = 20_000  # 3.7 MB per read when streaming a variant's windows


class SpliceError(ValueError):
    """The streams cannot be spliced as they are; the message says why."""


@dataclass(frozen=True)
class Unit:
    """One video access unit (a PES packet): where it starts and its timestamps (90 kHz)."""

    packet: int  # index of its first TS packet
    pts: int
    dts: int
    has_dts: bool


def packets(data: bytes | bytearray | memoryview) -> np.ndarray:
    """The packets of ``data`` as an (n, 188) uint8 array (a view: writes change ``data`` when mutable)."""
    if len(data) % PACKET:
        raise SpliceError("An MPEG-TS stream must be a whole number of 188-byte packets.")
    table = np.frombuffer(data, np.uint8).reshape(-1, PACKET)
    if len(table) and not (table[:, 0] == SYNC).all():
        raise SpliceError("An MPEG-TS packet lacks its sync byte.")
    return table


def pids(table: np.ndarray) -> np.ndarray:
    return ((table[:, 1].astype(np.int32) & 0x1F) << 8) | table[:, 2]


def _payload_offset(row: np.ndarray) -> int:
    control = (int(row[3]) >> 4) & 3
    offset = 4
    if control & 2:
        offset += 1 + int(row[4])
    if not control & 1 or offset >= PACKET:
        return -1
    return offset


def _section(row: np.ndarray) -> bytes:
    offset = _payload_offset(row)
    if offset < 0:
        raise SpliceError("A table packet carries no payload.")
    pointer = int(row[offset])
    return bytes(row[offset + 1 + pointer :])


def video_pid(table: np.ndarray) -> int:
    """The H.264 stream's PID, read from the PAT and the PMT."""
    all_pids = pids(table)
    pat = np.nonzero((all_pids == 0) & ((table[:, 1] & 0x40) != 0))[0]
    if not len(pat):
        raise SpliceError("The stream has no PAT.")
    section = _section(table[pat[0]])
    length = ((section[1] & 0x0F) << 8) | section[2]
    programs = section[8 : 3 + length - 4]
    pmt_pid = next(
        (
            ((programs[i + 2] & 0x1F) << 8) | programs[i + 3]
            for i in range(0, len(programs), 4)
            if programs[i : i + 2] != b"\0\0"
        ),
        None,
    )
    pmt = np.nonzero((all_pids == pmt_pid) & ((table[:, 1] & 0x40) != 0))[0]
    if pmt_pid is None or not len(pmt):
        raise SpliceError("The stream has no PMT.")
    section = _section(table[pmt[0]])
    length = ((section[1] & 0x0F) << 8) | section[2]
    info_length = ((section[10] & 0x0F) << 8) | section[11]
    cursor, end = 12 + info_length, 3 + length - 4
    while cursor + 5 <= end:
        stream_type, pid = section[cursor], ((section[cursor + 1] & 0x1F) << 8) | section[cursor + 2]
        if stream_type == H264_STREAM_TYPE:
            return pid
        cursor += 5 + (((section[cursor + 3] & 0x0F) << 8) | section[cursor + 4])
    raise SpliceError("The stream has no H.264 video.")


def _read_ts(field: bytes) -> int:
    return (
        ((field[0] >> 1) & 0x07) << 30
        | field[1] << 22
        | (field[2] >> 1) << 15
        | field[3] << 7
        | field[4] >> 1
    )


def _write_ts(row: np.ndarray, at: int, value: int, prefix: int) -> None:
    row[at] = (prefix << 4) | (((value >> 30) & 0x07) << 1) | 1
    row[at + 1] = (value >> 22) & 0xFF
    row[at + 2] = (((value >> 15) & 0x7F) << 1) | 1
    row[at + 3] = (value >> 7) & 0xFF
    row[at + 4] = ((value & 0x7F) << 1) | 1


def _pes_header(row: np.ndarray) -> int:
    """Offset of the PES header in a unit's first packet (checked)."""
    offset = _payload_offset(row)
    if offset < 0 or offset + 14 > PACKET or bytes(row[offset : offset + 3]) != b"\0\0\1":
        raise SpliceError("A video unit does not start with a PES header.")
    return offset


def units(table: np.ndarray, pid: int, *, base: int = 0) -> list[Unit]:
    """The video access units of ``pid`` in stream order (``base`` is added to packet indexes)."""
    found = []
    starts = np.nonzero((pids(table) == pid) & ((table[:, 1] & 0x40) != 0))[0]
    for index in starts:
        row = table[index]
        offset = _pes_header(row)
        flags = int(row[offset + 7])
        if not flags & 0x80:
            raise SpliceError("A video unit has no presentation timestamp.")
        pts = _read_ts(bytes(row[offset + 9 : offset + 14]))
        has_dts = bool(flags & 0x40)
        dts = _read_ts(bytes(row[offset + 14 : offset + 19])) if has_dts else pts
        found.append(Unit(int(index) + base, pts, dts, has_dts))
    return found


def _set_timestamps(row: np.ndarray, pts: int, dts: int | None) -> None:
    offset = _pes_header(row)
    _write_ts(row, offset + 9, pts, 0x3 if dts is not None else 0x2)
    if dts is not None:
        _write_ts(row, offset + 14, dts, 0x1)


def timeline_shift(a_segment: bytes, b_window: bytes) -> int:
    """What to add to B's timestamps to put them on A's clock: measured on segment 0 and its window,
    whose first frames are the same picture."""
    a, b = packets(a_segment), packets(b_window)
    a_units, b_units = units(a, video_pid(a)), units(b, video_pid(b))
    if not a_units or not b_units:
        raise SpliceError("The first segment or the first window has no video.")
    return min(u.pts for u in a_units) - min(u.pts for u in b_units)


def _drop_pcr(row: np.ndarray) -> None:
    """Turn a packet's PCR into stuffing: clear the flag, fill its six bytes with 0xFF."""
    if (int(row[3]) >> 4) & 2 and row[4] >= 7 and row[5] & 0x10:
        row[5] &= ~np.uint8(0x10)
        row[6:12] = 0xFF


def _renumber(table: np.ndarray, pid: int, first: int) -> None:
    """Continuity counters of ``pid`` in order from ``first``; packets without payload keep theirs."""
    mine = np.nonzero(pids(table) == pid)[0]
    has_payload = ((table[mine, 3] >> 4) & 1).astype(np.int64)
    counters = (first + np.cumsum(has_payload) - has_payload) % 16
    table[mine, 3] = (table[mine, 3] & 0xF0) | counters.astype(np.uint8)


def _stuffing_field(size: int) -> bytes:
    """An adaptation field of ``size`` bytes (length byte included) that carries nothing."""
    return bytes([0]) if size == 1 else bytes([size - 1, 0x00]) + b"\xff" * (size - 2)


def _split_packet(row: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """One packet as two, each with half its payload (at least 2 bytes of it). The first keeps the
    header and adaptation field (flags, PCR, random access) and grows its stuffing; the second starts no
    PES packet and carries only stuffing before its half."""
    control = (int(row[3]) >> 4) & 3
    field = bytes(row[4 : 5 + int(row[4])]) if control & 2 else b""
    payload = bytes(row[4 + len(field) :])
    first, second = payload[: len(payload) // 2], payload[len(payload) // 2 :]
    header = bytearray(row[:4].tobytes())
    header[3] = (header[3] & 0x0F) | 0x30  # adaptation field, then payload
    room = PACKET - 4 - len(first)
    if field:  # the same field, longer by stuffing at its end
        head = bytes([room - 1]) + field[1:] if len(field) > 1 else bytes([room - 1, 0x00])
        field = head + b"\xff" * (room - len(head))
    else:
        field = _stuffing_field(room)
    later = bytearray(header)
    later[1] &= ~0x40 & 0xFF  # only the first piece starts the PES packet
    pieces = (
        bytes(header) + field + first,
        bytes(later) + _stuffing_field(PACKET - 4 - len(second)) + second,
    )
    return np.frombuffer(pieces[0], np.uint8), np.frombuffer(pieces[1], np.uint8)


def _payload_size(row: np.ndarray) -> int:
    offset = _payload_offset(row)
    return 0 if offset < 0 else PACKET - offset


def _match_count(table: np.ndarray, pid: int, wanted: int) -> np.ndarray:
    """``table`` with ``(wanted - payload packets of pid) % 16`` more packets of ``pid``: each time the
    packet with the largest payload is split in two (a window of one small frame may need a packet split
    several times)."""
    mine = pids(table) == pid
    short = int((wanted - int(((table[mine, 3] >> 4) & 1).sum())) % 16)
    if not short:
        return table
    rows = list(table)
    is_video = [bool(flag) for flag in mine]
    for _ in range(short):
        sizes = [_payload_size(row) if video else 0 for row, video in zip(rows, is_video, strict=True)]
        index = int(np.argmax(sizes))
        if sizes[index] < 2:
            raise SpliceError("B's window is too short to align its continuity counters.")
        rows[index : index + 1] = _split_packet(rows[index])
        is_video[index : index + 1] = [True, True]
    return np.stack(rows)


def splice_window(a_segment: bytes, b_window: bytes, shift: int) -> bytes:
    """Variant B's segment: ``a_segment`` with its window's video units replaced by ``b_window``'s.

    ``b_window`` holds exactly the window's video units of B (``WindowReader``), any tables included;
    ``shift`` comes from ``timeline_shift``.
    """
    a = packets(a_segment)
    b = packets(b_window).copy()
    pid = video_pid(a)
    a_units, b_units = units(a, pid), units(b, pid)
    count = len(b_units)
    if not count or count > len(a_units):
        raise SpliceError(f"B's window has {count} frames; A's segment has {len(a_units)}.")
    if sorted(u.pts for u in a_units[:count]) != sorted(u.pts + shift for u in b_units):
        raise SpliceError("B's window does not hold the frames of A's window.")
    if count < len(a_units) and max(u.pts for u in a_units[:count]) >= a_units[count].pts:
        raise SpliceError("A's window is not closed before the rest of its segment.")
    for a_unit, b_unit in zip(a_units[:count], b_units, strict=True):
        pts = b_unit.pts + shift
        if a_unit.dts > pts:
            raise SpliceError("B's frame order needs a longer decoding delay than A's.")
        if not b_unit.has_dts and a_unit.dts != pts:
            raise SpliceError("A window frame of B has no decode timestamp to correct.")
        _set_timestamps(b[b_unit.packet], pts, a_unit.dts if b_unit.has_dts else None)
    is_video = pids(b) == pid
    for row in np.nonzero(is_video)[0]:
        _drop_pcr(b[row])
    a_pids = pids(a)
    window_end = a_units[count].packet if count < len(a_units) else len(a)
    window_packets = np.nonzero(a_pids == pid)[0]
    window_packets = window_packets[(window_packets >= a_units[0].packet) & (window_packets < window_end)]
    keep = np.ones(len(a), bool)
    keep[window_packets] = False
    insert_at = a_units[0].packet
    spliced = np.concatenate([a[:insert_at][keep[:insert_at]], b[is_video], a[insert_at:][keep[insert_at:]]])
    a_video = a_pids == pid
    spliced = _match_count(spliced, pid, int(((a[a_video, 3] >> 4) & 1).sum()))
    _renumber(spliced, pid, int(a[np.nonzero(a_video)[0][0], 3]) & 0x0F)
    return spliced.tobytes()


def pad(data: bytes, size: int) -> bytes:
    """``data`` followed by null packets up to ``size`` bytes (a whole number of packets): both variants
    of a segment leave the store with the same length."""
    missing = size - len(data)
    if missing < 0 or missing % PACKET:
        raise SpliceError("A segment can only be padded by whole packets, to a larger size.")
    return data + NULL_PACKET * (missing // PACKET)


class WindowReader:
    """Variant B's windows, one by one, from the stream B's encoder wrote (windows only, in order).

    Reads in bounded chunks: a feature's B stream is gigabytes. A window is every video unit whose
    presentation time falls in ``[start, start + segment)`` of its segment, counted from the first
    unit's time; tables between windows go with the window they precede.
    """

    def __init__(self, path: Path, segment_seconds: int) -> None:
        self.path = path
        self.segment_ticks = segment_seconds * TS_CLOCK

    def __iter__(self) -> Iterator[tuple[int, bytes]]:
        """(segment index, the window's packets) in order."""
        origin: int | None = None
        current: int | None = None
        pending: list[np.ndarray] = []
        pid: int | None = None
        with self.path.open("rb") as handle:
            while chunk := handle.read(PACKET * _READ_PACKETS):
                table = packets(chunk)
                if pid is None:
                    pid = video_pid(table)
                starts = {u.packet: u for u in units(table, pid)}
                cut_from = 0
                for row_index, unit in starts.items():
                    origin = unit.pts if origin is None else origin
                    window = (unit.pts - origin + TS_CLOCK // 1000) // self.segment_ticks
                    if current is None:
                        current = window
                    elif window != current:
                        pending.append(table[cut_from:row_index])
                        yield current, np.concatenate(pending).tobytes()
                        pending, cut_from, current = [], row_index, window
                pending.append(table[cut_from:])
        if current is not None and pending:
            yield current, np.concatenate(pending).tobytes()
