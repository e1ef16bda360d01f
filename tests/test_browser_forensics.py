"""A leak traced in Debian's Chromium, against `make run` (the embedded server and its Celery worker).

A producer uploads a demo-like cut of 70 s (2-second segments, 640x360), which the worker packages with
both forensic variants. Three professionals press play; one of them saves their stream as a pirate
would: every segment and its key through the doors, decrypted, joined, and re-encoded at another bitrate.
A festival admin files that copy on the leak-trace page, watches the progress bar, reads the result that
names the right viewer with the evidence chart, and revokes that viewer's access; the viewer's next
request at a door is refused.

Nothing here reads the server's database or its store: the leak is made only from what a viewer
receives, as a real one would be.
"""

from __future__ import annotations

import importlib.util
import json
import re
import subprocess
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import pytest

from screening.forensics.reference import decrypt_segment
from screening.media.binary import ffmpeg_binary
from tests.live import CHROMIUM, CHROMIUM_FLAGS, browser_login, needs_chromium, person

pytestmark = [
    pytest.mark.slow,
    needs_chromium,
    pytest.mark.skipif(
        importlib.util.find_spec("screening.forensics.detect") is None,
        reason="the forensic detector (screening/forensics/detect.py) is not in this checkout yet",
    ),
]

CLIP_SECONDS = 70  # 35 segments: a handful of grants needs about log2(grants) + 20 clear ones
ADMIN = "claire.dufaur@demo.example"
PRODUCER = "juliana.ospina@demo.example"
SEGMENT = re.compile(r"seg_([0-9]{5})\.ts$")
KEY = re.compile(r'URI="([^"]*key/([0-9]{5}))"')


def _demo_like_clip(path: Path) -> Path:
    """What a demo screener looks like (a moving test pattern on a picture, a tone), made of content that
    never repeats itself (a zoom, drifting gradients, a cellular automaton) so a copy has one place on
    the cut's timeline."""
    graph = (
        f"gradients=s=640x360:r=25:speed=0.02:seed=3:n=4,trim=duration={CLIP_SECONDS}[bg];"
        f"mandelbrot=s=240x200:r=25:maxiter=100:end_scale=0.05:end_pts={25 * CLIP_SECONDS},"
        "format=yuv420p[m];"
        "testsrc2=s=240x135:r=25,format=yuv420p[t];"
        "cellauto=s=120x100:r=25:rule=110:random_seed=9,scale=240:200:flags=neighbor,format=yuv420p[c];"
        "[bg][m]overlay=x=40:y=60[v1];[v1][t]overlay=x=360:y=40[v2];[v2][c]overlay=x=360:y=190,"
        "format=yuv420p[v]"
    )
    subprocess.run(
        [
            ffmpeg_binary(),
            *("-hide_banner", "-loglevel", "error", "-nostdin", "-y"),
            *("-filter_complex", graph),
            *("-f", "lavfi", "-i", f"sine=frequency=440:duration={CLIP_SECONDS}"),
            *("-map", "[v]", "-map", "0:a", "-t", str(CLIP_SECONDS)),
            *("-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p", "-c:a", "aac", "-b:a", "64k"),
            str(path),
        ],
        check=True,
        timeout=300,
    )
    return path


def _csrf(page: Any) -> str:
    return next(c["value"] for c in page.context.cookies() if c["name"] == "csrftoken")


def _press_play(page: Any, watch_url: str) -> dict[str, Any]:
    """What the player does on Start: the watch page (it sets the device cookie), then a grant."""
    page.goto(watch_url)
    grant_url = page.locator("[data-player]").get_attribute("data-grant-url")
    response = page.request.post(urljoin(page.url, grant_url), headers={"X-CSRFToken": _csrf(page)})
    assert response.status == 201, response.text()
    return dict(response.json())


def _save_stream(page: Any, base: str, grant: dict[str, Any], out: Path) -> tuple[Path, str]:
    """A pirate's copy of one grant's stream: every segment and its key fetched through the doors with
    the viewer's own session, decrypted, joined, and re-encoded at another bitrate. Also returns the
    first segment's door, to knock on later."""
    master_url = urljoin(base + "/", grant["master_url"])
    master = page.request.get(master_url)
    assert master.status == 200
    media_url = urljoin(
        master_url, next(line for line in master.text().splitlines() if line and line[0] != "#")
    )
    playlist = page.request.get(media_url)
    assert playlist.status == 200
    text = playlist.text()
    keys = {int(index): urljoin(media_url, uri) for uri, index in KEY.findall(text)}
    segments = [
        urljoin(media_url, line) for line in text.splitlines() if SEGMENT.search(line) and line[0] != "#"
    ]
    joined = out.with_suffix(".ts")
    with joined.open("wb") as handle:
        for url in segments:
            index = int(SEGMENT.search(url).group(1))  # type: ignore[union-attr]
            segment, key = page.request.get(url), page.request.get(keys[index])
            assert segment.status == 200 and key.status == 200, (url, segment.status, key.status)
            handle.write(decrypt_segment(segment.body(), key.body(), index))
    assert len(segments) == len(keys) >= CLIP_SECONDS // 2
    subprocess.run(
        [
            ffmpeg_binary(),
            *("-hide_banner", "-loglevel", "error", "-nostdin", "-y", "-i", str(joined)),
            *("-map", "0:v:0", "-c:v", "libx264", "-preset", "veryfast", "-b:v", "450k", "-an", str(out)),
        ],
        check=True,
        timeout=300,
    )
    return out, segments[0]


