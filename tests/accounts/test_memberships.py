"""Membership of an organisation is granted by its administrators (or festival admins), never taken.

A request to join grants nothing until it is approved: only approved members (``Membership`` rows) are
parties to the organisation's offers, threads, agreements and payments. Every change is audited.
"""

from __future__ import annotations

import html
import importlib
from dataclasses import dataclass
from typing import Any

import pytest
from django.apps import apps as django_apps
from django.contrib import admin as django_admin
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import translation

from accounts.admin import MembershipInline
from accounts.models import (
    Accreditation,
    AccreditationStatus,
    Membership,
    MembershipRequest,
    MembershipRequestStatus,
    MembershipRole,
    Organisation,
    User,
)
from accounts.services import memberships
from audit.models import AuditEntry
from core.errors import Conflict, Forbidden, InvalidInput, NotFound
from offers.models import Agreement, Offer, ThreadEvent
from offers.services import negotiation
from offers.services import offers as offer_services
from tests.conftest import World, api_client, audit_actions, logged_in_client, make_org, make_user
from tests.offers.conftest import submitted_offer
from tests.offers.terms import examples

pytestmark = pytest.mark.django_db


@pytest.fixture
def stranger(world: World) -> User:
    """A ready account (verified email, TOTP) with no organisation and no accreditation."""
    return make_user("sam@elsewhere.example", full_name="Sam Stranger", language="es")


def _ask(user: User, organisation: Organisation, message: str = "") -> MembershipRequest:
    return memberships.membership_request_create(user=user, organisation=organisation, message=message)


def _membership(user: User, organisation: Organisation) -> Membership:
    return Membership.objects.get(user=user, organisation=organisation)


# --- the hole: nothing is taken ------------------------------------------------------------------------


def test_the_self_join_endpoint_grants_nothing(world: World, stranger: User) -> None:
    org = world.distributor_org
    response = api_client(stranger).post(f"/api/organisations/{org.pk}/join/", {}, format="json")
    assert response.status_code == 404
    assert not Membership.objects.filter(user=stranger).exists()
    assert not hasattr(memberships, "organisation_join")


def test_the_organisation_page_asks_instead_of_joining(world: World, stranger: User) -> None:
    client = logged_in_client(stranger)
    response = client.post(
        reverse("accounts:organisation"),
        {"action": "request", "request-organisation": world.distributor_org.pk, "request-message": "Hola"},
    )
    assert response.status_code == 302
    assert not Membership.objects.filter(user=stranger).exists()
    request = MembershipRequest.objects.get(user=stranger)
    assert (request.organisation, request.status, request.message) == (
        world.distributor_org,
        MembershipRequestStatus.PENDING,
        "Hola",
    )
    page = client.get(reverse("accounts:organisation")).content.decode()
    assert world.distributor_org.name in page and "data-request-pending" in page


@pytest.mark.parametrize(("who", "code"), [("unverified", "email_unverified"), ("no_mfa", "mfa_required")])
def test_asking_needs_a_ready_account_everywhere(world: World, who: str, code: str) -> None:
    user = make_user(f"{who}@elsewhere.example", verified=who != "unverified", mfa=who != "no_mfa")
    org = world.producer_org
    response = api_client(user).post(f"/api/organisations/{org.pk}/requests/", {}, format="json")
    assert response.status_code == 403
    page = logged_in_client(user).post(
        reverse("accounts:organisation"), {"action": "request", "request-organisation": org.pk}
    )
    assert page.status_code == 403
    created = logged_in_client(user).post(
        reverse("accounts:organisation"),
        {"action": "create", "create-name": "Nueva", "create-country": "FR", "create-company_type": "fund"},
    )
    assert created.status_code == 403
    with pytest.raises(Forbidden) as error:
        _ask(user, org)
    assert error.value.code == code
    assert not MembershipRequest.objects.filter(user=user).exists()
    assert not Membership.objects.filter(user=user).exists()
    assert not Organisation.objects.filter(name="Nueva").exists()


# --- a request grants no party rights until approved, and removal takes them away --------------------


