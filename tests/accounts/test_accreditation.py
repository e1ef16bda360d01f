"""Organisations and accreditation: apply, decide, the state machine, emails, and every refusal."""

from __future__ import annotations

from typing import Any

import pytest
from django.core import mail
from django.urls import reverse

from accounts.models import Accreditation, AccreditationStatus, Membership, Organisation
from accounts.services import accreditations
from core.errors import Conflict, Forbidden, InvalidInput
from tests.conftest import World, api_client, audit_actions, logged_in_client, make_user

pytestmark = pytest.mark.django_db


def _apply_payload(world: World, **overrides: object) -> dict[str, object]:
    payload: dict[str, object] = {
        "session": world.sansebastian.pk,
        "organisation": world.distributor_org.pk,
        "category": "distributor",
        "accept_terms": True,
        "motivation": "Buying for France",
    }
    payload.update(overrides)
    return payload


# --- organisations ----------------------------------------------------------------------------


def test_create_organisation_makes_the_creator_a_member(world: World) -> None:
    user = make_user("founder@example.org")
    response = api_client(user).post(
        "/api/organisations/",
        {"name": "Lumière Sud", "country": "FR", "company_type": "distributor"},
        format="json",
    )
    assert response.status_code == 201, response.content
    org = Organisation.objects.get(name="Lumière Sud")
    assert Membership.objects.filter(user=user, organisation=org).exists()
    assert "organisation.created" in audit_actions()


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"name": "X", "country": "ZZ", "company_type": "distributor"}, "country"),
        ({"name": "X", "country": "FR", "company_type": "smuggler"}, "company_type"),
        ({"name": "", "country": "FR", "company_type": "distributor"}, "name"),
    ],
)
def test_invalid_organisation_is_refused_naming_the_field(
    world: World, payload: dict[str, str], field: str
) -> None:
    before = Organisation.objects.count()
    response = api_client(world.pro).post("/api/organisations/", payload, format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert Organisation.objects.count() == before


def test_duplicate_organisation_is_refused(world: World) -> None:
    response = api_client(world.pro).post(
        "/api/organisations/",
        {"name": "cine sur", "country": "FR", "company_type": "distributor"},
        format="json",
    )
    assert response.status_code == 400
    assert "join it instead" in response.json()["name"][0]


def test_organisation_page_shows_form_error_for_unknown_country(world: World) -> None:
    client = logged_in_client(world.pro)
    response = client.post(
        reverse("accounts:organisation"),
        {"create-name": "Nueva", "create-country": "XX", "create-company_type": "fund"},
    )
    assert response.status_code == 400
    assert "country" in response.context["create_form"].errors
    assert not Organisation.objects.filter(name="Nueva").exists()


# --- applying -----------------------------------------------------------------------------------


def test_apply_over_the_api_creates_a_pending_accreditation(world: World) -> None:
    response = api_client(world.pro).post("/api/accreditations/", _apply_payload(world), format="json")
    assert response.status_code == 201, response.content
    assert response.json()["status"] == "pending"
    assert audit_actions()[-1] == "accreditation.applied"


@pytest.mark.parametrize(("who", "code"), [("unverified", "email_unverified"), ("no_mfa", "mfa_required")])
def test_apply_refused_without_verified_email_or_mfa(world: World, who: str, code: str) -> None:
    user = getattr(world, who)
    response = api_client(user).post("/api/accreditations/", _apply_payload(world), format="json")
    assert response.status_code == 403
    assert response.json()["detail"]
    with pytest.raises(Forbidden) as error:
        accreditations.accreditation_apply(
            user=user,
            session=world.sansebastian,
            organisation=world.distributor_org,
            category="distributor",
            accept_terms=True,
        )
    assert error.value.code == code
    assert not Accreditation.objects.filter(user=user, session=world.sansebastian).exists()


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"accept_terms": False}, "accept_terms"),
        ({"category": "tourist"}, "category"),
        ({"session": 999999}, "session"),
        ({"organisation": "producer_org"}, "organisation"),
    ],
)
def test_apply_with_bad_input_names_the_field(world: World, overrides: dict[str, object], field: str) -> None:
    if overrides.get("organisation") == "producer_org":
        overrides = {"organisation": world.producer_org.pk}  # not one of the applicant's organisations
    before = Accreditation.objects.count()
    response = api_client(world.pro).post(
        "/api/accreditations/", _apply_payload(world, **overrides), format="json"
    )
    assert response.status_code == 400
    assert field in response.json()
    assert Accreditation.objects.count() == before


def test_second_application_to_the_same_session_is_refused(world: World) -> None:
    response = api_client(world.pro).post(
        "/api/accreditations/", _apply_payload(world, session=world.toulouse.pk), format="json"
    )
    assert response.status_code == 400
    assert "already" in response.json()["session"][0]


def test_apply_page_refuses_missing_mfa_with_a_clear_message(world: World) -> None:
    response = logged_in_client(world.no_mfa).post(
        reverse("accounts:accreditation-apply"), _apply_payload(world)
    )
    assert response.status_code == 403
    assert "two-factor" in response.content.decode()


