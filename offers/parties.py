"""Who is a party to an offer: the one home of the rule (docs/architecture.md, "Rules and their homes").

An offer has two sides:

- the **producers**: the film's team (``festival.policy``), once the offer is submitted (a draft is the
  offeror's alone);
- the **offeror**: the members of the offering organisation, except one whose accreditation to the
  film's session was revoked and not replaced by an approved one since (a revoked accreditation shuts
  its holder out of the offer, its thread and its agreement).

Festival admins read every submitted offer and its thread, and write in none. Everyone else is no party:
the offer answers them 404, as for an offer that does not exist (docs/architecture.md, invariant 2).

The rule is written here once per form it takes, and tests/offers/test_parties.py proves the forms agree
on the same data for every kind of principal:

- the ORM, for one offer or annotated on many: ``party_flags``, ``party_side``, ``with_party_flags`` and
  ``side_from_flags``;
- filters for lists: ``offeror_q``, ``producer_q`` and ``visible_q`` (offers, and agreements through
  ``path="offer__"``);
- SQL fragments for the thread's lean paths (``offers.services.thread.MESSAGE_SQL`` and the locked read of
  ``offers.services.negotiation``): ``producer_sql``, ``offeror_sql``, ``writer_side_sql``;
- the people of both sides, to notify and to show: ``party_users``.

Readiness (a verified email and TOTP, ``accounts.policy``) is checked on top of the rule: by
``thread_side`` and ``thread_open`` for the thread, by ``ready_required``/``AccountReady`` for pages and
the API. Who may *become* the offeror (make a film an offer) is ``require_may_offer``.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.db.models import BooleanField, Exists, ExpressionWrapper, OuterRef, Q, QuerySet
from django.utils.translation import gettext as _

from accounts.models import Accreditation, AccreditationStatus, Membership, Organisation, User
from accounts.policy import account_readiness, is_festival_admin, require_ready
from core.errors import DomainError, Forbidden, InvalidInput, NotFound
from festival.models import Film
from festival.policy import (
    film_team_exists,
    film_team_organisation,
    film_team_sql,
    film_team_user_ids,
    is_film_team,
)
from offers.models import Offer, OfferStatus, Side

ADMIN = "admin"  # reads every submitted offer's thread, writes in none


# --- the ORM ------------------------------------------------------------------------------------------


def _offeror(*, user: Any, organisation: Any, session: Any) -> Q:
    """The offeror condition; each argument a value or an ``OuterRef``: a member of the organisation
    whose accreditation to the session was not revoked, unless an approved one replaced it."""
    accreditations = Accreditation.objects.filter(user_id=user, session_id=session)
    member = Exists(Membership.objects.filter(organisation_id=organisation, user_id=user))
    revoked = Exists(accreditations.filter(status=AccreditationStatus.REVOKED))
    approved = Exists(accreditations.filter(status=AccreditationStatus.APPROVED))
    return Q(member) & (~Q(revoked) | Q(approved))


def offeror_q(user: User, *, path: str = "") -> Q:
    """Offers (``path`` "") or agreements (``path`` "offer__") on whose offeror side ``user`` is, drafts
    included."""
    return _offeror(
        user=user.pk,
        organisation=OuterRef(f"{path}organisation_id"),
        session=OuterRef(f"{path}film__session_id"),
    )


def producer_q(user: User, *, path: str = "") -> Q:
    """Offers (or agreements, ``path`` "offer__") on whose producers' side ``user`` is: the film's team,
    submitted offers only."""
    team = film_team_exists(user.pk, film_ref=f"{path}film_id")
    return Q(team) & ~Q(**{f"{path}status": OfferStatus.DRAFT})


def visible_q(user: User | AnonymousUser, *, path: str = "") -> Q:
    """What ``user`` may see: the offers (or agreements) they are a party to and, for festival admins,
    every submitted one. The filter form of ``party_side(...) is not None``."""
    if not isinstance(user, User):
        return Q(pk__in=[])
    visible = offeror_q(user, path=path) | producer_q(user, path=path)
    if is_festival_admin(user):
        visible |= ~Q(**{f"{path}status": OfferStatus.DRAFT})
    return visible


def with_party_flags(offers: QuerySet[Offer], user: User) -> QuerySet[Offer]:
    """``offers`` annotated with ``is_producer`` (on the film's team) and ``is_offeror`` (see the module's
    docstring); ``side_from_flags`` turns them into a side."""
    offeror = _offeror(
        user=user.pk, organisation=OuterRef("organisation_id"), session=OuterRef("film__session_id")
    )
    return offers.annotate(
        is_producer=film_team_exists(user.pk, film_ref="film_id"),
        is_offeror=ExpressionWrapper(offeror, output_field=BooleanField()),
    )


def party_flags(user: User | AnonymousUser, offer: Offer) -> tuple[bool, bool]:
    """(on the film's team, on the offeror side) for ``user`` and ``offer``, in one query."""
    if not isinstance(user, User):
        return False, False
    flagged = with_party_flags(Offer.objects.filter(pk=offer.pk), user)
    flags = flagged.values_list("is_producer", "is_offeror")  # type: ignore[misc]  # annotations
    producer, offeror = flags.first() or (False, False)
    return bool(producer), bool(offeror)


def side_from_flags(user: User | AnonymousUser, offer: Offer, *, producer: bool, offeror: bool) -> str | None:
    """``party_side`` once the two flags are known: ``producer``, ``offeror``, ``admin`` or None."""
    if producer and offer.status != OfferStatus.DRAFT:
        return Side.PRODUCER
    if offeror:
        return Side.OFFEROR
    if is_festival_admin(user) and offer.status != OfferStatus.DRAFT:
        return ADMIN
    return None


def party_side(user: User | AnonymousUser, offer: Offer) -> str | None:
    """``producer`` for the film's team, ``offeror`` for the offering organisation's members (as the
    module's docstring says), ``admin`` for festival admins (read only), None for everyone else. Drafts
    have no thread yet: only their offeror sees them."""
    producer, offeror = party_flags(user, offer)
    return side_from_flags(user, offer, producer=producer, offeror=offeror)


def party_users(offer: Offer) -> list[User]:
    """The active accounts of both sides of ``offer``, by id (readiness is the caller's to check)."""
    offeror = _offeror(user=OuterRef("pk"), organisation=offer.organisation_id, session=offer.film.session_id)
    producers = Q(pk__in=film_team_user_ids(offer.film_id))
    return list(User.objects.filter(producers | offeror, is_active=True).order_by("pk"))


# --- the thread: the rule with readiness, and the 404 it answers -------------------------------------


def thread_side(user: User, offer: Offer) -> str:
    """The user's side in the thread, or NotFound (the same answer as for an offer that does not exist)."""
    if not account_readiness(user).ready:
        raise NotFound(_("No such offer."))
    side = party_side(user, offer)
    if side is None:
        raise NotFound(_("No such offer."))
    return side


def writer_side(user: User, offer: Offer) -> str:
    """Like ``thread_side``, for actions: admins read threads but do not negotiate."""
    return require_writer(thread_side(user, offer))


def require_writer(side: str | None) -> str:
    """``side`` if it may write in the thread; NotFound for a non-party, Forbidden for an admin."""
    if side is None:
        raise NotFound(_("No such offer."))
    if side == ADMIN:
        raise Forbidden(_("Admins can read this thread but not write in it."), code="read_only")
    return side


def thread_open(user: User | AnonymousUser, offer_id: int) -> tuple[Offer, str] | None:
    """The offer and the user's side, or None, with the same work whether the offer exists or not: the
    account's readiness is read in every case, then one query reads the offer with the user's party flags
    (an outsider refused for a real offer and for a missing one cannot tell them apart by the time it
    takes)."""
    ready = account_readiness(user).ready
    if not isinstance(user, User):
        return None
    offer = with_party_flags(Offer.objects.filter(pk=offer_id).select_related("film"), user).first()
    if offer is None or not ready:
        return None
    side = side_from_flags(user, offer, producer=offer.is_producer, offeror=offer.is_offeror)  # type: ignore[attr-defined]
    return None if side is None else (offer, side)


# --- SQL fragments for the lean paths ------------------------------------------------------------------
#
# Table names come from the models and the statuses from their choices: no value a person sent is ever
# written into the SQL. ``offer`` is the alias of the offers table in the caller's statement, ``session``
# an expression for the film's session id (the caller joins the film), ``user`` a placeholder such as
# ``%(user)s``.


def producer_sql(*, offer: str, user: str) -> str:
    """``is_producer`` of ``with_party_flags``, as a SQL boolean."""
    return film_team_sql(film=f"{offer}.film_id", user=user)


def offeror_sql(*, offer: str, session: str, user: str) -> str:
    """``is_offeror`` of ``with_party_flags``, as a SQL boolean."""
    memberships, accreditations = Membership._meta.db_table, Accreditation._meta.db_table

    def accredited(status: str) -> str:
        return (
            f"EXISTS (SELECT 1 FROM {accreditations} a WHERE a.user_id = {user} "  # noqa: S608
            f"AND a.session_id = {session} AND a.status = '{status}')"
        )

    member = (
        f"EXISTS (SELECT 1 FROM {memberships} m "  # noqa: S608
        f"WHERE m.organisation_id = {offer}.organisation_id AND m.user_id = {user})"
    )
    revoked, approved = AccreditationStatus.REVOKED.value, AccreditationStatus.APPROVED.value
    return f"({member} AND (NOT {accredited(revoked)} OR {accredited(approved)}))"


def writer_side_sql(*, offer: str, session: str, user: str) -> str:
    """The side ``user`` writes for in a *submitted* offer's thread, as SQL: 'producer', 'offeror' or
    NULL (admins and everyone else). ``side_from_flags`` without the admin, for an offer that is no draft
    (the caller's statement checks the status)."""
    producer, offeror = Side.PRODUCER.value, Side.OFFEROR.value
    return (
        f"CASE WHEN {producer_sql(offer=offer, user=user)} THEN '{producer}' "
        f"WHEN {offeror_sql(offer=offer, session=session, user=user)} THEN '{offeror}' END"
    )


# --- becoming the offeror, and whom each side acts for ---------------------------------------------------


def require_may_offer(*, user: User, film: Film, organisation: Organisation | None) -> None:
    """Who may make ``film`` an offer on behalf of ``organisation`` (of any of their organisations when
    None): a ready account, accredited (approved) to the film's session, a member of the organisation, not
    on the film's own team. Raises the refusal: NotFound when the film is not theirs to know of."""
    require_ready(user)
    accredited = film.session_id is not None and (
        Accreditation.objects.filter(
            user=user, session_id=film.session_id, status=AccreditationStatus.APPROVED
        ).exists()
    )
    if not accredited:
        raise NotFound(_("No such film."))
    memberships = Membership.objects.filter(user=user)
    if organisation is not None:
        memberships = memberships.filter(organisation=organisation)
    if not memberships.exists():
        raise InvalidInput(
            _("You can only make offers on behalf of an organisation you belong to."), field="organisation"
        )
    if is_film_team(user, film.pk):
        raise InvalidInput(
            _("You are on this film's producer team: you cannot make it an offer."), field="film"
        )


def may_make_offer(*, user: User, film: Film) -> bool:
    """``require_may_offer`` as a yes/no, for pages."""
    try:
        require_may_offer(user=user, film=film, organisation=None)
    except DomainError:
        return False
    return True


def acting_organisation(*, offer: Offer, user: User | None, side: str) -> Organisation | None:
    """The organisation ``user`` acted for on ``side`` of ``offer``, for the audit log: the offering
    organisation for the offeror, the user's seat's for the producers, none for the system or an admin."""
    if user is None:
        return None
    if side == Side.OFFEROR:
        return offer.organisation
    if side == Side.PRODUCER:
        return film_team_organisation(film_id=offer.film_id, user_id=user.pk)
    return None
