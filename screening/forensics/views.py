"""The admins' leak-trace desk (docs/forensics.md): file a suspect copy, follow its trace, read what it
concluded and why, export the evidence, and revoke a named viewer at once.

Thin views: every decision is ``tracing``'s, every read ``selectors``'. Who may see these pages: festival
admins with a verified email and TOTP. Anyone else signed in gets 404, not the 403 of the other staff
pages: a viewer who could find the desk that traces leaks would learn how they are traced. An admin
without TOTP gets the readiness refusal naming the missing step; a visitor not signed in is sent to sign
in, as on every page.

A suspect copy may be a whole film of many gigabytes: its upload streams to a temporary file on disk
(``TemporaryFileUploadHandler``, forced for this view) and the service stores it from there; it is never
read into memory.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Any

from django import forms
from django.contrib import messages
from django.core.files.uploadedfile import UploadedFile
from django.core.files.uploadhandler import TemporaryFileUploadHandler
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.http.multipartparser import MultiPartParser
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.decorators import admin_required
from accounts.permissions import acting_user
from accounts.policy import is_festival_admin
from core.errors import DomainError, NotFound
from core.middleware import Refusal, UntrustedInputMiddleware, raw_body_allowed, refusal_response
from core.params import int_param
from core.text import FORBIDDEN
from screening.forensics import selectors, tracing
from screening.forensics.variants import CONFIDENT_Z
from screening.models import LeakTrace, TraceResult, TraceStatus

View = Callable[..., HttpResponse]


def staff_only(view: View) -> View:
    """``admin_required``, but 404 for a signed-in account that is not a festival admin (see above)."""
    guarded = admin_required(view)

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.user.is_authenticated and not is_festival_admin(request.user):
            raise Http404(_("Page not found."))
        return guarded(request, *args, **kwargs)

    return wrapper


# --- the upload --------------------------------------------------------------------------------------


class _SentNameParser(MultiPartParser):
    """Django drops unprintable characters from an upload's name without a word (``a<NUL>b.mp4`` arrives
    as ``ab.mp4``). The name a trace records is evidence and must be what was sent, or refused: this
    parser remembers the name as sent (without its path, which Django strips too) for the handler."""

    sent_name: str | None = None

    def sanitize_file_name(self, file_name: str) -> str | None:
        self.sent_name = file_name.rsplit("/")[-1].rsplit("\\")[-1]
        return super().sanitize_file_name(file_name)


class _DiskUpload(TemporaryFileUploadHandler):
    """Every file to a temporary file on disk, whatever its size, with the name it was sent under.

    Its ``handle_raw_input`` runs the parse itself with ``_SentNameParser`` (Django's documented way for
    a handler to take over parsing); the inner parse comes back here and proceeds as usual. A name that
    lost characters it should not hold gets them back, so that the input check refuses it by name."""

    parser: _SentNameParser | None = None

    def handle_raw_input(
        self,
        input_data: Any,
        META: dict[str, Any],
        content_length: int,
        boundary: str,
        encoding: str | None = None,
    ) -> tuple[Any, Any] | None:
        if self.parser is not None:
            return None
        self.parser = _SentNameParser(META, input_data, [self], encoding)
        return self.parser.parse()

    def file_complete(self, file_size: int) -> UploadedFile | None:
        upload: UploadedFile | None = super().file_complete(file_size)
        sent = self.parser.sent_name if self.parser is not None else None
        if upload is not None and sent and FORBIDDEN.search(sent):
            upload.name = sent
        return upload


_INPUT_CHECK = UntrustedInputMiddleware(lambda request: HttpResponse())


class SuspectUploadForm(forms.Form):
    film = forms.ModelChoiceField(
        queryset=selectors.tracing_films(),
        label=gettext_lazy("Film"),
        empty_label=gettext_lazy("Choose the film"),
        error_messages={
            "required": gettext_lazy("Choose the film this copy is of."),
            "invalid_choice": gettext_lazy("There is no such film: choose one from the list."),
        },
    )
    file = forms.FileField(
        label=gettext_lazy("Suspect copy"),
        help_text=gettext_lazy("A whole copy or an excerpt of a minute or more, in any common video format."),
        allow_empty_file=True,  # the service refuses an empty file, in its own words
        error_messages={
            "required": gettext_lazy("Choose the suspect file to upload."),
            "missing": gettext_lazy("Choose the suspect file to upload."),
            "invalid": gettext_lazy("The file could not be read from the form: send it again."),
        },
    )


def _list_page(
    request: HttpRequest, form: SuspectUploadForm, film_id: int | None, status: int = 200
) -> HttpResponse:
    return render(
        request,
        "screening/forensics/trace_list.html",
        {
            "form": form,
            "film_id": film_id,
            "films": selectors.tracing_films(),
            "traces": selectors.film_traces(film_id=film_id)[:200],
            "finished": selectors.FINISHED,
        },
        status=status,
    )


@staff_only
@csrf_protect
@require_http_methods(["GET", "HEAD", "POST"])
def _trace_list(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        try:
            film_id = int_param(request.GET, "film")
        except DomainError as error:
            messages.error(request, error.message)
            film_id = None
        return _list_page(request, SuspectUploadForm(initial={"film": film_id}), film_id)
    form = SuspectUploadForm(request.POST, request.FILES)
    if form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            trace = tracing.trace_request(
                admin=acting_user(request),
                film=form.cleaned_data["film"],
                path=Path(upload.temporary_file_path()),
                name=upload.name or "",
            )
        except DomainError as error:
            form.add_error(error.field if error.field in form.fields else None, error.message)
        else:
            messages.success(request, _("The copy is filed; its trace has started."))
            return redirect("screening:forensics:trace-detail", trace_id=trace.id)
    return _list_page(request, form, None, status=400)


@csrf_exempt  # checked in _trace_list, once the upload goes to disk (Django's per-view upload handlers)
@raw_body_allowed  # the input check runs below, on the same parse
def trace_list(request: HttpRequest) -> HttpResponse:
    """GET: the traces, newest first, and the form to file a suspect copy. POST: file it and queue its
    trace. The body is parsed here rather than by ``core.middleware`` so that the file streams to disk;
    the middleware's own check then runs on that parse, for every caller, before anything else."""
    request.upload_handlers = [_DiskUpload(request)]
    try:
        _INPUT_CHECK.check(request, _trace_list)
    except Refusal as refusal:
        return refusal_response(request, refusal)
    return _trace_list(request)