# --- deciding -----------------------------------------------------------------------------------


def _pending(world: World) -> Accreditation:
    return Accreditation.objects.get(user=world.pending)


def test_admin_approves_over_the_api_and_the_applicant_is_emailed(
    world: World, django_capture_on_commit_callbacks: Any
) -> None:
    world.pending.language = "es"
    world.pending.save()
    accreditation = _pending(world)
    with django_capture_on_commit_callbacks(execute=True):
        response = api_client(world.admin).post(
            f"/api/accreditations/{accreditation.pk}/approve/", {}, format="json"
        )
    assert response.status_code == 200, response.content
    accreditation.refresh_from_db()
    assert accreditation.status == AccreditationStatus.APPROVED
    assert accreditation.decided_by == world.admin
    assert [m.to for m in mail.outbox] == [[world.pending.email]]
    assert "accreditation.approved" in audit_actions()
    assert "aprobada" in mail.outbox[0].subject  # in the applicant's language


def test_reject_needs_a_reason_and_emails_it(world: World, django_capture_on_commit_callbacks: Any) -> None:
    accreditation = _pending(world)
    client = api_client(world.admin)
    missing = client.post(f"/api/accreditations/{accreditation.pk}/reject/", {"reason": "  "}, format="json")
    assert missing.status_code == 400 and "reason" in missing.json()
    accreditation.refresh_from_db()
    assert accreditation.status == AccreditationStatus.PENDING

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"/api/accreditations/{accreditation.pk}/reject/", {"reason": "Not a buyer"}, format="json"
        )
    assert response.status_code == 200
    assert "Not a buyer" in mail.outbox[-1].body


def test_non_admin_cannot_approve_own_application(world: World) -> None:
    accreditation = _pending(world)
    response = api_client(world.pending).post(
        f"/api/accreditations/{accreditation.pk}/approve/", {}, format="json"
    )
    assert response.status_code == 403
    assert "admins" in response.json()["detail"]
    accreditation.refresh_from_db()
    assert accreditation.status == AccreditationStatus.PENDING


def test_non_admin_cannot_see_someone_elses_application(world: World) -> None:
    accreditation = _pending(world)
    response = api_client(world.pro).post(
        f"/api/accreditations/{accreditation.pk}/approve/", {}, format="json"
    )
    assert response.status_code == 404


def test_admin_without_mfa_is_refused(world: World) -> None:
    admin = make_user("lazy-admin@festival.example", staff=True, mfa=False)
    with pytest.raises(Forbidden):
        accreditations.accreditation_approve(accreditation=_pending(world), admin=admin)


def test_review_page_refuses_non_admins(world: World) -> None:
    response = logged_in_client(world.pro).get(reverse("accounts:review-queue"))
    assert response.status_code == 403
    assert "Only festival admins" in response.content.decode()
    accreditation = _pending(world)
    logged_in_client(world.pro).post(reverse("accounts:review-decide", args=[accreditation.pk, "approve"]))
    accreditation.refresh_from_db()
    assert accreditation.status == AccreditationStatus.PENDING


def test_review_page_lets_an_admin_decide(world: World) -> None:
    accreditation = _pending(world)
    client = logged_in_client(world.admin)
    assert world.pending.email in client.get(reverse("accounts:review-queue")).content.decode()
    client.post(reverse("accounts:review-decide", args=[accreditation.pk, "approve"]), {"reason": ""})
    accreditation.refresh_from_db()
    assert accreditation.status == AccreditationStatus.APPROVED


@pytest.mark.parametrize("status", [AccreditationStatus.REJECTED, AccreditationStatus.WITHDRAWN])
def test_decided_application_cannot_be_approved(world: World, status: str) -> None:
    accreditation = _pending(world)
    Accreditation.objects.filter(pk=accreditation.pk).update(status=status)
    with pytest.raises(Conflict) as error:
        accreditations.accreditation_approve(accreditation=accreditation, admin=world.admin)
    assert error.value.code == "illegal_transition"


def test_revoke_then_withdraw_is_illegal_and_changes_nothing(world: World) -> None:
    accreditation = Accreditation.objects.get(user=world.pro)
    accreditations.accreditation_revoke(
        accreditation=accreditation, admin=world.admin, reason="Leaked a screener"
    )
    entries_before = len(audit_actions())
    with pytest.raises(Conflict):
        accreditations.accreditation_withdraw(accreditation=accreditation, user=world.pro)
    accreditation.refresh_from_db()
    assert accreditation.status == AccreditationStatus.REVOKED
    assert len(audit_actions()) == entries_before


def test_revoke_requires_a_reason(world: World) -> None:
    with pytest.raises(InvalidInput):
        accreditations.accreditation_revoke(
            accreditation=Accreditation.objects.get(user=world.pro), admin=world.admin, reason=""
        )


def test_withdraw_own_application(world: World) -> None:
    accreditation = _pending(world)
    response = api_client(world.pending).post(f"/api/accreditations/{accreditation.pk}/withdraw/")
    assert response.status_code == 200
    assert response.json()["status"] == "withdrawn"
