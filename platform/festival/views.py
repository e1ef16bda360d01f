"""Film pages: the list a professional browses, a film's page, and its producer's editing page."""

from __future__ import annotations

from django.contrib import messages
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.decorators import ready_required
from accounts.permissions import acting_user
from core.errors import DomainError
from festival import services
from festival.extensions import film_actions, film_sections
from festival.forms import FilmForm, NeedForm
from festival.models import Film, PostProductionNeed
from festival.policy import may_manage_film
from festival.selectors import film_financing, film_for_viewer, films_visible_to, sessions_listed


def home(request: HttpRequest) -> HttpResponse:
    return render(request, "home.html", {"sessions": sessions_listed()})


@ready_required
def film_list(request: HttpRequest) -> HttpResponse:
    films = films_visible_to(user=acting_user(request))
    by_session: dict[object, list[Film]] = {}
    for film in films.order_by("session__starts_on", "title"):
        by_session.setdefault(film.session, []).append(film)
    return render(request, "festival/film_list.html", {"films_by_session": by_session})


def _film_or_404(request: HttpRequest, pk: int) -> Film:
    film = film_for_viewer(user=acting_user(request), film_id=pk)
    if film is None:
        raise Http404(_("No such film."))
    return film


@ready_required
def film_detail(request: HttpRequest, pk: int) -> HttpResponse:
    film = _film_or_404(request, pk)
    user = acting_user(request)
    return render(
        request,
        "festival/film_detail.html",
        {
            "film": film,
            "financing": film_financing(film=film),
            "can_edit": may_manage_film(user, film.pk),
            "actions": film_actions(film=film, user=user),
            "sections": film_sections(film=film, user=user),
        },
    )


@ready_required
def film_edit(request: HttpRequest, pk: int) -> HttpResponse:
    film = _film_or_404(request, pk)
    user = acting_user(request)
    if not may_manage_film(user, film.pk):
        message = _("Only the film's producer team can edit it.")
        return render(request, "refused.html", {"message": message, "code": "not_film_team"}, status=403)
    form = FilmForm(instance=film)
    need_form = NeedForm(prefix="need")
    status = 200
    if request.method == "POST":
        try:
            if "need-category" in request.POST:
                need_form = NeedForm(request.POST, prefix="need")
                if need_form.is_valid():
                    services.need_add(user=user, film=film, data=need_form.service_data())
                    messages.success(request, _("Need added."))
                    return redirect("festival:film-edit", pk=film.pk)
            else:
                form = FilmForm(request.POST, instance=Film.objects.get(pk=film.pk))
                if form.is_valid():
                    services.film_update(user=user, film=film, data=form.service_data())
                    poster = request.FILES.get("poster")
                    if poster is not None:
                        services.film_set_poster(user=user, film=film, poster=poster)
                    messages.success(request, _("Presentation saved."))
                    return redirect("festival:film-detail", pk=film.pk)
        except DomainError as error:
            target = need_form if "need-category" in request.POST else form
            target.add_error(None, error.message)
        status = 400
    film.refresh_from_db()
    return render(
        request,
        "festival/film_edit.html",
        {"film": film, "form": form, "need_form": need_form, "financing": film_financing(film=film)},
        status=status,
    )


@ready_required
@require_POST
def need_delete(request: HttpRequest, pk: int) -> HttpResponse:
    need = get_object_or_404(PostProductionNeed, pk=pk)
    film = _film_or_404(request, need.film_id)
    try:
        services.need_remove(user=acting_user(request), need=need)
        messages.success(request, _("Need removed."))
    except DomainError as error:
        messages.error(request, error.message)
    return redirect("festival:film-edit", pk=film.pk)


@ready_required
def film_poster(request: HttpRequest, pk: int) -> HttpResponse:
    """Posters are private to the film's audience: served through the same visibility rule, not /media/."""
    film = _film_or_404(request, pk)
    if not film.poster:
        raise Http404(_("No poster."))
    response: HttpResponse = FileResponse(film.poster.open("rb"))  # type: ignore[assignment]
    response["Cache-Control"] = "private, max-age=300"
    return response
