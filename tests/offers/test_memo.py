"""The deal memo: page and PDF for the two parties and admins only, in their languages, with a hash that
is recomputed from the stored terms and stops matching when they are tampered with."""

from __future__ import annotations

import datetime as dt
import html
import io
import json
import re
import uuid
from dataclasses import dataclass
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext
from pypdf import PdfReader

from accounts.models import Membership, User
from offers.memo import (
    _styles,
    agreement_verify,
    memo_context,
    memo_languages,
    printable,
    render_memo_pdf,
)
from offers.models import Agreement, Offer, OfferStatus, OfferVersion
from offers.selectors.agreements import agreements_visible_to
from offers.terms import canonical_json, parse_terms, render_terms, terms_hash, terms_to_json
from screening.models import Cut, CutStatus
from tests.conftest import World, logged_in_client, make_user
from tests.offers.terms import examples

pytestmark = pytest.mark.django_db

TERMS_LANGUAGES = {"es": "Fondo de finalización", "fr": "Fonds de finalisation", "en": "Completion fund"}


@dataclass
class Deal:
    world: World
    agreement: Agreement


def _set_language(user: User, language: str) -> None:
    User.objects.filter(pk=user.pk).update(language=language)
    user.language = language


def make_agreement(world: World, data: dict[str, object] | None = None) -> Agreement:
    terms = parse_terms(data or examples.completion_fund())
    offer = Offer.objects.create(
        film=world.film,
        organisation=world.distributor_org,
        created_by=world.pro,
        kind=terms.kind,
        status=OfferStatus.ACCEPTED,
        submitted_at=timezone.now(),
    )
    version = OfferVersion.objects.create(
        offer=offer,
        number=2,
        author=world.producer,
        side="producer",
        schema_version=terms.schema_version,
        terms=terms_to_json(terms),
        terms_hash=terms_hash(terms),
    )
    cut = Cut.objects.create(
        film=world.film,
        number=3,
        uploaded_by=world.producer,
        source_filename="fine-cut.mp4",
        source_size=1,
        status=CutStatus.READY,
        segment_count=4,
        published_at=timezone.now(),
    )
    accepted = dt.datetime(2026, 2, 10, 15, 30, tzinfo=dt.UTC)
    return Agreement.objects.create(
        offer=offer,
        version=version,
        film=world.film,
        kind=terms.kind,
        offeror_organisation=world.distributor_org,
        producer_organisation=world.producer_org,
        offeror_signatory=world.pro,
        producer_signatory=world.producer,
        offeror_accepted_at=accepted - dt.timedelta(hours=2),
        producer_accepted_at=accepted,
        terms_canonical=canonical_json(terms).decode(),
        terms_hash=terms_hash(terms),
        watched_cut=cut,
        watched_share_bp=7500,
        created_at=accepted,
    )


@pytest.fixture
def deal(world: World) -> Deal:
    _set_language(world.pro, "fr")
    _set_language(world.producer, "es")
    data = examples.completion_fund()
    data["conditions"] = ["Première projection mondiale à Saint-Sébastien", "Versión final aprobada"]
    return Deal(world, make_agreement(world, data))


def _tamper(agreement: Agreement, **columns: str) -> None:
    """Write past the model's immutability, as someone with database access could."""
    table = connection.ops.quote_name(Agreement._meta.db_table)
    assignments = ", ".join(f"{connection.ops.quote_name(name)} = %s" for name in columns)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET {assignments} WHERE id = %s",  # noqa: S608 (names are ours, values bound)
            [*columns.values(), agreement.pk],
        )


def _memo_url(agreement: Agreement, language: str | None = None) -> str:
    url = reverse("offers:agreement-memo", args=[agreement.public_id])
    return f"{url}?lang={language}" if language else url


def _pdf_url(agreement: Agreement, language: str) -> str:
    return reverse("offers:agreement-memo-pdf", args=[agreement.public_id]) + f"?lang={language}"


def _pdf_text(content: bytes) -> str:
    reader = PdfReader(io.BytesIO(content))
    return "\n".join(page.extract_text() for page in reader.pages)


def _parties(deal: Deal) -> dict[str, User]:
    return {"offeror": deal.world.pro, "producer": deal.world.producer, "admin": deal.world.admin}


