"""Writes for offers: drafting, submitting, withdrawing, expiring, and the producers' offer policy. Each is
one transaction with its audit entry; a status moves only along ``OFFER_MACHINE`` (``offer_transition``)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from types import EllipsisType
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Organisation, User
from audit.services import audit_record
from audit.transitions import transition
from core.errors import Conflict, Forbidden, InvalidInput, NotFound
from festival.models import Film
from festival.policy import film_team_organisation, require_film_manager
from offers.models import OFFER_MACHINE, Offer, OfferPolicy, OfferStatus, OfferVersion, Side
from offers.parties import acting_organisation, party_flags, require_may_offer
from offers.selectors.offers import required_watched_share_bp, watched_share_bp
from offers.services.thread import append_event
from offers.terms import Terms, TermsInvalid, parse_terms, terms_hash, terms_to_json

S = OfferStatus


class OfferTermsInvalid(InvalidInput):
    """Terms that fail their schema; ``errors`` lists each field path and message."""

    def __init__(self, invalid: TermsInvalid) -> None:
        first = invalid.errors[0] if invalid.errors else {"field": "", "message": str(invalid)}
        super().__init__(first["message"], field=f"terms.{first['field']}".rstrip("."))
        self.errors = invalid.errors


def parse_terms_input(*, terms_data: Mapping[str, Any]) -> tuple[Terms, dict[str, Any], str]:
    """Terms a person sent: parsed, as stored (JSON) and hashed; ``OfferTermsInvalid`` when they fail."""
    try:
        terms = parse_terms(terms_data)
    except TermsInvalid as invalid:
        raise OfferTermsInvalid(invalid) from invalid
    return terms, terms_to_json(terms), terms_hash(terms)


def offer_transition(
    *,
    offer: Offer,
    to: str,
    actor: User | None,
    side: str = "",
    version: OfferVersion | None = None,
    body: str = "",
    **fields: Any,
) -> Offer:
    """Move ``offer`` to ``to`` along ``OFFER_MACHINE`` (``audit.transitions``: locked, re-read, refused
    with a Conflict when illegal, audited as ``offer.<to>`` for the organisation ``actor`` acted for on
    ``side``); the caller holds the transaction. Once an offer has been submitted, each move is also an
    event of its negotiation thread."""
    moved = transition(
        offer,
        machine=OFFER_MACHINE,
        to=to,
        actor=actor,
        organisation=acting_organisation(offer=offer, user=actor, side=side),
        data={"film_id": offer.film_id},
        **fields,
    )
    if moved.previous != S.DRAFT or to == S.SUBMITTED:
        append_event(offer=moved.row, kind=to, author=actor, side=side, body=body, version=version)
    return moved.row


def _check_expiry(expires_on: dt.date) -> None:
    if expires_on <= timezone.now().date():
        raise InvalidInput(_("The expiry date must be in the future."), field="expires_on")


def offer_create(
    *,
    user: User,
    film: Film,
    organisation: Organisation,
    terms_data: Mapping[str, Any],
    expires_on: dt.date | None = None,
) -> Offer:
    """A draft offer with its first version of terms."""
    require_may_offer(user=user, film=film, organisation=organisation)
    terms, stored, digest = parse_terms_input(terms_data=terms_data)
    if expires_on is not None:
        _check_expiry(expires_on)
    with transaction.atomic():
        offer = Offer.objects.create(
            film=film, organisation=organisation, created_by=user, kind=terms.kind, expires_on=expires_on
        )
        OfferVersion.objects.create(
            offer=offer,
            number=1,
            author=user,
            schema_version=terms.schema_version,
            terms=stored,
            terms_hash=digest,
        )
        audit_record(
            action="offer.drafted",
            actor=user,
            organisation=organisation,
            target=offer,
            data={"film_id": film.pk, "kind": terms.kind, "terms_hash": digest},
        )
    return offer


def offer_update_draft(
    *,
    user: User,
    offer: Offer,
    terms_data: Mapping[str, Any],
    expires_on: dt.date | None | EllipsisType = ...,
) -> Offer:
    """Rewrite a draft's terms (its version 1) and, when given, its expiry date (None: no expiry; the
    default ``...`` keeps it). The kind cannot change."""
    require_may_offer(user=user, film=offer.film, organisation=offer.organisation)
    terms, stored, digest = parse_terms_input(terms_data=terms_data)
    if terms.kind != offer.kind:
        raise InvalidInput(_("A draft keeps its offer type; start a new offer instead."), field="terms.kind")
    if isinstance(expires_on, dt.date):
        _check_expiry(expires_on)
    with transaction.atomic():
        locked = Offer.objects.select_for_update().get(pk=offer.pk)
        if locked.status != OfferStatus.DRAFT:
            raise Conflict(
                _("Only a draft can be edited; submitted terms change by counter-offer."), code="not_draft"
            )
        OfferVersion.objects.filter(offer=locked, number=1).update(
            terms=stored, terms_hash=digest, schema_version=terms.schema_version, author=user
        )
        if not isinstance(expires_on, EllipsisType):
            locked.expires_on = expires_on
            locked.save(update_fields=["expires_on", "updated_at"])
        audit_record(
            action="offer.draft_updated",
            actor=user,
            organisation=locked.organisation,
            target=locked,
            data={"terms_hash": digest},
        )
    return locked


def offer_submit(*, user: User, offer: Offer) -> Offer:
    """Send the draft to the producers, recording which cut the offeror watched and how much of it."""
    require_may_offer(user=user, film=offer.film, organisation=offer.organisation)
    if offer.expires_on is not None and offer.expires_on <= timezone.now().date():
        raise InvalidInput(_("The expiry date has passed: set a new one."), field="expires_on")
    cut, share = watched_share_bp(user=user, film=offer.film)
    required = required_watched_share_bp(film=offer.film)
    if required and share < required:
        raise Forbidden(
            _(
                "The producers ask offerors to watch at least %(required)s%% of the screener first "
                "(you have watched %(share)s%%)."
            )
            % {"required": required // 100, "share": share // 100},
            code="screener_not_watched",
        )
    with transaction.atomic():
        return offer_transition(
            offer=offer,
            to=S.SUBMITTED,
            actor=user,
            submitted_at=timezone.now(),
            watched_cut=cut,
            watched_share_bp=share,
            side=Side.OFFEROR,
            version=offer.versions.get(number=1),
        )


def offer_withdraw(*, user: User, offer: Offer, reason: str = "") -> Offer:
    """The offeror's side takes its offer back, draft or submitted."""
    _producer, offeror = party_flags(user, offer)
    if not offeror:
        raise NotFound(_("No such offer."))
    with transaction.atomic():
        return offer_transition(offer=offer, to=S.WITHDRAWN, actor=user, side=Side.OFFEROR, body=reason)


