"""Offer pages: make an offer (draft, edit, submit, withdraw), a professional's offers, and the producers'
comparison of the offers to their film. Parse, authorise, call the services, render; refusals of what a
person may not know about are 404s.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from accounts.decorators import ready_required
from accounts.models import User
from accounts.permissions import acting_user
from core.errors import DomainError
from festival.models import Film
from festival.selectors import film_for_viewer
from offers.forms import OfferForm
from offers.models import Offer, OfferKind, OfferStatus, Side
from offers.parties import may_make_offer
from offers.selectors import offers as selectors
from offers.services import offers as services
from offers.terms import FieldError
from offers.terms.errors import field_error
from offers.terms.labels import split_path

# --- making an offer ------------------------------------------------------------------------------------


def _offer_film(user: User, film_id: int) -> Film:
    film = film_for_viewer(user=user, film_id=film_id)
    if film is None or not may_make_offer(user=user, film=film):
        raise Http404(_("No such film."))
    return film


def _own_offer(user: User, pk: int) -> Offer:
    offer = selectors.offers_of_user(user=user).filter(pk=pk).first()
    if offer is None:
        raise Http404(_("No such offer."))
    return offer


def _place_error(form: OfferForm, error: DomainError, terms_errors: list[FieldError]) -> None:
    """A service's refusal, next to the field it names: terms fields go to the terms editor."""
    field = error.field or ""
    if isinstance(error, services.OfferTermsInvalid):
        terms_errors.extend(error.errors)
    elif field == "terms" or field.startswith(("terms.", "terms[")):
        # Another check of the terms (core.text's unsafe text): named by the label the form shows.
        path = split_path(field.removeprefix("terms").lstrip("."))
        terms_errors.append(field_error(path, error.message, error.code or "invalid"))
    elif field in form.fields:
        form.add_error(field, error.message)
    else:
        form.add_error(None, error.message)


def _posted_terms(form: OfferForm) -> dict[str, Any] | None:
    """What the editor sent, to draw it again with the errors (even terms the form refused)."""
    try:
        terms = json.loads(form.data.get("terms") or "null")
    except ValueError:
        return None
    return terms if isinstance(terms, dict) else None


def _render_form(
    request: HttpRequest,
    *,
    film: Film,
    form: OfferForm,
    offer: Offer | None,
    terms: dict[str, Any] | None,
    terms_errors: list[FieldError],
    status: int,
) -> HttpResponse:
    user = acting_user(request)
    cut, watched = selectors.watched_share_bp(user=user, film=film)
    required = selectors.required_watched_share_bp(film=film)
    organisations = [{"id": org.pk, "name": org.name} for org in user.organisations.order_by("name")]
    return render(
        request,
        "offers/offer_form.html",
        {
            "film": film,
            "form": form,
            "offer": offer,
            "kind": offer.kind if offer else (form["kind"].value() or OfferKind.POST_PRODUCTION),
            "terms": terms,
            "terms_errors": terms_errors,
            "organisations": organisations,
            "cut": cut,
            "watched_percent": watched / 100,
            "required_percent": required / 100,
        },
        status=status,
    )


def _form_page(
    request: HttpRequest,
    *,
    film: Film,
    form: OfferForm,
    offer: Offer | None,
    terms: dict[str, Any] | None,
    save: Callable[[], Offer],
    saved: str,
) -> HttpResponse:
    """The offer form, drawn with ``terms``; posted, the draft is saved (``save`` calls the service) and,
    when the person asked, submitted: the two stand or fall together (a refused submission saves nothing).
    A refusal draws the form again with it, next to the field it names."""
    terms_errors: list[FieldError] = []
    if request.method != "POST":
        return _render_form(
            request, film=film, form=form, offer=offer, terms=terms, terms_errors=terms_errors, status=200
        )
    if form.is_valid():
        submit = request.POST.get("action") == "submit"
        try:
            with transaction.atomic():
                saving = save()
                if submit:
                    saving = services.offer_submit(user=acting_user(request), offer=saving)
        except DomainError as error:
            _place_error(form, error, terms_errors)
        else:
            if submit:
                messages.success(request, _("Your offer was sent to the producers."))
                return redirect("offers:thread", saving.pk)
            messages.success(request, saved)
            return redirect("offers:edit", saving.pk)
    if offer is not None:
        offer.refresh_from_db()
    return _render_form(
        request,
        film=film,
        form=form,
        offer=offer,
        terms=_posted_terms(form),
        terms_errors=terms_errors,
        status=400,
    )


