"""The negotiation thread page: the offer, its current terms, and the live thread (offers-thread.js)."""

from __future__ import annotations

import uuid
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from accounts.decorators import ready_required
from accounts.permissions import acting_user
from core.errors import NotFound
from festival.policy import film_team_user_ids
from offers.models import Agreement, OfferStatus, OfferVersion, Side
from offers.parties import ADMIN, party_users, thread_side
from offers.selectors.offers import offers_visible_to, terms_organisation_names
from offers.terms import parse_terms, render_terms


@ready_required
def offer_thread(request: HttpRequest, pk: int) -> HttpResponse:
    user = acting_user(request)
    offer = offers_visible_to(user=user).filter(pk=pk).first()
    if offer is None:
        raise Http404(_("No such offer."))
    try:
        side = thread_side(user, offer)
    except NotFound as error:
        raise Http404(error.message) from error
    if offer.status == OfferStatus.DRAFT:
        return redirect("offers:edit", pk=offer.pk)
    latest: OfferVersion = offer.versions.order_by("-number").first()  # type: ignore[assignment]
    agreement = Agreement.objects.filter(offer=offer).first()
    terms = parse_terms(latest.terms)
    producers = film_team_user_ids(offer.film_id)
    parties = [
        {"id": p.pk, "name": p.display_name, "side": Side.PRODUCER if p.pk in producers else Side.OFFEROR}
        for p in party_users(offer)
    ]
    config: dict[str, Any] = {
        "offer": offer.pk,
        "kind": offer.kind,
        "status": offer.status,
        "socket": f"/ws/offers/{offer.pk}/",
        "me": {"id": user.pk, "side": side},
        "parties": parties,
        "schemaUrl": reverse("offers:terms-schema", args=[offer.kind]),
        "organisations": [{"id": offer.organisation_id, "name": offer.organisation.name}],
        "agreement": reverse("offers:agreement-memo", args=[agreement.public_id]) if agreement else None,
        "memoUrl": reverse("offers:agreement-memo", args=[uuid.UUID(int=0)]),
    }
    return render(
        request,
        "offers/thread.html",
        {
            "offer": offer,
            "film": offer.film,
            "side": side,
            "read_only": side == ADMIN,
            "latest": latest,
            "latest_lines": render_terms(
                terms, get_language() or "en", organisation_names=terms_organisation_names(terms)
            ),
            "agreement": agreement,
            "config": config,
        },
    )
