"""Offer pages: make an offer (draft, edit, submit, withdraw), my offers, the producers' comparison, the
film page's buttons, and the terms schema the editor draws from. Every refusal; bad input saves nothing."""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from django.db import connections
from django.test import Client
from django.urls import reverse

from accounts.models import Organisation
from audit.models import AuditEntry
from offers.models import Offer, OfferPolicy, OfferStatus, OfferVersion
from offers.services import offers as services
from offers.terms import SCHEMAS, parse_terms
from offers.terms.labels import titled_schema
from tests.conftest import World, accredit, logged_in_client, make_org, make_user
from tests.live import needs_chromium
from tests.offers.terms import examples
from tests.offers.terms.examples import changed

pytestmark = pytest.mark.django_db


def _new_url(world: World) -> str:
    return reverse("offers:new", args=[world.film.pk])


def _post_offer(
    client: Client, url: str, terms: dict[str, Any] | None, *, action: str = "save", **fields: Any
) -> Any:
    data = {"kind": (terms or {}).get("kind", "completion_fund"), "action": action, **fields}
    if terms is not None:
        data["terms"] = json.dumps(terms)
    return client.post(url, data)


def _make(world: World, action: str = "save", terms: dict[str, Any] | None = None) -> Any:
    terms = terms if terms is not None else examples.completion_fund()
    return _post_offer(
        logged_in_client(world.pro),
        _new_url(world),
        terms,
        action=action,
        organisation=world.distributor_org.pk,
    )


def _draft(world: World, data: dict[str, Any] | None = None) -> Offer:
    return services.offer_create(
        user=world.pro,
        film=world.film,
        organisation=world.distributor_org,
        terms_data=data or examples.completion_fund(),
    )


def _submitted(world: World, data: dict[str, Any] | None = None) -> Offer:
    return services.offer_submit(user=world.pro, offer=_draft(world, data))


def _json_script(html: str, element_id: str) -> Any:
    match = re.search(rf'<script id="{element_id}" type="application/json">(.*?)</script>', html, re.S)
    assert match, element_id
    return json.loads(match.group(1))


# --- who may open the make-an-offer page --------------------------------------------------------------


def test_an_accredited_professional_gets_the_form(world: World) -> None:
    response = logged_in_client(world.pro).get(_new_url(world))
    assert response.status_code == 200
    html = response.content.decode()
    assert "data-terms-editor" in html and 'data-kind="post_production"' in html
    assert reverse("offers:terms-schema", args=["__kind__"]) in html
    assert f'<option value="{world.distributor_org.pk}">Cine Sur (FR)</option>' in html
    assert _json_script(html, "terms-organisations") == [{"id": world.distributor_org.pk, "name": "Cine Sur"}]
    assert "/jsi18n/" in html and "js/terms-editor.js" in html and "css/offers.css" in html


def test_the_type_can_be_preselected(world: World) -> None:
    html = logged_in_client(world.pro).get(_new_url(world) + "?kind=sales").content.decode()
    assert 'data-kind="sales"' in html


@pytest.mark.parametrize("who", ["pending", "rejected", "producer", "admin", "other_producer_elsewhere"])
def test_anyone_not_accredited_to_the_films_session_gets_404(world: World, who: str) -> None:
    if who == "other_producer_elsewhere":  # accredited to Toulouse, but San Sebastián's film is not theirs
        user, url = world.pro, reverse("offers:new", args=[world.other_film.pk])
    else:
        user, url = getattr(world, who), _new_url(world)
    client = logged_in_client(user)
    assert client.get(url).status_code == 404
    posted = _post_offer(client, url, examples.completion_fund(), organisation=world.distributor_org.pk)
    assert posted.status_code == 404
    assert not Offer.objects.exists()


@pytest.mark.parametrize("who", ["unverified", "no_mfa"])
def test_an_account_without_verified_email_or_totp_is_refused(world: World, who: str) -> None:
    response = logged_in_client(getattr(world, who)).get(_new_url(world))
    assert response.status_code == 403
    assert "Not allowed" in response.content.decode()


def test_anonymous_is_sent_to_sign_in(world: World) -> None:
    response = Client().get(_new_url(world))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_the_films_own_producers_cannot_offer_on_it(world: World) -> None:
    accredit(world.producer, world.producer_org, world.toulouse)  # even when accredited to its session
    assert logged_in_client(world.producer).get(_new_url(world)).status_code == 404