@dataclass
class Reach:
    """What an account can reach of Cine Sur's business, one entry per domain."""

    offer: int
    draft: int
    events: int
    message: int
    memo_pdf: int
    schedule: int

    @classmethod
    def of(cls, user: User, offer: Offer, draft: Offer, agreement: Agreement) -> Reach:
        api, page = api_client(user), logged_in_client(user)
        return cls(
            offer=api.get(f"/api/offers/{offer.pk}/").status_code,
            draft=api.get(f"/api/offers/{draft.pk}/").status_code,
            events=api.get(f"/api/offers/{offer.pk}/events/").status_code,
            message=api.post(
                f"/api/offers/{offer.pk}/messages/", {"body": "Soy el ofertante"}, format="json"
            ).status_code,
            memo_pdf=page.get(
                reverse("offers:agreement-memo-pdf", args=[agreement.public_id]) + "?lang=en"
            ).status_code,
            schedule=page.get(reverse("payments:schedule", args=[agreement.public_id])).status_code,
        )


NO_ACCESS = Reach(offer=404, draft=404, events=404, message=404, memo_pdf=404, schedule=404)


@pytest.fixture
def business(world: World) -> tuple[Offer, Offer, Agreement]:
    """Cine Sur's live negotiation, a colleague's draft, and an accepted deal with its memo and payments."""
    live = submitted_offer(world)
    draft = offer_services.offer_create(
        user=world.pro,
        film=world.film,
        organisation=world.distributor_org,
        terms_data=examples.completion_fund(),
    )
    deal_offer = submitted_offer(world)
    version = deal_offer.versions.get(number=1)
    agreement = negotiation.thread_accept(
        user=world.producer, offer=deal_offer, version=1, terms_hash=version.terms_hash
    )
    return live, draft, agreement


def test_a_request_reaches_nothing_until_approved_and_removal_takes_it_away(
    world: World, stranger: User, business: tuple[Offer, Offer, Agreement]
) -> None:
    live, draft, agreement = business
    events_before = ThreadEvent.objects.filter(offer=live).count()
    request = _ask(stranger, world.distributor_org, "I buy for Spain")
    assert Reach.of(stranger, live, draft, agreement) == NO_ACCESS
    assert (
        ThreadEvent.objects.filter(offer=live).count() == events_before
    )  # the refused message left no trace

    memberships.membership_request_approve(actor=world.pro, request=request)
    reach = Reach.of(stranger, live, draft, agreement)
    assert reach == Reach(offer=200, draft=200, events=200, message=201, memo_pdf=200, schedule=200)

    memberships.membership_remove(
        actor=world.pro, membership=_membership(stranger, world.distributor_org), reason="Left us"
    )
    assert Reach.of(stranger, live, draft, agreement) == NO_ACCESS


def test_a_rejected_or_withdrawn_request_reaches_nothing(
    world: World, stranger: User, business: tuple[Offer, Offer, Agreement]
) -> None:
    live, draft, agreement = business
    rejected = _ask(stranger, world.distributor_org)
    memberships.membership_request_reject(actor=world.pro, request=rejected, reason="We do not know you")
    assert Reach.of(stranger, live, draft, agreement) == NO_ACCESS
    withdrawn = _ask(stranger, world.distributor_org)
    memberships.membership_request_withdraw(user=stranger, request=withdrawn)
    assert Reach.of(stranger, live, draft, agreement) == NO_ACCESS
    assert not Membership.objects.filter(user=stranger).exists()


# --- asking ----------------------------------------------------------------------------------------------


def test_ask_over_the_api_notifies_the_organisations_admins(
    world: World, stranger: User, django_capture_on_commit_callbacks: Any
) -> None:
    org = world.distributor_org
    with django_capture_on_commit_callbacks(execute=True):
        response = api_client(stranger).post(
            f"/api/organisations/{org.pk}/requests/", {"message": "Buyer for Spain"}, format="json"
        )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "pending" and body["organisation"]["id"] == org.pk
    assert body["user_email"] == stranger.email
    assert audit_actions()[-1] == "membership.requested"
    assert [m.to for m in mail.outbox] == [[world.pro.email]]  # Cine Sur's administrator
    assert stranger.email in mail.outbox[0].body and "/organisation/?org=" in mail.outbox[0].body


