"""REST API for offers: parse, authorise, call one service, render. Non-parties get 404
(docs/architecture.md, invariant 2)."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import Serializer
from rest_framework.views import APIView

from accounts.models import Organisation
from accounts.permissions import AccountReady, acting_user
from core.errors import DomainError, InvalidInput, NotFound
from core.middleware import error_body
from core.params import int_param
from core.ratelimit import RateLimited, rate_take, thread_key, thread_rate
from festival.selectors import films_visible_to
from offers.models import Offer
from offers.parties import thread_side
from offers.selectors.offers import offers_visible_to
from offers.selectors.thread import event_payload, events_after
from offers.serializers import (
    AgreementSerializer,
    OfferCreateSerializer,
    OfferPolicySerializer,
    OfferSerializer,
    OfferTermsSerializer,
    ThreadAcceptSerializer,
    ThreadCounterSerializer,
    ThreadEventPageSerializer,
    ThreadEventSerializer,
    ThreadMessageSerializer,
    ThreadReadSerializer,
    ThreadReasonSerializer,
)
from offers.services import negotiation
from offers.services import offers as services

EVENTS_PAGE = 500  # events per page of GET /events/ (at most; ``limit`` asks for fewer)


def _terms_errors(error: services.OfferTermsInvalid) -> ValidationError:
    return ValidationError(
        {
            "detail": error.message,
            "code": "invalid_terms",
            "field": error.field,
            # Each message already names the field as the form labels it ("Commission: ..."); ``errors`` gives
            # the path of each field for clients that point at it.
            "terms": [e["message"] for e in error.errors],
            "errors": error.errors,  # type: ignore[dict-item]  # {field, label, code, message}, as is
        }
    )


def _thread_budget(request: Request) -> None:
    """Thread actions draw from the same per-user budget as the thread's sockets (core.ratelimit)."""
    rate, burst = thread_rate()
    if rate_take(key=thread_key(acting_user(request).pk), rate=rate, burst=burst) == 0:
        raise RateLimited(_("Too many thread actions: slow down."))