# --- access ------------------------------------------------------------------------------------------


def test_the_urls() -> None:
    public_id = uuid.uuid4()
    assert reverse("offers:agreement-memo", args=[public_id]) == f"/agreements/{public_id}/"
    assert reverse("offers:agreement-memo-pdf", args=[public_id]) == f"/agreements/{public_id}/memo.pdf"


@pytest.mark.parametrize("who", ["offeror", "producer", "admin"])
def test_each_party_and_an_admin_open_the_page(deal: Deal, who: str) -> None:
    agreement = deal.agreement
    response = logged_in_client(_parties(deal)[who]).get(_memo_url(agreement, "en"))
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    page = response.content.decode()
    assert agreement.terms_hash in page
    assert "La Sombra del Cóndor" in page
    assert 'data-verified="true"' in page
    assert "Verified: the hash recomputed from the stored terms matches." in page
    assert "Cine Sur" in page and "Andes Producciones" in page
    assert "marie dupont".title() in page and "pro@cinesur.example" in page
    # The PDF in each party's language (the offeror's French first, then the producer's Spanish), and
    # in the English the page is read in.
    pdf_links = [_pdf_url(agreement, "fr"), _pdf_url(agreement, "es"), _pdf_url(agreement, "en")]
    positions = [page.index(link) for link in pdf_links]
    assert positions == sorted(positions)
    assert "PDF in French" in page and "PDF in Spanish" in page and "PDF in English" in page


@pytest.mark.parametrize("who", ["offeror", "producer", "admin"])
def test_each_party_and_an_admin_download_the_pdf(deal: Deal, who: str) -> None:
    agreement = deal.agreement
    response = logged_in_client(_parties(deal)[who]).get(_pdf_url(agreement, "es"))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Cache-Control"] == "no-store"
    disposition = response["Content-Disposition"]
    assert disposition.startswith("inline; filename=")
    assert f'"deal-memo-la-sombra-del-condor-{agreement.public_id.hex[:8]}-es.pdf"' in disposition
    assert response.content.startswith(b"%PDF-")
    assert agreement.terms_hash in _pdf_text(response.content)


def test_a_non_party_gets_the_same_404_as_for_an_unknown_agreement(deal: Deal) -> None:
    world, agreement = deal.world, deal.agreement
    # A member of the producers' company who is not on the film's team is no party either.
    colleague = make_user("colleague@andes.example")
    Membership.objects.create(user=colleague, organisation=world.producer_org)
    outsiders = [world.other_producer, make_user("outsider@elsewhere.example"), colleague]
    unknown = uuid.uuid4()
    for user in outsiders:
        client = logged_in_client(user)
        for url in (_memo_url(agreement), _pdf_url(agreement, "es")):
            refused = client.get(url)
            assert refused.status_code == 404, (user, url)
            assert agreement.terms_hash.encode() not in refused.content
        assert not agreements_visible_to(user=user).exists()
    party = logged_in_client(world.pro)
    assert party.get(f"/agreements/{unknown}/").status_code == 404
    assert party.get(f"/agreements/{unknown}/memo.pdf?lang=es").status_code == 404


def test_the_selector_lists_parties_agreements_only(deal: Deal) -> None:
    world, agreement = deal.world, deal.agreement
    for user in (world.pro, world.producer, world.admin):
        assert list(agreements_visible_to(user=user)) == [agreement]
    # Any member of the offeror's organisation, not only its signatory.
    assert list(agreements_visible_to(user=world.pending)) == [agreement]


def test_an_account_that_is_not_ready_is_refused_and_anonymous_sent_to_sign_in(deal: Deal) -> None:
    agreement = deal.agreement
    no_mfa = deal.world.no_mfa  # a member of the offeror's organisation without two-factor login
    for url in (_memo_url(agreement), _pdf_url(agreement, "fr")):
        refused = logged_in_client(no_mfa).get(url)
        assert refused.status_code == 403 and b'data-code="mfa_required"' in refused.content
        anonymous = Client().get(url)
        assert anonymous.status_code == 302 and anonymous["Location"].startswith(reverse("account_login"))