def test_asking_twice_or_as_a_member_is_refused(world: World, stranger: User) -> None:
    _ask(stranger, world.distributor_org)
    entries = len(audit_actions())
    with pytest.raises(Conflict):
        _ask(stranger, world.distributor_org)
    with pytest.raises(Conflict):
        _ask(world.pro, world.distributor_org)
    response = api_client(world.pro).post(
        f"/api/organisations/{world.distributor_org.pk}/requests/", {}, format="json"
    )
    assert response.status_code == 409
    assert len(audit_actions()) == entries
    assert MembershipRequest.objects.count() == 1


def test_asking_a_missing_organisation_is_404_and_bad_input_400(world: World, stranger: User) -> None:
    client = api_client(stranger)
    assert client.post("/api/organisations/999999/requests/", {}, format="json").status_code == 404
    assert client.post("/api/organisations/abc/requests/", {}, format="json").status_code == 404
    too_long = client.post(
        f"/api/organisations/{world.distributor_org.pk}/requests/", {"message": "x" * 3000}, format="json"
    )
    assert too_long.status_code == 400 and "message" in too_long.json()
    assert not MembershipRequest.objects.exists()


# --- deciding: who may, who may not ----------------------------------------------------------------------


def test_the_organisations_admin_approves_and_the_requester_is_emailed_in_their_language(
    world: World, stranger: User, django_capture_on_commit_callbacks: Any
) -> None:
    request = _ask(stranger, world.distributor_org)
    with django_capture_on_commit_callbacks(execute=True):
        response = api_client(world.pro).post(
            f"/api/organisations/requests/{request.pk}/approve/", {"reason": "Welcome"}, format="json"
        )
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "approved"
    request.refresh_from_db()
    assert (request.status, request.decided_by, request.decision_reason) == ("approved", world.pro, "Welcome")
    assert request.decided_at is not None
    membership = _membership(stranger, world.distributor_org)
    assert membership.role == MembershipRole.MEMBER
    entry = AuditEntry.objects.filter(action="membership.approved").get()
    assert entry.actor == world.pro and entry.data["user_id"] == stranger.pk
    assert entry.data["membership_id"] == membership.pk
    assert [m.to for m in mail.outbox] == [[stranger.email]]
    with translation.override("es"):
        assert translation.gettext("Approved") in mail.outbox[0].subject  # the requester reads Spanish
        assert translation.gettext("Reason:") in mail.outbox[0].body


def test_a_festival_admin_may_decide_for_any_organisation(world: World, stranger: User) -> None:
    request = _ask(stranger, world.producer_org)
    response = api_client(world.admin).post(
        f"/api/organisations/requests/{request.pk}/approve/", {}, format="json"
    )
    assert response.status_code == 200
    assert _membership(stranger, world.producer_org).role == MembershipRole.MEMBER


def test_outsiders_and_plain_members_get_404_the_requester_403(world: World, stranger: User) -> None:
    request = _ask(stranger, world.distributor_org)
    plain_member = world.pending  # an approved member of Cine Sur, not its administrator
    assert _membership(plain_member, world.distributor_org).role == MembershipRole.MEMBER
    for user in (plain_member, world.producer, world.other_producer):
        client = api_client(user)
        assert client.get(f"/api/organisations/requests/{request.pk}/").status_code == 404
        for action in ("approve", "reject", "withdraw"):
            response = client.post(
                f"/api/organisations/requests/{request.pk}/{action}/", {"reason": "x"}, format="json"
            )
            assert response.status_code == 404, (user, action)
        assert client.get(f"/api/organisations/{world.distributor_org.pk}/requests/").status_code in (
            403,
            404,
        )
        with pytest.raises(NotFound):
            memberships.membership_request_approve(actor=user, request=request)
    own = api_client(stranger)
    assert own.get(f"/api/organisations/requests/{request.pk}/").status_code == 200
    refused = own.post(f"/api/organisations/requests/{request.pk}/approve/", {}, format="json")
    assert refused.status_code == 403 and refused.json()["detail"]
    assert api_client(world.pro).post("/api/organisations/requests/999999/approve/").status_code == 404
    request.refresh_from_db()
    assert request.status == MembershipRequestStatus.PENDING
    assert not Membership.objects.filter(user=stranger).exists()
    assert "membership.approved" not in audit_actions()