def test_a_leaked_copy_is_traced_to_its_viewer_who_is_revoked(
    server: tuple[str, Path], tmp_path: Path
) -> None:
    from playwright.sync_api import sync_playwright

    base, _var = server
    clip = _demo_like_clip(tmp_path / "fine-cut-v3.mp4")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS)
        try:
            # The producer uploads the cut; the worker packages it (both variants of every segment).
            producer = browser_login(browser, base, PRODUCER, "en")
            producer.goto(base + "/films/")
            producer.locator("article.film h3 a").first.click()
            producer.wait_for_load_state()
            film_url = producer.url.rstrip("/") + "/"
            film_id = re.search(r"/films/([0-9]+)/", film_url).group(1)  # type: ignore[union-attr]
            producer.click("text=Screener and viewing reports")
            producer.set_input_files("[data-uploader] input[type=file]", str(clip))
            producer.click("[data-uploader] button[type=submit]")
            producer.wait_for_function(
                "() => [...document.querySelectorAll('[data-cut] [data-field=status]')]"
                ".some(e => e.classList.contains('status-ready'))",
                timeout=600_000,
            )

            # Three professionals press play; the second saves their stream and leaks it.
            viewers = [person("professional", i) for i in range(3)]
            pages, grants = [], []
            for viewer in viewers:
                page = browser_login(browser, base, viewer["email"], "en")
                pages.append(page)
                grants.append(_press_play(page, film_url + "watch/"))
            assert "invisible mark unique to this viewing" in pages[1].content()
            leaker, leaker_page, leaker_grant = viewers[1], pages[1], grants[1]
            leak, door = _save_stream(leaker_page, base, leaker_grant, tmp_path / "leaked-screener.mp4")

            # The admin files the copy and follows its trace.
            admin = browser_login(browser, base, ADMIN, "en")
            admin.click("nav >> text=Leak traces")
            admin.wait_for_load_state()
            admin.select_option("select[name=film]", film_id)
            admin.set_input_files("input[name=file]", str(leak))
            states: list[dict[str, Any]] = []  # what the trace's socket pushes to the page

            def follow(socket: Any) -> None:
                if "/ws/forensics/traces/" in socket.url:
                    socket.on("framereceived", lambda frame: states.append(json.loads(frame)))

            admin.on("websocket", follow)
            admin.click("[data-trace-upload] button[type=submit]")
            admin.wait_for_url(re.compile(r".*/staff/leaks/[0-9a-f-]{36}/$"))
            trace_url = admin.url
            # The progress bar moves live over the socket until the trace is over; the page then reloads
            # itself with the result.
            admin.wait_for_selector("[data-trace-result]", timeout=600_000)
            assert admin.url == trace_url
            assert any(
                s["status"] == "running" and 0 < s["progress"] < 100 and s["stage_label"] for s in states
            )
            assert states[-1]["status"] == "done" and states[-1]["result"] == "named"
            verdict = admin.locator(".verdict").first.inner_text()
            assert verdict.startswith(f"Traced to the viewing of {leaker['full_name']} (")
            assert admin.locator(f"[data-named='{leaker_grant['grant']}']").count() == 1
            assert admin.locator("[data-named]").count() == 1  # nobody else
            assert "below 1 in 10" in admin.locator(f"[data-named='{leaker_grant['grant']}']").inner_text()
            chart = admin.locator("svg[role=img]")
            assert chart.count() == 1 and chart.locator("rect.bar-agree").count() >= 20
            assert chart.locator("rect.bar-disagree").count() < chart.locator("rect.bar-agree").count()
            assert admin.locator(f"tr[data-grant='{grants[0]['grant']}']").count() == 1  # ranked, not named

            # Revoke, confirmed; the page says so and the leaker's next door request is refused.
            admin.check("[data-revoke] input[name=confirm]")
            admin.click("[data-revoke] button[type=submit]")
            admin.wait_for_selector(".message.success")
            assert leaker["email"] in admin.locator(".message.success").inner_text()
            assert admin.locator("[data-revoke]").count() == 0

            refused = leaker_page.request.get(door)
            assert refused.status == 403 and refused.headers.get("x-refusal-code") == "grant_revoked"
            replay = leaker_page.request.post(
                urljoin(
                    leaker_page.url, leaker_page.locator("[data-player]").get_attribute("data-grant-url")
                ),
                headers={"X-CSRFToken": _csrf(leaker_page)},
            )
            assert replay.status == 403, replay.status
            # An innocent viewer still watches.
            assert pages[0].request.get(urljoin(base + "/", grants[0]["master_url"])).status == 200
        finally:
            browser.close()
