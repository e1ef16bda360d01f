"""The deal memo: the short written record of an agreement, as a page and as an A4 PDF, in es/fr/en.

memo_context(agreement, "es")     # everything the memo shows, rendered in that language
memo_languages(agreement)         # the signatories' languages
memo_pdf_languages(agreement, reader=user, page_language="en")  # ... plus the reader's: the PDFs linked
render_memo_pdf(agreement, "fr")  # the PDF bytes
agreement_verify(agreement)       # does the hash recomputed from the stored terms match?
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import io
import json
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from xml.sax.saxutils import escape

from django.utils import formats, translation
from django.utils.translation import gettext
from reportlab.lib import colors
from reportlab.lib.enums import TA_LEFT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    Flowable,
    KeepTogether,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from offers.models import Agreement
from offers.selectors.offers import terms_organisation_names
from offers.terms import TermsInvalid, canonical_json, parse_terms, render_terms
from offers.terms.render import KIND_LABELS, SUPPORTED_LANGUAGES, country_name, format_percent

Line = tuple[str, str]


# --- verification ------------------------------------------------------------------------------------


def agreement_verify(agreement: Agreement) -> bool:
    """True when the stored terms still are what was agreed.

    The stored canonical JSON must hash to the stored hash, parse to valid terms whose RFC 8785 canonical
    JSON is byte for byte the stored text, and that hash must be the accepted version's.
    """
    stored = agreement.terms_canonical.encode("utf-8")
    if hashlib.sha256(stored).hexdigest() != agreement.terms_hash:
        return False
    try:
        recomputed = canonical_json(parse_terms(json.loads(stored)))
    except (ValueError, TypeError, TermsInvalid):  # not JSON, or not valid terms any more
        return False
    return (
        recomputed == stored
        and hashlib.sha256(recomputed).hexdigest() == agreement.terms_hash
        and agreement.version.terms_hash == agreement.terms_hash
    )


# --- what the memo shows -------------------------------------------------------------------------------


@dataclass(frozen=True)
class MemoParty:
    role: str
    organisation: str
    country: str
    signatory_name: str
    signatory_email: str
    accepted_at: dt.datetime
    accepted_at_text: str


@dataclass(frozen=True)
class MemoContext:
    language: str
    title: str
    reference: str
    kind: str
    film_title: str
    session: str
    version_number: int
    offeror: MemoParty
    producer: MemoParty
    terms: tuple[Line, ...]
    created_at: dt.datetime
    dates: tuple[Line, ...]
    watched_cut_number: int | None
    watched_share_bp: int
    watched_share: str
    watched: str
    terms_hash: str
    verified: bool

    @property
    def parties(self) -> tuple[MemoParty, MemoParty]:
        return (self.offeror, self.producer)


def memo_languages(agreement: Agreement) -> list[str]:
    """The signatories' preferred languages, offeror's first, each once (English if neither is supported)."""
    languages: list[str] = []
    for user in (agreement.offeror_signatory, agreement.producer_signatory):
        if user.language in SUPPORTED_LANGUAGES and user.language not in languages:
            languages.append(user.language)
    return languages or ["en"]


def memo_pdf_languages(agreement: Agreement, *, reader: Any, page_language: str) -> list[str]:
    """The PDFs the memo page links: every signatory's language (``memo_languages``), then the reader's
    own and the page's, each once. Whoever reads the page can always take its PDF in their language."""
    languages = memo_languages(agreement)
    for code in (getattr(reader, "language", ""), page_language):
        if code in SUPPORTED_LANGUAGES and code not in languages:
            languages.append(code)
    return languages


