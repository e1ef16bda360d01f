"""Production's path: the playlist lists the grant's segment doors; each door checks the grant and
answers with a redirect to an S3 presigned URL that expires soon, so segment bytes never pass through
the app. Run against a real S3 HTTP API (moto's server)."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from django.urls import reverse

from screening.storage import S3MediaStore
from tests.conftest import World
from tests.screening.conftest import (
    Packaged,
    decode_through_ffmpeg,
    door_index,
    expected_segment,
    publish,
    viewer_client,
)

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
    doors = [line for line in media.splitlines() if line and not line.startswith("#")]
    assert all(url.startswith(f"/play/{grant['grant']}/") and "?" not in url for url in doors)

    answer = client.get(doors[0])
    assert answer.status_code == 302 and answer["Cache-Control"] == "no-store"
    segment_url = answer["Location"]
    assert segment_url.startswith(settings.SCREENING_S3_ENDPOINT_URL) and "X-Amz-Signature=" in segment_url
    assert f"X-Amz-Expires={settings.SCREENING_URL_TTL_SECONDS}" in segment_url
    fetched = httpx.get(segment_url)
    assert fetched.status_code == 200
    assert fetched.headers["content-type"] == "video/mp2t"
    _, _, grant_id, rendition, name = doors[0].split("/")
    assert fetched.content == expected_segment(packaged, grant_id, rendition, door_index(name))
    tampered = re.sub(
        r"X-Amz-Signature=([0-9a-f])",
        lambda m: "X-Amz-Signature=" + ("0" if m.group(1) != "0" else "1"),
        segment_url,
    )
    assert httpx.get(tampered).status_code == 403
    assert httpx.get(segment_url.split("?")[0]).status_code == 403  # nothing in the store is public
    # The door re-checks the grant at every fetch: another viewer's session gets no redirect.
    other = viewer_client(world.other_producer, device="second-viewer-device-token-0001")
    assert other.get(doors[0]).status_code == 404

    result = decode_through_ffmpeg(live_server.url + grant["master_url"], client)
    assert result.returncode == 0, result.stderr[-2000:]
