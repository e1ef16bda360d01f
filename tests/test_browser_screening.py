"""Journeys 2 to 4 in Debian's Chromium, against the embedded server with a real Celery worker.

The producer restricts the audience and uploads a new cut (resumable uploader, live progress over the
WebSocket, packaged by the worker); a professional of a refused category reads why; an allowed one
watches: the video plays (currentTime advances) under a visible watermark with their identity; the
producer then reads the viewing report.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest

from screening.media.binary import ffmpeg_binary
from tests.live import CHROMIUM, CHROMIUM_FLAGS, browser_login, needs_chromium, person

pytestmark = [pytest.mark.slow, needs_chromium]


def _first_toulouse_film(page: Any, base: str) -> str:
    page.goto(base + "/films/")
    page.locator("article.film h3 a").first.click()
    page.wait_for_load_state()
    return str(page.url)


def test_restrict_upload_watch_and_report(server_with_screener: tuple[str, Path], tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    base, _ = server_with_screener
    producer_email = "juliana.ospina@demo.example"
    clip = tmp_path / "fine-cut-v2.mp4"
    subprocess.run(
        [
            ffmpeg_binary(),
            "-loglevel",
            "error",
            "-y",
            "-f",
            "lavfi",
            "-i",
            "testsrc2=size=640x360:rate=25:duration=4",
            "-f",
            "lavfi",
            "-i",
            "sine=duration=4",
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-pix_fmt",
            "yuv420p",
            "-c:a",
            "aac",
            str(clip),
        ],
        check=True,
    )
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS)
        try:
            # The producer opens the screener desk and lets every category but post-production houses watch.
            producer = browser_login(browser, base, producer_email, "en")
            film_url = _first_toulouse_film(producer, base)
            producer.click("text=Screener and viewing reports")
            for value in ("distributor", "world_sales", "fund", "programmer", "broadcaster", "press"):
                producer.check(f"input[name=allowed_categories][value={value}]")
            producer.click("form.stacked >> text=Save the rules")
            producer.wait_for_selector("text=Audience rules saved.")

            # ...and uploads a new cut: progress bar, then the worker packages it and the row turns Published.
            producer.set_input_files("[data-uploader] input[type=file]", str(clip))
            producer.click("[data-uploader] button[type=submit]")
            producer.wait_for_function(
                "() => [...document.querySelectorAll('[data-cut] [data-field=status]')]"
                ".filter(e => e.classList.contains('status-ready')).length >= 2",
                timeout=120_000,
            )
            producer.wait_for_load_state()
            producer.wait_for_function("() => document.querySelectorAll('tr[data-cut]').length === 2")

            # A post-production house is refused, with the reason in its own language.
            refused = browser_login(browser, base, person("professional", 3)["email"], "fr")
            response = refused.goto(film_url.rstrip("/") + "/watch/")
            assert response is not None and response.status == 403
            assert "catégorie" in refused.locator(".refused .reason").inner_text()

            # A distributor watches: the stream plays under the watermark.
            viewer_person = person("professional", 0)
            viewer = browser_login(browser, base, viewer_person["email"], "es")
            viewer.goto(film_url.rstrip("/") + "/watch/")
            viewer.click("[data-action=start]")
            viewer.wait_for_function(
                "() => document.querySelector('video').currentTime > 1.5", timeout=60_000
            )
            mark = viewer.locator(".watermark")
            assert mark.is_visible()
            assert viewer_person["email"] in mark.inner_text()
            assert viewer.locator(".player-cover").is_hidden()
            viewer.evaluate("() => document.querySelector('video').pause()")  # sends a heartbeat
            viewer.wait_for_timeout(1000)

            # The producer's report shows who watched, with the curve.
            producer.goto(base + "/films/")
            producer.goto(film_url)
            producer.click("text=Screener and viewing reports")
            producer.locator("a", has_text="Viewing report").first.click()  # the newest cut, now current
            producer.wait_for_load_state()
            assert viewer_person["email"] in producer.content()
            assert producer.locator("svg polyline").count() == 1
        finally:
            browser.close()