def memo_context(agreement: Agreement, language: str) -> MemoContext:
    """Everything the deal memo shows, with labels, dates, numbers and country names in ``language``."""
    if language not in SUPPORTED_LANGUAGES:
        raise ValueError(f"Deal memos are written in {', '.join(SUPPORTED_LANGUAGES)}, not {language!r}")
    film = agreement.film
    with translation.override(language):
        kind = str(KIND_LABELS.get(agreement.kind, agreement.kind))
        offeror = _party(
            gettext("Offeror"),
            agreement.offeror_organisation,
            agreement.offeror_signatory,
            agreement.offeror_accepted_at,
        )
        producer = _party(
            gettext("Producers"),
            agreement.producer_organisation,
            agreement.producer_signatory,
            agreement.producer_accepted_at,
        )
        share = format_percent(agreement.watched_share_bp)
        cut = agreement.watched_cut
        if cut is None:
            watched = gettext("No screener viewing was recorded with the offer.")
        else:
            watched = gettext("Cut %(number)d of the screener, %(share)s of it watched.") % {
                "number": cut.number,
                "share": share,
            }
        return MemoContext(
            language=language,
            title=gettext("Deal memo"),
            reference=str(agreement.public_id),
            kind=kind,
            film_title=film.title,
            session=str(film.session) if film.session_id else "—",
            version_number=agreement.version.number,
            offeror=offeror,
            producer=producer,
            terms=tuple(_terms_lines(agreement, language)),
            created_at=agreement.created_at,
            dates=(
                (gettext("Accepted by the offeror"), offeror.accepted_at_text),
                (gettext("Accepted by the producers"), producer.accepted_at_text),
                (gettext("Agreement recorded"), format_datetime(agreement.created_at)),
            ),
            watched_cut_number=cut.number if cut is not None else None,
            watched_share_bp=agreement.watched_share_bp,
            watched_share=share,
            watched=watched,
            terms_hash=agreement.terms_hash,
            verified=agreement_verify(agreement),
        )


def format_datetime(value: dt.datetime) -> str:
    """A date and time in UTC, in the active language's format, with its zone named."""
    utc = value.astimezone(dt.UTC)
    return gettext("%(datetime)s UTC") % {"datetime": formats.date_format(utc, "DATETIME_FORMAT")}


def _party(role: str, organisation: Any, signatory: Any, accepted_at: dt.datetime) -> MemoParty:
    return MemoParty(
        role=role,
        organisation=organisation.name,
        country=country_name(organisation.country.code),
        signatory_name=signatory.display_name,
        signatory_email=signatory.email,
        accepted_at=accepted_at,
        accepted_at_text=format_datetime(accepted_at),
    )


def _terms_lines(agreement: Agreement, language: str) -> list[Line]:
    """The stored terms rendered; none when they no longer parse (the memo then says it is unverified)."""
    try:
        terms = parse_terms(json.loads(agreement.terms_canonical))
    except (ValueError, TypeError, TermsInvalid):
        return []
    return render_terms(terms, language, organisation_names=terms_organisation_names(terms))


# --- the PDF -------------------------------------------------------------------------------------------

FONT = "MemoSans"
FONT_BOLD = "MemoSans-Bold"
MONO = "Courier"  # a standard font: the hash and the reference are ASCII
INK = colors.HexColor("#1d1b19")
MUTED = colors.HexColor("#6b645c")
LINE = colors.HexColor("#d9d0c3")
OK = colors.HexColor("#2f7d32")
BAD = colors.HexColor("#b3261e")
MARGIN = 18 * mm


@functools.cache
def _register_fonts() -> None:
    """Bitstream Vera, which ships with reportlab, embedded as TrueType subsets: it covers Latin-1 and
    more (á, ñ, ç, œ, €, —), and the PDF carries a ToUnicode map so the text can be copied and searched."""
    pdfmetrics.registerFont(TTFont(FONT, "Vera.ttf"))
    pdfmetrics.registerFont(TTFont(FONT_BOLD, "VeraBd.ttf"))
    pdfmetrics.registerFont(TTFont(f"{FONT}-Italic", "VeraIt.ttf"))
    pdfmetrics.registerFont(TTFont(f"{FONT}-BoldItalic", "VeraBI.ttf"))
    pdfmetrics.registerFontFamily(
        FONT, normal=FONT, bold=FONT_BOLD, italic=f"{FONT}-Italic", boldItalic=f"{FONT}-BoldItalic"
    )


@functools.cache
def _covered() -> frozenset[int]:
    _register_fonts()
    font = pdfmetrics.getFont(FONT)
    return frozenset(font.face.charToGlyph)  # type: ignore[attr-defined]


