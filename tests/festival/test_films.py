"""Films: who sees which, who edits which, financing figures, and bad input refused with nothing changed."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import translation
from PIL import Image

from accounts.models import Accreditation, AccreditationStatus
from audit.models import AuditEntry
from core.errors import Conflict, InvalidInput
from festival import services
from festival.models import Film, PostProductionNeed
from festival.selectors import film_financing
from tests.conftest import World, api_client, audit_actions, logged_in_client, make_film

pytestmark = pytest.mark.django_db


# --- who sees which films -----------------------------------------------------------------------


def test_accredited_professional_lists_only_their_sessions_films(world: World) -> None:
    response = api_client(world.pro).get("/api/films/")
    assert response.status_code == 200
    titles = [film["title"] for film in response.json()["results"]]
    assert titles == [world.film.title]


def test_film_list_page_shows_the_sessions_films(world: World) -> None:
    page = logged_in_client(world.pro).get(reverse("festival:film-list")).content.decode()
    assert world.film.title in page
    assert world.other_film.title not in page


@pytest.mark.parametrize("who", ["pending", "rejected"])
def test_pending_or_rejected_accreditation_sees_no_film(world: World, who: str) -> None:
    user = getattr(world, who)
    assert api_client(user).get("/api/films/").json()["results"] == []
    assert api_client(user).get(f"/api/films/{world.film.pk}/").status_code == 404
    assert (
        logged_in_client(user).get(reverse("festival:film-detail", args=[world.film.pk])).status_code == 404
    )


def test_film_of_another_session_is_not_found(world: World) -> None:
    assert api_client(world.pro).get(f"/api/films/{world.other_film.pk}/").status_code == 404
    assert (
        logged_in_client(world.pro)
        .get(reverse("festival:film-detail", args=[world.other_film.pk]))
        .status_code
        == 404
    )


def test_revoked_accreditation_loses_access_at_the_next_request(world: World) -> None:
    client = api_client(world.pro)
    assert client.get(f"/api/films/{world.film.pk}/").status_code == 200
    Accreditation.objects.filter(user=world.pro).update(status=AccreditationStatus.REVOKED)
    assert client.get(f"/api/films/{world.film.pk}/").status_code == 404


@pytest.mark.parametrize(("who", "code"), [("unverified", "email_unverified"), ("no_mfa", "mfa_required")])
def test_unready_accounts_are_refused_with_the_missing_step(world: World, who: str, code: str) -> None:
    user = getattr(world, who)
    response = api_client(user).get("/api/films/")
    assert response.status_code == 403
    assert response.json()["detail"]
    page = logged_in_client(user).get(reverse("festival:film-list"))
    assert page.status_code == 403
    assert f'data-code="{code}"' in page.content.decode()


def test_anonymous_is_sent_to_login(world: World) -> None:
    assert api_client(None).get("/api/films/").status_code in (401, 403)
    response = Client().get(reverse("festival:film-list"))
    assert response.status_code == 302 and reverse("account_login") in response["Location"]


def test_film_detail_shows_needs_and_gap(world: World) -> None:
    page = (
        logged_in_client(world.pro)
        .get(reverse("festival:film-detail", args=[world.film.pk]))
        .content.decode()
    )
    assert "EUR 15,000.00" in page and "EUR 10,000.00" in page


def test_financing_is_per_currency(world: World) -> None:
    PostProductionNeed.objects.create(
        film=world.film, category="vfx", estimated_cost_minor=2_000_000, currency="USD"
    )
    PostProductionNeed.objects.create(
        film=world.film, category="music", estimated_cost_minor=300_000, secured_minor=300_000, currency="EUR"
    )
    lines = {
        line.currency: (line.estimated_minor, line.secured_minor, line.gap_minor)
        for line in film_financing(film=world.film)
    }
    assert lines == {"EUR": (1_800_000, 800_000, 1_000_000), "USD": (2_000_000, 0, 2_000_000)}


# --- producers edit their own film ---------------------------------------------------------------


def test_producer_edits_their_film_over_the_api(world: World) -> None:
    response = api_client(world.producer).patch(
        f"/api/films/{world.film.pk}/",
        {"logline_fr": "Un condor survole la vallée.", "countries": ["PE", "FR"], "stage": "picture_lock"},
        format="json",
    )
    assert response.status_code == 200, response.content
    world.film.refresh_from_db()
    assert world.film.logline_fr == "Un condor survole la vallée."
    assert [c.code for c in world.film.countries] == ["PE", "FR"]
    assert audit_actions()[-1] == "film.updated"


def test_producer_edits_their_film_on_the_page(world: World) -> None:
    client = logged_in_client(world.producer)
    form = client.get(reverse("festival:film-edit", args=[world.film.pk])).context["form"]
    data = {name: form.initial.get(name, "") for name in form.fields}
    data.update({"title": "El Cóndor", "countries": ["PE"], "directors_text": "Ana Pérez, Luis Soto"})
    response = client.post(reverse("festival:film-edit", args=[world.film.pk]), data)
    assert response.status_code == 302, response.context["form"].errors if response.context else None
    world.film.refresh_from_db()
    assert world.film.title == "El Cóndor"
    assert world.film.directors == ["Ana Pérez", "Luis Soto"]


def test_producer_cannot_edit_another_teams_film(world: World) -> None:
    # other_producer is accredited to Toulouse, so they can see world.film but not edit it.
    client = api_client(world.other_producer)
    assert client.get(f"/api/films/{world.film.pk}/").status_code == 200
    response = client.patch(f"/api/films/{world.film.pk}/", {"title": "Hijacked"}, format="json")
    assert response.status_code == 403
    assert "producer team" in response.json()["detail"]
    page = logged_in_client(world.other_producer).post(
        reverse("festival:film-edit", args=[world.film.pk]), {"title": "Hijacked"}
    )
    assert page.status_code == 403
    need = api_client(world.other_producer).patch(
        f"/api/needs/{world.need.pk}/", {"secured_minor": 0}, format="json"
    )
    assert need.status_code == 403
    world.film.refresh_from_db()
    world.need.refresh_from_db()
    assert world.film.title != "Hijacked" and world.need.secured_minor == 500_000


def test_professional_cannot_edit_a_film(world: World) -> None:
    response = api_client(world.pro).patch(f"/api/films/{world.film.pk}/", {"title": "Mine"}, format="json")
    assert response.status_code == 403


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"countries": ["PE", "XX"]}, "countries"),
        ({"runtime_minutes": -5}, "runtime_minutes"),
        ({"stage": "finished"}, "stage"),
        ({"directors": []}, "directors"),
    ],
)
def test_invalid_film_data_names_the_field_and_changes_nothing(
    world: World, payload: dict[str, Any], field: str
) -> None:
    before = Film.objects.values().get(pk=world.film.pk)
    entries = len(audit_actions())
    response = api_client(world.producer).patch(f"/api/films/{world.film.pk}/", payload, format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert Film.objects.values().get(pk=world.film.pk) == before
    assert len(audit_actions()) == entries


# --- needs --------------------------------------------------------------------------------------


def test_producer_adds_a_need(world: World) -> None:
    response = api_client(world.producer).post(
        f"/api/films/{world.film.pk}/needs/",
        {"category": "sound_mix", "estimated_cost_minor": 2_000_000, "currency": "EUR", "notes": "5.1 mix"},
        format="json",
    )
    assert response.status_code == 201, response.content
    assert response.json()["gap_minor"] == 2_000_000
    assert audit_actions()[-1] == "film.need_added"


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"estimated_cost_minor": -100}, "estimated_cost_minor"),
        ({"currency": "ZZZ"}, "currency"),
        ({"currency": "eur"}, "currency"),
        ({"estimated_cost_minor": 100, "secured_minor": 200}, "secured_minor"),
        ({"estimated_cost_minor": 10.5}, "estimated_cost_minor"),
        ({"category": "catering"}, "category"),
    ],
)
def test_invalid_need_is_refused_naming_the_field(world: World, payload: dict[str, Any], field: str) -> None:
    body = {"category": "vfx", "estimated_cost_minor": 1000, "currency": "EUR", **payload}
    before = PostProductionNeed.objects.count()
    response = api_client(world.producer).post(f"/api/films/{world.film.pk}/needs/", body, format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert PostProductionNeed.objects.count() == before


def test_need_form_on_the_page_converts_major_units(world: World) -> None:
    client = logged_in_client(world.producer)
    response = client.post(
        reverse("festival:film-edit", args=[world.film.pk]),
        {
            "need-category": "subtitling",
            "need-estimated_cost": "1250.50",
            "need-secured": "0",
            "need-currency": "EUR",
            "need-notes": "EN and FR",
        },
    )
    assert response.status_code == 302
    assert PostProductionNeed.objects.filter(
        film=world.film, category="subtitling", estimated_cost_minor=125_050
    ).exists()


@pytest.mark.parametrize(
    ("currency", "typed", "minor", "shown"),
    [
        ("CLF", "12.3456", 123_456, "CLF 12.3456"),  # ISO 4217: four digits after the point
        ("UYW", "0.0001", 1, "UYW 0.0001"),
        ("KWD", "1.250", 1_250, "KWD 1.250"),
        ("JPY", "1500", 1_500, "JPY 1,500"),
    ],
)
def test_a_need_keeps_its_currencys_own_digits(
    world: World, currency: str, typed: str, minor: int, shown: str
) -> None:
    """The page form converts with core.money's exponents, and the film page formats them back."""
    client = logged_in_client(world.producer)
    response = client.post(
        reverse("festival:film-edit", args=[world.film.pk]),
        {
            "need-category": "vfx",
            "need-estimated_cost": typed,
            "need-secured": "0",
            "need-currency": currency,
        },
    )
    assert response.status_code == 302, response.context and response.context["need_form"].errors
    need = PostProductionNeed.objects.get(film=world.film, category="vfx")
    assert need.estimated_cost_minor == minor
    with translation.override("en"):
        page = client.get(reverse("festival:film-detail", args=[world.film.pk])).content.decode()
    assert shown in page.replace("\xa0", " ")