# --- saving and submitting ------------------------------------------------------------------------------


def test_save_a_draft(world: World) -> None:
    response = _make(world)
    offer = Offer.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("offers:edit", args=[offer.pk])
    assert (offer.status, offer.kind, offer.organisation) == (
        OfferStatus.DRAFT,
        "completion_fund",
        world.distributor_org,
    )
    assert OfferVersion.objects.get(offer=offer).terms["amount"] == {
        "amount_minor": 3_000_000,
        "currency": "EUR",
    }


def test_save_and_submit(world: World) -> None:
    response = _make(world, action="submit")
    offer = Offer.objects.get()
    assert offer.status == OfferStatus.SUBMITTED and offer.submitted_at is not None
    assert response["Location"] == reverse("offers:thread", args=[offer.pk])


def test_bad_terms_show_each_error_by_field_and_save_nothing(world: World) -> None:
    audit_before = AuditEntry.objects.count()
    terms = changed(examples.completion_fund(), "tranches.1.share_bp", "25 %")
    terms = changed(terms, "amount.currency", "XAU")
    response = _make(world, action="submit", terms=terms)
    assert response.status_code == 400
    html = response.content.decode()
    errors = _json_script(html, "terms-errors")
    assert [error["field"] for error in errors] == ["amount.currency", "tranches.1.share_bp"]
    assert "XAU is not a currency an offer can be paid in." in html
    assert 'data-field="tranches.1.share_bp"' in html
    # The form comes back with what was typed, for the editor to draw again.
    assert _json_script(html, "terms-initial")["tranches"][1]["share_bp"] == "25 %"
    assert not Offer.objects.exists()
    assert AuditEntry.objects.count() == audit_before


def test_terms_that_do_not_add_up_are_refused_on_the_list(world: World) -> None:
    response = _make(world, terms=changed(examples.completion_fund(), "tranches.1.share_bp", 1000))
    assert response.status_code == 400
    errors = _json_script(response.content.decode(), "terms-errors")
    assert errors == [
        {
            "field": "tranches",
            "label": "Tranches",
            "code": "invalid",
            "message": "Tranches: The shares add up to 85 %; they must add up to 100 %.",
        }
    ]
    assert not Offer.objects.exists()


@pytest.mark.parametrize(
    ("language", "label"), [("es", "Comisión"), ("fr", "Commission"), ("en", "Commission")]
)
def test_terms_errors_name_the_field_as_the_form_labels_it_in_the_readers_language(
    world: World, language: str, label: str
) -> None:
    """Not `commission_bp Input should be less than or equal to 10000`: the label, then plain words."""
    client = logged_in_client(world.pro)
    terms = changed(examples.sales(), "commission_bp", 20_000)
    terms = changed(terms, "term_years", "ten")
    response = client.post(
        _new_url(world),
        {
            "kind": "sales",
            "action": "save",
            "organisation": world.distributor_org.pk,
            "terms": json.dumps(terms),
        },
        HTTP_ACCEPT_LANGUAGE=language,
    )
    assert response.status_code == 400
    html = response.content.decode()
    errors = _json_script(html, "terms-errors")
    assert [error["field"] for error in errors] == ["commission_bp", "term_years"]
    commission = errors[0]
    # "Commission: ..." in English and Spanish, "Commission : ..." in French typography
    assert commission["label"] == label and commission["message"].startswith(label)
    assert commission["message"][len(label) :].lstrip("\u00a0 ").startswith(":")
    assert commission["code"] == "too_large" and "100" in commission["message"]
    schema = client.get(reverse("offers:terms-schema", args=["sales"]), HTTP_ACCEPT_LANGUAGE=language).json()
    assert schema["properties"]["commission_bp"]["title"] == commission["label"]  # the form's own label
    for text in ("commission_bp", "Input should", "less than or equal", "10000"):
        assert text not in _summary(html), text
    assert not Offer.objects.exists()


def _summary(html: str) -> str:
    found = re.search(r'<div class="form-errors terms-error-summary".*?</div>', html, re.S)
    assert found, "no summary of the terms errors"
    return re.sub(r'data-field="[^"]*"', "", found.group(0))


