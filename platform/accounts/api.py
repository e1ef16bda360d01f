"""REST API for people, organisations and accreditations: parse, authorise, call a service, render."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import services
from accounts.models import Accreditation, Organisation, User
from accounts.permissions import AccountReady, acting_user
from accounts.policy import is_festival_admin
from accounts.serializers import (
    AccreditationApplySerializer,
    AccreditationSerializer,
    DecisionSerializer,
    MeSerializer,
    OrganisationCreateSerializer,
    OrganisationSerializer,
)
from core.errors import InvalidInput, NotFound
from festival.models import Session


class MeView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses=MeSerializer)
    def get(self, request: Request) -> Response:
        return Response(MeSerializer(acting_user(request)).data)


class OrganisationViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet[Organisation]
):
    """Organisations are a directory: any signed-in person may list them, create one or join one."""

    serializer_class = OrganisationSerializer
    permission_classes = [IsAuthenticated]
    queryset = Organisation.objects.all()

    @extend_schema(request=OrganisationCreateSerializer, responses={201: OrganisationSerializer})
    def create(self, request: Request) -> Response:
        data = OrganisationCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        organisation = services.organisation_create(user=acting_user(request), **data.validated_data)
        return Response(OrganisationSerializer(organisation).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses=OrganisationSerializer)
    @action(detail=True, methods=["post"])
    def join(self, request: Request, pk: str | None = None) -> Response:
        organisation = self.get_object()
        services.organisation_join(user=acting_user(request), organisation=organisation)
        return Response(OrganisationSerializer(organisation).data)


class AccreditationViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet[Accreditation]
):
    """A person's own accreditations; admins see and decide on everyone's."""

    serializer_class = AccreditationSerializer
    permission_classes = [AccountReady]
    queryset = Accreditation.objects.none()  # for the schema; get_queryset scopes it to the caller

    def get_queryset(self) -> QuerySet[Accreditation]:
        queryset = Accreditation.objects.select_related("user", "session", "organisation")
        user: User = self.request.user  # type: ignore[assignment]
        if not is_festival_admin(user):
            queryset = queryset.filter(user=user)
        for name in ("status", "session"):
            value = self.request.query_params.get(name)
            if value:
                queryset = queryset.filter(**{name: value})
        return queryset

    @extend_schema(request=AccreditationApplySerializer, responses={201: AccreditationSerializer})
    def create(self, request: Request) -> Response:
        data = AccreditationApplySerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values: dict[str, Any] = dict(data.validated_data)
        session = Session.objects.filter(pk=values.pop("session")).first()
        if session is None:
            raise InvalidInput(_("No such session."), field="session")
        organisation = Organisation.objects.filter(pk=values.pop("organisation")).first()
        if organisation is None:
            raise InvalidInput(_("No such organisation."), field="organisation")
        accreditation = services.accreditation_apply(
            user=acting_user(request), session=session, organisation=organisation, **values
        )
        return Response(AccreditationSerializer(accreditation).data, status=status.HTTP_201_CREATED)

    def _decide(self, request: Request, decide: Any) -> Response:
        accreditation = self.get_object()
        data = DecisionSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        result = decide(
            accreditation=accreditation, admin=acting_user(request), reason=data.validated_data["reason"]
        )
        return Response(AccreditationSerializer(result).data)

    @extend_schema(request=DecisionSerializer, responses=AccreditationSerializer)
    @action(detail=True, methods=["post"])
    def approve(self, request: Request, pk: str | None = None) -> Response:
        return self._decide(request, services.accreditation_approve)

    @extend_schema(request=DecisionSerializer, responses=AccreditationSerializer)
    @action(detail=True, methods=["post"])
    def reject(self, request: Request, pk: str | None = None) -> Response:
        return self._decide(request, services.accreditation_reject)

    @extend_schema(request=DecisionSerializer, responses=AccreditationSerializer)
    @action(detail=True, methods=["post"])
    def revoke(self, request: Request, pk: str | None = None) -> Response:
        return self._decide(request, services.accreditation_revoke)

    @extend_schema(request=None, responses=AccreditationSerializer)
    @action(detail=True, methods=["post"])
    def withdraw(self, request: Request, pk: str | None = None) -> Response:
        accreditation = self.get_object()
        if accreditation.user_id != request.user.pk:
            raise NotFound(_("No such accreditation."))
        result = services.accreditation_withdraw(accreditation=accreditation, user=acting_user(request))
        return Response(AccreditationSerializer(result).data)
