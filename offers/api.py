"""REST API for offers: parse, authorise, call one service, render. Non-parties get 404 (invariant 2)."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
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
from core.errors import InvalidInput, NotFound
from festival.selectors import films_visible_to
from offers import negotiation, services
from offers.models import Offer
from offers.selectors import offers_visible_to
from offers.serializers import (
    AgreementSerializer,
    OfferCreateSerializer,
    OfferPolicySerializer,
    OfferSerializer,
    OfferTermsSerializer,
    ThreadAcceptSerializer,
    ThreadCounterSerializer,
    ThreadEventSerializer,
    ThreadMessageSerializer,
    ThreadReadSerializer,
    ThreadReasonSerializer,
)
from offers.thread import event_payload, events_after, thread_side


def _terms_errors(error: services.OfferTermsInvalid) -> ValidationError:
    return ValidationError(
        {"terms": [f"{e['field']}: {e['message']}" if e["field"] else e["message"] for e in error.errors]}
    )


class OfferViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet[Offer]):
    serializer_class = OfferSerializer
    permission_classes = [AccountReady]
    queryset = Offer.objects.none()  # for the schema; get_queryset scopes it to the parties

    def get_queryset(self) -> QuerySet[Offer]:
        offers = offers_visible_to(user=acting_user(self.request))
        film = self.request.query_params.get("film")
        return offers.filter(film_id=film) if film else offers

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
    def terms(self, request: Request, pk: str | None = None) -> Response:
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
    def submit(self, request: Request, pk: str | None = None) -> Response:
        offer = services.offer_submit(user=acting_user(request), offer=self.get_object())
        return Response(OfferSerializer(offer).data)

    @extend_schema(request=ThreadReasonSerializer, responses=OfferSerializer)
    @action(detail=True, methods=["post"])
    def withdraw(self, request: Request, pk: str | None = None) -> Response:
        data = _valid(ThreadReasonSerializer, request)
        offer = services.offer_withdraw(
            user=acting_user(request), offer=self.get_object(), reason=data["reason"]
        )
        return Response(OfferSerializer(offer).data)

    # --- the negotiation thread, for clients without a WebSocket -------------------------------------

    @extend_schema(
        parameters=[OpenApiParameter("after", int, description="Events after this sequence number")],
        responses=ThreadEventSerializer(many=True),
    )
    @action(detail=True, methods=["get"])
    def events(self, request: Request, pk: str | None = None) -> Response:
        offer = self.get_object()
        thread_side(acting_user(request), offer)
        after = request.query_params.get("after", "0")
        if not after.isdigit():
            raise InvalidInput(_("Give a sequence number (0 for the whole thread)."), field="after")
        return Response(events_after(offer, int(after)))

    @extend_schema(request=ThreadMessageSerializer, responses={201: ThreadEventSerializer})
    @action(detail=True, methods=["post"])
    def messages(self, request: Request, pk: str | None = None) -> Response:
        data = _valid(ThreadMessageSerializer, request)
        posted = negotiation.thread_message(user=acting_user(request), offer=self.get_object(), **data)
        return _posted(posted)

    @extend_schema(request=ThreadCounterSerializer, responses={201: ThreadEventSerializer})
    @action(detail=True, methods=["post"])
    def counter(self, request: Request, pk: str | None = None) -> Response:
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
    def accept(self, request: Request, pk: str | None = None) -> Response:
        data = _valid(ThreadAcceptSerializer, request)
        agreement = negotiation.thread_accept(user=acting_user(request), offer=self.get_object(), **data)
        return Response(AgreementSerializer(agreement).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=ThreadReasonSerializer, responses=OfferSerializer)
    @action(detail=True, methods=["post"])
    def decline(self, request: Request, pk: str | None = None) -> Response:
        data = _valid(ThreadReasonSerializer, request)
        offer = negotiation.thread_decline(user=acting_user(request), offer=self.get_object(), **data)
        return Response(OfferSerializer(offer).data)

    @extend_schema(request=ThreadReadSerializer, responses=ThreadReadSerializer)
    @action(detail=True, methods=["post"])
    def read(self, request: Request, pk: str | None = None) -> Response:
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