def test_terms_errors_over_the_rest_api_carry_the_label_in_the_readers_language(world: World) -> None:
    from tests.conftest import api_client

    terms = changed(examples.sales(), "commission_bp", 20_000)
    response = api_client(world.pro).post(
        "/api/offers/",
        {"film": world.film.pk, "organisation": world.distributor_org.pk, "terms": terms},
        format="json",
        HTTP_ACCEPT_LANGUAGE="es",
    )
    assert response.status_code == 400
    [message] = response.json()["terms"]
    assert "Comisión: " in message and "Input should" not in message
    assert not Offer.objects.exists()


def test_terms_missing_when_the_editor_did_not_run(world: World) -> None:
    client = logged_in_client(world.pro)
    response = _post_offer(client, _new_url(world), None, organisation=world.distributor_org.pk)
    assert response.status_code == 400
    assert "Fill in the terms of the offer." in response.content.decode()
    assert not Offer.objects.exists()


def test_terms_of_another_type_than_the_one_chosen_are_refused(world: World) -> None:
    client = logged_in_client(world.pro)
    response = _post_offer(
        client, _new_url(world), examples.sales(), organisation=world.distributor_org.pk, kind="distribution"
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "The terms do not match the type of offer chosen." in html
    assert _json_script(html, "terms-initial")["kind"] == "sales"  # drawn again, not lost
    assert not Offer.objects.exists()


def test_only_the_users_own_organisations_can_be_chosen(world: World) -> None:
    stranger = make_org("Otra Empresa")
    response = _post_offer(
        logged_in_client(world.pro), _new_url(world), examples.completion_fund(), organisation=stranger.pk
    )
    assert response.status_code == 400
    assert "Select a valid choice" in response.content.decode()
    assert not Offer.objects.exists()


def test_an_expiry_date_in_the_past_is_shown_next_to_its_field(world: World) -> None:
    response = _post_offer(
        logged_in_client(world.pro),
        _new_url(world),
        examples.completion_fund(),
        organisation=world.distributor_org.pk,
        expires_on="2000-01-01",
    )
    assert response.status_code == 400
    field = response.context["form"]["expires_on"]
    assert field.errors == ["The expiry date must be in the future."]
    assert not Offer.objects.exists()


def test_a_refused_submission_saves_no_draft_either(world: World) -> None:
    OfferPolicy.objects.create(film=world.film, min_watched_share_bp=5000)
    response = _make(world, action="submit")
    assert response.status_code == 400
    assert "watch at least 50%" in response.content.decode()
    assert not Offer.objects.exists()


def test_the_page_tells_how_much_must_be_watched(world: World) -> None:
    OfferPolicy.objects.create(film=world.film, min_watched_share_bp=7500)
    html = logged_in_client(world.pro).get(_new_url(world)).content.decode()
    assert "watch at least 75 % of the screener" in html


# --- editing, submitting and withdrawing a draft -------------------------------------------------------


def test_edit_a_draft(world: World) -> None:
    offer = _draft(world)
    client = logged_in_client(world.pro)
    url = reverse("offers:edit", args=[offer.pk])
    page = client.get(url)
    assert page.status_code == 200
    assert _json_script(page.content.decode(), "terms-initial")["amount"]["amount_minor"] == 3_000_000
    bigger = changed(examples.completion_fund(), "amount.amount_minor", 4_500_000)
    response = _post_offer(client, url, bigger)
    assert response.status_code == 302
    assert OfferVersion.objects.get(offer=offer).terms["amount"]["amount_minor"] == 4_500_000
    assert Offer.objects.get().status == OfferStatus.DRAFT


def test_submit_a_draft_from_its_page(world: World) -> None:
    offer = _draft(world)
    response = _post_offer(
        logged_in_client(world.pro),
        reverse("offers:edit", args=[offer.pk]),
        examples.completion_fund(),
        action="submit",
    )
    assert response["Location"] == reverse("offers:thread", args=[offer.pk])
    assert Offer.objects.get().status == OfferStatus.SUBMITTED


def test_bad_terms_on_a_draft_leave_it_as_it_was(world: World) -> None:
    offer = _draft(world)
    before = OfferVersion.objects.get(offer=offer).terms_hash
    bad = changed(examples.completion_fund(), "recoupment_position", "sometime")
    response = _post_offer(
        logged_in_client(world.pro), reverse("offers:edit", args=[offer.pk]), bad, action="submit"
    )
    assert response.status_code == 400
    assert [e["field"] for e in _json_script(response.content.decode(), "terms-errors")] == [
        "recoupment_position"
    ]
    assert OfferVersion.objects.get(offer=offer).terms_hash == before
    assert Offer.objects.get().status == OfferStatus.DRAFT


def test_a_draft_keeps_its_organisation_and_type(world: World) -> None:
    offer = _draft(world)
    other = make_org("Segunda")
    world.pro.memberships.create(organisation=other)
    response = _post_offer(
        logged_in_client(world.pro),
        reverse("offers:edit", args=[offer.pk]),
        examples.completion_fund(),
        organisation=other.pk,
        kind="sales",
    )
    assert response.status_code == 302
    offer.refresh_from_db()
    assert (offer.organisation, offer.kind) == (world.distributor_org, "completion_fund")


def test_a_submitted_offer_is_not_edited_here(world: World) -> None:
    offer = _submitted(world)
    response = logged_in_client(world.pro).get(reverse("offers:edit", args=[offer.pk]))
    assert response.status_code == 302 and response["Location"] == reverse("offers:thread", args=[offer.pk])


@pytest.mark.parametrize("who", ["producer", "other_producer", "admin"])
def test_only_the_offerors_organisation_opens_the_draft(world: World, who: str) -> None:
    offer = _draft(world)
    client = logged_in_client(getattr(world, who))
    assert client.get(reverse("offers:edit", args=[offer.pk])).status_code == 404
    posted = _post_offer(client, reverse("offers:edit", args=[offer.pk]), examples.sales())
    assert posted.status_code == 404
    assert OfferVersion.objects.get(offer=offer).terms["kind"] == "completion_fund"


def test_withdraw(world: World) -> None:
    offer = _submitted(world)
    response = logged_in_client(world.pro).post(reverse("offers:withdraw", args=[offer.pk]))
    assert response.status_code == 302 and response["Location"] == reverse("offers:mine")
    assert Offer.objects.get().status == OfferStatus.WITHDRAWN


@pytest.mark.parametrize("who", ["producer", "other_producer", "admin"])
def test_nobody_else_can_withdraw(world: World, who: str) -> None:
    offer = _submitted(world)
    response = logged_in_client(getattr(world, who)).post(reverse("offers:withdraw", args=[offer.pk]))
    assert response.status_code == 404
    assert Offer.objects.get().status == OfferStatus.SUBMITTED


def test_withdraw_only_by_post(world: World) -> None:
    offer = _submitted(world)
    assert logged_in_client(world.pro).get(reverse("offers:withdraw", args=[offer.pk])).status_code == 405
    assert Offer.objects.get().status == OfferStatus.SUBMITTED


def test_withdrawing_twice_says_why(world: World) -> None:
    offer = _submitted(world)
    client = logged_in_client(world.pro)
    client.post(reverse("offers:withdraw", args=[offer.pk]))
    response = client.post(reverse("offers:withdraw", args=[offer.pk]), follow=True)
    assert "cannot become" in response.content.decode()


# --- the terms schema -------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", list(SCHEMAS))
def test_the_schema_of_each_type_is_pydantics(client: Client, kind: str) -> None:
    response = client.get(reverse("offers:terms-schema", args=[kind]))
    assert response.status_code == 200
    schema = response.json()
    model = SCHEMAS[kind][max(SCHEMAS[kind])]
    expected = titled_schema(model.model_json_schema())  # each field titled by its label
    assert schema["properties"] == expected["properties"] and schema["$defs"] == expected["$defs"]
    assert schema["properties"]["kind"]["const"] == kind
    assert "EUR" in schema["x-currencies"] and "XAU" not in schema["x-currencies"]
    assert schema["x-currency-exponents"]["JPY"] == 0 and "EUR" not in schema["x-currency-exponents"]
    assert ["WORLDWIDE", "Worldwide"] in schema["x-territory-groups"]


def test_the_schema_names_countries_in_the_readers_language(client: Client) -> None:
    schema = client.get(reverse("offers:terms-schema", args=["sales"]), HTTP_ACCEPT_LANGUAGE="es").json()
    assert ["DE", "Alemania"] in schema["x-countries"]


def test_an_unknown_type_has_no_schema(client: Client) -> None:
    assert client.get("/offers/schema/barter.json").status_code == 404


# --- the producers' comparison ------------------------------------------------------------------------------


@pytest.fixture
def several(world: World) -> dict[str, Offer]:
    """A submitted EUR fund by the pro, a USD sales offer and a withdrawn post-production offer by others,
    and a draft."""

    def offeror(name: str) -> tuple[Any, Organisation]:
        user = make_user(f"{name.lower()}@example.org")
        org = make_org(name, "ES")
        accredit(user, org, world.toulouse)
        return user, org

    sales_user, sales_org = offeror("Ventas")
    post_user, post_org = offeror("Posto")
    draft_user, draft_org = offeror("Borrador")
    made = {"fund": _submitted(world)}
    made["sales"] = services.offer_submit(
        user=sales_user,
        offer=services.offer_create(
            user=sales_user, film=world.film, organisation=sales_org, terms_data=examples.sales()
        ),
    )
    post = services.offer_create(
        user=post_user, film=world.film, organisation=post_org, terms_data=examples.post_production()
    )
    made["post"] = services.offer_withdraw(
        user=post_user, offer=services.offer_submit(user=post_user, offer=post)
    )
    made["draft"] = services.offer_create(
        user=draft_user, film=world.film, organisation=draft_org, terms_data=examples.distribution()
    )
    return made


def _rows(html: str) -> list[int]:
    return [int(pk) for pk in re.findall(r'<tr data-offer="(\d+)"', html)]


def test_the_team_compares_every_submitted_offer(world: World, several: dict[str, Offer]) -> None:
    response = logged_in_client(world.producer).get(reverse("offers:film-offers", args=[world.film.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert set(_rows(html)) == {several["fund"].pk, several["sales"].pk, several["post"].pk}
    assert several["draft"].pk not in _rows(html)
    assert reverse("offers:thread", args=[several["fund"].pk]) in html
    assert "Ventas" in html and "Sales and representation" in html and "Withdrawn" in html
    # Totals per currency, leaving out the withdrawn offer's EUR 5,500 in kind.
    cash = re.search(r'data-total="cash">(.*?)</td>', html, re.S)
    in_kind = re.search(r'data-total="in-kind">(.*?)</td>', html, re.S)
    assert cash and "EUR 30,000.00" in cash.group(1) and "USD 50,000.00" in cash.group(1)
    assert in_kind and "EUR" not in in_kind.group(1)


def test_admins_compare_too(world: World, several: dict[str, Offer]) -> None:
    response = logged_in_client(world.admin).get(reverse("offers:film-offers", args=[world.film.pk]))
    assert response.status_code == 200 and len(_rows(response.content.decode())) == 3


@pytest.mark.parametrize("who", ["pro", "other_producer", "pending"])
def test_anyone_else_gets_404_on_the_comparison(world: World, several: dict[str, Offer], who: str) -> None:
    response = logged_in_client(getattr(world, who)).get(reverse("offers:film-offers", args=[world.film.pk]))
    assert response.status_code == 404


def test_filter_by_type_and_status(world: World, several: dict[str, Offer]) -> None:
    client = logged_in_client(world.producer)
    url = reverse("offers:film-offers", args=[world.film.pk])
    assert _rows(client.get(url, {"kind": "sales"}).content.decode()) == [several["sales"].pk]
    assert _rows(client.get(url, {"status": "withdrawn"}).content.decode()) == [several["post"].pk]
    submitted_funds = client.get(url, {"status": "submitted", "kind": "completion_fund"}).content.decode()
    assert _rows(submitted_funds) == [several["fund"].pk]
    # An unknown filter is ignored rather than hiding everything; drafts are never shown.
    assert len(_rows(client.get(url, {"status": "draft", "kind": "x"}).content.decode())) == 3


def test_sort_by_value_and_status(world: World, several: dict[str, Offer]) -> None:
    client = logged_in_client(world.producer)
    url = reverse("offers:film-offers", args=[world.film.pk])
    by_value = _rows(client.get(url, {"sort": "value"}).content.decode())
    assert by_value == [several["fund"].pk, several["post"].pk, several["sales"].pk]  # EUR, then USD
    by_status = _rows(client.get(url, {"sort": "status"}).content.decode())
    assert by_status[-1] == several["post"].pk  # withdrawn after submitted
    assert 'value="value" selected' in client.get(url, {"sort": "value"}).content.decode()


# --- my offers --------------------------------------------------------------------------------------------


def test_my_offers_lists_my_organisations_offers_with_drafts(world: World, several: dict[str, Offer]) -> None:
    draft = _draft(world, examples.sales())
    html = logged_in_client(world.pro).get(reverse("offers:mine")).content.decode()
    assert set(_rows(html)) == {several["fund"].pk, draft.pk}
    assert reverse("offers:edit", args=[draft.pk]) in html
    assert reverse("offers:thread", args=[several["fund"].pk]) in html


def test_my_offers_filtered_by_film(world: World) -> None:
    offer = _draft(world)
    client = logged_in_client(world.pro)
    assert _rows(client.get(reverse("offers:mine"), {"film": world.film.pk}).content.decode()) == [offer.pk]
    assert _rows(client.get(reverse("offers:mine"), {"film": world.other_film.pk}).content.decode()) == []


def test_nobody_sees_another_organisations_offers(world: World) -> None:
    _submitted(world)
    html = logged_in_client(world.other_producer).get(reverse("offers:mine")).content.decode()
    assert _rows(html) == []


# --- the film page's buttons ------------------------------------------------------------------------------


def test_film_page_offers_the_professional_to_make_an_offer(world: World) -> None:
    client = logged_in_client(world.pro)
    html = client.get(reverse("festival:film-detail", args=[world.film.pk])).content.decode()
    assert f'href="{_new_url(world)}">Make an offer</a>' in html
    assert f'href="{reverse("offers:film-offers", args=[world.film.pk])}"' not in html
    _draft(world)
    html = client.get(reverse("festival:film-detail", args=[world.film.pk])).content.decode()
    assert "Your offers (1)" in html and f"{reverse('offers:mine')}?film={world.film.pk}" in html


def test_film_page_shows_the_team_how_many_offers_it_has(world: World) -> None:
    _submitted(world)
    _draft(world, examples.sales())  # drafts are the offeror's alone
    html = (
        logged_in_client(world.producer)
        .get(reverse("festival:film-detail", args=[world.film.pk]))
        .content.decode()
    )
    assert f'href="{reverse("offers:film-offers", args=[world.film.pk])}">Offers (1)</a>' in html
    assert _new_url(world) not in html


def test_no_offer_button_for_an_admin_who_is_not_accredited(world: World) -> None:
    html = (
        logged_in_client(world.admin)
        .get(reverse("festival:film-detail", args=[world.film.pk]))
        .content.decode()
    )
    assert _new_url(world) not in html


# --- the terms editor in a browser ------------------------------------------------------------------------


@contextlib.contextmanager
def _browser_page(live_server: Any, user: Any) -> Iterator[Any]:
    """A Chromium page signed in as ``user``; ``page.js_errors`` collects uncaught script errors."""
    from playwright.sync_api import sync_playwright

    from tests.live import CHROMIUM, CHROMIUM_FLAGS

    with sync_playwright() as playwright:
        try:
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS)
            context = browser.new_context(locale="en-GB")
            session = logged_in_client(user).cookies["sessionid"].value
            context.add_cookies([{"name": "sessionid", "value": session, "url": live_server.url}])
            page = context.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda error: errors.append(str(error)))
            page.js_errors = errors
            yield page
            browser.close()
        finally:
            # Under Playwright's event loop the ORM gets a connection of its own: close it, or the test
            # database cannot be dropped at the end of the run.
            connections.close_all()


EDITOR = "document.querySelector('[data-terms-editor]').termsEditor"


@pytest.mark.slow
@needs_chromium
@pytest.mark.django_db(transaction=True)
def test_the_terms_editor_draws_every_type_and_reads_it_back(
    world: World, live_server: Any, monkeypatch: Any
) -> None:
    """Each example's terms, opened as a draft, come back from getTerms() as the same terms."""
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright's sync API runs an event loop
    drafts = {kind: _draft(world, make()) for kind, make in examples.EXAMPLES.items()}
    with _browser_page(live_server, world.pro) as page:
        for kind, offer in drafts.items():
            page.goto(live_server.url + reverse("offers:edit", args=[offer.pk]))
            page.wait_for_selector(".terms-root")
            read_back = page.evaluate(f"{EDITOR}.getTerms()")
            assert parse_terms(read_back) == parse_terms(examples.EXAMPLES[kind]()), kind
        # Money is typed in major units and basis points as percentages.
        page.goto(live_server.url + reverse("offers:edit", args=[drafts["distribution"].pk]))
        page.wait_for_selector(".terms-root")
        assert page.input_value("[data-name=minimum_guarantee] input.terms-amount") == "20000.00"
        assert page.input_value("[data-name=distribution_fee_bp] input") == "12.5"
        assert page.js_errors == []


@pytest.mark.slow
@needs_chromium
@pytest.mark.django_db(transaction=True)
def test_make_a_completion_fund_offer_in_the_browser(
    world: World, live_server: Any, monkeypatch: Any
) -> None:
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with _browser_page(live_server, world.pro) as page:
        page.goto(live_server.url + _new_url(world))
        page.select_option("#id_kind", "completion_fund")
        page.wait_for_selector(".terms-root [data-name=amount]")
        page.fill("[data-name=amount] input.terms-amount", "30 000,00")
        tranches = "[data-field=tranches] li.terms-row"
        page.fill(f"{tranches} >> nth=0 >> [data-name=share_bp] input", "75")
        page.select_option(f"{tranches} >> nth=0 >> [data-name=trigger] select", "on_signature")
        page.click("[data-field=tranches] button.terms-add")
        page.fill(f"{tranches} >> nth=1 >> [data-name=share_bp] input", "20")
        assert page.is_hidden(f"{tranches} >> nth=1 >> [data-name=description]")
        page.select_option(f"{tranches} >> nth=1 >> [data-name=trigger] select", "on_delivery")
        page.fill(f"{tranches} >> nth=1 >> [data-name=description] input", "delivery with proof of expenses")
        page.select_option("[data-name=recoupment_position] select", "pari_passu")

        # 95 %: refused, nothing saved, the reason next to the tranches, what was typed still there.
        page.click("button[value=save]")
        page.wait_for_selector("[data-field=tranches] > .terms-field-errors li")
        assert "must add up to 100 %" in page.inner_text("[data-field=tranches] > .terms-field-errors")
        assert not Offer.objects.exists()
        assert page.input_value(f"{tranches} >> nth=1 >> [data-name=share_bp] input") == "20"

        page.fill(f"{tranches} >> nth=1 >> [data-name=share_bp] input", "25")
        page.click("button[value=save]")
        page.wait_for_url("**/edit/")
        offer = Offer.objects.get()
        assert offer.status == OfferStatus.DRAFT
        assert parse_terms(OfferVersion.objects.get(offer=offer).terms) == parse_terms(
            {
                "kind": "completion_fund",
                "schema_version": 1,
                "amount": {"amount_minor": 3_000_000, "currency": "EUR"},
                "tranches": [
                    {"share_bp": 7500, "trigger": "on_signature"},
                    {
                        "share_bp": 2500,
                        "trigger": "on_delivery",
                        "description": "delivery with proof of expenses",
                    },
                ],
                "recoupment_position": "pari_passu",
            }
        )

        # showErrors puts a message next to the field its path names.
        page.evaluate(f"{EDITOR}.showErrors([{{field: 'tranches.1.share_bp', message: 'Too much'}}])")
        assert (
            page.inner_text(f"{tranches} >> nth=1 >> [data-name=share_bp] .terms-field-errors") == "Too much"
        )
        assert page.js_errors == []


# --- three languages ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("language", "expected"), [("es", "Guardar el borrador"), ("fr", "Enregistrer le brouillon")]
)
def test_the_make_an_offer_page_speaks_the_readers_language(
    world: World, language: str, expected: str
) -> None:
    html = logged_in_client(world.pro).get(_new_url(world), HTTP_ACCEPT_LANGUAGE=language).content.decode()
    assert f'<html lang="{language}">' in html and expected in html


@pytest.mark.parametrize(
    ("language", "source", "expected"),
    [
        ("es", "Payment schedule of the minimum guarantee", "Calendario de pagos del mínimo garantizado"),
        ("fr", "Colour grading", "Étalonnage"),
    ],
)
def test_the_editors_labels_are_in_the_javascript_catalogue(
    client: Client, language: str, source: str, expected: str
) -> None:
    body = client.get(reverse("javascript-catalog"), HTTP_ACCEPT_LANGUAGE=language).content.decode()
    assert f"{json.dumps(source)}: {json.dumps(expected)}" in body


def test_a_draft_edit_changes_its_expiry_date(world: World) -> None:
    import datetime as dt

    from django.utils import timezone

    from offers.models import Offer
    from offers.services import offers as offer_services
    from tests.offers.terms import examples as terms_examples

    draft = offer_services.offer_create(
        user=world.pro, film=world.film, organisation=world.distributor_org, terms_data=terms_examples.sales()
    )
    later = timezone.now().date() + dt.timedelta(days=20)
    response = logged_in_client(world.pro).post(
        f"/offers/{draft.pk}/edit/",
        {
            "organisation": world.distributor_org.pk,
            "kind": "sales",
            "expires_on": later.isoformat(),
            "terms": json.dumps(terms_examples.sales()),
            "action": "save",
        },
    )
    assert response.status_code == 302
    assert Offer.objects.get(pk=draft.pk).expires_on == later


# --- the dashboard: offers received, and what waits for an answer -----------------------------------------


def _dashboard(user: Any) -> str:
    response = logged_in_client(user).get(reverse("accounts:dashboard"))
    assert response.status_code == 200
    return response.content.decode()


def _section(html: str, css_class: str) -> str:
    found = re.search(rf'<section class="card dashboard-offers {css_class}">(.*?)</section>', html, re.S)
    assert found, f"no {css_class} section"
    return found.group(1)


def test_the_producers_dashboard_shows_the_offers_to_their_film_and_what_waits_for_them(
    world: World,
) -> None:
    from offers.services import negotiation
    from tests.offers.conftest import counter_terms, submitted_offer

    waiting = [submitted_offer(world) for _ in range(3)]  # three offers wait on the producer's film
    countered = submitted_offer(world)
    negotiation.thread_counter(
        user=world.producer, offer=countered, base_version=1, terms_data=counter_terms(2_000_000)
    )
    _draft(world)  # the offeror's own: never shown to the producers
    received = _section(_dashboard(world.producer), "received-offers")
    awaiting = re.search(r'<ul class="awaiting">(.*?)</ul>', received, re.S)
    assert awaiting and "3 offers wait for your answer" in received
    assert sorted(map(int, re.findall(r'data-offer="(\d+)"', awaiting.group(1)))) == sorted(
        o.pk for o in waiting
    )
    for offer in [*waiting, countered]:  # every offer received is listed, with a link to its thread
        assert f'href="{reverse("offers:thread", args=[offer.pk])}"' in received
    assert len(re.findall(r"<tr data-offer=", received)) == 4  # not the draft


def test_the_professionals_dashboard_shows_their_offers_and_the_counters_that_wait_for_them(
    world: World,
) -> None:
    from offers.services import negotiation
    from tests.offers.conftest import counter_terms, submitted_offer

    plain = submitted_offer(world)  # waits for the producers, not for the professional
    countered = submitted_offer(world)
    negotiation.thread_counter(
        user=world.producer, offer=countered, base_version=1, terms_data=counter_terms(2_000_000)
    )
    draft = _draft(world)
    html = _dashboard(world.pro)
    made = _section(html, "made-offers")
    awaiting = re.search(r'<ul class="awaiting">(.*?)</ul>', made, re.S)
    assert awaiting and re.findall(r'data-offer="(\d+)"', awaiting.group(1)) == [str(countered.pk)]
    assert "1 counter-offer waits for your answer" in made
    assert f'href="{reverse("offers:thread", args=[plain.pk])}"' in made
    assert f'href="{reverse("offers:edit", args=[draft.pk])}"' in made
    assert "received-offers" not in html  # no film of their own


def test_the_producers_my_offers_page_lists_the_offers_received(world: World) -> None:
    from tests.offers.conftest import submitted_offer

    offers = [submitted_offer(world) for _ in range(3)]
    html = logged_in_client(world.producer).get(reverse("offers:mine")).content.decode()
    assert "No offer has been submitted to your films yet." not in html
    for offer in offers:
        assert f'<tr data-offer="{offer.pk}">' in html
        assert f'href="{reverse("offers:thread", args=[offer.pk])}"' in html
    assert html.count("waits for your answer") == 3
