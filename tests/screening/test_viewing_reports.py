"""Journey 4: heartbeats become a viewing report with a watch-through curve and a CSV export."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from screening.models import Cut, PlaybackGrant
from screening.selectors import retention_svg_points, viewing_report
from tests.conftest import World, logged_in_client
from tests.screening.conftest import viewer_client

pytestmark = pytest.mark.django_db


def _watch(client: Client, cut: Cut, played: list[list[float]], position: float) -> str:
    grant = client.post(reverse("screening:grant-create", args=[cut.public_id])).json()
    response = client.post(
        grant["heartbeat_url"],
        data=json.dumps({"position": position, "played": played}),
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    return str(grant["grant"])


def test_heartbeats_build_the_report_and_the_curve(world: World, cut: Cut) -> None:
    # 6 s cut, 2 s segments: the professional watches it all, the other producer the first half.
    _watch(viewer_client(world.pro), cut, [[0, 6]], 6)
    _watch(viewer_client(world.other_producer, device="second-viewer-device-token-0001"), cut, [[0, 3]], 3)
    report = viewing_report(cut=cut)
    rows = {row.email: row for row in report.viewers}
    assert rows[world.pro.email].share == pytest.approx(1.0)
    assert rows[world.pro.email].organisation == "Cine Sur" and rows[world.pro.email].country == "FR"
    assert rows[world.pro.email].category == "Distributor"
    assert rows[world.other_producer.email].share == pytest.approx(2 / 3)
    assert report.curve == [1.0, 1.0, 0.5]
    assert retention_svg_points(report.curve).startswith("0.0,0.0")


def test_heartbeat_rejects_malformed_input(world: World, cut: Cut) -> None:
    client = viewer_client(world.pro)
    grant = client.post(reverse("screening:grant-create", args=[cut.public_id])).json()
    response = client.post(
        grant["heartbeat_url"], data='{"played": [["a", "b"]]}', content_type="application/json"
    )
    assert response.status_code == 400
    assert PlaybackGrant.objects.get(pk=grant["grant"]).watched_segments == []


def test_ranges_beyond_the_film_are_clamped(world: World, cut: Cut) -> None:
    grant_id = _watch(viewer_client(world.pro), cut, [[-50, 10_000]], 10_000)
    grant = PlaybackGrant.objects.get(pk=grant_id)
    assert grant.watched_segments == [0, 1, 2]
    assert grant.seconds_watched == pytest.approx(cut.duration_s)


def test_report_page_and_csv_for_the_team_only(world: World, cut: Cut) -> None:
    _watch(viewer_client(world.pro), cut, [[0, 4]], 4)
    page = logged_in_client(world.producer).get(reverse("screening:report", args=[cut.public_id]))
    assert page.status_code == 200
    html = page.content.decode()
    assert world.pro.email in html and "<polyline" in html
    export = logged_in_client(world.producer).get(reverse("screening:report-csv", args=[cut.public_id]))
    rows = list(csv.DictReader(io.StringIO(export.content.decode())))
    assert rows[0]["email"] == world.pro.email and float(rows[0]["share_watched"]) == pytest.approx(
        2 / 3, abs=0.01
    )
    for outsider in (world.pro, world.other_producer):
        assert (
            logged_in_client(outsider).get(reverse("screening:report", args=[cut.public_id])).status_code
            == 404
        )
        assert (
            logged_in_client(outsider).get(reverse("screening:report-csv", args=[cut.public_id])).status_code
            == 404
        )


def test_csv_neutralises_formulas(world: World, cut: Cut) -> None:
    world.pro.full_name = '=HYPERLINK("http://evil")'
    world.pro.save()
    _watch(viewer_client(world.pro), cut, [[0, 2]], 2)
    export = logged_in_client(world.producer).get(reverse("screening:report-csv", args=[cut.public_id]))
    assert "'=HYPERLINK" in export.content.decode()


def test_retention_purge(world: World, cut: Cut, settings: Any) -> None:
    import datetime as dt

    from django.core.management import call_command
    from django.utils import timezone

    _watch(viewer_client(world.pro), cut, [[0, 2]], 2)
    PlaybackGrant.objects.update(
        created_at=timezone.now() - dt.timedelta(days=settings.SCREENING_REPORT_RETENTION_DAYS + 1)
    )
    call_command("purge_viewing_data", stdout=io.StringIO())
    assert not PlaybackGrant.objects.exists()