def test_a_plain_member_sees_the_org_requests_as_403_and_an_outsider_as_404(
    world: World, stranger: User
) -> None:
    _ask(stranger, world.distributor_org)
    url = f"/api/organisations/{world.distributor_org.pk}/requests/"
    assert api_client(world.pending).get(url).status_code == 403
    assert api_client(world.producer).get(url).status_code == 404
    listed = api_client(world.pro).get(url)
    assert listed.status_code == 200
    assert [r["user_email"] for r in listed.json()["results"]] == [stranger.email]
    assert api_client(world.admin).get(url).status_code == 200


def test_an_admin_who_is_not_ready_is_refused(world: World, stranger: User) -> None:
    request = _ask(stranger, world.distributor_org)
    Membership.objects.filter(user=world.no_mfa, organisation=world.distributor_org).update(
        role=MembershipRole.ADMIN
    )
    with pytest.raises(Forbidden) as error:
        memberships.membership_request_approve(actor=world.no_mfa, request=request)
    assert error.value.code == "mfa_required"
    response = api_client(world.no_mfa).post(f"/api/organisations/requests/{request.pk}/approve/")
    assert response.status_code == 403
    assert not Membership.objects.filter(user=stranger).exists()


def test_reject_needs_a_reason_emails_it_and_is_final(
    world: World, stranger: User, django_capture_on_commit_callbacks: Any
) -> None:
    request = _ask(stranger, world.distributor_org)
    client = api_client(world.pro)
    missing = client.post(f"/api/organisations/requests/{request.pk}/reject/", {"reason": " "}, format="json")
    assert missing.status_code == 400 and "reason" in missing.json()
    with django_capture_on_commit_callbacks(execute=True):
        done = client.post(
            f"/api/organisations/requests/{request.pk}/reject/", {"reason": "Unknown to us"}, format="json"
        )
    assert done.status_code == 200 and done.json()["status"] == "rejected"
    assert "Unknown to us" in mail.outbox[-1].body and mail.outbox[-1].to == [stranger.email]
    entries = len(audit_actions())
    again = client.post(f"/api/organisations/requests/{request.pk}/approve/", {}, format="json")
    assert again.status_code == 409
    assert len(audit_actions()) == entries
    assert "membership.rejected" in audit_actions()
    assert not Membership.objects.filter(user=stranger).exists()


def test_the_requester_withdraws_and_may_ask_again(world: World, stranger: User) -> None:
    request = _ask(stranger, world.distributor_org)
    response = api_client(stranger).post(f"/api/organisations/requests/{request.pk}/withdraw/")
    assert response.status_code == 200 and response.json()["status"] == "withdrawn"
    assert api_client(world.pro).post(f"/api/organisations/requests/{request.pk}/approve/").status_code == 409
    assert "membership.withdrawn" in audit_actions()
    again = _ask(stranger, world.distributor_org)
    assert again.pk != request.pk and again.status == MembershipRequestStatus.PENDING


def test_an_approved_request_cannot_be_withdrawn(world: World, stranger: User) -> None:
    request = _ask(stranger, world.distributor_org)
    memberships.membership_request_approve(actor=world.pro, request=request)
    with pytest.raises(Conflict) as error:
        memberships.membership_request_withdraw(user=stranger, request=request)
    assert error.value.code == "illegal_transition"


def test_the_request_list_shows_each_person_what_they_may_see(world: World, stranger: User) -> None:
    mine = _ask(stranger, world.distributor_org)
    other = _ask(make_user("eve@elsewhere.example"), world.producer_org)

    def ids(user: User, query: str = "") -> list[int]:
        response = api_client(user).get(f"/api/organisations/requests/{query}")
        assert response.status_code == 200, response.content
        return sorted(r["id"] for r in response.json()["results"])

    assert ids(stranger) == [mine.pk]
    assert ids(world.pro) == [mine.pk]  # Cine Sur's administrator
    assert ids(world.producer) == [other.pk]  # Andes' administrator sees only Andes' requests
    assert ids(world.pending) == []  # a plain member of Cine Sur sees none
    assert ids(world.admin) == sorted([mine.pk, other.pk])
    assert ids(world.admin, f"?organisation={world.producer_org.pk}") == [other.pk]
    assert ids(world.admin, "?status=approved") == []


@pytest.mark.parametrize("query", ["?organisation=abc", "?status=bogus", "?organisation=-1"])
def test_bad_request_filters_are_400(world: World, query: str) -> None:
    response = api_client(world.admin).get(f"/api/organisations/requests/{query}")
    assert response.status_code == 400
    assert query[1:].split("=")[0] in response.json()


