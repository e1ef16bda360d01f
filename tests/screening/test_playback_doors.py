"""Invariant 1: screeners are served only to whom the rules allow, at every door.

Each case presses play while allowed, changes one thing, then knocks on the three doors (the media
playlist, the key and a segment) and expects a clear refusal at each.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import Any

import pytest
from allauth.mfa.models import Authenticator
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import Accreditation, AccreditationStatus
from screening import services
from screening.models import AudienceRules, Cut, PlaybackGrant, TerritoryMode
from tests.conftest import World
from tests.screening.conftest import door_index, expected_key, looks_like_clear_mpeg_ts, viewer_client

pytestmark = pytest.mark.django_db


def press_play(client: Client, cut: Cut) -> dict[str, Any]:
    response = client.post(reverse("screening:grant-create", args=[cut.public_id]))
    assert response.status_code == 201, response.content
    return dict(response.json())


def door_urls(client: Client, grant: dict[str, Any]) -> dict[str, str]:
    master = client.get(grant["master_url"])
    assert master.status_code == 200, master.content
    assert master["Cache-Control"] == "no-store"
    media_url = next(
        line for line in master.content.decode().splitlines() if line and not line.startswith("#")
    )
    media = client.get(media_url)
    assert media.status_code == 200
    text = media.content.decode()
    key_url = re.search(r'URI="([^"]+)"', text)
    assert key_url is not None
    segment_url = next(line for line in text.splitlines() if line and not line.startswith("#"))
    return {"playlist": media_url, "key": key_url.group(1), "segment": segment_url}


def knock(client: Client, urls: dict[str, str]) -> dict[str, tuple[int, str]]:
    out = {}
    for door, url in urls.items():
        response = client.get(url)
        out[door] = (response.status_code, response.get("X-Refusal-Code", ""))
    return out


def test_allowed_viewer_gets_playlist_key_and_segment(world: World, cut: Cut, packaged: Any) -> None:
    client = viewer_client(world.pro)
    urls = door_urls(client, press_play(client, cut))
    grant_id = urls["key"].split("/")[2]
    key = client.get(urls["key"])
    assert key.status_code == 200 and key.content == expected_key(packaged, grant_id, door_index(urls["key"]))
    assert key["Cache-Control"] == "no-store"
    segment = client.get(urls["segment"])
    assert segment.status_code == 200
    assert not looks_like_clear_mpeg_ts(b"".join(segment.streaming_content))  # encrypted


def _expire(world: World, cut: Cut) -> None:
    PlaybackGrant.objects.update(expires_at=timezone.now() - dt.timedelta(seconds=1))


def _revoke(world: World, cut: Cut) -> None:
    services.access_revoke(admin=world.admin, user=world.pro, film=None, reason="Leak investigation")


def _close_window(world: World, cut: Cut) -> None:
    session = world.toulouse
    session.starts_on = timezone.now().date() - dt.timedelta(days=60)
    session.ends_on = session.starts_on + dt.timedelta(days=5)
    session.screening_days_after_end = 10
    session.save()


def _rules(**values: Any) -> Callable[[World, Cut], None]:
    def apply(world: World, cut: Cut) -> None:
        rules, _created = AudienceRules.objects.get_or_create(film=world.film)
        for name, value in values.items():
            if name != "blocked":
                setattr(rules, name, value)
        rules.save()
        if values.get("blocked"):
            rules.blocked_organisations.add(world.distributor_org)

    return apply


def _accreditation_revoked(world: World, cut: Cut) -> None:
    Accreditation.objects.filter(user=world.pro).update(status=AccreditationStatus.REVOKED)


def _mfa_removed(world: World, cut: Cut) -> None:
    Authenticator.objects.filter(user=world.pro).delete()


CASES = [
    ("expired grant", _expire, 403, "grant_expired"),
    ("revoked access", _revoke, 403, "grant_revoked"),
    ("window closed", _close_window, 403, "window_closed"),
    ("wrong category", _rules(allowed_categories=["fund", "press"]), 403, "category_not_allowed"),
    ("blocked organisation", _rules(blocked=True), 403, "organisation_blocked"),
    (
        "blocked territory",
        _rules(territory_mode=TerritoryMode.BLOCK, territories=["FR"]),
        403,
        "territory_blocked",
    ),
    (
        "territory not allowed",
        _rules(territory_mode=TerritoryMode.ALLOW, territories=["ES"]),
        403,
        "territory_blocked",
    ),
    ("accreditation revoked", _accreditation_revoked, 404, "not_found"),
    ("mfa removed", _mfa_removed, 403, "mfa_required"),
]


@pytest.mark.parametrize(("name", "change", "status", "code"), CASES, ids=[c[0] for c in CASES])
def test_refused_at_every_door(
    world: World, cut: Cut, name: str, change: Callable[[World, Cut], None], status: int, code: str
) -> None:
    client = viewer_client(world.pro)
    urls = door_urls(client, press_play(client, cut))
    change(world, cut)
    assert knock(client, urls) == {door: (status, code) for door in urls}


def test_another_viewers_grant_is_not_found(world: World, cut: Cut) -> None:
    urls = door_urls(viewer_client(world.pro), press_play(viewer_client(world.pro), cut))
    thief = viewer_client(world.other_producer, device="device-token-of-the-thief-00001")
    assert knock(thief, urls) == {door: (404, "not_found") for door in urls}


def test_the_same_viewer_on_a_copied_url_without_the_device_is_not_found(world: World, cut: Cut) -> None:
    urls = door_urls(viewer_client(world.pro), press_play(viewer_client(world.pro), cut))
    elsewhere = viewer_client(world.pro, device="another-browser-device-token-02")
    assert knock(elsewhere, urls) == {door: (404, "not_found") for door in urls}


def test_second_device_ends_the_first_stream(world: World, cut: Cut) -> None:
    first = viewer_client(world.pro)
    urls = door_urls(first, press_play(first, cut))
    second = viewer_client(world.pro, device="the-phone-device-token-000000003")
    door_urls(second, press_play(second, cut))
    assert knock(first, urls) == {door: (403, "grant_superseded") for door in urls}
    heartbeat = first.post(
        reverse("screening:heartbeat", args=[PlaybackGrant.objects.order_by("created_at").first().pk]),  # type: ignore[union-attr]
        data="{}",
        content_type="application/json",
    )
    assert heartbeat.status_code == 403
    assert "another device" in heartbeat.content.decode()


def test_anonymous_gets_not_found(world: World, cut: Cut) -> None:
    client = viewer_client(world.pro)
    urls = door_urls(client, press_play(client, cut))
    anonymous = Client()
    anonymous.cookies["fip_device"] = "device-token-of-the-test-browser-0001"
    assert knock(anonymous, urls) == {door: (404, "not_found") for door in urls}


def test_a_segment_door_serves_one_grant_only(world: World, cut: Cut) -> None:
    """Segment doors carry no signature: the grant in the path, its viewer's session and device decide."""
    client = viewer_client(world.pro)
    segment = door_urls(client, press_play(client, cut))["segment"]
    assert "?" not in segment
    other = viewer_client(world.other_producer, device="second-viewer-device-token-0001")
    other_segment = door_urls(other, press_play(other, cut))["segment"]
    assert client.get(other_segment).status_code == 404  # another grant's door, with my session
    assert client.get(segment.replace("seg_00000.ts", "seg_00001.ts")).status_code == 200


