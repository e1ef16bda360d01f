"""Negotiation threads: numbered events, counter-offers as versions, acceptance into an agreement, and
every refusal, each leaving the thread as it was."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest
from django.core import mail

from accounts.models import User
from audit.actions import current_name
from core.errors import Conflict, Forbidden, InvalidInput, NotFound
from offers.models import Agreement, AgreementImmutable, Offer, OfferStatus, OfferVersion, ThreadEvent
from offers.presence import mark_present
from offers.selectors.thread import events_after, thread_reads
from offers.services import negotiation
from offers.services import offers as services
from offers.terms import canonical_json, parse_terms, terms_hash
from tests.conftest import World, accredit, audit_actions, make_org, make_user
from tests.offers.conftest import counter_terms

pytestmark = pytest.mark.django_db


def _kinds(offer: Offer) -> list[str]:
    return list(ThreadEvent.objects.filter(offer=offer).order_by("seq").values_list("kind", flat=True))


def _latest(offer: Offer) -> OfferVersion:
    return OfferVersion.objects.filter(offer=offer).order_by("-number").first()  # type: ignore[return-value]


def _counter(user: User, offer: Offer, base: int = 1, amount: int = 2_500_000, **extra: Any) -> Any:
    return negotiation.thread_counter(
        user=user, offer=offer, base_version=base, terms_data=counter_terms(amount), **extra
    )


def _accept(user: User, offer: Offer, version: Any = 1, digest: Any = None) -> Agreement:
    digest = _latest(offer).terms_hash if digest is None else digest
    return negotiation.thread_accept(user=user, offer=offer, version=version, terms_hash=digest)


def test_submission_opens_the_thread_with_event_one(world: World, offer: Offer) -> None:
    assert _kinds(offer) == ["submitted"]
    first = events_after(offer=offer, after=0)[0]
    assert (first["seq"], first["side"], first["version"]["number"]) == (1, "offeror", 1)
    assert first["version"]["rendered"]["es"] and first["version"]["rendered"]["fr"]


def test_messages_are_numbered_in_order_from_both_sides(world: World, offer: Offer) -> None:
    one = negotiation.thread_message(user=world.producer, offer=offer, body="¿Podemos hablar?")
    two = negotiation.thread_message(user=world.pro, offer=offer, body="  Bien sûr  ")
    assert (one.event.seq, one.event.side, two.event.seq, two.event.body) == (2, "producer", 3, "Bien sûr")
    offer.refresh_from_db()
    assert offer.last_seq == 3 and offer.last_activity_at == two.event.created_at
    assert [e["seq"] for e in events_after(offer=offer, after=1)] == [2, 3]


def test_a_resent_message_with_the_same_client_id_appears_once(world: World, offer: Offer) -> None:
    first = negotiation.thread_message(user=world.pro, offer=offer, body="hola", client_id="c-1")
    again = negotiation.thread_message(user=world.pro, offer=offer, body="hola", client_id="c-1")
    assert not first.duplicate and again.duplicate and again.event.pk == first.event.pk
    assert ThreadEvent.objects.filter(offer=offer, kind="message").count() == 1
    # Another author may use the same id: ids are the author's own
    other = negotiation.thread_message(user=world.producer, offer=offer, body="hola", client_id="c-1")
    assert not other.duplicate


@pytest.mark.parametrize(
    ("body", "client_id", "field"),
    [
        ("", None, "body"),
        ("   ", None, "body"),
        ("x" * 4001, None, "body"),
        (42, None, "body"),
        ("hola", "bad id!", "client_id"),
        ("hola", "x" * 65, "client_id"),
    ],
)
def test_bad_messages_are_refused_and_change_nothing(
    world: World, offer: Offer, body: Any, client_id: Any, field: str
) -> None:
    with pytest.raises(InvalidInput) as refused:
        negotiation.thread_message(user=world.pro, offer=offer, body=body, client_id=client_id)
    assert refused.value.field == field
    assert _kinds(offer) == ["submitted"]


def test_a_counter_is_a_new_version_with_its_difference(world: World, offer: Offer) -> None:
    posted = _counter(world.producer, offer, body="Un poco menos")
    version = posted.event.version
    assert (version.number, version.side, posted.event.kind) == (2, "producer", "counter")
    assert version.terms_hash == terms_hash(parse_terms(counter_terms()))
    payload = events_after(offer=offer, after=1)[0]["version"]
    assert {
        "path": "amount.amount_minor",
        "old": 3_000_000,
        "new": 2_500_000,
        "action": "changed",
    } in payload["changes"]
    # Line by line as people read the terms, in each language: the amount and the tranches it splits into
    label, before, after = payload["rendered_changes"]["es"][0]
    assert (label, "30", "25") == ("Importe", before[4:6], after[4:6])  # "EUR 30 000,00" → "EUR 25 000,00"
    assert len(payload["rendered_changes"]["fr"]) == len(payload["rendered_changes"]["en"]) >= 1
    assert audit_actions()[-1] == "offer.countered"
    # The offeror answers the producers' version 2 with a version 3
    assert _counter(world.pro, offer, base=2, amount=2_800_000).event.version.number == 3


@pytest.mark.parametrize(
    ("base", "terms", "error", "code"),
    [
        (0, counter_terms(), Conflict, "stale_version"),
        (2, counter_terms(), Conflict, "stale_version"),
        ("1", counter_terms(), InvalidInput, "invalid"),
        (1, {"kind": "completion_fund", "schema_version": 1}, services.OfferTermsInvalid, "invalid"),
        (1, counter_terms(3_000_000), InvalidInput, "invalid"),  # the same terms as version 1
    ],
)
def test_bad_counters_are_refused_and_change_nothing(
    world: World, offer: Offer, base: Any, terms: dict[str, Any], error: type[Exception], code: str
) -> None:
    with pytest.raises(error) as refused:
        negotiation.thread_counter(user=world.producer, offer=offer, base_version=base, terms_data=terms)
    assert getattr(refused.value, "code", None) == code
    assert _latest(offer).number == 1 and _kinds(offer) == ["submitted"]


def test_a_counter_cannot_change_the_offer_type(world: World, offer: Offer) -> None:
    from tests.offers.terms import examples

    with pytest.raises(InvalidInput) as refused:
        negotiation.thread_counter(
            user=world.producer, offer=offer, base_version=1, terms_data=examples.sales()
        )
    assert refused.value.field == "terms.kind" and _latest(offer).number == 1


def test_accepting_records_an_agreement_that_verifies(world: World, offer: Offer) -> None:
    _counter(world.producer, offer)
    version = _latest(offer)
    agreement = negotiation.thread_accept(
        user=world.pro, offer=offer, version=2, terms_hash=version.terms_hash
    )
    offer.refresh_from_db()
    assert offer.status == OfferStatus.ACCEPTED
    assert (agreement.version, agreement.offeror_signatory, agreement.producer_signatory) == (
        version,
        world.pro,
        world.producer,
    )
    assert (agreement.offeror_organisation, agreement.producer_organisation) == (
        world.distributor_org,
        world.producer_org,
    )
    # The producers accepted when they proposed version 2; the offeror now
    assert agreement.producer_accepted_at == version.created_at
    assert agreement.offeror_accepted_at == agreement.created_at
    assert agreement.terms_canonical.encode() == canonical_json(parse_terms(version.terms))
    assert agreement.terms_hash == hashlib.sha256(agreement.terms_canonical.encode()).hexdigest()
    assert json.loads(agreement.terms_canonical)["amount"]["amount_minor"] == 2_500_000
    assert _kinds(offer)[-1] == "accepted"
    # ...and its payment schedule, in the same transaction (the payments app listens)
    # The schedule's entry is the payments app's (named ``schedule.created`` since the catalogue)
    assert [current_name(action) for action in audit_actions()[-3:]] == [
        "agreement.recorded",
        "offer.accepted",
        "schedule.created",
    ]
    assert events_after(offer=offer, after=0)[-1]["agreement"] == str(agreement.public_id)


def test_producers_accept_the_submitted_version_one(world: World, offer: Offer) -> None:
    version = _latest(offer)
    agreement = negotiation.thread_accept(
        user=world.producer, offer=offer, version=1, terms_hash=version.terms_hash
    )
    assert agreement.offeror_accepted_at == offer.submitted_at
    assert agreement.watched_share_bp == offer.watched_share_bp


@pytest.mark.parametrize(
    ("who", "version", "digest", "code"),
    [
        ("pro", 1, None, "own_version"),  # the offeror proposed version 1
        ("colleague", 1, None, "own_version"),  # so did their organisation
        ("producer", 1, "0" * 64, "hash_mismatch"),
        ("producer", 7, None, "invalid"),
        ("producer", "1", None, "invalid"),
        ("producer", 1, "", "invalid"),
    ],
)
def test_acceptance_refusals_change_nothing(
    world: World, offer: Offer, colleague: User, who: str, version: Any, digest: str | None, code: str
) -> None:
    user = colleague if who == "colleague" else getattr(world, who)
    with pytest.raises((Conflict, InvalidInput)) as refused:
        negotiation.thread_accept(
            user=user,
            offer=offer,
            version=version,
            terms_hash=_latest(offer).terms_hash if digest is None else digest,
        )
    assert refused.value.code == code
    offer.refresh_from_db()
    assert offer.status == OfferStatus.SUBMITTED and not Agreement.objects.exists()


def test_an_older_version_cannot_be_accepted(world: World, offer: Offer) -> None:
    first = _latest(offer)
    _counter(world.pro, offer)  # hypothetically the offeror revises its own offer: version 2
    with pytest.raises(Conflict) as refused:
        negotiation.thread_accept(user=world.producer, offer=offer, version=1, terms_hash=first.terms_hash)
    assert refused.value.code == "stale_version" and not Agreement.objects.exists()


def test_a_closed_thread_refuses_everything_but_reading(world: World, offer: Offer) -> None:
    negotiation.thread_accept(
        user=world.producer, offer=offer, version=1, terms_hash=_latest(offer).terms_hash
    )
    for attempt in (
        lambda: negotiation.thread_message(user=world.pro, offer=offer, body="¿y ahora?"),
        lambda: _counter(world.pro, offer),
        lambda: negotiation.thread_accept(
            user=world.producer, offer=offer, version=1, terms_hash=_latest(offer).terms_hash
        ),
        lambda: negotiation.thread_decline(user=world.producer, offer=offer),
    ):
        with pytest.raises(Conflict) as refused:
            attempt()
        assert refused.value.code == "thread_closed"
    assert Agreement.objects.count() == 1 and _kinds(offer) == ["submitted", "accepted"]
    assert [e["kind"] for e in events_after(offer=offer, after=0)] == ["submitted", "accepted"]


def test_producers_decline_and_offerors_withdraw(world: World, offer: Offer) -> None:
    with pytest.raises(Conflict) as refused:
        negotiation.thread_decline(user=world.pro, offer=offer)
    assert refused.value.code == "producers_only"
    negotiation.thread_decline(user=world.producer, offer=offer, reason="No encaja")
    offer.refresh_from_db()
    assert offer.status == OfferStatus.DECLINED
    last = ThreadEvent.objects.filter(offer=offer).last()
    assert last is not None and (last.kind, last.body, last.side) == ("declined", "No encaja", "producer")


def test_withdrawal_is_a_thread_event(world: World, offer: Offer) -> None:
    services.offer_withdraw(user=world.pro, offer=offer, reason="Otro proyecto")
    assert _kinds(offer) == ["submitted", "withdrawn"]


@pytest.mark.parametrize("who", ["other_producer", "outsider", "unverified", "no_mfa"])
def test_non_parties_are_told_the_thread_does_not_exist(world: World, offer: Offer, who: str) -> None:
    """Another film's producer, a professional of another organisation, and members of the offering
    organisation whose account is not ready (no verified email, no TOTP)."""
    user = outsider(world) if who == "outsider" else getattr(world, who)
    for attempt in (
        lambda: negotiation.thread_message(user=user, offer=offer, body="hola"),
        lambda: _counter(user, offer),
        lambda: negotiation.thread_accept(
            user=user, offer=offer, version=1, terms_hash=_latest(offer).terms_hash
        ),
        lambda: negotiation.thread_decline(user=user, offer=offer),
        lambda: negotiation.thread_mark_read(user=user, offer=offer, seq=1),
    ):
        with pytest.raises(NotFound):
            attempt()
    assert _kinds(offer) == ["submitted"]


def outsider(world: World) -> User:
    user = make_user("buyer@otra.example")
    accredit(user, make_org("Otra Distribuidora", "MX", "distributor"), world.toulouse)
    return user


def test_admins_read_but_do_not_negotiate(world: World, offer: Offer) -> None:
    with pytest.raises(Forbidden) as refused:
        negotiation.thread_message(user=world.admin, offer=offer, body="hola")
    assert refused.value.code == "read_only"
    assert negotiation.thread_mark_read(user=world.admin, offer=offer, seq=1) == 0


def test_drafts_have_no_thread_for_the_producers(world: World) -> None:
    from tests.offers.terms import examples

    draft = services.offer_create(
        user=world.pro, film=world.film, organisation=world.distributor_org, terms_data=examples.sales()
    )
    with pytest.raises(NotFound):
        negotiation.thread_message(user=world.producer, offer=draft, body="hola")
    with pytest.raises(Conflict):  # the offeror sees the draft, but it has no open thread yet
        negotiation.thread_message(user=world.pro, offer=draft, body="hola")


def test_read_receipts_only_move_forward(world: World, offer: Offer) -> None:
    negotiation.thread_message(user=world.pro, offer=offer, body="uno")
    assert negotiation.thread_mark_read(user=world.producer, offer=offer, seq=2) == 2
    assert negotiation.thread_mark_read(user=world.producer, offer=offer, seq=1) == 2
    assert negotiation.thread_mark_read(user=world.producer, offer=offer, seq=99) == 2  # not past the end
    assert thread_reads(offer=offer) == {world.producer.pk: 2}
    with pytest.raises(InvalidInput):
        negotiation.thread_mark_read(user=world.producer, offer=offer, seq=-1)


def test_agreements_cannot_be_changed_or_deleted(world: World, offer: Offer) -> None:
    agreement = negotiation.thread_accept(
        user=world.producer, offer=offer, version=1, terms_hash=_latest(offer).terms_hash
    )
    agreement.terms_hash = "0" * 64
    with pytest.raises(AgreementImmutable):
        agreement.save()
    with pytest.raises(AgreementImmutable):
        agreement.delete()
    with pytest.raises(AgreementImmutable):
        Agreement.objects.filter(pk=agreement.pk).update(terms_hash="0" * 64)
    with pytest.raises(AgreementImmutable):
        Agreement.objects.all().delete()
    assert Agreement.objects.get().terms_hash == _latest(offer).terms_hash


def test_no_offers_to_ones_own_film(world: World) -> None:
    from tests.offers.terms import examples

    accredit(world.producer, world.producer_org, world.toulouse)
    with pytest.raises(InvalidInput) as refused:
        services.offer_create(
            user=world.producer, film=world.film, organisation=world.producer_org, terms_data=examples.sales()
        )
    assert refused.value.field == "film" and not Offer.objects.exists()


def test_offline_parties_are_emailed_in_their_language(
    world: World, colleague: User, django_capture_on_commit_callbacks: Any
) -> None:
    from tests.offers.conftest import submitted_offer

    world.producer.language = "es"
    world.producer.save()
    with django_capture_on_commit_callbacks(execute=True):
        offer = submitted_offer(world)
    new_offer = {m.to[0]: m for m in mail.outbox}
    assert set(new_offer) == {world.producer.email}  # the other side only
    assert "Nueva oferta" in new_offer[world.producer.email].subject
    assert f"/offers/{offer.pk}/" in new_offer[world.producer.email].body
    mail.outbox.clear()
    mark_present(offer.pk, world.pro.pk)  # the offeror has the thread open; the colleague does not
    with django_capture_on_commit_callbacks(execute=True):
        _counter(world.producer, offer)
    # The offeror's organisation, but not Marie (online) nor members whose account is not ready
    recipients = {m.to[0]: m for m in mail.outbox}
    assert colleague.email in recipients and world.pro.email not in recipients
    assert not {world.unverified.email, world.no_mfa.email} & set(recipients)
    assert "Contre-offre" in recipients[colleague.email].subject
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        negotiation.thread_message(user=world.producer, offer=offer, body="solo un mensaje")
    assert mail.outbox == []  # plain messages do not send email
