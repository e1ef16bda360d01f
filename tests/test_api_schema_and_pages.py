"""The OpenAPI schema, the interactive docs, and the public pages answer; security headers are set."""

from __future__ import annotations

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def test_openapi_schema_lists_the_api() -> None:
    response = Client().get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    for path in (
        "/api/films/",
        "/api/films/{id}/needs/",
        "/api/accreditations/{id}/approve/",
        "/api/sessions/",
        "/api/organisations/",
        "/api/me/",
    ):
        assert path in schema["paths"], path


def test_interactive_docs_are_served_without_a_cdn() -> None:
    response = Client().get("/api/docs/")
    assert response.status_code == 200
    assert "swagger-ui" in response.content.decode()
    assert "cdn." not in response.content.decode()


@pytest.mark.parametrize("language", ["es", "fr", "en"])
def test_home_page_in_three_languages(language: str) -> None:
    from django.utils import translation

    with translation.override(language):
        headline = translation.gettext("Latin-American films in progress, from screening to signed support")
    assert (headline == "Latin-American films in progress, from screening to signed support") == (
        language == "en"
    )
    response = Client().get("/", HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 200
    assert f'<html lang="{language}">' in response.content.decode()
    assert headline in response.content.decode()


def test_security_headers() -> None:
    response = Client().get("/")
    assert "frame-ancestors 'self'" in response["Content-Security-Policy"]
    assert response["X-Content-Type-Options"] == "nosniff"
    api = Client().get("/api/films/")
    assert api["Cache-Control"] == "no-store"


def test_language_switcher_sets_the_language() -> None:
    client = Client()
    client.post("/i18n/setlang/", {"language": "fr", "next": "/"})
    assert '<html lang="fr">' in client.get("/").content.decode()