def printable(text: str) -> str:
    """``text`` with every character the font lacks replaced by its closest covered form ("ř" -> "r",
    a narrow no-break space -> a space) or "?", so nothing silently renders as an empty box."""
    covered = _covered()
    out = []
    for char in text:
        if ord(char) in covered or char in "\n\t":
            out.append(char)
            continue
        decomposed = "".join(
            part
            for part in unicodedata.normalize("NFKD", char)
            if not unicodedata.combining(part) and ord(part) in covered
        )
        out.append(decomposed or "?")
    return "".join(out)


def _p(text: str, style: ParagraphStyle) -> Paragraph:
    return Paragraph(escape(printable(text)), style)


@dataclass(frozen=True)
class _Styles:
    title: ParagraphStyle
    subtitle: ParagraphStyle
    heading: ParagraphStyle
    body: ParagraphStyle
    label: ParagraphStyle
    small: ParagraphStyle
    mono: ParagraphStyle
    verified: ParagraphStyle
    unverified: ParagraphStyle


def _styles() -> _Styles:
    body = ParagraphStyle("body", fontName=FONT, fontSize=9.5, leading=12.5, textColor=INK, alignment=TA_LEFT)
    return _Styles(
        title=ParagraphStyle("title", parent=body, fontName=FONT_BOLD, fontSize=20, leading=24, spaceAfter=2),
        subtitle=ParagraphStyle("subtitle", parent=body, fontSize=12, leading=15, spaceAfter=4),
        heading=ParagraphStyle(
            "heading",
            parent=body,
            fontName=FONT_BOLD,
            fontSize=11.5,
            leading=14,
            spaceBefore=10,
            spaceAfter=4,
        ),
        body=body,
        label=ParagraphStyle("label", parent=body, fontName=FONT_BOLD),
        small=ParagraphStyle("small", parent=body, fontSize=8, leading=10, textColor=MUTED),
        mono=ParagraphStyle("mono", parent=body, fontName=MONO, fontSize=9, leading=12),
        verified=ParagraphStyle("verified", parent=body, fontName=FONT_BOLD, textColor=OK),
        unverified=ParagraphStyle("unverified", parent=body, fontName=FONT_BOLD, textColor=BAD),
    )


def _table(rows: Sequence[Sequence[Flowable]], widths: list[float], *, header: bool = False) -> Table:
    # splitInRow: a value longer than a page (a 4,000-character clause) flows on instead of failing
    table = Table(
        [list(row) for row in rows],
        colWidths=widths,
        repeatRows=1 if header else 0,
        hAlign="LEFT",
        splitInRow=1,
    )
    commands: list[Any] = [
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LINEBELOW", (0, 0), (-1, -1), 0.5, LINE),
        ("LEFTPADDING", (0, 0), (-1, -1), 4),
        ("RIGHTPADDING", (0, 0), (-1, -1), 4),
        ("TOPPADDING", (0, 0), (-1, -1), 3),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
    ]
    if header:
        commands.append(("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#f3eee6")))
    table.setStyle(TableStyle(commands))
    return table


def _section(heading: Flowable, body: Sequence[Flowable]) -> list[Flowable]:
    """A heading that never ends a page: it stays with the first part of what it heads (a long table's
    first row, see ``_rows``); the rest flows on from there."""
    first, *rest = body
    return [KeepTogether([heading, first]), *rest]


def _rows(rows: Sequence[Sequence[Flowable]], widths: list[float]) -> list[Flowable]:
    """A table as its first row and the rest, so that ``_section`` keeps only the first row with the
    heading and a long table still starts right below its heading rather than on the next page."""
    if len(rows) <= 1:
        return [_table(rows, widths)]
    return [_table(rows[:1], widths), _table(rows[1:], widths)]


