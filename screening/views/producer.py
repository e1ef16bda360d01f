"""The producer's screener desk: upload cuts, follow packaging live, set audience rules, read reports."""

from __future__ import annotations

import csv

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _

from accounts.decorators import ready_required
from accounts.permissions import acting_user
from core.errors import DomainError
from festival.models import Film
from festival.selectors import film_for_viewer
from screening import services
from screening.forms import AudienceRulesForm
from screening.models import Cut
from screening.policy import require_screener_manager
from screening.selectors import audience_rules_of, film_cuts, retention_svg_points, viewing_report


def _team_film(request: HttpRequest, film_id: int) -> Film:
    user = acting_user(request)
    film = film_for_viewer(user=user, film_id=film_id)
    if film is None:
        raise Http404(_("No such film."))
    try:
        require_screener_manager(user=user, film=film)
    except DomainError as error:
        raise Http404(error.message) from error
    return film


@ready_required
def manage(request: HttpRequest, film_id: int) -> HttpResponse:
    film = _team_film(request, film_id)
    form = AudienceRulesForm(initial=AudienceRulesForm.initial_for(audience_rules_of(film=film)))
    status = 200
    if request.method == "POST":
        form = AudienceRulesForm(request.POST)
        if form.is_valid():
            try:
                services.audience_rules_set(
                    user=acting_user(request),
                    film=film,
                    allowed_categories=form.cleaned_data["allowed_categories"],
                    blocked_organisations=list(form.cleaned_data["blocked_organisations"]),
                    territory_mode=form.cleaned_data["territory_mode"],
                    territories=form.cleaned_data["territories"],
                    max_plays_after_session=form.cleaned_data["max_plays_after_session"],
                )
            except DomainError as error:
                form.add_error(error.field if error.field in form.fields else None, error.message)
            else:
                messages.success(request, _("Audience rules saved."))
                return redirect("screening:manage", film_id=film.pk)
        status = 400
    return render(
        request,
        "screening/manage.html",
        {"film": film, "cuts": film_cuts(film=film), "rules_form": form},
        status=status,
    )


def _report_cut(request: HttpRequest, cut_id: str) -> Cut:
    cut = get_object_or_404(Cut.objects.select_related("film", "film__session"), public_id=cut_id)
    _team_film(request, cut.film_id)
    return cut


@ready_required
def report(request: HttpRequest, cut_id: str) -> HttpResponse:
    cut = _report_cut(request, cut_id)
    data = viewing_report(cut=cut)
    return render(
        request,
        "screening/report.html",
        {
            "cut": cut,
            "film": cut.film,
            "report": data,
            "points": retention_svg_points(data.curve),
            "minutes": [(i, i * 60) for i in range(0, int((cut.duration_s or 0) // 60) + 1)],
        },
    )


@ready_required
def report_csv(request: HttpRequest, cut_id: str) -> HttpResponse:
    cut = _report_cut(request, cut_id)
    data = viewing_report(cut=cut)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="viewing-report-{cut.film_id}-cut{cut.number}.csv"'
    )
    writer = csv.writer(response)
    writer.writerow(
        [
            "name",
            "email",
            "organisation",
            "country",
            "category",
            "first_watched_utc",
            "last_watched_utc",
            "plays",
            "seconds_watched",
            "share_watched",
            "segments_fetched",
        ]
    )
    for row in data.viewers:
        writer.writerow(
            [
                _csv_safe(row.name),
                row.email,
                _csv_safe(row.organisation),
                row.country,
                row.category,
                row.first_at.isoformat(),
                row.last_at.isoformat(),
                row.plays,
                round(row.seconds_watched, 1),
                round(row.share, 4),
                row.segments_fetched,
            ]
        )
    return response


def _csv_safe(value: str) -> str:
    """Neutralise spreadsheet formulas in user-supplied text (CSV injection)."""
    return "'" + value if value[:1] in ("=", "+", "-", "@") else value
