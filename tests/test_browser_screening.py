"""Journeys 2 to 4 in Debian's Chromium, against the embedded server with a real Celery worker.

The producer restricts the audience and uploads a new cut (resumable uploader, live progress over the
WebSocket, packaged by the worker); a professional of a refused category reads why; an allowed one
watches: the video plays (currentTime advances) under a visible watermark with their identity; the
producer then reads the viewing report.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from screening.media.binary import ffmpeg_binary
from tests.live import CHROMIUM, CHROMIUM_FLAGS, _start_server, browser_login, needs_chromium, person

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
            # Each part takes a few seconds to go up, as a large file's parts do: the page's live list sees
            # the new cut meanwhile and must not reload the page under the upload (which aborted it).
            def slow_part(route: Any) -> None:
                time.sleep(3)
                route.continue_()

            producer.route("**/screening/upload-part/**", slow_part)
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


# --- Issue 11, item 2: a screener much longer than (player buffer + URL lifetime) plays to its end -----

PLAYER_BUFFER_SECONDS = 60  # player.js: BUFFER_SECONDS, the most hls.js keeps ahead
URL_TTL_SECONDS = 5
GRANT_TTL_SECONDS = 30  # shorter than the film: heartbeats keep the grant alive
LONG_SECONDS = 4 * (PLAYER_BUFFER_SECONDS + URL_TTL_SECONDS) + 20  # 280 s, 140 segments of 2 s


@pytest.fixture(scope="module")
def server_with_short_lifetimes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """The embedded server with every lifetime shortened (settings read from the environment) and 2 s
    segments, so that a cheap screener is long in segments and outlives every lifetime several times."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SCREENING_URL_TTL_SECONDS", str(URL_TTL_SECONDS))
        patch.setenv("SCREENING_GRANT_TTL_SECONDS", str(GRANT_TTL_SECONDS))
        patch.setenv("SCREENING_SEGMENT_SECONDS", "2")
        patch.setenv("SCREENING_HEARTBEAT_SECONDS", "5")
        yield from _start_server(tmp_path_factory)


def _long_clip(path: Path) -> Path:
    """A tiny, low frame rate testsrc2 with a tone: long in time, cheap to make and to package."""
    subprocess.run(
        [
            ffmpeg_binary(),
            *("-loglevel", "error", "-y"),
            *("-f", "lavfi", "-i", f"testsrc2=size=320x180:rate=10:duration={LONG_SECONDS}"),
            *("-f", "lavfi", "-i", f"sine=duration={LONG_SECONDS}"),
            *("-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac", "-b:a", "32k"),
            str(path),
        ],
        check=True,
    )
    return path


def _wait_position(page: Any, seconds: float, timeout_ms: int = 120_000) -> None:
    page.wait_for_function(
        "(s) => document.querySelector('video').currentTime > s", arg=seconds, timeout=timeout_ms
    )


def _seek(page: Any, seconds: float) -> None:
    """Seek with the player's own bar, as a viewer drags it."""
    page.evaluate(
        """(s) => { const bar = document.querySelector('[data-control=seek]');
                    bar.value = String(s); bar.dispatchEvent(new Event('change')); }""",
        seconds,
    )


def test_a_long_screener_plays_to_its_end_with_seeks_under_one_mark(
    server_with_short_lifetimes: tuple[str, Path], tmp_path: Path
) -> None:
    from playwright.sync_api import sync_playwright

    base, _ = server_with_short_lifetimes
    clip = _long_clip(tmp_path / "feature.mp4")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS)
        try:
            producer = browser_login(browser, base, "juliana.ospina@demo.example", "en")
            film_url = _first_toulouse_film(producer, base)
            producer.click("text=Screener and viewing reports")
            producer.set_input_files("[data-uploader] input[type=file]", str(clip))
            producer.click("[data-uploader] button[type=submit]")
            producer.wait_for_function(
                "() => [...document.querySelectorAll('[data-cut] [data-field=status]')]"
                ".some(e => e.classList.contains('status-ready'))",
                timeout=240_000,
            )

            viewer_person = person("professional", 0)
            viewer = browser_login(browser, base, viewer_person["email"], "en")
            viewer.goto(film_url.rstrip("/") + "/watch/")
            # Before a stream: no mark, no controls; the video has no native controls (no second,
            # greyed-out full-screen button).
            assert viewer.locator(".watermark").is_hidden()
            assert viewer.evaluate("() => document.querySelector('video').controls") is False
            viewer.click("[data-action=start]")
            viewer.wait_for_function("() => document.querySelector('video').currentTime > 1", timeout=60_000)
            duration = viewer.evaluate("() => document.querySelector('video').duration")
            assert duration >= LONG_SECONDS - 2
            viewer.evaluate("() => { document.querySelector('video').playbackRate = 4; }")

            # The one full-screen control takes the frame, so the mark stays on the picture.
            viewer.click("[data-action=fullscreen]")
            viewer.wait_for_function("() => document.fullscreenElement?.classList.contains('player-frame')")
            assert viewer.evaluate(
                "() => document.fullscreenElement.contains(document.querySelector('.watermark'))"
            )
            assert viewer.locator(".watermark").is_visible()
            assert viewer_person["email"] in viewer.locator(".watermark").inner_text()
            viewer.click("[data-action=fullscreen]")
            viewer.wait_for_function("() => document.fullscreenElement === null")

            _wait_position(viewer, 30)
            _seek(viewer, duration * 0.7)  # forward, far beyond the buffer
            _wait_position(viewer, duration * 0.7 + 10)
            _seek(viewer, 110)  # back, to a part not buffered, minutes after the playlist was read
            _wait_position(viewer, 115)
            assert viewer.evaluate("() => document.querySelector('video').currentTime") < duration * 0.7
            viewer.wait_for_function("() => document.querySelector('video').ended", timeout=240_000)
            assert viewer.locator(".player-status").inner_text().strip() == ""
            assert viewer.locator(".player-cover").is_hidden()
            played = viewer.evaluate(
                """() => { const p = document.querySelector('video').played; let total = 0;
                           for (let i = 0; i < p.length; i += 1) total += p.end(i) - p.start(i);
                           return total; }"""
            )
            assert played >= duration * 0.6  # 0-30 s, then from 110 s to the end

            # Starting on another device ends this stream: the cover comes back without the old mark.
            other = browser.new_context(
                locale="en",
                viewport={"width": 800, "height": 600},
                storage_state=viewer.context.storage_state(),
            )
            phone = other.new_page()
            phone.context.clear_cookies(name="fip_device")
            phone.goto(film_url.rstrip("/") + "/watch/")
            phone.click("[data-action=start]")
            phone.wait_for_function("() => document.querySelector('video').currentTime > 0.5", timeout=60_000)
            viewer.wait_for_selector(".player-cover:not([hidden])", timeout=30_000)
            assert "another device" in viewer.locator(".player-status").inner_text()
            assert viewer.locator(".watermark").is_hidden()
            assert viewer.locator(".watermark").inner_text().strip() == ""
        finally:
            browser.close()
