"""REST API for offers: parse, authorise, call one service, render. Non-parties get 404 (invariant 2)."""

from __future__ import annotations

from django.db.models import QuerySet
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import Organisation
from accounts.permissions import AccountReady, acting_user
from core.errors import InvalidInput, NotFound
from festival.selectors import films_visible_to
from offers import services
from offers.models import Offer
from offers.selectors import offers_visible_to
from offers.serializers import (
    OfferCreateSerializer,
    OfferPolicySerializer,
    OfferSerializer,
    OfferTermsSerializer,
)


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
                user=acting_user(request), offer=offer, terms_data=data.validated_data["terms"]
            )
        except services.OfferTermsInvalid as error:
            raise _terms_errors(error) from error
        return Response(OfferSerializer(offer).data)

    @extend_schema(request=None, responses=OfferSerializer)
    @action(detail=True, methods=["post"])
    def submit(self, request: Request, pk: str | None = None) -> Response:
        offer = services.offer_submit(user=acting_user(request), offer=self.get_object())
        return Response(OfferSerializer(offer).data)

    @extend_schema(request=None, responses=OfferSerializer)
    @action(detail=True, methods=["post"])
    def withdraw(self, request: Request, pk: str | None = None) -> Response:
        offer = services.offer_withdraw(user=acting_user(request), offer=self.get_object())
        return Response(OfferSerializer(offer).data)


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
