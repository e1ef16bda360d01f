"""Production's path: segments are S3 presigned URLs that expire; playlists and keys stay behind the
grant-checked doors of the app. Run against a real S3 HTTP API (moto's server)."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from django.urls import reverse

from screening.storage import S3MediaStore
from tests.conftest import World
from tests.screening.conftest import Packaged, decode_through_ffmpeg, publish, viewer_client

pytestmark = pytest.mark.django_db(transaction=True)


def test_segments_are_presigned_and_the_stream_decodes(
    world: World, packaged: Packaged, s3_store: S3MediaStore, live_server: Any, settings: Any
) -> None:
    cut = publish(world, packaged)
    client = viewer_client(world.pro)
    grant = client.post(reverse("screening:grant-create", args=[cut.public_id])).json()
    master = client.get(grant["master_url"]).content.decode()
    media_url = next(line for line in master.splitlines() if line and not line.startswith("#"))
    media = client.get(media_url).content.decode()
    segments = [line for line in media.splitlines() if line and not line.startswith("#")]
    assert all(
        url.startswith(settings.SCREENING_S3_ENDPOINT_URL) and "X-Amz-Signature=" in url for url in segments
    )
    assert all(f"X-Amz-Expires={settings.SCREENING_URL_TTL_SECONDS}" in url for url in segments)

    fetched = httpx.get(segments[0])
    assert fetched.status_code == 200
    name = segments[0].split("?")[0].rsplit("/", 2)
    assert fetched.content == (packaged.out / name[-2] / name[-1]).read_bytes()
    tampered = re.sub(
        r"X-Amz-Signature=([0-9a-f])",
        lambda m: "X-Amz-Signature=" + ("0" if m.group(1) != "0" else "1"),
        segments[0],
    )
    assert httpx.get(tampered).status_code == 403
    assert httpx.get(segments[0].split("?")[0]).status_code == 403  # nothing in the store is public

    result = decode_through_ffmpeg(live_server.url + grant["master_url"], client)
    assert result.returncode == 0, result.stderr[-2000:]
