"""Offers: drafts, submission with what was watched, withdrawal, and every refusal (nothing changed)."""

from __future__ import annotations

from typing import Any

import pytest
from django.utils import timezone

from accounts.models import Accreditation, AccreditationStatus
from core.errors import Conflict, Forbidden, InvalidInput, NotFound
from offers.models import Offer, OfferStatus, OfferVersion
from offers.services import offers as services
from offers.terms import parse_terms, terms_hash
from screening.models import Cut, CutStatus, PlaybackGrant
from tests.conftest import World, audit_actions
from tests.offers.terms import examples

pytestmark = pytest.mark.django_db


def _draft(world: World, data: dict[str, Any] | None = None) -> Offer:
    return services.offer_create(
        user=world.pro,
        film=world.film,
        organisation=world.distributor_org,
        terms_data=data or examples.completion_fund(),
    )


def test_a_draft_records_its_terms_and_their_hash(world: World) -> None:
    offer = _draft(world)
    version = OfferVersion.objects.get(offer=offer)
    assert (offer.status, offer.kind, version.number) == (OfferStatus.DRAFT, "completion_fund", 1)
    assert version.terms_hash == terms_hash(parse_terms(examples.completion_fund()))
    assert audit_actions()[-1] == "offer.drafted"


def test_submit_records_the_watched_cut_and_share(world: World) -> None:
    cut = Cut.objects.create(
        film=world.film,
        number=1,
        uploaded_by=world.producer,
        source_filename="a.mp4",
        source_size=1,
        status=CutStatus.READY,
        segment_count=4,
        published_at=timezone.now(),
    )
    PlaybackGrant.objects.create(
        viewer=world.pro,
        organisation=world.distributor_org,
        cut=cut,
        device_hash="d",
        expires_at=timezone.now(),
        watched_segments=[0, 1, 2],
    )
    offer = services.offer_submit(user=world.pro, offer=_draft(world))
    assert offer.status == OfferStatus.SUBMITTED and offer.submitted_at is not None
    assert (offer.watched_cut, offer.watched_share_bp) == (cut, 7500)


def test_invalid_terms_name_the_field_and_create_nothing(world: World) -> None:
    data = examples.completion_fund()
    data["tranches"][1]["share_bp"] = 1000  # shares no longer add up to 100 %
    with pytest.raises(services.OfferTermsInvalid) as error:
        _draft(world, data)
    assert error.value.field is not None and error.value.field.startswith("terms.")
    assert error.value.errors
    assert not Offer.objects.exists()


@pytest.mark.parametrize("who", ["pending", "rejected"])
def test_not_accredited_gets_not_found(world: World, who: str) -> None:
    with pytest.raises(NotFound):
        services.offer_create(
            user=getattr(world, who),
            film=world.film,
            organisation=world.distributor_org,
            terms_data=examples.completion_fund(),
        )
    assert not Offer.objects.exists()


def test_another_sessions_film_gets_not_found(world: World) -> None:
    with pytest.raises(NotFound):
        services.offer_create(
            user=world.pro,
            film=world.other_film,
            organisation=world.distributor_org,
            terms_data=examples.completion_fund(),
        )


def test_unready_account_is_refused(world: World) -> None:
    with pytest.raises(Forbidden):
        services.offer_create(
            user=world.no_mfa,
            film=world.film,
            organisation=world.distributor_org,
            terms_data=examples.completion_fund(),
        )


def test_only_on_behalf_of_ones_own_organisation(world: World) -> None:
    with pytest.raises(InvalidInput) as error:
        services.offer_create(
            user=world.pro,
            film=world.film,
            organisation=world.producer_org,
            terms_data=examples.completion_fund(),
        )
    assert error.value.field == "organisation"


def test_a_past_expiry_is_refused(world: World) -> None:
    with pytest.raises(InvalidInput) as error:
        services.offer_create(
            user=world.pro,
            film=world.film,
            organisation=world.distributor_org,
            terms_data=examples.completion_fund(),
            expires_on=timezone.now().date(),
        )
    assert error.value.field == "expires_on"


