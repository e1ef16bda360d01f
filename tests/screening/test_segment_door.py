"""Issue 11, item 2: segments behind stable per-grant doors, paced per grant.

A media playlist is fetched once and played for hours: its segment URLs must never expire, while each
fetch is still checked against the grant (so revocation acts at the next request) and paced (so an
authorised viewer cannot save the stream as fast as the disk allows).
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.contrib.admin.sites import site
from django.test import Client
from django.urls import reverse

from audit.models import AuditEntry
from screening import services
from screening.models import Cut, PaceRefusal, PlaybackGrant, SegmentFetch
from tests.conftest import World
from tests.screening.conftest import (
    Packaged,
    door_index,
    expected_segment,
    looks_like_clear_mpeg_ts,
    viewer_client,
)
from tests.screening.test_playback_doors import door_urls, press_play

pytestmark = pytest.mark.django_db


def media_playlist(client: Client, grant: dict[str, Any]) -> tuple[str, str]:
    master = client.get(grant["master_url"]).content.decode()
    url = next(line for line in master.splitlines() if line and not line.startswith("#"))
    return url, client.get(url).content.decode()


def segment_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line and not line.startswith("#")]


def test_the_playlist_lists_stable_doors(world: World, cut: Cut) -> None:
    client = viewer_client(world.pro)
    grant = press_play(client, cut)
    url, first = media_playlist(client, grant)
    rendition = cut.renditions[0]["name"]
    assert segment_lines(first) == [
        f"/play/{grant['grant']}/{rendition}/seg_{i:05d}.ts" for i in range(cut.segment_count)
    ]
    assert client.get(url).content.decode() == first  # nothing in it changes with time


def test_a_segment_is_served_long_after_the_url_lifetime(
    world: World, cut: Cut, packaged: Packaged, settings: Any
) -> None:
    settings.SCREENING_URL_TTL_SECONDS = -1  # any URL signed with this lifetime is already expired
    client = viewer_client(world.pro)
    _url, text = media_playlist(client, press_play(client, cut))
    for line in segment_lines(text):
        response = client.get(line)
        assert response.status_code == 200, response.content
        body = b"".join(response.streaming_content)  # type: ignore[attr-defined]
        _, _, grant_id, rendition, name = line.split("/")
        assert body == expected_segment(packaged, grant_id, rendition, door_index(name))
        assert not looks_like_clear_mpeg_ts(body)
        assert response["Content-Type"] == "video/mp2t" and response["Cache-Control"] == "no-store"


@pytest.mark.parametrize(
    "path",
    ["{r}/seg_00099.ts", "{r}/seg_0.ts", "9999p/seg_00000.ts", "{r}/seg_00000.mp4", "{r}/../key"],
)
def test_a_segment_the_cut_does_not_have_is_not_found(world: World, cut: Cut, path: str) -> None:
    client = viewer_client(world.pro)
    grant = press_play(client, cut)
    response = client.get(f"/play/{grant['grant']}/" + path.format(r=cut.renditions[0]["name"]))
    assert response.status_code == 404


def test_revocation_acts_at_the_next_segment(world: World, cut: Cut) -> None:
    client = viewer_client(world.pro)
    segment = door_urls(client, press_play(client, cut))["segment"]
    assert client.get(segment).status_code == 200
    services.access_revoke(admin=world.admin, user=world.pro, film=None, reason="Leak")
    response = client.get(segment)
    assert (response.status_code, response["X-Refusal-Code"]) == (403, "grant_revoked")


def test_a_heartbeat_keeps_the_grant_alive_and_writes_the_fetches(
    world: World, cut: Cut, settings: Any
) -> None:
    client = viewer_client(world.pro)
    grant = press_play(client, cut)
    _url, text = media_playlist(client, grant)
    for line in segment_lines(text):
        assert client.get(line).status_code == 200
    before = PlaybackGrant.objects.get(pk=grant["grant"]).expires_at
    response = client.post(
        grant["heartbeat_url"], data={"position": 1, "played": [[0, 1]]}, content_type="application/json"
    )
    assert response.status_code == 200
    after = PlaybackGrant.objects.get(pk=grant["grant"])
    assert after.expires_at > before  # sliding: a film longer than the grant's lifetime plays on
    fetched = sorted(SegmentFetch.objects.filter(grant_id=grant["grant"]).values_list("index", flat=True))
    assert fetched == list(range(cut.segment_count))


@pytest.mark.parametrize("cache", ["configured", "without redis"])
def test_key_fetches_are_stored_on_the_grant_at_heartbeat_and_stop(
    world: World, cut: Cut, settings: Any, cache: str
) -> None:
    """``PlaybackGrant.key_fetches`` counts every key a door served: with Redis the pace script counts
    them, without it the door does (``services.key_fetched``); a heartbeat and the stop store the count."""
    if cache == "without redis":
        settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    client = viewer_client(world.pro)
    grant = press_play(client, cut)
    key = door_urls(client, grant)["key"]
    for _ in range(2):
        assert client.get(key).status_code == 200
    beat = client.post(grant["heartbeat_url"], data={"position": 1}, content_type="application/json")
    assert beat.status_code == 200
    assert PlaybackGrant.objects.get(pk=grant["grant"]).key_fetches == 2
    assert client.get(key).status_code == 200
    stop = client.post(grant["heartbeat_url"], data={"stopped": True}, content_type="application/json")
    assert stop.status_code == 200
    stopped = PlaybackGrant.objects.get(pk=grant["grant"])
    assert (stopped.key_fetches, stopped.end_reason) == (3, "stopped")


# --- Pace -----------------------------------------------------------------------------------------


def _refused_at(client: Client, url: str, limit: int) -> tuple[int, Any]:
    for i in range(limit):
        response = client.get(url)
        if response.status_code != 200:
            return i, response
    raise AssertionError(f"{limit} fetches of {url} were all accepted")


def test_segments_beyond_the_burst_are_refused_and_recorded(world: World, cut: Cut, settings: Any) -> None:
    settings.SCREENING_PACE_BURST_SECONDS = 10  # five 2-second segments at once
    settings.SCREENING_PACE_REALTIME_FACTOR = 0.001
    client = viewer_client(world.pro)
    grant = press_play(client, cut)
    segment = door_urls(client, grant)["segment"]
    accepted, refused = _refused_at(client, segment, 50)
    assert accepted == 5
    assert refused.status_code == 429
    assert refused["X-Refusal-Code"] == "pace_exceeded"
    assert int(refused["Retry-After"]) >= 1
    assert refused.content.decode().strip()
    for _ in range(3):
        assert client.get(segment).status_code == 429
    row = PaceRefusal.objects.get(grant_id=grant["grant"])
    assert row.door == "segment" and row.refusals >= 1
    entry = AuditEntry.objects.filter(action="pace.exceeded").get()
    assert entry.actor_id == world.pro.pk and entry.data["door"] == "segment"
    # Only accepted fetches are the viewer's record.
    client.post(grant["heartbeat_url"], data={}, content_type="application/json")
    assert SegmentFetch.objects.filter(grant_id=grant["grant"]).count() == 5


def test_the_key_is_paced_too(world: World, cut: Cut, settings: Any) -> None:
    settings.SCREENING_PACE_BURST_SECONDS = 6  # three 2-second segments' keys
    settings.SCREENING_PACE_REALTIME_FACTOR = 0.001
    client = viewer_client(world.pro)
    grant = press_play(client, cut)
    key = door_urls(client, grant)["key"]
    accepted, refused = _refused_at(client, key, 50)
    assert accepted == 3
    assert (refused.status_code, refused["X-Refusal-Code"]) == (429, "pace_exceeded")
    assert PaceRefusal.objects.get(grant_id=grant["grant"]).door == "key"


def test_a_grants_pace_is_its_own(world: World, cut: Cut, settings: Any) -> None:
    settings.SCREENING_PACE_BURST_SECONDS = 4
    settings.SCREENING_PACE_REALTIME_FACTOR = 0.001
    first = viewer_client(world.pro)
    segment = door_urls(first, press_play(first, cut))["segment"]
    _refused_at(first, segment, 10)
    other = viewer_client(world.other_producer, device="second-viewer-device-token-0001")
    other_segment = door_urls(other, press_play(other, cut))["segment"]
    assert other.get(other_segment).status_code == 200


def test_admins_see_who_was_refused(world: World, cut: Cut, settings: Any) -> None:
    settings.SCREENING_PACE_BURST_SECONDS = 2
    settings.SCREENING_PACE_REALTIME_FACTOR = 0.001
    client = viewer_client(world.pro)
    segment = door_urls(client, press_play(client, cut))["segment"]
    _refused_at(client, segment, 10)
    assert PaceRefusal in site._registry
    admin = viewer_client(world.admin)
    page = admin.get(reverse("admin:screening_pacerefusal_changelist"))
    assert page.status_code == 200
    assert world.pro.email in page.content.decode()


def test_a_refused_pace_gives_nothing_away_to_a_stranger(world: World, cut: Cut, settings: Any) -> None:
    """Pacing comes after the grant check: a stranger gets the grant's 404, never a 429."""
    settings.SCREENING_PACE_BURST_SECONDS = 2
    settings.SCREENING_PACE_REALTIME_FACTOR = 0.001
    client = viewer_client(world.pro)
    segment = door_urls(client, press_play(client, cut))["segment"]
    _refused_at(client, segment, 10)
    thief = viewer_client(world.other_producer, device="device-token-of-the-thief-00001")
    assert thief.get(segment).status_code == 404
    assert re.match(r"^/play/", segment)