def offer_policy_set(*, user: User, film: Film, min_watched_share_bp: int) -> OfferPolicy:
    """The film's producer team (or an admin) sets how much of the screener offerors must have watched."""
    require_film_manager(user, film)
    if not 0 <= min_watched_share_bp <= 10_000:
        raise InvalidInput(
            _("Give a share between 0 and 10000 basis points (0 to 100 %)."), field="min_watched_share_bp"
        )
    with transaction.atomic():
        policy, _created = OfferPolicy.objects.select_for_update().get_or_create(film=film)
        before = policy.min_watched_share_bp
        policy.min_watched_share_bp = min_watched_share_bp
        policy.save()
        audit_record(
            action="film.offer_policy_changed",
            actor=user,
            organisation=film_team_organisation(film_id=film.pk, user_id=user.pk),  # None for an admin
            target=film,
            data={"min_watched_share_bp": {"from": before, "to": min_watched_share_bp}},
        )
    return policy


def offers_expire(*, today: dt.date | None = None) -> int:
    """Expire submitted offers whose expiry date has passed; the system acts, each in its own transaction."""
    today = today or timezone.now().date()
    due = Offer.objects.filter(status=S.SUBMITTED, expires_on__lt=today).values_list("pk", flat=True)
    count = 0
    for offer_id in due:
        with transaction.atomic():
            offer = Offer.objects.select_for_update().get(pk=offer_id)
            if offer.status == S.SUBMITTED:  # re-checked under the lock: a withdrawal may have won
                offer_transition(offer=offer, to=S.EXPIRED, actor=None)
                count += 1
    return count
