"""Reads for agreements. Invariant 2 (docs/architecture.md): an agreement is visible to the parties of its
offer and to admins only (``offers.parties``)."""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser
from django.db.models import QuerySet

from accounts.models import User
from offers.models import Agreement
from offers.parties import visible_q


def agreements_visible_to(*, user: User | AnonymousUser) -> QuerySet[Agreement]:
    """Agreements on offers ``user`` is a party to, or all of them for festival admins: the same parties
    as ``offers_visible_to``, by the same rule."""
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
    return agreements.filter(visible_q(user, path="offer__"))
