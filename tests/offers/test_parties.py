"""Who is a party to an offer, in every form the rule takes (offers.parties): the ORM (``party_side``,
``with_party_flags``), the filters of the lists (``visible_q``, ``offeror_q``, ``producer_q``: offers and
agreements), the SQL fragments of the thread's lean paths (executed on PostgreSQL, alone and inside
``MESSAGE_SQL`` and the negotiation's locked read), the people notified (``party_users``) and the thread's
handshake (``thread_open``, with readiness) give the same answer, for the same data, for every kind of
principal: the film's team, the offering organisation's members (accredited, not accredited, pending,
revoked, revoked then approved again, revoked in another session), a member of another organisation, an
outsider, an admin, a producer who is also a member of the offering organisation, an unready account and
an anonymous visitor; on a draft, a submitted offer and an accepted one with its agreement."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import connection, transaction

from accounts.models import AccreditationStatus, Membership, User
from festival.models import Film, FilmTeamMember
from offers.models import Agreement, Offer, OfferStatus, Side
from offers.parties import (
    ADMIN,
    offeror_q,
    offeror_sql,
    party_flags,
    party_side,
    party_users,
    producer_q,
    producer_sql,
    side_from_flags,
    thread_open,
    visible_q,
    with_party_flags,
    writer_side_sql,
)
from offers.selectors.agreements import agreements_visible_to
from offers.selectors.offers import offers_of_user, offers_received, offers_visible_to
from offers.services import negotiation
from offers.services import offers as services
from offers.services.negotiation import _lock_for_message
from offers.services.thread import MESSAGE_SQL, MessageDraft
from tests.conftest import World, accredit, make_user
from tests.offers.conftest import submitted_offer
from tests.offers.terms import examples

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the SQL fragments are PostgreSQL's (the thread's lean paths)"
)

PRODUCER, OFFEROR = Side.PRODUCER.value, Side.OFFEROR.value
WRITERS = (PRODUCER, OFFEROR)


@dataclass
class Case:
    name: str
    user: User | AnonymousUser
    draft: str | None  # the side on the draft offer
    submitted: str | None  # the side on a submitted offer (and on an accepted one)
    ready: bool = True


def _cases(world: World) -> list[Case]:
    org, toulouse = world.distributor_org, world.toulouse
    colleague = make_user("colleague@cinesur.example")
    Membership.objects.create(user=colleague, organisation=org)
    revoked = make_user("revoked@cinesur.example")
    accredit(revoked, org, toulouse, status=AccreditationStatus.REVOKED)
    again = make_user("again@cinesur.example")
    accredit(again, org, toulouse, status=AccreditationStatus.REVOKED)
    accredit(again, org, toulouse)  # approved again since
    elsewhere = make_user("elsewhere@cinesur.example")
    accredit(elsewhere, org, world.sansebastian, status=AccreditationStatus.REVOKED)
    both = make_user("both@andes.example")  # on the film's team and a member of the offering organisation
    FilmTeamMember.objects.create(film=world.film, user=both, organisation=world.producer_org)
    Membership.objects.create(user=both, organisation=org)
    outsider = make_user("outsider@elsewhere.example")
    return [
        Case("producer", world.producer, draft=None, submitted=PRODUCER),
        Case("offeror, accredited", world.pro, draft=OFFEROR, submitted=OFFEROR),
        Case("offeror, not accredited", colleague, draft=OFFEROR, submitted=OFFEROR),
        Case("offeror, accreditation pending", world.pending, draft=OFFEROR, submitted=OFFEROR),
        Case("offeror, accreditation rejected", world.rejected, draft=OFFEROR, submitted=OFFEROR),
        Case("offeror, accreditation revoked", revoked, draft=None, submitted=None),
        Case("offeror, revoked then approved again", again, draft=OFFEROR, submitted=OFFEROR),
        Case("offeror, revoked in another session", elsewhere, draft=OFFEROR, submitted=OFFEROR),
        Case("producer and offeror", both, draft=OFFEROR, submitted=PRODUCER),
        Case("member of another organisation", world.other_producer, draft=None, submitted=None),
        Case("outsider", outsider, draft=None, submitted=None),
        Case("admin", world.admin, draft=None, submitted=ADMIN),
        Case("offeror without TOTP", world.no_mfa, draft=OFFEROR, submitted=OFFEROR, ready=False),
        Case(
            "offeror with an unverified email",
            world.unverified,
            draft=OFFEROR,
            submitted=OFFEROR,
            ready=False,
        ),
        Case("anonymous", AnonymousUser(), draft=None, submitted=None, ready=False),
    ]


@dataclass
class Offers:
    draft: Offer
    submitted: Offer
    accepted: Offer
    agreement: Agreement

    def each(self, case: Case) -> list[tuple[Offer, str | None]]:
        return [(self.draft, case.draft), (self.submitted, case.submitted), (self.accepted, case.submitted)]


@pytest.fixture
def offers(world: World) -> Offers:
    draft = services.offer_create(
        user=world.pro,
        film=world.film,
        organisation=world.distributor_org,
        terms_data=examples.completion_fund(),
    )
    submitted = submitted_offer(world)
    accepted = submitted_offer(world)
    version = accepted.versions.get(number=1)
    agreement = negotiation.thread_accept(
        user=world.producer, offer=accepted, version=1, terms_hash=version.terms_hash
    )
    accepted.refresh_from_db()
    assert (draft.status, submitted.status, accepted.status) == ("draft", "submitted", "accepted")
    return Offers(draft, submitted, accepted, agreement)


def _sql_flags(user: User | AnonymousUser, offer: Offer) -> tuple[bool, bool, str | None]:
    """The fragments on their own: (producer, offeror, writer side) for ``user`` and ``offer``."""
    statement = (
        f"SELECT {producer_sql(offer='o', user='%(user)s')}, "  # noqa: S608
        f"{offeror_sql(offer='o', session='f.session_id', user='%(user)s')}, "
        f"{writer_side_sql(offer='o', session='f.session_id', user='%(user)s')} "
        f"FROM {Offer._meta.db_table} o JOIN {Film._meta.db_table} f ON f.id = o.film_id "
        "WHERE o.id = %(offer)s"
    )
    with connection.cursor() as cursor:
        cursor.execute(statement, {"user": user.pk, "offer": offer.pk})
        producer, offeror, side = cursor.fetchone()
    return bool(producer), bool(offeror), side


def test_every_form_of_the_rule_gives_the_same_answer(world: World, offers: Offers) -> None:
    for case in _cases(world):
        user = case.user
        for offer, expected in offers.each(case):
            where = (case.name, offer.status)
            # The ORM, one offer at a time and annotated
            assert party_side(user, offer) == expected, where
            flags = party_flags(user, offer)
            assert side_from_flags(user, offer, producer=flags[0], offeror=flags[1]) == expected, where
            if isinstance(user, User):
                annotated = with_party_flags(Offer.objects.filter(pk=offer.pk), user).get()
                assert (annotated.is_producer, annotated.is_offeror) == flags, where  # type: ignore[attr-defined]
            # The SQL fragments, executed on PostgreSQL
            producer, offeror, writer = _sql_flags(user, offer)
            assert (producer, offeror) == flags, where
            assert side_from_flags(user, offer, producer=producer, offeror=offeror) == expected, where
            if offer.status != OfferStatus.DRAFT:  # writer_side_sql is for offers that are no drafts
                assert writer == (expected if expected in WRITERS else None), where
            # The filters of the lists: offers, the offeror's and the producers' own, and agreements
            visible = expected is not None
            assert Offer.objects.filter(visible_q(user), pk=offer.pk).exists() == visible, where
            if isinstance(user, User):
                assert offers_visible_to(user=user).filter(pk=offer.pk).exists() == visible, where
                assert Offer.objects.filter(offeror_q(user), pk=offer.pk).exists() == flags[1], where
                assert offers_of_user(user=user).filter(pk=offer.pk).exists() == flags[1], where
                on_team = flags[0] and offer.status != OfferStatus.DRAFT
                assert Offer.objects.filter(producer_q(user), pk=offer.pk).exists() == on_team, where
                assert offers_received(user=user).filter(pk=offer.pk).exists() == on_team, where
            # The thread's handshake adds readiness
            opened = thread_open(user, offer.pk)
            assert opened == ((offer, expected) if visible and case.ready else None), where
        sees_agreement = agreements_visible_to(user=user).filter(pk=offers.agreement.pk).exists()
        assert sees_agreement == (case.submitted is not None), case.name
        assert Agreement.objects.filter(visible_q(user, path="offer__"), pk=offers.agreement.pk).exists() == (
            case.submitted is not None
        ), case.name


def test_the_people_of_a_thread_are_its_writing_parties(world: World, offers: Offers) -> None:
    cases = _cases(world)
    members = {user.pk for user in party_users(offers.submitted)}
    for case in cases:
        if isinstance(case.user, User):
            assert (case.user.pk in members) == (case.submitted in WRITERS), case.name
    everyone = User.objects.all()
    assert members == {user.pk for user in everyone if party_side(user, offers.submitted) in WRITERS}


def test_the_lean_paths_statements_agree_with_the_rule(world: World, offers: Offers) -> None:
    """The negotiation's locked read and the one-statement message, for every principal with an account,
    on the submitted offer. The statement re-checks TOTP (readiness is read before it is run); an
    unverified email is refused before (``thread_message`` and the socket read the readiness first)."""
    offer = offers.submitted
    for case in _cases(world):
        user = case.user
        if not isinstance(user, User):
            continue
        with transaction.atomic():
            locked = Offer.objects.get(pk=offer.pk)
            producer, offeror, _earlier = _lock_for_message(locked, user, None)
        assert (producer, offeror) == party_flags(user, offer), case.name
        if case.name == "offeror with an unverified email":
            continue
        draft = MessageDraft.of(user=user, offer_id=offer.pk, body="Hola", client_id=f"c{user.pk}")
        assert draft is not None
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(MESSAGE_SQL, draft.params())
            row: Any = cursor.fetchone()
        appended = row[2] if row is not None else None
        writes = case.submitted if case.submitted in WRITERS and case.ready else None
        assert appended == writes, case.name