def test_a_draft_can_be_rewritten_but_not_change_kind(world: World) -> None:
    offer = _draft(world)
    changed = examples.completion_fund()
    changed["amount"]["amount_minor"] = 4_000_000
    services.offer_update_draft(user=world.pro, offer=offer, terms_data=changed)
    assert OfferVersion.objects.get(offer=offer).terms_hash == terms_hash(parse_terms(changed))
    with pytest.raises(InvalidInput):
        services.offer_update_draft(user=world.pro, offer=offer, terms_data=examples.distribution())


def test_submitted_terms_cannot_be_rewritten_and_submit_twice_is_refused(world: World) -> None:
    offer = services.offer_submit(user=world.pro, offer=_draft(world))
    with pytest.raises(Conflict):
        services.offer_update_draft(user=world.pro, offer=offer, terms_data=examples.completion_fund())
    with pytest.raises(Conflict) as error:
        services.offer_submit(user=world.pro, offer=offer)
    assert error.value.code == "illegal_transition"


def test_withdraw_by_the_offeror_only(world: World) -> None:
    offer = services.offer_submit(user=world.pro, offer=_draft(world))
    with pytest.raises(NotFound):
        services.offer_withdraw(user=world.producer, offer=offer)
    withdrawn = services.offer_withdraw(user=world.pro, offer=offer)
    assert withdrawn.status == OfferStatus.WITHDRAWN
    assert audit_actions()[-1] == "offer.withdrawn"


def test_an_accreditation_revoked_before_submitting_stops_the_offer(world: World) -> None:
    offer = _draft(world)
    Accreditation.objects.filter(user=world.pro).update(status=AccreditationStatus.REVOKED)
    with pytest.raises(NotFound):
        services.offer_submit(user=world.pro, offer=offer)
    offer.refresh_from_db()
    assert offer.status == OfferStatus.DRAFT


def test_submitted_offers_expire_after_their_date(world: World) -> None:
    import datetime as dt
    import io

    from django.core.management import call_command

    tomorrow = timezone.now().date() + dt.timedelta(days=1)
    lasting = services.offer_submit(user=world.pro, offer=_draft(world))
    expiring = services.offer_submit(
        user=world.pro,
        offer=services.offer_create(
            user=world.pro,
            film=world.film,
            organisation=world.distributor_org,
            terms_data=examples.sales(),
            expires_on=tomorrow,
        ),
    )
    draft = services.offer_create(
        user=world.pro,
        film=world.film,
        organisation=world.distributor_org,
        terms_data=examples.distribution(),
        expires_on=tomorrow,
    )
    assert services.offers_expire(today=tomorrow) == 0  # not before the day has passed
    assert services.offers_expire(today=tomorrow + dt.timedelta(days=1)) == 1
    statuses = {o.pk: o.status for o in Offer.objects.all()}
    assert statuses == {
        lasting.pk: OfferStatus.SUBMITTED,
        expiring.pk: OfferStatus.EXPIRED,
        draft.pk: OfferStatus.DRAFT,
    }
    assert audit_actions()[-1] == "offer.expired"
    out = io.StringIO()
    call_command("expire_offers", stdout=out)
    assert "Expired 0 offers." in out.getvalue()


def test_a_draft_can_change_its_expiry_date_or_keep_it(world: World) -> None:
    import datetime as dt

    offer = _draft(world)
    later = timezone.now().date() + dt.timedelta(days=30)
    services.offer_update_draft(
        user=world.pro, offer=offer, terms_data=examples.completion_fund(), expires_on=later
    )
    offer.refresh_from_db()
    assert offer.expires_on == later
    services.offer_update_draft(user=world.pro, offer=offer, terms_data=examples.completion_fund())
    offer.refresh_from_db()
    assert offer.expires_on == later  # not given: kept
    with pytest.raises(InvalidInput) as refused:
        services.offer_update_draft(
            user=world.pro, offer=offer, terms_data=examples.completion_fund(), expires_on=dt.date(2000, 1, 1)
        )
    assert refused.value.field == "expires_on"
    offer.refresh_from_db()
    assert offer.expires_on == later
    services.offer_update_draft(
        user=world.pro, offer=offer, terms_data=examples.completion_fund(), expires_on=None
    )
    offer.refresh_from_db()
    assert offer.expires_on is None