def test_an_unknown_language_is_a_clear_400(deal: Deal) -> None:
    client = logged_in_client(deal.world.pro)
    for url in (_memo_url(deal.agreement, "de"), _pdf_url(deal.agreement, "de")):
        response = client.get(url)
        assert response.status_code == 400
        assert "es, fr, en" in response.content.decode()


# --- languages -----------------------------------------------------------------------------------------


def test_memo_languages_are_the_signatories_in_a_stable_order(deal: Deal) -> None:
    world, agreement = deal.world, deal.agreement
    assert memo_languages(agreement) == ["fr", "es"]
    _set_language(world.pro, "es")
    assert memo_languages(agreement) == ["es"]
    _set_language(world.pro, "en")
    _set_language(world.producer, "fr")
    assert memo_languages(agreement) == ["en", "fr"]


def _pdf_links(page: str) -> list[str]:
    return re.findall(r'class="pdf-link" href="[^"]*\?lang=(\w+)"', page)


@pytest.mark.parametrize("reader_language", ["en", "es", "fr"])
def test_the_page_links_the_pdf_in_every_partys_language_and_the_readers(
    deal: Deal, reader_language: str
) -> None:
    """The parties write French (offeror) and Spanish (producers); an English reader found only those."""
    _set_language(deal.world.admin, reader_language)
    client = logged_in_client(deal.world.admin)
    page = client.get(_memo_url(deal.agreement), HTTP_ACCEPT_LANGUAGE=reader_language).content.decode()
    links = _pdf_links(page)
    assert links[:2] == ["fr", "es"] and reader_language in links and len(links) == len(set(links))
    for language in links:  # each link opens its PDF
        assert client.get(_pdf_url(deal.agreement, language)).status_code == 200


def test_the_page_links_the_pdf_of_the_language_it_is_read_in(deal: Deal) -> None:
    _set_language(deal.world.pro, "fr")  # the offeror prefers French, and opens the page in English
    page = logged_in_client(deal.world.pro).get(_memo_url(deal.agreement, "en")).content.decode()
    assert _pdf_links(page) == ["fr", "es", "en"]


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("es", ["Memorándum de acuerdo", "Oferente", "Productores", "Perú", "Verificado:", "Fecha"]),
        ("fr", ["Mémorandum d'accord", "Offrant", "Producteurs", "Pérou", "Vérifié :", "Dates"]),
        ("en", ["Deal memo", "Offeror", "Producers", "Peru", "Verified:", "Dates"]),
    ],
)
def test_the_page_switches_language(deal: Deal, language: str, expected: list[str]) -> None:
    response = logged_in_client(deal.world.admin).get(_memo_url(deal.agreement, language))
    assert response.status_code == 200
    assert response["Content-Language"] == language
    page = html.unescape(response.content.decode())
    assert f'<article class="memo" lang="{language}">' in page
    assert TERMS_LANGUAGES[language] in page
    for text in expected:
        assert text in page, text
    for other in ("es", "fr", "en"):  # the switcher offers every language
        assert f'href="?lang={other}"' in page


def test_the_page_defaults_to_the_visitors_language(deal: Deal) -> None:
    client = logged_in_client(deal.world.producer)
    page = client.get(_memo_url(deal.agreement), HTTP_ACCEPT_LANGUAGE="es").content.decode()
    assert '<article class="memo" lang="es">' in page and "Fondo de finalización" in page


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        (
            "es",
            [
                "Memorándum de acuerdo",
                "Fondo de finalización",
                "La Sombra del Cóndor",
                "Perú",
                "Página 1 de ",
                "10 de febrero de 2026",
                "Versión 3 del screener",
            ],
        ),
        (
            "fr",
            [
                "Mémorandum d'accord",
                "Fonds de finalisation",
                "La Sombra del Cóndor",
                "Pérou",
                "Page 1 sur ",
                "10 février 2026",
                "Version 3 du screener",
            ],
        ),
    ],
)
def test_the_pdf_renders_accented_text(deal: Deal, language: str, expected: list[str]) -> None:
    content = render_memo_pdf(deal.agreement, language)
    assert content.startswith(b"%PDF-")
    reader = PdfReader(io.BytesIO(content))
    box = reader.pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (595, 842)  # A4
    text = " ".join(_pdf_text(content).replace("\xa0", " ").split())
    for phrase in expected:
        assert phrase in text, phrase
    assert "Première projection mondiale à Saint-Sébastien" in text  # typed by the offeror, in the terms
    assert deal.agreement.terms_hash in text
    assert f"SHA-256 {deal.agreement.terms_hash}" in text  # the footer
    assert "?" not in text  # no character fell back to a question mark