# --- members: list, remove, roles -------------------------------------------------------------------------


def test_members_are_listed_to_members_and_festival_admins_only(world: World, stranger: User) -> None:
    url = f"/api/organisations/{world.distributor_org.pk}/members/"
    listed = api_client(world.pending).get(url)
    assert listed.status_code == 200
    roles = {m["email"]: m["role"] for m in listed.json()["results"]}
    assert roles[world.pro.email] == "admin" and roles[world.pending.email] == "member"
    assert api_client(world.admin).get(url).status_code == 200
    assert api_client(stranger).get(url).status_code == 404
    assert api_client(world.producer).get(url).status_code == 404


def test_removal_is_audited_emailed_and_ends_the_accreditations_on_its_behalf(
    world: World, django_capture_on_commit_callbacks: Any
) -> None:
    org = world.distributor_org
    accreditation = Accreditation.objects.get(user=world.pending)
    with django_capture_on_commit_callbacks(execute=True):
        response = api_client(world.pro).post(
            f"/api/organisations/{org.pk}/members/{world.pending.pk}/remove/",
            {"reason": "Left the company"},
            format="json",
        )
    assert response.status_code == 204, response.content
    assert not Membership.objects.filter(user=world.pending, organisation=org).exists()
    entry = AuditEntry.objects.filter(action="membership.removed").get()
    assert entry.actor == world.pro and entry.data["user_id"] == world.pending.pk
    assert entry.data["reason"] == "Left the company"
    accreditation.refresh_from_db()
    assert accreditation.status == AccreditationStatus.WITHDRAWN
    assert mail.outbox[-1].to == [world.pending.email] and "Left the company" in mail.outbox[-1].body


def test_a_plain_member_cannot_remove_or_promote_an_outsider_gets_404(world: World, stranger: User) -> None:
    org = world.distributor_org
    base = f"/api/organisations/{org.pk}/members/"
    member = api_client(world.pending)
    assert member.post(f"{base}{world.pro.pk}/remove/", {}, format="json").status_code == 403
    assert member.post(f"{base}{world.pending.pk}/role/", {"role": "admin"}, format="json").status_code == 403
    with pytest.raises(Forbidden):
        memberships.membership_remove(actor=world.pending, membership=_membership(world.pro, org))
    outsider = api_client(world.producer)
    assert outsider.post(f"{base}{world.pending.pk}/remove/", {}, format="json").status_code == 404
    assert (
        outsider.post(f"{base}{world.pending.pk}/role/", {"role": "admin"}, format="json").status_code == 404
    )
    with pytest.raises(NotFound):
        memberships.membership_remove(actor=world.producer, membership=_membership(world.pending, org))
    assert api_client(world.pro).post(f"{base}{stranger.pk}/remove/", {}, format="json").status_code == 404
    assert _membership(world.pro, org).role == MembershipRole.ADMIN
    assert _membership(world.pending, org).role == MembershipRole.MEMBER
    assert "membership.removed" not in audit_actions() and "membership.role_changed" not in audit_actions()


def test_a_member_may_leave(world: World) -> None:
    org = world.distributor_org
    response = api_client(world.pending).post(
        f"/api/organisations/{org.pk}/members/{world.pending.pk}/remove/", {}, format="json"
    )
    assert response.status_code == 204
    assert not Membership.objects.filter(user=world.pending, organisation=org).exists()


def test_roles_change_through_admins_and_a_promoted_member_may_approve(world: World, stranger: User) -> None:
    org = world.distributor_org
    base = f"/api/organisations/{org.pk}/members/"
    bad = api_client(world.pro).post(f"{base}{world.pending.pk}/role/", {"role": "owner"}, format="json")
    assert bad.status_code == 400 and "role" in bad.json()
    promoted = api_client(world.pro).post(f"{base}{world.pending.pk}/role/", {"role": "admin"}, format="json")
    assert promoted.status_code == 200 and promoted.json()["role"] == "admin"
    entry = AuditEntry.objects.filter(action="membership.role_changed").get()
    assert entry.data["from"] == "member" and entry.data["to"] == "admin"
    request = _ask(stranger, org)
    memberships.membership_request_approve(actor=world.pending, request=request)
    assert Membership.objects.filter(user=stranger, organisation=org).exists()