# Every custom action takes ``**route``: DRF passes ``format`` there when its format-suffix routes
# (``/events.json``) are on, and nothing when they are off; either way, no 500.
class OfferViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet[Offer]):
    serializer_class = OfferSerializer
    permission_classes = [AccountReady]
    queryset = Offer.objects.none()  # for the schema; get_queryset scopes it to the parties

    def get_queryset(self) -> QuerySet[Offer]:
        offers = offers_visible_to(user=acting_user(self.request))
        film = int_param(self.request.query_params, "film")  # 400 naming it, never a 500
        return offers.filter(film_id=film) if film is not None else offers

    def handle_exception(self, exc: Exception) -> Response:
        """Refusals carry the same machine codes as the thread socket's error frames (``stale_version``,
        ``thread_closed``, ``read_only``, ``rate_limited``...): ``{"detail", "code", "field"}``."""
        if isinstance(exc, DomainError) and not exc.field:
            response = Response(
                error_body(detail=exc.message, code=exc.code, field=None), status=exc.status_code
            )
            if isinstance(exc, RateLimited):
                response["Retry-After"] = "1"
            return response
        return super().handle_exception(exc)

    @extend_schema(request=OfferCreateSerializer, responses={201: OfferSerializer})
    def create(self, request: Request) -> Response:
        data = OfferCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = acting_user(request)
        film = films_visible_to(user=user).filter(pk=data.validated_data["film"]).first()
        if film is None:
            raise NotFound(_("No such film."))
        organisation = Organisation.objects.filter(pk=data.validated_data["organisation"]).first()
        if organisation is None:
            raise InvalidInput(_("No such organisation."), field="organisation")
        try:
            offer = services.offer_create(
                user=user,
                film=film,
                organisation=organisation,
                terms_data=data.validated_data["terms"],
                expires_on=data.validated_data["expires_on"],
            )
        except services.OfferTermsInvalid as error:
            raise _terms_errors(error) from error
        return Response(OfferSerializer(offer).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=OfferTermsSerializer, responses=OfferSerializer)
    @action(detail=True, methods=["put"])
    def terms(self, request: Request, pk: str | None = None, **route: Any) -> Response:
        offer = self.get_object()
        data = OfferTermsSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            offer = services.offer_update_draft(
                user=acting_user(request),
                offer=offer,
                terms_data=data.validated_data["terms"],
                expires_on=data.validated_data.get("expires_on", ...),
            )
        except services.OfferTermsInvalid as error:
            raise _terms_errors(error) from error
        return Response(OfferSerializer(offer).data)

    @extend_schema(request=None, responses=OfferSerializer)
    @action(detail=True, methods=["post"])
    def submit(self, request: Request, pk: str | None = None, **route: Any) -> Response:
        offer = services.offer_submit(user=acting_user(request), offer=self.get_object())
        return Response(OfferSerializer(offer).data)

    @extend_schema(request=ThreadReasonSerializer, responses=OfferSerializer)
    @action(detail=True, methods=["post"])
    def withdraw(self, request: Request, pk: str | None = None, **route: Any) -> Response:
        _thread_budget(request)
        data = _valid(ThreadReasonSerializer, request)
        offer = services.offer_withdraw(
            user=acting_user(request), offer=self.get_object(), reason=data["reason"]
        )
        return Response(OfferSerializer(offer).data)

    # --- the negotiation thread, for clients without a WebSocket -------------------------------------

    @extend_schema(
        parameters=[
            OpenApiParameter("after", int, description="Events after this sequence number (the cursor)"),
            OpenApiParameter("limit", int, description=f"At most this many events (1 to {EVENTS_PAGE})"),
        ],
        responses=ThreadEventPageSerializer,
    )
    @action(detail=True, methods=["get"])
    def events(self, request: Request, pk: str | None = None, **route: Any) -> Response:
        """The thread's events in order, a page at a time: ``next`` is the URL of the following page (the
        cursor is the last sequence number of this one), null once the page reaches the thread's end."""
        offer = self.get_object()
        thread_side(acting_user(request), offer)
        after = int_param(request.query_params, "after", minimum=0) or 0
        limit = int_param(request.query_params, "limit") or EVENTS_PAGE
        if limit > EVENTS_PAGE:
            raise InvalidInput(
                _("limit is at most %(max)s.") % {"max": EVENTS_PAGE}, code="invalid_parameter", field="limit"
            )
        page = events_after(offer=offer, after=after, limit=limit)
        cursor = page[-1]["seq"] if page else after
        following = None
        if cursor < offer.last_seq:
            query = {"after": cursor, **({"limit": limit} if "limit" in request.query_params else {})}
            following = request.build_absolute_uri(f"{request.path}?{urlencode(query)}")
        return Response({"results": page, "next": following, "last_seq": offer.last_seq})

    @extend_schema(request=ThreadMessageSerializer, responses={201: ThreadEventSerializer})
    @action(detail=True, methods=["post"])
    def messages(self, request: Request, pk: str | None = None, **route: Any) -> Response:
        _thread_budget(request)
        data = _valid(ThreadMessageSerializer, request)
        posted = negotiation.thread_message(user=acting_user(request), offer=self.get_object(), **data)
        return _posted(posted)

    @extend_schema(request=ThreadCounterSerializer, responses={201: ThreadEventSerializer})
    @action(detail=True, methods=["post"])
    def counter(self, request: Request, pk: str | None = None, **route: Any) -> Response:
        _thread_budget(request)
        data = _valid(ThreadCounterSerializer, request)
        try:
            posted = negotiation.thread_counter(
                user=acting_user(request),
                offer=self.get_object(),
                base_version=data["base_version"],
                terms_data=data["terms"],
                body=data["body"],
                client_id=data["client_id"],
            )
        except services.OfferTermsInvalid as error:
            raise _terms_errors(error) from error
        return _posted(posted)

    @extend_schema(request=ThreadAcceptSerializer, responses={201: AgreementSerializer})
    @action(detail=True, methods=["post"])
    def accept(self, request: Request, pk: str | None = None, **route: Any) -> Response:
        _thread_budget(request)
        data = _valid(ThreadAcceptSerializer, request)
        agreement = negotiation.thread_accept(user=acting_user(request), offer=self.get_object(), **data)
        return Response(AgreementSerializer(agreement).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=ThreadReasonSerializer, responses=OfferSerializer)
    @action(detail=True, methods=["post"])
    def decline(self, request: Request, pk: str | None = None, **route: Any) -> Response:
        _thread_budget(request)
        data = _valid(ThreadReasonSerializer, request)
        offer = negotiation.thread_decline(user=acting_user(request), offer=self.get_object(), **data)
        return Response(OfferSerializer(offer).data)

    @extend_schema(request=ThreadReadSerializer, responses=ThreadReadSerializer)
    @action(detail=True, methods=["post"])
    def read(self, request: Request, pk: str | None = None, **route: Any) -> Response:
        _thread_budget(request)
        data = _valid(ThreadReadSerializer, request)
        seq = negotiation.thread_mark_read(
            user=acting_user(request), offer=self.get_object(), seq=data["seq"]
        )
        return Response({"seq": seq})


def _valid(serializer: type[Serializer[None]], request: Request) -> dict[str, Any]:
    data = serializer(data=request.data)
    data.is_valid(raise_exception=True)
    return dict(data.validated_data)


def _posted(posted: negotiation.Posted) -> Response:
    code = status.HTTP_200_OK if posted.duplicate else status.HTTP_201_CREATED
    return Response(event_payload(posted.event), status=code)


class OfferPolicyView(APIView):
    """The film's producer team sets how much of the screener offerors must have watched."""

    permission_classes = [AccountReady]

    @extend_schema(request=OfferPolicySerializer, responses=OfferPolicySerializer)
    def put(self, request: Request, film_id: int) -> Response:
        user = acting_user(request)
        film = films_visible_to(user=user).filter(pk=film_id).first()
        if film is None:
            raise NotFound(_("No such film."))
        data = OfferPolicySerializer(data=request.data)
        data.is_valid(raise_exception=True)
        policy = services.offer_policy_set(user=user, film=film, **data.validated_data)
        return Response(OfferPolicySerializer(policy).data)
