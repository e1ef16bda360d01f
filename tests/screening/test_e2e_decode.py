"""End to end: an authorised viewer's signed master playlist is decoded by ffmpeg itself, through the
key endpoint, into frames; the same playlist is refused once a rule fails."""

from __future__ import annotations

import subprocess
from typing import Any

import pytest
from django.urls import reverse

from screening import services
from screening.media.binary import ffmpeg_binary
from screening.models import Cut
from tests.conftest import World
from tests.screening.conftest import Packaged, decode_through_ffmpeg, publish, viewer_client

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def test_ffmpeg_decodes_the_signed_stream_through_the_key_endpoint(
    world: World, packaged: Packaged, store_root: Any, live_server: Any
) -> None:
    cut: Cut = publish(world, packaged)
    client = viewer_client(world.pro)
    grant = client.post(reverse("screening:grant-create", args=[cut.public_id])).json()
    result = decode_through_ffmpeg(live_server.url + grant["master_url"], client)
    assert result.returncode == 0, result.stderr[-2000:]
    frames = [line for line in result.stderr.splitlines() if "frame=" in line]
    assert frames, result.stderr[-2000:]
    decoded = int(frames[-1].split("frame=")[1].split()[0])
    assert decoded >= 25 * 5  # 6 s at 25 fps, allowing for the last partial segment

    # The server saw the key fetched and the segments fetched by this grant.
    from django.core.cache import cache

    from screening.models import SegmentFetch

    assert cache.get(f"screening:key-fetches:{grant['grant']}", 0) >= 1
    # The doors log fetches in Redis; the next heartbeat writes them (without Redis, the doors at once).
    client.post(grant["heartbeat_url"], data={}, content_type="application/json")
    assert SegmentFetch.objects.filter(grant_id=grant["grant"]).count() >= cut.segment_count

    # Revoke the viewer: the very same playlist URL is now refused and ffmpeg decodes nothing.
    services.access_revoke(admin=world.admin, user=world.pro, film=world.film, reason="Test")
    refused = decode_through_ffmpeg(live_server.url + grant["master_url"], client)
    assert refused.returncode != 0
    assert "403" in refused.stderr


def test_without_the_key_the_segments_do_not_decode(world: World, packaged: Packaged) -> None:
    segment = next(packaged.out.glob("*/seg_00000_*.ts"))
    result = subprocess.run(
        [ffmpeg_binary(), "-hide_banner", "-nostdin", "-i", str(segment), "-f", "null", "-"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode != 0 or "frame=    0" in result.stderr or "frame=" not in result.stderr