def test_the_last_administrator_cannot_leave_members_without_one(world: World) -> None:
    org = world.distributor_org
    admin = _membership(world.pro, org)
    with pytest.raises(Conflict) as error:
        memberships.membership_remove(actor=world.pro, membership=admin)
    assert error.value.code == "last_admin"
    with pytest.raises(Conflict):
        memberships.membership_set_role(actor=world.admin, membership=admin, role=MembershipRole.MEMBER)
    memberships.membership_set_role(
        actor=world.pro, membership=_membership(world.pending, org), role=MembershipRole.ADMIN
    )
    memberships.membership_remove(actor=world.pro, membership=admin)  # another admin remains now
    assert not Membership.objects.filter(user=world.pro, organisation=org).exists()


def test_a_sole_member_may_leave_and_festival_admins_still_decide(world: World, stranger: User) -> None:
    org = make_org("Solo Films", "CL", "production")
    founder = make_user("founder@solo.example")
    Membership.objects.create(user=founder, organisation=org, role=MembershipRole.ADMIN)
    memberships.membership_remove(actor=founder, membership=_membership(founder, org))
    request = _ask(stranger, org)
    memberships.membership_request_approve(actor=world.admin, request=request, role=MembershipRole.ADMIN)
    assert _membership(stranger, org).role == MembershipRole.ADMIN


def test_festival_admins_grant_directly_and_it_is_audited(world: World, stranger: User) -> None:
    membership = memberships.membership_grant(
        actor=world.admin, organisation=world.producer_org, user=stranger, reason="Seen their papers"
    )
    assert membership.role == MembershipRole.MEMBER
    assert audit_actions()[-1] == "membership.granted"
    with pytest.raises(Forbidden):
        memberships.membership_grant(actor=world.pending, organisation=world.distributor_org, user=stranger)
    with pytest.raises(NotFound):
        memberships.membership_grant(actor=world.producer, organisation=world.distributor_org, user=stranger)
    with pytest.raises(InvalidInput):
        memberships.membership_set_role(
            actor=world.pro, membership=_membership(world.pending, world.distributor_org), role="boss"
        )


def test_creating_an_organisation_makes_its_creator_the_administrator(world: World) -> None:
    founder = make_user("founder@lumiere.example")
    response = api_client(founder).post(
        "/api/organisations/", {"name": "Lumière Sud", "country": "FR", "company_type": "distributor"}
    )
    assert response.status_code == 201, response.content
    membership = Membership.objects.get(user=founder)
    assert membership.role == MembershipRole.ADMIN
    me = api_client(founder).get("/api/me/").json()
    assert me["memberships"] == [{"organisation": membership.organisation_id, "role": "admin"}]


# --- pages --------------------------------------------------------------------------------------------------


def _post(client: Client, **data: Any) -> Any:
    return client.post(reverse("accounts:organisation"), data)


def test_the_organisation_page_lets_its_admin_approve_reject_and_remove(world: World, stranger: User) -> None:
    org = world.distributor_org
    request = _ask(stranger, org, "Hola")
    other = _ask(make_user("eve@elsewhere.example"), org)
    admin = logged_in_client(world.pro)
    page = admin.get(reverse("accounts:organisation") + f"?org={org.pk}").content.decode()
    assert stranger.email in page and f'data-request="{request.pk}"' in page
    assert _post(admin, action="approve", request=request.pk, reason="").status_code == 302
    assert Membership.objects.filter(user=stranger, organisation=org).exists()
    missing_reason = _post(admin, action="reject", request=other.pk, reason="")
    assert missing_reason.status_code == 400
    assert _post(admin, action="reject", request=other.pk, reason="No").status_code == 302
    assert MembershipRequest.objects.get(pk=other.pk).status == MembershipRequestStatus.REJECTED
    assert _post(admin, action="role", organisation=org.pk, user=stranger.pk, role="admin").status_code == 302
    assert _membership(stranger, org).role == MembershipRole.ADMIN
    assert (
        _post(admin, action="remove", organisation=org.pk, user=stranger.pk, reason="Bye").status_code == 302
    )
    assert not Membership.objects.filter(user=stranger, organisation=org).exists()