@pytest.mark.parametrize(("currency", "typed"), [("CLF", "1.23456"), ("EUR", "1.234"), ("JPY", "1.5")])
def test_a_need_with_more_digits_than_its_currency_is_refused(
    world: World, currency: str, typed: str
) -> None:
    response = logged_in_client(world.producer).post(
        reverse("festival:film-edit", args=[world.film.pk]),
        {
            "need-category": "vfx",
            "need-estimated_cost": typed,
            "need-secured": "0",
            "need-currency": currency,
        },
    )
    assert response.status_code == 400
    assert "estimated_cost" in response.context["need_form"].errors
    assert not PostProductionNeed.objects.filter(film=world.film, category="vfx").exists()


def test_need_form_refuses_unknown_currency_and_negative_cost(world: World) -> None:
    client = logged_in_client(world.producer)
    response = client.post(
        reverse("festival:film-edit", args=[world.film.pk]),
        {
            "need-category": "subtitling",
            "need-estimated_cost": "-3",
            "need-currency": "XYZ",
        },
    )
    assert response.status_code == 400
    errors = response.context["need_form"].errors
    assert "currency" in errors and "estimated_cost" in errors


def test_producer_removes_a_need(world: World) -> None:
    response = api_client(world.producer).delete(f"/api/needs/{world.need.pk}/")
    assert response.status_code == 204
    assert not PostProductionNeed.objects.filter(pk=world.need.pk).exists()
    assert audit_actions()[-1] == "film.need_removed"


