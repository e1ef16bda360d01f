"""Writes in a negotiation thread: messages, counter-offers, acceptance (which records the agreement),
decline and read receipts.

Each write locks the offer's row first, so two parties racing for one thread are served one after the
other: the second counter names a base version that is no longer the latest, the second acceptance
finds the thread closed, and each gets a clear Conflict. The event is numbered and written before it is
broadcast (``offers.services.thread.append_event``). Every audit entry names the organisation the
actor acted for: the offering organisation for the offeror's side, the actor's seat's for the producers
(``offers.parties.acting_organisation``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.db.models import Model
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.policy import account_readiness
from audit.services import audit_record
from audit.tasks import publish_checkpoint
from core.errors import Conflict, InvalidInput, NotFound
from festival.models import Film
from festival.policy import film_team_organisation
from offers.models import (
    Agreement,
    EventKind,
    Offer,
    OfferStatus,
    OfferVersion,
    Side,
    ThreadEvent,
    ThreadRead,
)
from offers.parties import (
    ADMIN,
    acting_organisation,
    offeror_sql,
    producer_sql,
    require_writer,
    side_from_flags,
    thread_side,
    writer_side,
)
from offers.services.offers import offer_transition, parse_terms_input
from offers.services.thread import (
    CLIENT_ID,
    MESSAGE_SQL,
    MessageDraft,
    append_event,
    broadcast,
    clean_body,
    clean_client_id,
    previous_event,
    require_open,
)
from offers.signals import agreement_recorded
from offers.terms import canonical_json, parse_terms, terms_hash


@dataclass(frozen=True)
class Posted:
    """The event a write produced; ``duplicate`` when a resend with the same client id found it."""

    event: ThreadEvent
    duplicate: bool = False


def _lock(offer: Offer) -> Offer:
    return Offer.objects.select_for_update().get(pk=offer.pk)


def _latest_version(offer: Offer) -> OfferVersion:
    return OfferVersion.objects.filter(offer=offer).order_by("-number").first()  # type: ignore[return-value]


def _lock_for_message(offer: Offer, user: User, client_id: object) -> tuple[bool, bool, int | None]:
    """Lock ``offer``'s row and learn, in the same round trip, what a message needs to know: whether
    ``user`` is on the film's team or on the offeror side (``offers.parties``' SQL fragments), and the
    event this user already sent with this client id. Sets the locked row's status and last sequence
    number on ``offer``.

    The live thread's hot path, in SQL: built with the ORM (annotations with Exists and Subquery), this
    query cost more CPU than everything else a message does (py-spy under `make bench`)."""
    client = client_id if isinstance(client_id, str) and CLIENT_ID.match(client_id) else ""
    lock = " FOR UPDATE OF o" if connection.features.has_select_for_update_of else ""
    with connection.cursor() as cursor:
        cursor.execute(_LOCK_FOR_MESSAGE_SQL + lock, {"user": user.pk, "client": client, "offer": offer.pk})
        row = cursor.fetchone()
    if row is None:
        raise NotFound(_("No such offer."))
    offer.status, offer.last_seq, producer, offeror, earlier_id = row
    return bool(producer), bool(offeror), earlier_id


# Table names from the models; every value is a bound parameter.
_LOCK_FOR_MESSAGE_SQL = f"""
    SELECT o.status, o.last_seq,
        {producer_sql(offer="o", user="%(user)s")},
        {offeror_sql(offer="o", session="f.session_id", user="%(user)s")},
        (SELECT e.id FROM {ThreadEvent._meta.db_table} e
         WHERE e.offer_id = o.id AND e.author_id = %(user)s AND e.client_id = %(client)s
           AND e.client_id <> '' LIMIT 1)
    FROM {Offer._meta.db_table} o JOIN {Film._meta.db_table} f ON f.id = o.film_id
    WHERE o.id = %(offer)s"""  # noqa: S608


def thread_message(*, user: User, offer: Offer, body: object, client_id: str | None = None) -> Posted:
    """A message from one party to the other.

    On PostgreSQL a well-formed message is appended by one statement (``thread.MESSAGE_SQL``). When that
    appends nothing, or elsewhere, the careful path below answers: the same checks, in the same order,
    as ``writer_side`` then ``clean_body``/``clean_client_id`` then ``_lock``/``previous_event``/
    ``require_open``; the party check reads the locked row."""
    if not account_readiness(user).ready:
        raise NotFound(_("No such offer."))
    if connection.vendor == "postgresql":
        appended = _append_message(user, offer, body, client_id)
        if appended is not None:
            return Posted(appended)
    with transaction.atomic():
        producer, offeror, earlier_id = _lock_for_message(offer, user, client_id)
        side = require_writer(side_from_flags(user, offer, producer=producer, offeror=offeror))
        text = clean_body(body=body, required=True)
        client = clean_client_id(client_id=client_id)
        if earlier_id is not None:
            return Posted(ThreadEvent.objects.get(pk=earlier_id), duplicate=True)
        require_open(offer=offer)
        event = append_event(
            offer=offer, kind=EventKind.MESSAGE, author=user, side=side, body=text, client_id=client
        )
    return Posted(event)


def _append_message(user: User, offer: Offer, body: object, client_id: object) -> ThreadEvent | None:
    """The message appended by MESSAGE_SQL, or None (a check failed: the careful path says which)."""
    draft = MessageDraft.of(user=user, offer_id=offer.pk, body=body, client_id=client_id)
    if draft is None:
        return None
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(MESSAGE_SQL, draft.params())
            row = cursor.fetchone()
            if row is None:
                return None
            payload = draft.payload(row[1], row[2])
            transaction.on_commit(
                lambda: broadcast(offer_id=offer.pk, message={"type": "thread.event", "event": payload})
            )
    except IntegrityError:  # the same client id, sent twice at once: the careful path finds the first
        return None
    event = ThreadEvent(
        pk=row[0],
        offer=offer,
        seq=row[1],
        kind=EventKind.MESSAGE,
        author=user,
        side=row[2],
        body=draft.body,
        client_id=draft.client_id,
        created_at=draft.now,
    )
    event._state.adding, event._state.db = False, connection.alias
    offer.last_seq, offer.last_activity_at = row[1], draft.now
    return event


def thread_counter(
    *,
    user: User,
    offer: Offer,
    base_version: object,
    terms_data: Mapping[str, Any],
    body: object = "",
    client_id: str | None = None,
) -> Posted:
    """A new immutable version of the terms, answering ``base_version`` (which must be the latest)."""
    side = writer_side(user, offer)
    text = clean_body(body=body, required=False)
    client = clean_client_id(client_id=client_id)
    if not isinstance(base_version, int) or isinstance(base_version, bool):
        raise InvalidInput(_("Name the version you are answering by its number."), field="base_version")
    terms, stored, digest = parse_terms_input(terms_data=terms_data)
    with transaction.atomic():
        locked = _lock(offer)
        earlier = previous_event(offer=locked, author=user, client_id=client)
        if earlier is not None:
            return Posted(earlier, duplicate=True)
        require_open(offer=locked)
        latest = _latest_version(locked)
        if base_version != latest.number:
            raise Conflict(
                _("Version %(base)s is no longer the latest: answer version %(latest)s.")
                % {"base": base_version, "latest": latest.number},
                code="stale_version",
            )
        if terms.kind != locked.kind:
            raise InvalidInput(_("A counter-offer keeps the offer's type."), field="terms.kind")
        if digest == latest.terms_hash:
            raise InvalidInput(
                _("These terms are the same as version %(n)s.") % {"n": latest.number}, field="terms"
            )
        version = OfferVersion.objects.create(
            offer=locked,
            number=latest.number + 1,
            author=user,
            side=side,
            schema_version=terms.schema_version,
            terms=stored,
            terms_hash=digest,
        )
        _audit("offer.countered", offer=locked, actor=user, side=side, target=locked, version=version)
        event = append_event(
            offer=locked,
            kind=EventKind.COUNTER,
            author=user,
            side=side,
            body=text,
            version=version,
            client_id=client,
        )
    return Posted(event)


def thread_accept(*, user: User, offer: Offer, version: object, terms_hash: object) -> Agreement:
    """Accept the other side's latest version, named by number and terms hash; records the agreement."""
    side = writer_side(user, offer)
    if not isinstance(version, int) or isinstance(version, bool):
        raise InvalidInput(_("Name the version you accept by its number."), field="version")
    if not isinstance(terms_hash, str) or not terms_hash:
        raise InvalidInput(_("Give the hash of the terms you accept."), field="terms_hash")
    with transaction.atomic():
        locked = _lock(offer)
        require_open(offer=locked)
        accepted = OfferVersion.objects.filter(offer=locked, number=version).first()
        if accepted is None:
            raise InvalidInput(_("This offer has no version %(n)s.") % {"n": version}, field="version")
        latest = _latest_version(locked)
        if accepted.number != latest.number:
            raise Conflict(
                _("Version %(n)s has been replaced by version %(latest)s: only the latest can be accepted.")
                % {"n": accepted.number, "latest": latest.number},
                code="stale_version",
            )
        if accepted.terms_hash != terms_hash:
            raise Conflict(
                _("The terms of version %(n)s are not the ones you saw (their hash differs).")
                % {"n": accepted.number},
                code="hash_mismatch",
            )
        if accepted.side == side:
            raise Conflict(
                _("Your side proposed version %(n)s: the other party accepts it.") % {"n": accepted.number},
                code="own_version",
            )
        # The agreement first, so that the thread's "accepted" event can name it
        agreement = _record_agreement(locked, accepted, accepted_by=user, side=side, now=timezone.now())
        offer_transition(offer=locked, to=OfferStatus.ACCEPTED, actor=user, side=side, version=accepted)
        # Its payment schedule, in this transaction (``offers.signals``)
        agreement_recorded.send(sender=Agreement, agreement=agreement, actor=user)
        # A signed checkpoint covering the deal, once it is committed: the parties can keep it at once
        transaction.on_commit(publish_checkpoint.delay)
        return agreement