def test_the_organisation_page_refuses_plain_members_and_outsiders(world: World, stranger: User) -> None:
    org = world.distributor_org
    request = _ask(stranger, org)
    member = logged_in_client(world.pending)
    page = member.get(reverse("accounts:organisation") + f"?org={org.pk}")
    assert page.status_code == 200 and stranger.email not in page.content.decode()
    assert _post(member, action="approve", request=request.pk).status_code == 404
    assert _post(member, action="remove", organisation=org.pk, user=world.pro.pk).status_code == 403
    outsider = logged_in_client(world.producer)
    assert outsider.get(reverse("accounts:organisation") + f"?org={org.pk}").status_code == 404
    assert outsider.get(reverse("accounts:organisation") + "?org=abc").status_code == 400
    assert _post(outsider, action="approve", request=request.pk).status_code == 404
    assert (
        _post(outsider, action="role", organisation=org.pk, user=world.pending.pk, role="admin").status_code
        == 404
    )
    assert _post(outsider, action="nonsense").status_code == 400
    request.refresh_from_db()
    assert request.status == MembershipRequestStatus.PENDING
    assert _membership(world.pro, org).role == MembershipRole.ADMIN
    assert not Membership.objects.filter(user=stranger).exists()


def test_the_requester_withdraws_from_the_page(world: World, stranger: User) -> None:
    request = _ask(stranger, world.distributor_org)
    client = logged_in_client(stranger)
    assert _post(client, action="withdraw", request=request.pk).status_code == 302
    request.refresh_from_db()
    assert request.status == MembershipRequestStatus.WITHDRAWN


def test_the_staff_review_page_lists_and_decides_membership_requests(world: World, stranger: User) -> None:
    request = _ask(stranger, world.producer_org)
    staff = logged_in_client(world.admin)
    page = staff.get(reverse("accounts:review-queue")).content.decode()
    assert f'data-request="{request.pk}"' in page and html.escape(world.producer_org.name) in page
    assert _post(staff, action="approve", request=request.pk, reason="").status_code == 302
    assert Membership.objects.filter(user=stranger, organisation=world.producer_org).exists()


# --- Django admin: no way around the services --------------------------------------------------------------


def test_the_django_admin_cannot_add_or_delete_memberships_directly(world: World) -> None:
    inline = MembershipInline(Organisation, django_admin.site)
    request = type("R", (), {"user": world.admin})()
    assert not inline.has_add_permission(request, world.distributor_org)  # type: ignore[arg-type]
    assert not inline.has_delete_permission(request, world.distributor_org)  # type: ignore[arg-type]
    assert not inline.has_change_permission(request, world.distributor_org)  # type: ignore[arg-type]


# --- the data migration: the earliest member of each organisation becomes its administrator ---------------


def test_the_data_migration_makes_the_earliest_member_administrator(world: World) -> None:
    migration = importlib.import_module("accounts.migrations.0003_membership_roles_and_requests")
    org = make_org("Vieja Escuela", "UY", "distributor")
    first, second = make_user("first@vieja.example"), make_user("second@vieja.example")
    Membership.objects.create(user=first, organisation=org)
    Membership.objects.create(user=second, organisation=org)
    Membership.objects.filter(organisation__in=[org, world.distributor_org]).update(
        role=MembershipRole.MEMBER
    )
    migration.earliest_member_becomes_admin(django_apps, None)
    roles = dict(Membership.objects.filter(organisation=org).values_list("user__email", "role"))
    assert roles == {first.email: "admin", second.email: "member"}
    assert _membership(world.pro, world.distributor_org).role == MembershipRole.ADMIN


# --- accreditations' filters (issue 11, item 4) ----------------------------------------------------


@pytest.mark.parametrize(
    ("query", "field"), [("?session=abc", "session"), ("?status=bogus", "status"), ("?session=0", "session")]
)
def test_accreditation_filters_that_do_not_parse_are_400(world: World, query: str, field: str) -> None:
    response = api_client(world.admin).get(f"/api/accreditations/{query}")
    assert response.status_code == 400
    assert field in response.json()


def test_accreditation_filters_still_filter(world: World) -> None:
    client = api_client(world.admin)
    pending = client.get(f"/api/accreditations/?status=pending&session={world.toulouse.pk}").json()
    assert [a["user_email"] for a in pending["results"]] == [world.pending.email]
    assert client.get(f"/api/accreditations/?session={world.sansebastian.pk}").json()["results"] == []
