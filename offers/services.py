"""Writes for offers: drafts, submission, withdrawal. Each is one transaction with its audit entry."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from types import EllipsisType
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Accreditation, AccreditationStatus, Membership, Organisation, User
from accounts.policy import require_ready
from audit.services import audit_record
from core.errors import Conflict, Forbidden, InvalidInput, NotFound
from core.state_machine import move_state
from festival.models import Film
from offers.models import Offer, OfferPolicy, OfferStatus, OfferVersion, Side
from offers.terms import TermsInvalid, parse_terms, terms_hash, terms_to_json
from offers.thread import append_event
from screening.models import PlaybackGrant
from screening.selectors import current_cut
from screening.services import require_team

S = OfferStatus
OFFER_TRANSITIONS: Mapping[str, frozenset[str]] = {
    S.DRAFT: frozenset({S.SUBMITTED, S.WITHDRAWN}),
    S.SUBMITTED: frozenset({S.ACCEPTED, S.DECLINED, S.WITHDRAWN, S.EXPIRED}),
    S.ACCEPTED: frozenset(),
    S.DECLINED: frozenset(),
    S.WITHDRAWN: frozenset(),
    S.EXPIRED: frozenset(),
}


class OfferTermsInvalid(InvalidInput):
    """Terms that fail their schema; ``errors`` lists each field path and message."""

    def __init__(self, invalid: TermsInvalid) -> None:
        first = invalid.errors[0] if invalid.errors else {"field": "", "message": str(invalid)}
        super().__init__(first["message"], field=f"terms.{first['field']}".rstrip("."))
        self.errors = invalid.errors


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
    """Move ``offer`` to ``to`` from its locked, re-read state; the only place its status changes.

    Once an offer has been submitted, each move is also an event of its negotiation thread.
    """
    locked, previous = move_state(
        offer,
        to=to,
        transitions=OFFER_TRANSITIONS,
        refusal=_("This offer is %(status)s and cannot become %(target)s."),
        **fields,
    )
    audit_record(
        action=f"offer.{to}",
        actor=actor,
        organisation=locked.organisation,
        target=locked,
        data={"from": previous, "to": to, "film_id": locked.film_id},
    )
    if previous != S.DRAFT or to == S.SUBMITTED:
        append_event(locked, kind=to, author=actor, side=side, body=body, version=version)
    return locked


def _admitted_offeror(user: User, film: Film, organisation: Organisation) -> None:
    """A ready account, accredited to the film's session on behalf of ``organisation``."""
    require_ready(user)
    if (
        film.session is None
        or not Accreditation.objects.filter(
            user=user, session=film.session, status=AccreditationStatus.APPROVED
        ).exists()
    ):
        raise NotFound(_("No such film."))
    if not Membership.objects.filter(user=user, organisation=organisation).exists():
        raise InvalidInput(
            _("You can only make offers on behalf of an organisation you belong to."), field="organisation"
        )
    if film.team_members.filter(user=user).exists():
        raise InvalidInput(
            _("You are on this film's producer team: you cannot make it an offer."), field="film"
        )


def _check_expiry(expires_on: dt.date) -> None:
    if expires_on <= timezone.now().date():
        raise InvalidInput(_("The expiry date must be in the future."), field="expires_on")


def _parse(terms_data: Mapping[str, Any]) -> tuple[Any, dict[str, Any], str]:
    try:
        terms = parse_terms(terms_data)
    except TermsInvalid as invalid:
        raise OfferTermsInvalid(invalid) from invalid
    return terms, terms_to_json(terms), terms_hash(terms)


def offer_create(
    *,
    user: User,
    film: Film,
    organisation: Organisation,
    terms_data: Mapping[str, Any],
    expires_on: dt.date | None = None,
) -> Offer:
    """A draft offer with its first version of terms."""
    _admitted_offeror(user, film, organisation)
    terms, stored, digest = _parse(terms_data)
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
    _admitted_offeror(user, offer.film, offer.organisation)
    terms, stored, digest = _parse(terms_data)
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


def watched_share_bp(*, user: User, film: Film) -> tuple[Any, int]:
    """The film's current cut and the share of it ``user`` has watched, in basis points."""
    cut = current_cut(film=film)
    if cut is None or not cut.segment_count:
        return cut, 0
    watched: set[int] = set()
    for segments in PlaybackGrant.objects.filter(viewer=user, cut=cut).values_list(
        "watched_segments", flat=True
    ):
        watched.update(segments)
    return cut, min(10_000, len(watched) * 10_000 // cut.segment_count)


def offer_submit(*, user: User, offer: Offer) -> Offer:
    """Send the draft to the producers, recording which cut the offeror watched and how much of it."""
    _admitted_offeror(user, offer.film, offer.organisation)
    if offer.expires_on is not None and offer.expires_on <= timezone.now().date():
        raise InvalidInput(_("The expiry date has passed: set a new one."), field="expires_on")
    cut, share = watched_share_bp(user=user, film=offer.film)
    required = (
        OfferPolicy.objects.filter(film=offer.film).values_list("min_watched_share_bp", flat=True).first()
    )
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
    if not Membership.objects.filter(user=user, organisation=offer.organisation).exists():
        raise NotFound(_("No such offer."))
    with transaction.atomic():
        return offer_transition(offer=offer, to=S.WITHDRAWN, actor=user, side=Side.OFFEROR, body=reason)


def offer_policy_set(*, user: User, film: Film, min_watched_share_bp: int) -> OfferPolicy:
    """The film's producer team (or an admin) sets how much of the screener offerors must have watched."""
    require_team(user, film)
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