def _record_agreement(
    offer: Offer, version: OfferVersion, *, accepted_by: User, side: str, now: Any
) -> Agreement:
    """Both parties, the accepted version's canonical JSON and hash, each side's acceptance time, the cut
    the offeror watched. The proposing side accepted when it proposed (the offer's submission for v1)."""
    proposed_at = (offer.submitted_at if version.number == 1 else None) or version.created_at
    proposer = version.author
    offeror_user, producer_user = (accepted_by, proposer) if side == Side.OFFEROR else (proposer, accepted_by)
    offeror_at, producer_at = (now, proposed_at) if side == Side.OFFEROR else (proposed_at, now)
    producers = film_team_organisation(film_id=offer.film_id, user_id=producer_user.pk)
    producers = producers or film_team_organisation(film_id=offer.film_id)  # the signatory left the team
    if producers is None:
        raise Conflict(_("This film has no producer team to sign for it."), code="no_producer")
    terms = parse_terms(version.terms)
    digest = terms_hash(terms)
    if digest != version.terms_hash:  # the stored version no longer hashes as it did: refuse to sign it
        raise Conflict(
            _("The stored terms do not match their hash; an admin has been told."), code="hash_mismatch"
        )
    agreement = Agreement.objects.create(
        offer=offer,
        version=version,
        film_id=offer.film_id,
        kind=offer.kind,
        offeror_organisation_id=offer.organisation_id,
        producer_organisation=producers,
        offeror_signatory=offeror_user,
        producer_signatory=producer_user,
        offeror_accepted_at=offeror_at,
        producer_accepted_at=producer_at,
        terms_canonical=canonical_json(terms).decode(),
        terms_hash=digest,
        watched_cut_id=offer.watched_cut_id,
        watched_share_bp=offer.watched_share_bp,
        created_at=now,
    )
    _audit(
        "agreement.recorded",
        offer=offer,
        actor=accepted_by,
        side=side,
        target=agreement,
        version=version,
        producer_organisation_id=producers.pk,
        offer_id=offer.pk,
    )
    return agreement


