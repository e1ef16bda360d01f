"""Reads for agreements. Invariant 2: an agreement is visible to its two parties and to admins only."""

from __future__ import annotations

from django.db.models import Exists, OuterRef, QuerySet

from accounts.models import Membership, User
from accounts.policy import is_festival_admin
from festival.models import FilmTeamMember
from offers.models import Agreement


def agreements_visible_to(user: User) -> QuerySet[Agreement]:
    """Agreements of the user's organisations as offeror, agreements on films of the user's producer
    teams, or all of them for festival admins (the same parties as ``offers_visible_to``)."""
    agreements = Agreement.objects.select_related(
        "offer",
        "version",
        "film",
        "film__session",
        "offeror_organisation",
        "producer_organisation",
        "offeror_signatory",
        "producer_signatory",
        "watched_cut",
    )
    if is_festival_admin(user):
        return agreements
    offeror = Exists(Membership.objects.filter(organisation=OuterRef("offeror_organisation"), user=user))
    producer = Exists(FilmTeamMember.objects.filter(film=OuterRef("film"), user=user))
    return agreements.filter(offeror | producer)
