"""`make run`'s embedded default, for real, started by `make run` (tests.live): a fresh SQLite database,
the seeded demo, the ASGI server (uvicorn), a Celery worker and beat on the file-system broker.

Proves the home page, /favicon.ico and /api/schema/ answer, without a server header; a demo professional
logs in with password and TOTP over the pages and over allauth's headless API and sees their session's
films; an admin's decision reaches the applicant by email through the real worker; and the same in
Chromium.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import httpx
import pytest

from festival import demo_data
from tests.conftest import totp_code
from tests.live import CHROMIUM, CHROMIUM_FLAGS, needs_chromium, person

pytestmark = pytest.mark.slow


def _csrf(html: str) -> str:
    match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)
    assert match, "no CSRF token in the form"
    return match.group(1)


def test_home_and_schema(server: tuple[str, Path]) -> None:
    base, _ = server
    home = httpx.get(base + "/")
    assert home.status_code == 200 and "Toulouse" in home.text
    assert "server" not in home.headers
    for icon, kind in (("/favicon.ico", "image/x-icon"), ("/apple-touch-icon.png", "image/png")):
        answer = httpx.get(base + icon)
        assert answer.status_code == 200 and answer.headers["content-type"] == kind
        assert len(answer.content) > 100
    schema = httpx.get(base + "/api/schema/", headers={"Accept": "application/vnd.oai.openapi+json"})
    assert schema.status_code == 200 and "/api/films/" in schema.json()["paths"]


def test_professional_logs_in_with_totp_on_the_pages_and_sees_films(server: tuple[str, Path]) -> None:
    base, _ = server
    guest = person("professional", 0)
    with httpx.Client(base_url=base, follow_redirects=False) as client:
        login = client.get("/accounts/login/")
        step = client.post(
            "/accounts/login/",
            data={
                "csrfmiddlewaretoken": _csrf(login.text),
                "login": guest["email"],
                "password": demo_data.DEMO_PASSWORD,
            },
        )
        assert step.status_code == 302 and step.headers["location"] == "/accounts/2fa/authenticate/"
        mfa = client.get("/accounts/2fa/authenticate/")
        done = client.post(
            "/accounts/2fa/authenticate/",
            data={"csrfmiddlewaretoken": _csrf(mfa.text), "code": totp_code(demo_data.DEMO_TOTP_SECRET)},
        )
        assert done.status_code == 302
        films = client.get("/films/")
        assert films.status_code == 200
        toulouse_titles = [f["title"] for f in demo_data.FILMS if f["session"] == "toulouse"]
        for title in toulouse_titles:
            assert title.replace("'", "&#x27;") in films.text


def _headless_login(base: str, email: str) -> str:
    start = httpx.post(
        base + "/_allauth/app/v1/auth/login", json={"email": email, "password": demo_data.DEMO_PASSWORD}
    )
    assert start.status_code == 401, start.text
    body = start.json()
    assert any(flow["id"] == "mfa_authenticate" and flow.get("is_pending") for flow in body["data"]["flows"])
    token = body["meta"]["session_token"]
    done = httpx.post(
        base + "/_allauth/app/v1/auth/2fa/authenticate",
        json={"code": totp_code(demo_data.DEMO_TOTP_SECRET)},
        headers={"X-Session-Token": token},
    )
    assert done.status_code == 200, done.text
    return str(done.json()["meta"]["session_token"])


def test_api_login_with_totp_then_films_and_admin_decision_emails_through_the_worker(
    server: tuple[str, Path],
) -> None:
    base, var = server
    token = _headless_login(base, person("professional", 1)["email"])
    films = httpx.get(base + "/api/films/", headers={"X-Session-Token": token})
    assert films.status_code == 200
    assert len(films.json()["results"]) >= 6

    admin_token = _headless_login(base, person("admin")["email"])
    pending = httpx.get(
        base + "/api/accreditations/?status=pending", headers={"X-Session-Token": admin_token}
    )
    applicant = person("applicant")
    accreditation = next(a for a in pending.json()["results"] if a["user_email"] == applicant["email"])
    rejected = httpx.post(
        f"{base}/api/accreditations/{accreditation['id']}/reject/",
        json={"reason": "Please apply on behalf of your company"},
        headers={"X-Session-Token": admin_token},
    )
    assert rejected.status_code == 200, rejected.text

    def decision_sent() -> bool:  # the worker prints emails (console backend) into `make run`'s output
        output = (var / "make-run.out").read_text(errors="replace")
        return applicant["email"] in output and "apply on behalf of your company" in output

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not decision_sent():
        time.sleep(0.3)
    assert decision_sent(), "the worker did not send the decision email"


@needs_chromium
def test_in_a_real_browser_login_with_totp_and_a_clear_refusal(server: tuple[str, Path]) -> None:
    """Chromium, driven by Playwright: a professional signs in with TOTP in Spanish and sees the films;
    the applicant, whose accreditation is pending (or rejected), gets a page saying why there is nothing."""
    from playwright.sync_api import sync_playwright

    base, _ = server
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS)
        try:
            for someone, expect_films in ((person("professional", 2), True), (person("applicant"), False)):
                context = browser.new_context(locale="es")
                page = context.new_page()
                page.goto(base + "/accounts/login/")
                page.fill("input[name=login]", someone["email"])
                page.fill("input[name=password]", demo_data.DEMO_PASSWORD)
                page.click("main button[type=submit]")
                page.fill("input[name=code]", totp_code(demo_data.DEMO_TOTP_SECRET))
                page.click("main button[type=submit]")
                page.wait_for_url(base + "/dashboard/")
                assert page.locator("html").get_attribute("lang") == "es"
                page.goto(base + "/films/")
                cards = page.locator("article.film")
                if expect_films:
                    assert cards.count() >= 6
                    assert (
                        page.locator("article.film img.poster").first.evaluate("img => img.naturalWidth") > 0
                    )
                else:
                    assert cards.count() == 0
                    assert "acreditación" in page.locator("main").inner_text().lower()
                context.close()
        finally:
            browser.close()
