"""Reads for organisations and their members."""

from __future__ import annotations

from django.db.models import Exists, OuterRef, Q, QuerySet

from accounts.models import Membership, MembershipRequest, MembershipRole, User
from accounts.policy import is_festival_admin


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


def members_of(*, organisation_id: int) -> QuerySet[Membership]:
    """An organisation's approved members, administrators first."""
    return (
        Membership.objects.filter(organisation_id=organisation_id)
        .select_related("user")
        .order_by("role", "joined_at", "pk")
    )
