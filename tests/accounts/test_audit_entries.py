"""Every audit entry of accounts names who acted, for which organisation they acted, and from where.

The organisation is the one the *actor* acted for: an applicant for the organisation they apply on behalf
of, an organisation's administrator for that organisation, a member who leaves for the one they leave.
Festival admins act for the festival, which is no organisation: their entries name none (the organisation
concerned is in the entry's data). A person asking to join acts for no organisation yet.
"""

from __future__ import annotations

import pytest
from django.urls import reverse

from accounts.models import (
    ACCREDITATION_MACHINE,
    MEMBERSHIP_REQUEST_MACHINE,
    Accreditation,
    AccreditationStatus,
    MembershipRequest,
    MembershipRequestStatus,
)
from accounts.services import accreditations, memberships
from audit.actions import ACTIONS
from audit.models import AuditEntry
from tests.conftest import World, api_client, logged_in_client, make_user

pytestmark = pytest.mark.django_db

IP = "203.0.113.7"


def _last(action: str) -> AuditEntry:
    return AuditEntry.objects.filter(action=action).latest("seq")


def test_both_machines_have_a_row_for_every_state_and_name_each_move_from_the_catalogue() -> None:
    for machine, states in (
        (ACCREDITATION_MACHINE, AccreditationStatus.values),
        (MEMBERSHIP_REQUEST_MACHINE, MembershipRequestStatus.values),
    ):
        assert set(machine.transitions) == set(states)
        targets = set().union(*machine.transitions.values())
        assert {f"{machine.subject}.{state}" for state in targets} <= ACTIONS


def test_an_applicant_acts_for_their_organisation_and_the_admin_for_the_festival(world: World) -> None:
    payload = {
        "session": world.sansebastian.pk,
        "organisation": world.distributor_org.pk,
        "category": "distributor",
        "accept_terms": True,
    }
    response = api_client(world.pro).post("/api/accreditations/", payload, format="json", REMOTE_ADDR=IP)
    assert response.status_code == 201, response.content
    applied = _last("accreditation.applied")
    assert (applied.actor, applied.organisation, applied.ip) == (world.pro, world.distributor_org, IP)

    accreditation_id = response.json()["id"]
    approve = f"/api/accreditations/{accreditation_id}/approve/"
    assert api_client(world.admin).post(approve, {}, format="json", REMOTE_ADDR=IP).status_code == 200
    approved = _last("accreditation.approved")
    assert (approved.actor, approved.organisation, approved.ip) == (world.admin, None, IP)
    assert approved.data["organisation_id"] == world.distributor_org.pk
    assert approved.data["from"] == "pending" and approved.data["to"] == "approved"

    withdraw = f"/api/accreditations/{accreditation_id}/withdraw/"
    assert api_client(world.pro).post(withdraw, REMOTE_ADDR=IP).status_code == 200
    withdrawn = _last("accreditation.withdrawn")
    assert (withdrawn.actor, withdrawn.organisation, withdrawn.ip) == (world.pro, world.distributor_org, IP)


def test_a_decision_on_the_staff_page_is_recorded_from_the_admins_address(world: World) -> None:
    accreditation = Accreditation.objects.get(user=world.pending)
    client = logged_in_client(world.admin)
    url = reverse("accounts:review-decide", args=[accreditation.pk, "reject"])
    assert client.post(url, {"reason": "Not a buyer"}, REMOTE_ADDR=IP).status_code == 302
    entry = _last("accreditation.rejected")
    assert (entry.actor, entry.organisation, entry.ip) == (world.admin, None, IP)
    accreditation.refresh_from_db()
    assert (accreditation.decided_by, accreditation.decision_reason) == (world.admin, "Not a buyer")


def test_asking_to_join_is_for_no_organisation_deciding_is_for_the_one_administered(world: World) -> None:
    stranger = make_user("sam@elsewhere.example")
    org = world.distributor_org
    asked = api_client(stranger).post(
        f"/api/organisations/{org.pk}/requests/", {}, format="json", REMOTE_ADDR=IP
    )
    assert asked.status_code == 201, asked.content
    requested = _last("membership.requested")
    assert (requested.actor, requested.organisation, requested.ip) == (stranger, None, IP)
    assert requested.data["organisation_id"] == org.pk

    approve = f"/api/organisations/requests/{asked.json()['id']}/approve/"
    assert api_client(world.pro).post(approve, {}, format="json", REMOTE_ADDR=IP).status_code == 200
    approved = _last("membership.approved")
    assert (approved.actor, approved.organisation, approved.ip) == (world.pro, org, IP)


def test_a_festival_admin_deciding_on_members_acts_for_the_festival(world: World) -> None:
    stranger = make_user("sam@elsewhere.example")
    request = memberships.membership_request_create(user=stranger, organisation=world.producer_org)
    memberships.membership_request_reject(actor=world.admin, request=request, reason="Unknown to us")
    rejected = _last("membership.rejected")
    assert (rejected.actor, rejected.organisation) == (world.admin, None)
    assert rejected.data["organisation_id"] == world.producer_org.pk
    assert request.status == MembershipRequestStatus.REJECTED  # the caller's instance shows the move
    assert MembershipRequest.objects.get(pk=request.pk).decided_by == world.admin

    memberships.membership_grant(actor=world.admin, organisation=world.producer_org, user=stranger)
    granted = _last("membership.granted")
    assert (granted.actor, granted.organisation) == (world.admin, None)


def test_leaving_is_for_the_organisation_left_and_so_are_the_accreditations_it_withdraws(
    world: World,
) -> None:
    org = world.distributor_org
    leave = f"/api/organisations/{org.pk}/members/{world.pending.pk}/remove/"
    assert api_client(world.pending).post(leave, {}, format="json", REMOTE_ADDR=IP).status_code == 204
    removed = _last("membership.removed")
    assert (removed.actor, removed.organisation, removed.ip) == (world.pending, org, IP)
    assert removed.data["left"] is True
    withdrawn = _last("accreditation.withdrawn")
    assert (withdrawn.actor, withdrawn.organisation, withdrawn.ip) == (world.pending, org, IP)
    assert withdrawn.data["reason"] == f"No longer a member of {org.name}."


def test_an_administrator_removing_a_member_acts_for_the_organisation(world: World) -> None:
    org = world.distributor_org
    membership = org.memberships.get(user=world.pending)
    memberships.membership_remove(actor=world.pro, membership=membership, reason="Left the company")
    assert (_last("membership.removed").organisation, _last("accreditation.withdrawn").organisation) == (
        org,
        org,
    )
    assert Accreditation.objects.get(user=world.pending).status == AccreditationStatus.WITHDRAWN


def test_the_caller_s_accreditation_shows_the_move(world: World) -> None:
    accreditation = Accreditation.objects.get(user=world.pending)
    accreditations.accreditation_approve(accreditation=accreditation, admin=world.admin, notify=False)
    assert accreditation.status == AccreditationStatus.APPROVED and accreditation.decided_by == world.admin
