"""Each party of a deal downloads the signed audit checkpoint that covers their agreement (audit.checkpoints),
published when the agreement was recorded; whoever else asks gets the memo's 404."""

from __future__ import annotations

import uuid

import pytest
from django.urls import reverse

from audit.checkpoints import checkpoint_verify
from audit.models import AuditCheckpoint, AuditEntry
from offers.models import Agreement
from offers.services import negotiation
from tests.conftest import World, logged_in_client, make_user
from tests.offers.conftest import submitted_offer

pytestmark = pytest.mark.django_db(transaction=True)  # the checkpoint is published on commit


@pytest.fixture
def agreement(world: World) -> Agreement:
    offer = submitted_offer(world)
    version = offer.versions.get(number=1)
    return negotiation.thread_accept(
        user=world.producer, offer=offer, version=1, terms_hash=version.terms_hash
    )


def _url(agreement: Agreement) -> str:
    return reverse("offers:agreement-checkpoint", args=[agreement.public_id])


@pytest.mark.parametrize("who", ["pro", "producer", "admin"])
def test_each_party_and_an_admin_download_a_checkpoint_that_covers_the_deal(
    world: World, agreement: Agreement, who: str
) -> None:
    response = logged_in_client(getattr(world, who)).get(_url(agreement))
    assert response.status_code == 200 and response["Cache-Control"] == "no-store"
    assert "attachment" in response["Content-Disposition"]
    document = response.json()
    recorded = AuditEntry.objects.get(action="agreement.recorded", target_id=str(agreement.pk))
    assert document["seq"] >= recorded.seq
    assert checkpoint_verify(document=document).ok
    memo = logged_in_client(getattr(world, who)).get(
        reverse("offers:agreement-memo", args=[agreement.public_id])
    )
    assert _url(agreement) in memo.content.decode()


def test_outsiders_get_the_memos_404_and_a_deal_not_yet_covered_is_404_too(
    world: World, agreement: Agreement
) -> None:
    outsider = logged_in_client(make_user("outsider@elsewhere.example"))
    assert outsider.get(_url(agreement)).status_code == 404
    assert logged_in_client(world.pro).get(f"/agreements/{uuid.uuid4()}/checkpoint.json").status_code == 404
    assert logged_in_client(world.other_producer).get(_url(agreement)).status_code == 404
    AuditCheckpoint.objects.all().delete()
    assert logged_in_client(world.pro).get(_url(agreement)).status_code == 404
    assert logged_in_client(world.unverified).get(_url(agreement)).status_code == 403