# --- posters ------------------------------------------------------------------------------------


def _png() -> io.BytesIO:
    buffer = io.BytesIO()
    Image.new("RGB", (20, 30), (200, 10, 10)).save(buffer, format="PNG")
    buffer.seek(0)
    buffer.name = "still.png"
    return buffer


def test_poster_is_served_only_to_the_films_audience(world: World, settings: Any, tmp_path: Any) -> None:
    settings.MEDIA_ROOT = tmp_path
    services.film_set_poster(
        user=world.producer,
        film=world.film,
        poster=SimpleUploadedFile("still.png", _png().read(), content_type="image/png"),
    )
    assert (
        logged_in_client(world.pro).get(reverse("festival:film-poster", args=[world.film.pk])).status_code
        == 200
    )
    assert (
        logged_in_client(world.pending).get(reverse("festival:film-poster", args=[world.film.pk])).status_code
        == 404
    )


def test_a_non_image_poster_is_refused(world: World, settings: Any, tmp_path: Any) -> None:
    settings.MEDIA_ROOT = tmp_path
    with pytest.raises(InvalidInput) as error:
        services.film_set_poster(
            user=world.producer,
            film=world.film,
            poster=SimpleUploadedFile("evil.png", b"<script>", content_type="image/png"),
        )
    assert error.value.field == "poster"
    world.film.refresh_from_db()
    assert not world.film.poster


# --- admins run sessions and the selection -------------------------------------------------------


def test_seventh_film_in_a_full_session_is_refused(world: World) -> None:
    for i in range(5):
        make_film(world.toulouse, f"Film {i}")
    seventh = make_film(None, "Seventh")
    response = api_client(world.admin).post(
        f"/api/films/{seventh.pk}/select/", {"session": world.toulouse.pk}, format="json"
    )
    assert response.status_code == 400
    assert "already has its 6 films" in response.json()["session"][0]
    seventh.refresh_from_db()
    assert seventh.session is None


def test_admin_selects_a_film_and_assigns_its_team(world: World) -> None:
    film = make_film(None, "Nueva")
    client = api_client(world.admin)
    assert (
        client.post(
            f"/api/films/{film.pk}/select/", {"session": world.sansebastian.pk}, format="json"
        ).status_code
        == 200
    )
    response = client.post(
        f"/api/films/{film.pk}/team/",
        {"user": world.producer.pk, "organisation": world.producer_org.pk},
        format="json",
    )
    assert response.status_code == 200
    assert film.team_members.filter(user=world.producer).exists()
    assert {"film.selected", "film.team_member_added"} <= set(audit_actions())


