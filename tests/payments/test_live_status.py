"""Live payment status over a real WebSocket (Channels' communicator on the project's ASGI app): the
parties and admins see an instalment change as soon as the database says so; everyone else gets the same
close code as for an agreement that does not exist."""

from __future__ import annotations

import sqlite3
import uuid
from pathlib import Path
from typing import Any

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.utils import timezone, translation

from accounts.models import Membership
from config.asgi import application
from offers.models import Agreement
from payments.models import Instalment, InstalmentStatus
from tests.conftest import World, make_user
from tests.live import CHROMIUM, CHROMIUM_FLAGS, browser_login, needs_chromium


def over_the_socket(test: Any) -> Any:
    """The consumer reads the database from other threads: a transactional test database, and those
    threads' connections closed afterwards."""
    for mark in (
        pytest.mark.django_db(transaction=True),
        pytest.mark.usefixtures("close_thread_connections"),
    ):
        test = mark(test)
    return test


def _communicator(
    user: Any, public_id: uuid.UUID, origin: bytes = b"http://testserver"
) -> WebsocketCommunicator:
    communicator = WebsocketCommunicator(
        application,
        f"/ws/agreements/{public_id}/payments/",
        headers=[(b"origin", origin), (b"host", b"testserver")],
    )
    communicator.scope["user"] = user
    return communicator


def _instalments(agreement: Agreement) -> list[Instalment]:
    return list(Instalment.objects.filter(schedule__agreement=agreement).order_by("number"))


@over_the_socket
@pytest.mark.parametrize("who", ["pro", "producer", "admin"])
async def test_parties_and_admins_see_a_payment_change_live(
    world: World, agreement: Agreement, who: str
) -> None:
    first, second = await database_sync_to_async(_instalments)(agreement)
    communicator = _communicator(getattr(world, who), agreement.public_id)
    connected, _code = await communicator.connect()
    assert connected
    initial = await communicator.receive_json_from(timeout=5)
    assert initial["type"] == "instalments" and initial["disputed"] is False
    assert [(i["id"], i["status"]) for i in initial["instalments"]] == [
        (first.pk, "due"),
        (second.pk, "scheduled"),
    ]
    assert initial["instalments"][0]["status_label"] == "Due" and initial["instalments"][0]["paid_at"] is None

    # Stripe's webhook fails the payment in another process: the database says so, the socket follows
    await database_sync_to_async(Instalment.objects.filter(pk=first.pk).update)(
        status=InstalmentStatus.FAILED, failure_reason="Your card was declined."
    )
    update = await communicator.receive_json_from(timeout=5)
    assert update["instalments"][0] == {
        "id": first.pk,
        "status": "failed",
        "status_label": "Payment failed",
        "failure_reason": "Your card was declined.",
        "paid_at": None,
    }

    paid_at = timezone.now()
    await database_sync_to_async(Instalment.objects.filter(pk=first.pk).update)(
        status=InstalmentStatus.PAID, failure_reason="", paid_at=paid_at
    )
    update = await communicator.receive_json_from(timeout=5)
    assert update["instalments"][0]["status"] == "paid"
    assert update["instalments"][0]["paid_at"] == paid_at.isoformat()
    assert update["instalments"][1]["status"] == "scheduled"
    await communicator.disconnect()


@over_the_socket
async def test_nothing_is_pushed_while_nothing_changes(world: World, agreement: Agreement) -> None:
    communicator = _communicator(world.pro, agreement.public_id)
    assert (await communicator.connect())[0]
    await communicator.receive_json_from(timeout=5)
    assert await communicator.receive_nothing(timeout=2.5)  # two polls, no news
    await communicator.disconnect()


@over_the_socket
async def test_labels_follow_the_readers_language(world: World, agreement: Agreement) -> None:
    reader = await database_sync_to_async(make_user)("lectora@cinesur.example", language="es")
    await database_sync_to_async(Membership.objects.create)(user=reader, organisation=world.distributor_org)
    communicator = _communicator(reader, agreement.public_id)
    assert (await communicator.connect())[0]
    initial = await communicator.receive_json_from(timeout=5)
    with translation.override("es"):
        expected = str(InstalmentStatus.DUE.label)
    assert initial["instalments"][0]["status_label"] == expected
    await communicator.disconnect()


