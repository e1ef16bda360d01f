"""Screening fixtures: one real packaged ladder per worker, and a published cut that serves it.

The ladder is made once (a 6 s testsrc2 clip, 640x360, one rung) by the real packaging code; each test
copies it into its own local store under its own cut, with the cut's content key sealed as in production.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone

from screening.forensics.variants import codeword_secret, object_name, segment_key, variant_for
from screening.keyring import seal
from screening.media.binary import ffmpeg_binary
from screening.media.keys import new_content_key
from screening.media.ladder import plan_ladder
from screening.media.package import PackageResult, package_hls
from screening.models import Cut, CutStatus
from screening.storage import media_store
from tests.conftest import World, logged_in_client
from tests.screening.media.conftest import make_clip

DEVICE = "device-token-of-the-test-browser-0001"


@dataclass(frozen=True)
class Packaged:
    source: Path
    out: Path
    key: bytes
    result: PackageResult


def served_variant(packaged: Packaged, grant_id: Any, index: int) -> str:
    """The variant ("a"/"b") of segment ``index`` a grant must receive: its codeword's symbol."""
    return variant_for(codeword_secret(packaged.key), uuid.UUID(str(grant_id)), index)


def expected_key(packaged: Packaged, grant_id: Any, index: int) -> bytes:
    """The key the key door must give a grant for segment ``index``."""
    return segment_key(packaged.key, index, served_variant(packaged, grant_id, index))


def expected_segment(packaged: Packaged, grant_id: Any, rendition: str, index: int) -> bytes:
    """The stored bytes the segment door must give a grant for one segment."""
    variant = served_variant(packaged, grant_id, index)
    return (packaged.out / rendition / object_name(packaged.key, rendition, index, variant)).read_bytes()


def door_index(url: str) -> int:
    """The segment index in a key or segment door URL (``.../key/00003``, ``.../seg_00003.ts``)."""
    match = re.search(r"(?:key/|seg_)([0-9]{5})(?:\.ts)?$", url)
    assert match is not None, url
    return int(match.group(1))


def package_clip(source: Path, out: Path, *, seconds: int) -> Packaged:
    """``source`` packaged by the real packager, as a cut is: its 640x360 ladder in 2 s segments, both
    forensic variants, under a new content key."""
    key = new_content_key()
    result = package_hls(
        source,
        out,
        renditions=plan_ladder(640, 360),
        key=key,
        segment_seconds=2,
        ffmpeg=ffmpeg_binary(),
        duration_s=float(seconds),
    )
    return Packaged(source=source, out=out, key=key, result=result)


@pytest.fixture(scope="session")
def packaged(tmp_path_factory: pytest.TempPathFactory) -> Packaged:
    folder = tmp_path_factory.mktemp("ladder")
    source = make_clip(ffmpeg_binary(), folder / "clip.mp4", width=640, height=360, seconds=6)
    return package_clip(source, folder / "out", seconds=6)


@pytest.fixture
def store_root(settings: Any, tmp_path: Path) -> Path:
    settings.SCREENING_STORAGE = "local"
    settings.SCREENING_MEDIA_ROOT = tmp_path / "store"
    return tmp_path / "store"


def publish(world: World, packaged: Packaged) -> Cut:
    """A READY cut of world.film serving the packaged ladder from the (local) store."""
    cut = Cut.objects.create(
        film=world.film,
        number=Cut.objects.filter(film=world.film).count() + 1,
        uploaded_by=world.producer,
        source_filename="clip.mp4",
        source_size=packaged.source.stat().st_size,
        status=CutStatus.READY,
        duration_s=packaged.result.duration_s,
        width=640,
        height=360,
        segment_seconds=2,
        renditions=[
            {
                "name": r.rendition.name,
                "width": r.rendition.width,
                "height": r.rendition.height,
                "bandwidth": r.rendition.video_bitrate_k * 1000,
            }
            for r in packaged.result.renditions
        ],
        segment_count=packaged.result.renditions[0].segment_count,
        sealed_key=seal(packaged.key),
        published_at=timezone.now(),
    )
    store = media_store()
    for relative in packaged.result.files:
        store.put_file(cut.media_prefix + relative, packaged.out / relative, "application/octet-stream")
    return cut


@pytest.fixture
def cut(world: World, packaged: Packaged, store_root: Path) -> Iterator[Cut]:
    yield publish(world, packaged)
    shutil.rmtree(store_root, ignore_errors=True)


def viewer_client(user: Any, device: str = DEVICE) -> Client:
    client = logged_in_client(user)
    client.cookies["fip_device"] = device
    return client


def decode_through_ffmpeg(url: str, client: Client) -> subprocess.CompletedProcess[str]:
    """ffmpeg itself plays ``url`` (a grant's master playlist) with the viewer's cookies, through the key
    door, and decodes every video frame; its stderr reports the frame count."""
    session = client.cookies[settings.SESSION_COOKIE_NAME].value
    cookie = f"{settings.SESSION_COOKIE_NAME}={session}; fip_device={DEVICE}"
    return subprocess.run(
        [
            ffmpeg_binary(),
            "-hide_banner",
            "-nostdin",
            "-headers",
            f"Cookie: {cookie}\r\n",
            "-i",
            url,
            "-map",
            "0:v:0",
            "-f",
            "null",
            "-",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def looks_like_clear_mpeg_ts(data: bytes, packets: int = 5) -> bool:
    """A clear MPEG-TS stream has a 0x47 sync byte every 188 bytes; an AES-128 segment does not (one
    byte matching by chance is 1 in 256, five in a row 1 in 10^12)."""
    return len(data) >= 188 * packets and all(data[i * 188] == 0x47 for i in range(packets))