# --- one trace ---------------------------------------------------------------------------------------


def _trace(request: HttpRequest, trace_id: uuid.UUID) -> LeakTrace:
    try:
        return tracing.trace_for(admin=acting_user(request), trace_id=trace_id)
    except NotFound as error:
        raise Http404(error.message) from error


@staff_only
@require_GET
def trace_detail(request: HttpRequest, trace_id: uuid.UUID) -> HttpResponse:
    """Where the trace stands (live over the WebSocket while it runs), then what it concluded, how
    certain that is, the evidence behind it, and the button that ends a named viewer's access."""
    trace = _trace(request, trace_id)
    evidence = trace.evidence if isinstance(trace.evidence, dict) else {}
    context = {
        "trace": trace,
        "running": trace.status not in selectors.FINISHED,
        "stage_label": selectors.stage_label(trace.stage),
        "result_label": TraceResult(trace.result).label if trace.result in TraceResult.values else "",
        "inconclusive": trace.result
        in (TraceResult.TOO_SHORT, TraceResult.TOO_DAMAGED, TraceResult.NO_MATCH, TraceResult.NO_GRANTS),
        "failed": trace.status == TraceStatus.FAILED,
        "named": selectors.named_viewings(trace) if trace.result == TraceResult.NAMED else [],
        "ranking": selectors.ranking_rows(evidence),
        "chart": selectors.evidence_chart(
            evidence, segment_count=trace.cut.segment_count if trace.cut else None
        ),
        "evidence": evidence,
        "confident_z": CONFIDENT_Z,
    }
    return render(request, "screening/forensics/trace_detail.html", context)


@staff_only
@require_POST
def trace_revoke(request: HttpRequest, trace_id: uuid.UUID) -> HttpResponse:
    """End at once the access of a viewer the trace named: the admin ticks a confirmation box first (a
    page without JavaScript needs one as much as a page with it)."""
    trace = _trace(request, trace_id)
    grant = request.POST.get("grant", "")
    try:
        grant_id = uuid.UUID(grant)
    except ValueError:
        messages.error(request, _("This trace does not name that viewing."))
        return redirect("screening:forensics:trace-detail", trace_id=trace.id)
    if request.POST.get("confirm") != "yes":
        messages.error(request, _("Tick the box to confirm that this viewer's access ends now."))
        return redirect("screening:forensics:trace-detail", trace_id=trace.id)
    try:
        revocation = tracing.trace_revoke(admin=acting_user(request), trace=trace, grant_id=grant_id)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request,
            _("Access revoked: %(email)s is refused at every door from their next request.")
            % {"email": revocation.user.email},
        )
    return redirect("screening:forensics:trace-detail", trace_id=trace.id)


@staff_only
@require_GET
def trace_evidence(request: HttpRequest, trace_id: uuid.UUID) -> HttpResponse:
    """The trace as JSON, for the file of a complaint or a court: everything the page shows."""
    trace = _trace(request, trace_id)
    response = JsonResponse(
        selectors.trace_export(trace), json_dumps_params={"indent": 2, "ensure_ascii": False}
    )
    response["Content-Disposition"] = f'attachment; filename="leak-trace-{trace.id}.json"'
    response["Cache-Control"] = "no-store"
    return response