@over_the_socket
async def test_a_message_gets_an_error_frame_and_the_socket_stays_open(
    world: World, agreement: Agreement
) -> None:
    first = (await database_sync_to_async(_instalments)(agreement))[0]
    communicator = _communicator(world.producer, agreement.public_id)
    assert (await communicator.connect())[0]
    await communicator.receive_json_from(timeout=5)
    await communicator.send_to(text_data="not json at all")
    error = await communicator.receive_json_from(timeout=5)
    assert error["type"] == "error"
    await communicator.send_json_to({"action": "pay", "instalment": first.pk})
    assert (await communicator.receive_json_from(timeout=5))["type"] == "error"
    await database_sync_to_async(Instalment.objects.filter(pk=first.pk).update)(
        status=InstalmentStatus.PROCESSING
    )
    update = await communicator.receive_json_from(timeout=5)
    assert update["instalments"][0]["status"] == "processing"  # still following
    await communicator.disconnect()


@over_the_socket
@pytest.mark.parametrize("who", ["other_producer", "stranger", "no_mfa", "unverified"])
async def test_outsiders_get_the_same_answer_as_for_a_missing_agreement(
    world: World, agreement: Agreement, who: str
) -> None:
    if who == "stranger":
        user = await database_sync_to_async(make_user)("stranger@elsewhere.example")
    else:
        user = getattr(world, who)
    communicator = _communicator(user, agreement.public_id)
    connected, code = await communicator.connect()
    assert not connected and code == 4404
    missing = _communicator(world.pro, uuid.uuid4())
    connected, code = await missing.connect()
    assert not connected and code == 4404


@over_the_socket
async def test_a_foreign_origin_is_refused(world: World, agreement: Agreement) -> None:
    communicator = _communicator(world.pro, agreement.public_id, origin=b"http://evil.example")
    connected, _code = await communicator.connect()
    assert not connected


@over_the_socket
async def test_a_party_removed_from_the_company_stops_following(
    world: World, agreement: Agreement, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("payments.consumers.PaymentStatusConsumer.RECHECK_POLLS", 1)
    communicator = _communicator(world.pro, agreement.public_id)
    assert (await communicator.connect())[0]
    await communicator.receive_json_from(timeout=5)
    await database_sync_to_async(Membership.objects.filter(user=world.pro).delete)()
    closed = await communicator.receive_output(timeout=5)
    assert closed == {"type": "websocket.close", "code": 4404}


# --- the page's script, in Debian's Chromium against the embedded server ---------------------------------

PAYER = "sanne.verhoeven@demo.example"  # the demo's completion fund, paying The Heart of the Water


@pytest.mark.slow
@needs_chromium
def test_the_schedule_page_follows_the_payment_live(server: tuple[str, Path]) -> None:
    """Stripe's news reaches the database (here written directly, as another process would): the open
    page's badge, Stripe's reason and its buttons follow without a reload."""
    from playwright.sync_api import expect, sync_playwright

    base, var = server
    database = sqlite3.connect(var / "db.sqlite3")
    try:
        (public_hex,) = database.execute(
            "SELECT public_id FROM offers_agreement WHERE kind = 'completion_fund'"
        ).fetchone()
        (instalment_id,) = database.execute(
            "SELECT i.id FROM payments_instalment i JOIN payments_paymentschedule s ON i.schedule_id = s.id"
            " JOIN offers_agreement a ON s.agreement_id = a.id"
            " WHERE a.public_id = ? AND i.status = 'due' ORDER BY i.number",
            (public_hex,),
        ).fetchone()
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS)
            try:
                page = browser_login(browser, base, PAYER, "en-US")
                page.goto(f"{base}/agreements/{uuid.UUID(hex=public_hex)}/payments/")
                row = page.locator(f'[data-instalment="{instalment_id}"]')
                expect(row.locator("[data-field=status]")).to_have_text("Due")
                expect(row.locator('[data-action="pay"]')).to_have_text("Pay")
                page.wait_for_timeout(1500)  # the socket is open and has sent its first state

                with database:
                    database.execute(
                        "UPDATE payments_instalment SET status = 'failed', failure_reason = ? WHERE id = ?",
                        ("Your card was declined.", instalment_id),
                    )
                expect(row.locator("[data-field=status]")).to_have_text("Payment failed")
                expect(row.locator("[data-field=reason]")).to_have_text("Your card was declined.")
                expect(page.locator(f'[data-instalment="{instalment_id}"] [data-action="pay"]')).to_have_text(
                    "Retry payment"
                )

                with database:
                    database.execute(
                        "UPDATE payments_instalment SET status = 'paid', failure_reason = '',"
                        " paid_at = CURRENT_TIMESTAMP WHERE id = ?",
                        (instalment_id,),
                    )
                fresh = page.locator(f'[data-instalment="{instalment_id}"]')
                expect(fresh.locator("[data-field=status]")).to_have_text("Paid")
                expect(fresh.locator('[data-action="receipt"]')).to_be_visible()
                expect(fresh.locator('[data-action="pay"]')).to_have_count(0)
            finally:
                browser.close()
    finally:
        database.close()