def test_non_admin_cannot_select_films(world: World) -> None:
    film = make_film(None, "Nueva")
    Film.objects.filter(pk=film.pk).update(session=world.toulouse)
    response = api_client(world.producer).post(
        f"/api/films/{world.film.pk}/select/", {"session": world.sansebastian.pk}, format="json"
    )
    assert response.status_code == 403
    world.film.refresh_from_db()
    assert world.film.session == world.toulouse


def test_admin_creates_a_session_and_non_admin_cannot(world: World) -> None:
    payload = {
        "edition": world.edition.pk,
        "name": "Extra",
        "city": "Lima",
        "country": "PE",
        "starts_on": "2099-01-10",
        "ends_on": "2099-01-12",
        "screening_days_after_end": 10,
    }
    assert api_client(world.pro).post("/api/sessions/", payload, format="json").status_code == 403
    response = api_client(world.admin).post("/api/sessions/", payload, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["screening_closes_at"].startswith("2099-01-22")


def test_session_that_ends_before_it_starts_is_refused(world: World) -> None:
    payload = {
        "edition": world.edition.pk,
        "name": "Backwards",
        "city": "Lima",
        "country": "PE",
        "starts_on": "2099-01-10",
        "ends_on": "2099-01-01",
    }
    response = api_client(world.admin).post("/api/sessions/", payload, format="json")
    assert response.status_code == 400
    assert "ends_on" in response.json()


def test_lowering_max_films_below_the_selection_is_refused(world: World) -> None:
    make_film(world.toulouse, "Second")
    with pytest.raises(Conflict):
        services.session_save(admin=world.admin, session=world.toulouse, data={"max_films": 1})
    world.toulouse.refresh_from_db()
    assert world.toulouse.max_films == 6


def test_screening_window_opens_at_start_and_closes_after_the_configured_days(world: World) -> None:
    session = world.toulouse
    assert session.screening_window_open()
    after = dt.datetime.combine(
        session.ends_on + dt.timedelta(days=session.screening_days_after_end + 1), dt.time(12), tzinfo=dt.UTC
    )
    assert not session.screening_window_open(after)
    assert not world.sansebastian.screening_window_open()


# --- audit: who, for which organisation, from where ---------------------------------------------


def _last_entry(action: str) -> AuditEntry:
    return AuditEntry.objects.filter(action=action).latest("seq")


def test_a_producer_acts_for_the_organisation_of_their_seat_on_the_team(world: World) -> None:
    ip = "198.51.100.4"
    film_url = f"/api/films/{world.film.pk}/"
    client = api_client(world.producer)
    assert client.patch(film_url, {"title": "Cóndor"}, format="json", REMOTE_ADDR=ip).status_code == 200
    updated = _last_entry("film.updated")
    assert (updated.actor, updated.organisation, updated.ip) == (world.producer, world.producer_org, ip)
    need = {"category": "vfx", "estimated_cost_minor": 1000, "currency": "EUR"}
    assert client.post(f"{film_url}needs/", need, format="json", REMOTE_ADDR=ip).status_code == 201
    added = _last_entry("film.need_added")
    assert (added.actor, added.organisation, added.ip) == (world.producer, world.producer_org, ip)


def test_a_festival_admin_acts_for_the_festival(world: World) -> None:
    services.film_update(user=world.admin, film=world.film, data={"title": "Cóndor"})
    assert (_last_entry("film.updated").actor, _last_entry("film.updated").organisation) == (
        world.admin,
        None,
    )
    film = make_film(None, "Nueva")
    services.film_team_assign(
        admin=world.admin, film=film, user=world.producer, organisation=world.producer_org
    )
    added = _last_entry("film.team_member_added")
    assert (added.actor, added.organisation) == (world.admin, None)  # not the producers' organisation
    assert added.data == {"user_id": world.producer.pk, "organisation_id": world.producer_org.pk}


def test_the_film_page_offers_editing_to_the_team_and_admins_only(world: World) -> None:
    edit = reverse("festival:film-edit", args=[world.film.pk])
    for user, can_edit in ((world.producer, True), (world.admin, True), (world.pro, False)):
        page = (
            logged_in_client(user).get(reverse("festival:film-detail", args=[world.film.pk])).content.decode()
        )
        assert (edit in page) is can_edit
        assert logged_in_client(user).get(edit).status_code == (200 if can_edit else 403)