def test_a_long_memo_numbers_its_pages(world: World) -> None:
    data = examples.completion_fund()
    data["conditions"] = [f"Condición número {number}: entrega de informes de gastos" for number in range(90)]
    agreement = make_agreement(world, data)
    reader = PdfReader(io.BytesIO(render_memo_pdf(agreement, "en")))
    pages = len(reader.pages)
    assert pages >= 2
    for number, page in enumerate(reader.pages, start=1):
        text = page.extract_text()
        assert f"Page {number} of {pages}" in text
        assert agreement.terms_hash in text


BODY_BOTTOM = 60  # points: the footer (hash and page number) sits below this, the body above


def _lowest_body_text(page: Any) -> tuple[float, float, str]:
    """(y, font size, text) of the last thing drawn on the page's body: the lowest text above the footer."""
    pieces: list[tuple[float, float, str]] = []

    def visit(text: str, cm: list[float], tm: list[float], _font: Any, size: float) -> None:
        if text.strip():
            y = tm[4] * cm[1] + tm[5] * cm[3] + cm[5]
            pieces.append((y, size, text.strip()))

    page.extract_text(visitor_text=visit)
    return min((piece for piece in pieces if piece[0] > BODY_BOTTOM), key=lambda piece: piece[0])


def test_no_heading_is_stranded_at_the_foot_of_a_page(world: World) -> None:
    """Memos of growing length push each heading down the page in turn; none may end a page (before the
    fix "Screener visionné" and "Dates" were the last line of a page at 5, 7, 25 and 27 conditions)."""
    heading_size = _styles().heading.fontSize
    agreement = make_agreement(world)
    with translation.override("fr"):
        headings = {
            gettext(h) for h in ("Film", "Parties", "Terms", "Dates", "Screener watched", "Integrity")
        }
    checked = 0
    for count in range(1, 30, 2):
        data = examples.completion_fund()
        data["conditions"] = [
            f"Condition numéro {number} : remise des rapports de dépenses " + "y" * (number % 7) * 20
            for number in range(count)
        ]
        terms = parse_terms(data)
        # In memory only: the same agreement with longer terms (and their hash, so it still verifies).
        agreement.terms_canonical = canonical_json(terms).decode()
        agreement.terms_hash = agreement.version.terms_hash = terms_hash(terms)
        reader = PdfReader(io.BytesIO(render_memo_pdf(agreement, "fr")))
        for number, page in enumerate(reader.pages, start=1):
            y, size, text = _lowest_body_text(page)
            assert not (size == heading_size and text in headings), (count, number, text)
            checked += 1
    assert checked > 20  # many pages, some of them ending right where a heading used to fall


def test_a_long_table_still_starts_below_its_heading(world: World) -> None:
    """Keeping a heading with its table keeps only the first row with it: a table longer than what is
    left of the page starts on that page rather than leaving it blank."""
    data = examples.completion_fund()
    data["conditions"] = [f"Condition numéro {number}" for number in range(80)]
    reader = PdfReader(io.BytesIO(render_memo_pdf(make_agreement(world, data), "fr")))
    first = reader.pages[0].extract_text()
    assert "Conditions" in first or "Condition numéro 0" in first


def test_a_value_longer_than_a_page_flows_on(world: World) -> None:
    data = examples.post_production()
    data["deliverables"] = [
        f"Entrega {number}: copia DCP subtitulada en español " + "x" * 150 for number in range(60)
    ]
    agreement = make_agreement(world, data)
    reader = PdfReader(io.BytesIO(render_memo_pdf(agreement, "es")))
    assert len(reader.pages) >= 3
    text = _pdf_text(render_memo_pdf(agreement, "es"))
    assert "Entrega 0: copia DCP" in text and "Entrega 59: copia DCP" in text


# --- the context ---------------------------------------------------------------------------------------