@ready_required
def offer_new(request: HttpRequest, film_id: int) -> HttpResponse:
    user = acting_user(request)
    film = _offer_film(user, film_id)
    initial = {"kind": request.GET.get("kind") if request.GET.get("kind") in OfferKind.values else None}
    form = OfferForm(request.POST or None, user=user, initial=initial)
    return _form_page(
        request,
        film=film,
        form=form,
        offer=None,
        terms=None,
        save=lambda: services.offer_create(
            user=user,
            film=film,
            organisation=form.cleaned_data["organisation"],
            terms_data=form.cleaned_data["terms"],
            expires_on=form.cleaned_data["expires_on"],
        ),
        saved=_("Draft saved. Only your organisation can see it."),
    )


@ready_required
def offer_edit(request: HttpRequest, pk: int) -> HttpResponse:
    user = acting_user(request)
    offer = _own_offer(user, pk)
    if offer.status != OfferStatus.DRAFT:
        messages.info(request, _("This offer was submitted: its terms now change by counter-offer."))
        return redirect("offers:thread", offer.pk)
    initial = {"organisation": offer.organisation_id, "kind": offer.kind, "expires_on": offer.expires_on}
    form = OfferForm(request.POST or None, user=user, editing=True, initial=initial)
    return _form_page(
        request,
        film=offer.film,
        form=form,
        offer=offer,
        terms=selectors.latest_version(offer).terms,
        save=lambda: services.offer_update_draft(
            user=user,
            offer=offer,
            terms_data=form.cleaned_data["terms"],
            expires_on=form.cleaned_data["expires_on"],
        ),
        saved=_("Draft saved."),
    )


@ready_required
@require_POST
def offer_withdraw(request: HttpRequest, pk: int) -> HttpResponse:
    user = acting_user(request)
    offer = _own_offer(user, pk)
    try:
        services.offer_withdraw(user=user, offer=offer)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("Offer withdrawn."))
    return redirect("offers:mine")


@require_GET
def offer_terms_schema(request: HttpRequest, kind: str) -> JsonResponse:
    """The terms schema the editor draws its form from (public, like the API schema)."""
    schema = selectors.terms_form_schema(kind)
    if schema is None:
        raise Http404(_("No such offer type."))
    response = JsonResponse(schema)
    patch_vary_headers(response, ["Accept-Language", "Cookie"])
    return response


# --- reading offers -------------------------------------------------------------------------------------


@ready_required
def my_offers(request: HttpRequest) -> HttpResponse:
    user = acting_user(request)
    film_id = request.GET.get("film", "")
    film = int(film_id) if film_id.isdigit() else None
    offers = selectors.offers_of_user(user=user, film_id=film)
    received = selectors.offer_rows(selectors.offers_received(user=user, film_id=film))
    return render(
        request,
        "offers/my_offers.html",
        {
            "rows": selectors.offer_rows(offers),
            "received": received,
            "awaiting": [
                row.offer.pk for row in received if selectors.awaits_answer_from(row, Side.PRODUCER)
            ],
            "is_producer": selectors.films_of_team_exist(user=user),
            "filtered": film is not None,
        },
    )


def _choice(value: str, allowed: list[str]) -> str:
    return value if value in allowed else ""


@ready_required
def film_offers(request: HttpRequest, film_id: int) -> HttpResponse:
    """The producers' comparison: the film's team and admins only; anyone else gets a 404."""
    user = acting_user(request)
    film = film_for_viewer(user=user, film_id=film_id)
    if film is None or not selectors.may_compare_offers(user=user, film=film):
        raise Http404(_("No such film."))
    statuses = [(value, label) for value, label in OfferStatus.choices if value != OfferStatus.DRAFT]
    kind = _choice(request.GET.get("kind", ""), OfferKind.values)
    status = _choice(request.GET.get("status", ""), [value for value, _label in statuses])
    sort = _choice(request.GET.get("sort", ""), list(selectors.SORTS)) or "activity"
    comparison = selectors.film_offer_comparison(film=film, kind=kind, status=status, sort=sort)
    return render(
        request,
        "offers/film_offers.html",
        {
            "film": film,
            "comparison": comparison,
            "kinds": OfferKind.choices,
            "statuses": statuses,
            "kind": kind,
            "status": status,
            "sort": sort,
            "sorts": [
                ("activity", _("Last activity")),
                ("value", _("Value")),
                ("status", _("Status")),
            ],
        },
    )
