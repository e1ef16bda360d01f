"""Reading the playlists ffmpeg wrote: enough of RFC 8216 to check the ladder and list its files.

Only what our own packager produces is parsed (VOD media playlists of MPEG-TS segments, one master);
this is not a general HLS parser.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

_ATTRIBUTE = re.compile(r'([A-Z0-9-]+)=("[^"]*"|[^,]*)')


def attributes(text: str) -> dict[str, str]:
    """``A=1,B="x,y"`` as ``{"A": "1", "B": "x,y"}``."""
    return {name: value.strip('"') for name, value in _ATTRIBUTE.findall(text)}


@dataclass(frozen=True)
class Segment:
    uri: str
    duration_s: float
    key_method: str | None
    key_uri: str | None
    iv: str | None


@dataclass(frozen=True)
class MediaPlaylist:
    target_duration_s: int
    media_sequence: int
    ended: bool
    segments: list[Segment]

    @property
    def duration_s(self) -> float:
        return sum(segment.duration_s for segment in self.segments)


@dataclass(frozen=True)
class Variant:
    uri: str
    bandwidth: int
    average_bandwidth: int | None
    width: int
    height: int
    codecs: str


def read_media_playlist(path: Path) -> MediaPlaylist:
    target, sequence, ended = 0, 0, False
    key: dict[str, str] = {}
    duration: float | None = None
    segments = []
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if line.startswith("#EXT-X-TARGETDURATION:"):
            target = int(line.partition(":")[2])
        elif line.startswith("#EXT-X-MEDIA-SEQUENCE:"):
            sequence = int(line.partition(":")[2])
        elif line.startswith("#EXT-X-KEY:"):
            key = attributes(line.partition(":")[2])
        elif line.startswith("#EXTINF:"):
            duration = float(line.partition(":")[2].split(",", 1)[0])
        elif line == "#EXT-X-ENDLIST":
            ended = True
        elif line and not line.startswith("#"):
            if duration is None:
                raise ValueError(f"{path.name}: segment {line} has no #EXTINF.")
            method = key.get("METHOD")
            segments.append(Segment(line, duration, method, key.get("URI"), key.get("IV")))
            duration = None
    return MediaPlaylist(target, sequence, ended, segments)


def read_master_playlist(path: Path) -> list[Variant]:
    variants = []
    pending: dict[str, str] | None = None
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if line.startswith("#EXT-X-STREAM-INF:"):
            pending = attributes(line.partition(":")[2])
        elif line and not line.startswith("#") and pending is not None:
            width, _, height = pending.get("RESOLUTION", "0x0").partition("x")
            average = pending.get("AVERAGE-BANDWIDTH")
            variants.append(
                Variant(
                    uri=line,
                    bandwidth=int(pending["BANDWIDTH"]),
                    average_bandwidth=int(average) if average else None,
                    width=int(width),
                    height=int(height),
                    codecs=pending.get("CODECS", ""),
                )
            )
            pending = None
    return variants
