"""The demo's offers: every type, in every state, and one negotiation under way (``make run``).

Everything goes through the services, as a user would do it, so the demo's threads, versions,
agreements and audit trail are the real thing. Idempotent: nothing happens once demo offers exist.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.utils import timezone

from accounts.models import Organisation, User
from festival.models import Film
from offers.models import Offer, OfferVersion
from offers.services import negotiation
from offers.services import offers as services

Terms = dict[str, Any]


def _year() -> int:
    return timezone.now().year + 1


def distribution_terms(mg_minor: int = 1_800_000) -> Terms:
    year = _year()
    return {
        "kind": "distribution",
        "schema_version": 1,
        "territories": {"include": ["FR", "BE", "CH", "LU"]},
        "media": ["theatrical", "svod", "tvod"],
        "exclusive": True,
        "term": {"start": f"{year}-03-01", "years": 7},
        "minimum_guarantee": {"amount_minor": mg_minor, "currency": "EUR"},
        "payment_schedule": [
            {"share_bp": 5000, "trigger": "on_signature"},
            {"share_bp": 5000, "trigger": "on_date", "date": f"{year}-09-01"},
        ],
        "distributor_share_bp": 5000,
        "distribution_fee_bp": 1500,
        "holdbacks": [{"media": "svod", "days": 120}],
        "release": {"min_screens": 30, "window": {"start": f"{year}-09-01", "end": f"{year}-12-31"}},
        "minimum_pa_spend": {"amount_minor": 2_500_000, "currency": "EUR"},
    }


def post_production_terms(provider: Organisation) -> Terms:
    year = _year()
    return {
        "kind": "post_production",
        "schema_version": 1,
        "provider_organisation_id": provider.pk,
        "service_lines": [
            {
                "category": "colour_grading",
                "quantity": 10,
                "unit": "day",
                "value": {"amount_minor": 1_200_000, "currency": "EUR"},
            },
            {
                "category": "sound_mix_51",
                "quantity": 8,
                "unit": "day",
                "value": {"amount_minor": 960_000, "currency": "EUR"},
            },
            {
                "category": "subtitling",
                "quantity": 1,
                "unit": "lump_sum",
                "value": {"amount_minor": 150_000, "currency": "EUR"},
                "languages": ["fr", "en"],
            },
        ],
        "facility": {"country": str(provider.country), "city": "Toulouse"},
        "time_window": {"start": f"{year}-01-11", "end": f"{year}-02-26"},
        "deliverables": ["DCP 2K", "ProRes 4444 master", "5.1 stems"],
        "consideration": {"credit": True, "logo": True},
        "signature_deadline": f"{year}-01-04",
    }


def completion_fund_terms(amount_minor: int = 3_500_000) -> Terms:
    year = _year()
    return {
        "kind": "completion_fund",
        "schema_version": 1,
        "amount": {"amount_minor": amount_minor, "currency": "EUR"},
        "tranches": [
            {"share_bp": 7000, "trigger": "on_signature"},
            {
                "share_bp": 3000,
                "trigger": "on_delivery",
                "description": "delivery of the DCP and cost report",
            },
        ],
        "conditions": ["World premiere at an international festival"],
        "recoupment_position": "pari_passu",
        "credit_obligations": "Fund logo in the opening credits",
        "report_deadlines": [f"{year}-06-30"],
    }


def sales_terms() -> Terms:
    return {
        "kind": "sales",
        "schema_version": 1,
        "territories": {"include": ["WORLDWIDE"], "exclude": ["AR", "UY"]},
        "commission_bp": 2000,
        "expenses_cap": {"amount_minor": 3_000_000, "currency": "USD"},
        "term_years": 12,
        "minimum_guarantee": {"amount_minor": 4_000_000, "currency": "USD"},
        "minimum_prices": [],
    }


def _person(email: str) -> User:
    return User.objects.get(email=email)


def _org(user: User) -> Organisation:
    return user.organisations.order_by("pk").first()  # type: ignore[return-value]


def _film(title: str) -> Film:
    return Film.objects.get(title=title)


def demo_offer(
    email: str, title: str, terms: Terms, *, submit: bool = True, expires_on: dt.date | None = None
) -> Offer:
    user = _person(email)
    offer = services.offer_create(
        user=user, film=_film(title), organisation=_org(user), terms_data=terms, expires_on=expires_on
    )
    return services.offer_submit(user=user, offer=offer) if submit else offer


def _latest(offer: Offer) -> OfferVersion:
    return offer.versions.order_by("-number").first()  # type: ignore[return-value]


def seed_demo_offers() -> int:
    """Create the demo's offers; returns how many (0 when they exist already)."""
    if Offer.objects.exists():
        return 0
    juliana, martin = _person("juliana.ospina@demo.example"), _person("martin.ferres@demo.example")
    with transaction.atomic():
        # The live negotiation: a distribution offer, countered by the producers, under discussion
        live = demo_offer("camille.rouviere@demo.example", "Keep Your Guard Up", distribution_terms())
        camille = _person("camille.rouviere@demo.example")
        negotiation.thread_message(
            user=juliana,
            offer=live,
            body="Merci Camille ! Nous aimerions un minimum garanti plus proche de 25 000 €, "
            "vu le potentiel en salles.",
        )
        negotiation.thread_counter(
            user=juliana,
            offer=live,
            base_version=1,
            terms_data=distribution_terms(2_500_000),
            body="Notre contre-proposition : MG de 25 000 €, le reste inchangé.",
        )
        negotiation.thread_message(
            user=camille, offer=live, body="Je regarde avec notre équipe et je reviens vers vous demain."
        )

        # Accepted: post-production services in kind, with its agreement and deal memo
        mathieu = _person("mathieu.delcasse@demo.example")
        post = demo_offer(mathieu.email, "Keep Your Guard Up", post_production_terms(_org(mathieu)))
        negotiation.thread_message(user=juliana, offer=post, body="¡Perfecto, gracias! Aceptamos.")
        negotiation.thread_accept(user=juliana, offer=post, version=1, terms_hash=_latest(post).terms_hash)

        # Submitted, awaiting the producers: a completion fund
        demo_offer("sanne.verhoeven@demo.example", "The Heart of the Water", completion_fund_terms())

        # Declined: a sales offer
        sales = demo_offer("jonas.breitner@demo.example", "Rooms for Rent", sales_terms())
        negotiation.thread_decline(
            user=martin,
            offer=sales,
            reason="Ya tenemos un acuerdo de ventas en curso para estos territorios.",
        )

        # Withdrawn: a distribution offer
        irene = _person("irene.salvatierra@demo.example")
        withdrawn = demo_offer(irene.email, "The Heart of the Water", distribution_terms(1_200_000))
        services.offer_withdraw(user=irene, offer=withdrawn, reason="Nuestro calendario de estrenos cambió.")

        # A draft, still private to its author
        ane = _person("ane.etxeberria@demo.example")
        demo_offer(ane.email, "Rooms for Rent", post_production_terms(_org(ane)), submit=False)

        # Expired: a completion fund whose offeror set a deadline that has passed
        tomorrow = timezone.now().date() + dt.timedelta(days=1)
        demo_offer(
            "sanne.verhoeven@demo.example",
            "The Belly of the Mountain",
            completion_fund_terms(2_000_000),
            expires_on=tomorrow,
        )
        services.offers_expire(today=tomorrow + dt.timedelta(days=1))
    return Offer.objects.count()
