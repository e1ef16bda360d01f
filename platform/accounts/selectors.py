"""Reads for organisations, their members, requests to join and accreditations."""

from __future__ import annotations

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils.translation import gettext as _

from accounts.models import Accreditation, Membership, MembershipRequest, MembershipRole, User
from accounts.policy import is_festival_admin
from core.errors import NotFound


def members_of(*, organisation_id: int) -> QuerySet[Membership]:
    """An organisation's approved members, administrators first."""
    return (
        Membership.objects.filter(organisation_id=organisation_id)
        .select_related("user")
        .order_by("role", "joined_at", "pk")
    )


def membership_requests_visible_to(
    *, user: User, organisation_id: int | None = None, status: str | None = None
) -> QuerySet[MembershipRequest]:
    """Requests ``user`` may know of: their own, those to organisations they administer, and every one for
    festival admins. Newest first."""
    requests = MembershipRequest.objects.select_related("user", "organisation")
    if not is_festival_admin(user):
        administers = Membership.objects.filter(
            user=user, organisation=OuterRef("organisation"), role=MembershipRole.ADMIN
        )
        requests = requests.filter(Q(user=user) | Q(Exists(administers)))
    if organisation_id is not None:
        requests = requests.filter(organisation_id=organisation_id)
    if status is not None:
        requests = requests.filter(status=status)
    return requests


def membership_request_visible(*, user: User, request_id: int) -> MembershipRequest:
    """The request if ``user`` may know of it (``membership_requests_visible_to``); NotFound otherwise, the
    same as for a request that does not exist."""
    request = membership_requests_visible_to(user=user).filter(pk=request_id).first()
    if request is None:
        raise NotFound(_("No such request."))
    return request


def accreditations_of(*, user: User) -> QuerySet[Accreditation]:
    """``user``'s own applications and accreditations, newest first."""
    return Accreditation.objects.filter(user=user).select_related("user", "session", "organisation")


def accreditations_visible_to(
    *, user: User, status: str | None = None, session_id: int | None = None
) -> QuerySet[Accreditation]:
    """A person's own accreditations; festival admins see everyone's. Newest first."""
    if is_festival_admin(user):
        accreditations = Accreditation.objects.select_related("user", "session", "organisation")
    else:
        accreditations = accreditations_of(user=user)
    if status is not None:
        accreditations = accreditations.filter(status=status)
    if session_id is not None:
        accreditations = accreditations.filter(session_id=session_id)
    return accreditations
