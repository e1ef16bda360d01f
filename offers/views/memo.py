"""The deal memo of an agreement, as a printable page and as a PDF, for its two parties and admins."""

from __future__ import annotations

import functools
import uuid
from collections.abc import Callable

from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest, JsonResponse
from django.shortcuts import render
from django.utils import translation
from django.utils.text import slugify
from django.utils.translation import get_language_info
from django.utils.translation import gettext as _

from accounts.decorators import ready_required
from accounts.permissions import acting_user
from audit.checkpoints import checkpoint_document, checkpoint_for
from offers.memo import memo_context, memo_pdf_languages, render_memo_pdf
from offers.models import Agreement
from offers.selectors.agreements import agreements_visible_to
from offers.terms.render import SUPPORTED_LANGUAGES


def _agreement_or_404(request: HttpRequest, public_id: uuid.UUID) -> Agreement:
    """The same 404 for an agreement that does not exist and for one the user is no party to."""
    agreement = agreements_visible_to(user=acting_user(request)).filter(public_id=public_id).first()
    if agreement is None:
        raise Http404(_("No such agreement."))
    return agreement


def _language(request: HttpRequest) -> str | None:
    """``?lang=`` when given (None if it is not a memo language), else the language of the request."""
    requested = request.GET.get("lang")
    if requested:
        return requested if requested in SUPPORTED_LANGUAGES else None
    current = translation.get_language() or "en"
    return current if current in SUPPORTED_LANGUAGES else "en"


def _bad_language() -> HttpResponse:
    message = _("Deal memos are written in %(languages)s.") % {"languages": ", ".join(SUPPORTED_LANGUAGES)}
    return HttpResponseBadRequest(message, content_type="text/plain; charset=utf-8")


MemoView = Callable[[HttpRequest, Agreement, str], HttpResponse]


def _memo_view(view: MemoView) -> Callable[[HttpRequest, uuid.UUID], HttpResponse]:
    """A deal memo page: a ready party's (or an admin's) agreement, in a memo language (400 otherwise)."""

    @ready_required
    @functools.wraps(view)
    def wrapped(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
        agreement = _agreement_or_404(request, public_id)
        language = _language(request)
        if language is None:
            return _bad_language()
        return view(request, agreement, language)

    return wrapped


@_memo_view
def memo(request: HttpRequest, agreement: Agreement, language: str) -> HttpResponse:
    with translation.override(language):
        context = {
            "memo": memo_context(agreement, language),
            "agreement": agreement,
            "languages": [get_language_info(code) for code in SUPPORTED_LANGUAGES],
            "pdf_languages": [
                get_language_info(code)
                for code in memo_pdf_languages(agreement, reader=acting_user(request), page_language=language)
            ],
        }
        response = render(request, "offers/memo.html", context)
    response["Content-Language"] = language
    return response


@_memo_view
def memo_pdf(request: HttpRequest, agreement: Agreement, language: str) -> HttpResponse:
    response = HttpResponse(render_memo_pdf(agreement, language), content_type="application/pdf")
    filename = (
        f"deal-memo-{slugify(agreement.film.title) or 'film'}-{agreement.public_id.hex[:8]}-{language}.pdf"
    )
    response["Content-Disposition"] = f'inline; filename="{filename}"'  # an ASCII slug: nothing to escape
    response["Content-Language"] = language
    response["Cache-Control"] = "no-store"
    return response


@ready_required
def memo_checkpoint(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    """The signed audit checkpoint that covers this agreement's entries (``audit.checkpoints``), for a party
    (or their lawyer) to keep: checked later against the chain, it shows whether the deal's history was
    rewritten. 404 until the one published when the agreement was recorded exists."""
    agreement = _agreement_or_404(request, public_id)
    checkpoint = checkpoint_for(target=agreement)
    if checkpoint is None:
        raise Http404(_("No checkpoint covers this agreement yet."))
    response = JsonResponse(checkpoint_document(checkpoint), json_dumps_params={"indent": 2})
    response["Content-Disposition"] = f'attachment; filename="audit-checkpoint-{checkpoint.seq}.json"'
    response["Cache-Control"] = "no-store"
    return response