def test_memo_context_in_spanish(deal: Deal) -> None:
    agreement = deal.agreement
    memo = memo_context(agreement, "es")
    assert memo.title == "Memorándum de acuerdo"
    assert memo.kind == "Fondo de finalización"
    assert (memo.film_title, memo.session, memo.version_number) == ("La Sombra del Cóndor", "Toulouse", 2)
    offeror, producer = memo.parties
    assert (offeror.organisation, offeror.country, offeror.signatory_name, offeror.signatory_email) == (
        "Cine Sur",
        "Francia",
        "Marie Dupont",
        "pro@cinesur.example",
    )
    assert (producer.organisation, producer.country) == ("Andes Producciones", "Perú")
    assert producer.accepted_at == agreement.producer_accepted_at
    expected_terms = render_terms(parse_terms(json.loads(agreement.terms_canonical)), "es")
    assert list(memo.terms) == expected_terms
    assert [label for label, _value in memo.dates] == [
        "Aceptado por el oferente",
        "Aceptado por los productores",
        "Acuerdo registrado",
    ]
    assert memo.dates[1][1] == "10 de febrero de 2026 a las 15:30 UTC"
    assert (memo.watched_cut_number, memo.watched_share_bp, memo.watched_share) == (3, 7500, "75 %")
    assert memo.terms_hash == agreement.terms_hash and memo.verified


def test_memo_context_refuses_an_unsupported_language(deal: Deal) -> None:
    with pytest.raises(ValueError, match="not 'de'"):
        memo_context(deal.agreement, "de")


def test_printable_keeps_what_the_font_has_and_approximates_the_rest() -> None:
    assert printable("Cóndor, Mañana, Œuvre, 4 300,00 €") == "Cóndor, Mañana, Œuvre, 4 300,00 €"
    assert printable("Dvořák\u202f映画") == "Dvorák ??"


# --- verification --------------------------------------------------------------------------------------


def test_an_untampered_agreement_verifies(deal: Deal) -> None:
    assert agreement_verify(Agreement.objects.get(pk=deal.agreement.pk))


def test_changed_terms_fail_verification_and_the_memo_says_so(deal: Deal) -> None:
    agreement = deal.agreement
    stored = json.loads(agreement.terms_canonical)
    stored["amount"]["amount_minor"] = 9_000_000
    tampered = canonical_json(parse_terms(stored)).decode()
    _tamper(agreement, terms_canonical=tampered)
    reloaded = Agreement.objects.get(pk=agreement.pk)
    assert reloaded.terms_canonical == tampered
    assert not agreement_verify(reloaded)
    assert not memo_context(reloaded, "en").verified
    page = logged_in_client(deal.world.producer).get(_memo_url(agreement, "en")).content.decode()
    assert 'data-verified="false"' in page and 'data-verified="true"' not in page
    assert "Not verified" in page
    assert "Not verified" in _pdf_text(render_memo_pdf(reloaded, "en"))


def test_terms_and_hash_changed_together_still_fail_against_the_accepted_version(deal: Deal) -> None:
    agreement = deal.agreement
    data = examples.completion_fund()
    data["amount"]["amount_minor"] = 9_000_000
    terms = parse_terms(data)
    _tamper(agreement, terms_canonical=canonical_json(terms).decode(), terms_hash=terms_hash(terms))
    assert not agreement_verify(Agreement.objects.get(pk=agreement.pk))


def test_non_canonical_or_unreadable_terms_fail_verification(deal: Deal) -> None:
    import hashlib

    agreement = deal.agreement
    # The same terms, pretty-printed: the right content, but not the canonical bytes that were hashed.
    pretty = json.dumps(json.loads(agreement.terms_canonical), indent=2)
    _tamper(agreement, terms_canonical=pretty, terms_hash=hashlib.sha256(pretty.encode()).hexdigest())
    assert not agreement_verify(Agreement.objects.get(pk=agreement.pk))

    _tamper(agreement, terms_canonical="{not json")
    reloaded = Agreement.objects.get(pk=agreement.pk)
    assert not agreement_verify(reloaded)
    assert memo_context(reloaded, "fr").terms == ()
    response = logged_in_client(deal.world.admin).get(_memo_url(agreement, "fr"))
    assert response.status_code == 200
    assert 'data-verified="false"' in response.content.decode()
    assert render_memo_pdf(reloaded, "fr").startswith(b"%PDF-")