def _audit(
    action: str, *, offer: Offer, actor: User, side: str, target: Model, version: OfferVersion, **data: Any
) -> None:
    """The audit entry of a step of the negotiation: who, for which organisation (the one ``actor`` acted
    for on ``side``), on which version of the terms."""
    audit_record(
        action=action,
        actor=actor,
        organisation=acting_organisation(offer=offer, user=actor, side=side),
        target=target,
        data={**data, "version": version.number, "side": side, "terms_hash": version.terms_hash},
    )


def thread_decline(*, user: User, offer: Offer, reason: object = "") -> Offer:
    """The producers decline the offer; the offeror's way out is withdrawing it."""
    side = writer_side(user, offer)
    text = clean_body(body=reason, required=False)
    if side != Side.PRODUCER:
        raise Conflict(_("Only the producers decline an offer; withdraw it instead."), code="producers_only")
    with transaction.atomic():
        locked = _lock(offer)
        require_open(offer=locked)
        return offer_transition(offer=locked, to=OfferStatus.DECLINED, actor=user, side=side, body=text)


def thread_mark_read(*, user: User, offer: Offer, seq: object) -> int:
    """Record that ``user`` has read up to ``seq``; returns the (never decreasing) read position."""
    side = thread_side(user, offer)
    if not isinstance(seq, int) or isinstance(seq, bool) or seq < 0:
        raise InvalidInput(_("Give the sequence number you have read up to."), field="seq")
    if side == ADMIN:
        return 0  # admins read silently
    with transaction.atomic():
        read, _created = ThreadRead.objects.select_for_update().get_or_create(offer=offer, user=user)
        last = Offer.objects.filter(pk=offer.pk).values_list("last_seq", flat=True).get()
        position = min(seq, last)
        if position <= read.seq:
            return read.seq
        read.seq = position
        read.save(update_fields=["seq", "updated_at"])
        transaction.on_commit(
            lambda: broadcast(
                offer_id=offer.pk, message={"type": "thread.read", "user": user.pk, "seq": position}
            )
        )
    return position
