"""The Django admin requires the second factor; sessions end after 15 idle minutes."""

from __future__ import annotations

import time
from typing import Any

import pytest
from django.test import Client

from accounts.middleware import IDLE_KEY
from audit.models import AuditEntry
from festival.models import Edition
from tests.conftest import World, logged_in_client, make_user

pytestmark = pytest.mark.django_db


def test_admin_login_goes_through_allauth_so_totp_applies() -> None:
    response = Client().get("/admin/login/?next=/admin/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_admin_pages_for_a_ready_admin(world: World) -> None:
    assert logged_in_client(world.admin).get("/admin/festival/film/").status_code == 200


def test_staff_without_mfa_is_refused_the_admin() -> None:
    staff = make_user("staff-nomfa@festival.example", staff=True, mfa=False)
    response = logged_in_client(staff).get("/admin/festival/film/")
    assert response.status_code == 403
    assert "two-factor" in response.content.decode()


def test_non_staff_is_refused_the_admin(world: World) -> None:
    response = logged_in_client(world.pro).get("/admin/")
    assert response.status_code in (302, 403)
    assert "Site administration" not in response.content.decode()


def test_idle_session_is_ended(world: World, settings: Any) -> None:
    client = logged_in_client(world.pro)
    assert client.get("/films/").status_code == 200
    session = client.session
    session[IDLE_KEY] = int(time.time()) - settings.SESSION_IDLE_TIMEOUT_SECONDS - 5
    session.save()
    response = client.get("/films/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_admin_changes_go_through_services_and_are_audited(world: World) -> None:
    client = logged_in_client(world.admin)
    response = client.post(
        f"/admin/festival/session/{world.toulouse.pk}/change/",
        {
            "edition": world.edition.pk,
            "name": "Toulouse 2099",
            "city": "Toulouse",
            "country": "FR",
            "venue": "",
            "starts_on": world.toulouse.starts_on.isoformat(),
            "ends_on": world.toulouse.ends_on.isoformat(),
            "screening_days_after_end": 12,
            "max_films": 6,
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    entry = AuditEntry.objects.filter(action="session.updated").latest("seq")
    assert entry.actor == world.admin
    assert entry.data["changes"]["name"] == {"from": "Toulouse", "to": "Toulouse 2099"}


def test_admin_creates_and_renames_an_edition_through_the_services(world: World) -> None:
    client = logged_in_client(world.admin)
    assert client.post("/admin/festival/edition/add/", {"year": 2031, "name": "FiP 2031"}).status_code == 302
    edition = Edition.objects.get(year=2031)
    response = client.post(
        f"/admin/festival/edition/{edition.pk}/change/", {"name": "Films in Progress 2031"}
    )
    assert response.status_code == 302, response.content.decode()[:1000]
    edition.refresh_from_db()
    assert (edition.year, edition.name) == (2031, "Films in Progress 2031")
    entries = AuditEntry.objects.filter(target_type="festival.edition", target_id=str(edition.pk))
    actions = list(entries.order_by("seq").values_list("action", flat=True))
    assert actions == ["edition.created", "edition.renamed"]