def _story(memo: MemoContext, width: float) -> list[Flowable]:
    s = _styles()
    two = [0.3 * width, 0.7 * width]
    story: list[Flowable] = [
        _p(memo.title, s.title),
        _p(f"{memo.kind} — {memo.film_title}", s.subtitle),
        _p(
            gettext("Agreement %(reference)s, on version %(version)s of the offer")
            % {"reference": memo.reference, "version": memo.version_number},
            s.small,
        ),
        Spacer(1, 2 * mm),
        _p(_verification_text(memo.verified), s.verified if memo.verified else s.unverified),
        Spacer(1, 2 * mm),
    ]
    story += _section(
        _p(gettext("Film"), s.heading),
        [
            _table(
                [
                    [_p(gettext("Film"), s.label), _p(memo.film_title, s.body)],
                    [_p(gettext("Session"), s.label), _p(memo.session, s.body)],
                ],
                two,
            )
        ],
    )
    parties = memo.parties
    party_rows = [
        [_p("", s.label), *(_p(party.role, s.label) for party in parties)],
        [_p(gettext("Organisation"), s.label), *(_p(party.organisation, s.body) for party in parties)],
        [_p(gettext("Country"), s.label), *(_p(party.country, s.body) for party in parties)],
        [_p(gettext("Signatory"), s.label), *(_p(party.signatory_name, s.body) for party in parties)],
        [_p(gettext("Email"), s.label), *(_p(party.signatory_email, s.body) for party in parties)],
    ]
    story += _section(
        _p(gettext("Parties"), s.heading),
        [_table(party_rows, [0.22 * width, 0.39 * width, 0.39 * width], header=True)],
    )
    if memo.terms:
        terms_rows = [[_p(label, s.label), _p(value, s.body)] for label, value in memo.terms]
        story += _section(_p(gettext("Terms"), s.heading), _rows(terms_rows, two))
    else:
        story += _section(
            _p(gettext("Terms"), s.heading),
            [_p(gettext("The stored terms can no longer be read."), s.unverified)],
        )
    story += _section(
        _p(gettext("Dates"), s.heading),
        [_table([[_p(label, s.label), _p(value, s.body)] for label, value in memo.dates], two)],
    )
    story += _section(_p(gettext("Screener watched"), s.heading), [_p(memo.watched, s.body)])
    story.append(
        KeepTogether(
            [
                _p(gettext("Integrity"), s.heading),
                _p(gettext("SHA-256 of the terms as canonical JSON (RFC 8785):"), s.body),
                Spacer(1, 1 * mm),
                Paragraph(memo.terms_hash, s.mono),
                Spacer(1, 2 * mm),
                _p(_verification_text(memo.verified), s.verified if memo.verified else s.unverified),
            ]
        )
    )
    return story


def _verification_text(verified: bool) -> str:
    if verified:
        return gettext("Verified: the hash recomputed from the stored terms matches.")
    return gettext(
        "Not verified: the hash recomputed from the stored terms does not match. Do not rely on it."
    )


def _draw_footer(canvas: Canvas, terms_hash: str, page_label: str) -> None:
    width = A4[0]
    y = 10 * mm
    canvas.saveState()
    canvas.setStrokeColor(LINE)
    canvas.line(MARGIN, y + 4 * mm, width - MARGIN, y + 4 * mm)
    canvas.setFillColor(MUTED)
    canvas.setFont(MONO, 7)
    canvas.drawString(MARGIN, y, f"SHA-256 {terms_hash}")
    canvas.setFont(FONT, 8)
    canvas.drawRightString(width - MARGIN, y, printable(page_label))
    canvas.restoreState()


def _build(memo: MemoContext, pages: int) -> tuple[bytes, int]:
    """One rendering of the PDF, with ``pages`` as the page count in the footers; returns the bytes and
    the real page count."""
    buffer = io.BytesIO()
    document = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=MARGIN,
        bottomMargin=MARGIN + 6 * mm,
        title=printable(f"{memo.title} — {memo.film_title}"),
        author="Films in Progress",
        subject=printable(memo.kind),
        creator="Films in Progress",
        lang=memo.language,
    )
    label = gettext("Page %(page)d of %(pages)d")

    def footer(canvas: Canvas, _document: Any) -> None:
        _draw_footer(canvas, memo.terms_hash, label % {"page": canvas.getPageNumber(), "pages": pages})

    document.build(_story(memo, document.width), onFirstPage=footer, onLaterPages=footer)
    return buffer.getvalue(), document.page


def render_memo_pdf(agreement: Agreement, language: str) -> bytes:
    """The deal memo as an A4 PDF in ``language``: title, parties, terms, dates, the watched screener and
    the full hash, with "page N of M" and the hash in the footer of every page."""
    _register_fonts()
    memo = memo_context(agreement, language)
    with translation.override(language):
        # The footer sits in the margin, so the second pass lays out the same pages, now knowing M.
        _draft, pages = _build(memo, pages=0)
        content, _pages = _build(memo, pages=pages)
    return content
