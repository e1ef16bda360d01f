"""Reads for offers. Invariant 2: an offer is visible to its two parties and to admins, to nobody else."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from accounts.models import User
from accounts.policy import is_festival_admin
from offers.models import Offer


def offers_visible_to(*, user: User) -> QuerySet[Offer]:
    """Offers made by the user's organisations, offers to films of the user's producer teams, or all for
    admins. Drafts are the offeror's alone."""
    offers = Offer.objects.select_related("film", "organisation").prefetch_related("versions")
    if is_festival_admin(user):
        return offers.exclude(status="draft")
    offeror = Q(organisation__memberships__user=user)
    producer = Q(film__team_members__user=user) & ~Q(status="draft")
    return offers.filter(offeror | producer).distinct()