def test_a_segment_door_does_not_expire_with_the_url_lifetime(world: World, cut: Cut, settings: Any) -> None:
    settings.SCREENING_URL_TTL_SECONDS = -1
    client = viewer_client(world.pro)
    segment = door_urls(client, press_play(client, cut))["segment"]
    assert client.get(segment).status_code == 200


@pytest.mark.parametrize("who", ["pending", "rejected", "unverified", "no_mfa"])
def test_refused_viewers_cannot_press_play(world: World, cut: Cut, who: str) -> None:
    response = viewer_client(getattr(world, who)).post(
        reverse("screening:grant-create", args=[cut.public_id])
    )
    assert response.status_code in (403, 404)
    assert response.content.decode().strip()
    assert not PlaybackGrant.objects.exists()


def test_player_page_explains_a_refusal(world: World, cut: Cut) -> None:
    _rules(allowed_categories=["fund"])(world, cut)
    page = viewer_client(world.pro).get(reverse("screening:watch", args=[world.film.pk]))
    assert page.status_code == 403
    assert 'data-code="category_not_allowed"' in page.content.decode()


def test_play_cap_after_the_session(world: World, cut: Cut) -> None:
    session = world.toulouse
    session.starts_on = timezone.now().date() - dt.timedelta(days=10)
    session.ends_on = timezone.now().date() - dt.timedelta(days=2)
    session.save()
    _rules(max_plays_after_session=1)(world, cut)
    client = viewer_client(world.pro)
    press_play(client, cut)
    second = client.post(reverse("screening:grant-create", args=[cut.public_id]))
    assert (second.status_code, second["X-Refusal-Code"]) == (403, "play_cap_reached")


def test_producer_and_admin_may_preview_outside_the_rules(world: World, cut: Cut) -> None:
    _close_window(world, cut)
    for user in (world.producer, world.admin):
        client = viewer_client(user)
        door_urls(client, press_play(client, cut))
