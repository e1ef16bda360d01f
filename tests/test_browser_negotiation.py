"""Journey 5 in Debian's Chromium: a producer and a professional, in two browser contexts and two
languages, negotiate live over the WebSocket and end in an agreement whose deal memo opens."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from tests.live import CHROMIUM, CHROMIUM_FLAGS, browser_login, needs_chromium

pytestmark = [pytest.mark.slow, needs_chromium]
PRODUCER = "juliana.ospina@demo.example"  # Keep Your Guard Up
PROFESSIONAL = "camille.rouviere@demo.example"  # Ciné-Passerelle, whose distribution offer is under way


def test_a_live_counter_offer_ends_in_an_agreement(server: tuple[str, Path]) -> None:
    from playwright.sync_api import expect, sync_playwright

    base, _ = server
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS)
        try:
            producer = browser_login(browser, base, PRODUCER, "es-ES")
            professional = browser_login(browser, base, PROFESSIONAL, "fr-FR")
            professional.on("dialog", lambda dialog: dialog.accept())  # the confirmation before accepting
            offers = professional.request.get(base + "/api/offers/").json()
            offers = offers["results"] if isinstance(offers, dict) else offers
            live = next(o for o in offers if o["status"] == "submitted" and o["kind"] == "distribution")
            url = f"{base}/offers/{live['id']}/"

            producer.goto(url)
            professional.goto(url)
            for page in (producer, professional):
                expect(page.locator("[data-connection]")).not_to_have_class(re.compile("error"))
                expect(page.locator(".event-counter")).to_have_count(1)  # the demo's version 2
            # Each sees the other online
            expect(producer.locator(".presence li.online")).to_have_count(2)
            _follows_the_newest_event(producer, professional)

            # A message from the professional appears live on the producer's page
            professional.fill("[data-composer] textarea", "D'accord pour 23 000 € ?")
            professional.click("[data-composer] button[type=submit]")
            expect(producer.locator(".event-message .event-body").last).to_have_text(
                "D'accord pour 23 000 € ?"
            )

            # The producer counters: the minimum guarantee becomes EUR 23,000 (version 3)
            producer.click('[data-action="counter"]')
            dialog = producer.locator("[data-counter-dialog]")
            expect(dialog).to_be_visible()
            amount = dialog.locator(".terms-amount").first
            expect(amount).to_have_value("25000.00")  # the minimum guarantee of version 2
            amount.fill("23000")
            dialog.locator("textarea[name=body]").fill("Hecho: 23 000 €.")
            dialog.locator("[data-counter-send]").click()
            expect(dialog).to_be_hidden()

            # The professional sees version 3 live, with what changed, and accepts it
            counter = professional.locator(".event-counter").last
            expect(counter).to_contain_text("3")
            changes = counter.locator(".changes")  # as the terms read: the guarantee's line, before and after
            expect(changes.locator("del").first).to_contain_text(re.compile(r"25[\s\u202f.,]?000"))
            expect(changes.locator("ins").first).to_contain_text(re.compile(r"23[\s\u202f.,]?000"))
            accept = professional.locator('[data-action="accept"]')
            expect(accept).to_be_visible()
            expect(accept).to_contain_text("3")
            accept.click()

            for page in (producer, professional):
                expect(page.locator("[data-status]")).to_have_class(re.compile("status-accepted"))
                expect(page.locator("[data-agreement]")).to_be_visible()
            expect(producer.locator("[data-composer]")).to_be_hidden()

            # The deal memo opens for both, with the terms' hash, and its PDF downloads
            professional.click("[data-agreement-link]")
            professional.wait_for_url(re.compile(r"/agreements/[0-9a-f-]+/$"))
            digest = (
                professional.locator("code").filter(has_text=re.compile(r"^[0-9a-f]{64}$")).first.inner_text()
            )
            producer.click("[data-agreement-link]")
            expect(producer.locator("body")).to_contain_text(digest)
            pdf = professional.request.get(professional.url + "memo.pdf")
            assert pdf.status == 200 and pdf.body().startswith(b"%PDF")
        finally:
            browser.close()


def _follows_the_newest_event(producer: Any, professional: Any) -> None:
    """New events below the fold: followed while the reader is at the foot of the list; once they scroll
    up, the list stays where they read and a button counts what arrived below."""
    from playwright.sync_api import expect

    at_foot = (
        "(l => l.scrollHeight - l.scrollTop - l.clientHeight < 40)(document.querySelector('[data-events]'))"
    )
    events = producer.locator("[data-events]")

    def post(body: str) -> None:  # through the other party's composer, as a person would
        professional.fill("[data-composer] textarea", body)
        professional.click("[data-composer] button[type=submit]")
        expect(producer.locator(".event-message .event-body").last).to_have_text(body)

    for n in range(8):  # enough to overflow the list, within the per-user burst
        post(f"Mensaje {n} " + "largo " * 40)
    producer.wait_for_function(at_foot)  # followed
    expect(producer.locator("[data-new-events]")).to_be_hidden()

    events.evaluate("l => { l.scrollTop = 0; }")
    post("Mientras leías")
    post("Y otro más")
    button = producer.locator("[data-new-events]")
    expect(button).to_be_visible()
    expect(button).to_contain_text("2")
    assert not producer.evaluate(at_foot)  # the reader stays where they were reading
    button.click()
    expect(button).to_be_hidden()
    producer.wait_for_function(at_foot)
