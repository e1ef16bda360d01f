"""REST API for sessions, films and post-production needs: parse, authorise, call a service, render."""

from __future__ import annotations

from django.db.models import QuerySet
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.models import Organisation, User
from accounts.permissions import AccountReady, FestivalAdminOrReadOnly, acting_user
from core.errors import InvalidInput
from core.params import int_param
from festival import services
from festival.models import Film, PostProductionNeed, Session
from festival.selectors import films_visible_to, sessions_listed
from festival.serializers import (
    FilmInputSerializer,
    FilmSelectSerializer,
    FilmSerializer,
    NeedInputSerializer,
    NeedSerializer,
    SessionSerializer,
    TeamAssignSerializer,
)


class SessionViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet[Session]):
    """Sessions are public to ready accounts; admins create and change them."""

    serializer_class = SessionSerializer
    permission_classes = [FestivalAdminOrReadOnly]
    queryset = sessions_listed()

    @extend_schema(request=SessionSerializer, responses={201: SessionSerializer})
    def create(self, request: Request) -> Response:
        data = SessionSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        session = services.session_save(admin=acting_user(request), data=data.validated_data)
        return Response(SessionSerializer(session).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=SessionSerializer, responses=SessionSerializer)
    def partial_update(self, request: Request, pk: str | None = None) -> Response:
        session = self.get_object()
        data = SessionSerializer(session, data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        session = services.session_save(admin=acting_user(request), session=session, data=data.validated_data)
        return Response(SessionSerializer(session).data)


class FilmViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet[Film]):
    """Films of the sessions the caller is accredited for (404 for any other film)."""

    serializer_class = FilmSerializer
    permission_classes = [AccountReady]
    queryset = Film.objects.none()  # for the schema; get_queryset scopes it to the caller

    def get_queryset(self) -> QuerySet[Film]:
        queryset = films_visible_to(user=acting_user(self.request))
        session = int_param(self.request.query_params, "session")
        return queryset if session is None else queryset.filter(session_id=session)

    @extend_schema(request=FilmInputSerializer, responses={201: FilmSerializer})
    def create(self, request: Request) -> Response:
        data = FilmInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        film = services.film_create(admin=acting_user(request), data=data.validated_data)
        return Response(FilmSerializer(film).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=FilmInputSerializer, responses=FilmSerializer)
    def partial_update(self, request: Request, pk: str | None = None) -> Response:
        film = self.get_object()
        data = FilmInputSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        film = services.film_update(user=acting_user(request), film=film, data=data.validated_data)
        return Response(FilmSerializer(film).data)

    @extend_schema(request=FilmSelectSerializer, responses=FilmSerializer)
    @action(detail=True, methods=["post"])
    def select(self, request: Request, pk: str | None = None) -> Response:
        film = self.get_object()
        data = FilmSelectSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        session = Session.objects.filter(pk=data.validated_data["session"]).first()
        if session is None:
            raise InvalidInput(_("No such session."), field="session")
        film = services.film_select(admin=acting_user(request), film=film, session=session)
        return Response(FilmSerializer(film).data)

    @extend_schema(request=TeamAssignSerializer, responses=FilmSerializer)
    @action(detail=True, methods=["post"])
    def team(self, request: Request, pk: str | None = None) -> Response:
        film = self.get_object()
        data = TeamAssignSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        member = User.objects.filter(pk=data.validated_data["user"]).first()
        organisation = Organisation.objects.filter(pk=data.validated_data["organisation"]).first()
        if member is None:
            raise InvalidInput(_("No such user."), field="user")
        if organisation is None:
            raise InvalidInput(_("No such organisation."), field="organisation")
        services.film_team_assign(
            admin=acting_user(request), film=film, user=member, organisation=organisation
        )
        return Response(FilmSerializer(film).data)

    @extend_schema(methods=["get"], responses=NeedSerializer(many=True))
    @extend_schema(methods=["post"], request=NeedInputSerializer, responses={201: NeedSerializer})
    @action(detail=True, methods=["get", "post"])
    def needs(self, request: Request, pk: str | None = None) -> Response:
        film = self.get_object()
        if request.method == "GET":
            return Response(NeedSerializer(film.needs.all(), many=True).data)
        data = NeedInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        need = services.need_add(user=acting_user(request), film=film, data=data.validated_data)
        return Response(NeedSerializer(need).data, status=status.HTTP_201_CREATED)


class NeedViewSet(mixins.RetrieveModelMixin, viewsets.GenericViewSet[PostProductionNeed]):
    serializer_class = NeedSerializer
    permission_classes = [AccountReady]
    queryset = PostProductionNeed.objects.none()  # for the schema; get_queryset scopes it to the caller

    def get_queryset(self) -> QuerySet[PostProductionNeed]:
        visible = films_visible_to(user=acting_user(self.request))
        return PostProductionNeed.objects.filter(film__in=visible).select_related("film")

    @extend_schema(request=NeedInputSerializer(partial=True), responses=NeedSerializer)
    def partial_update(self, request: Request, pk: str | None = None) -> Response:
        need = self.get_object()
        data = NeedInputSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        need = services.need_update(user=acting_user(request), need=need, data=data.validated_data)
        return Response(NeedSerializer(need).data)

    def destroy(self, request: Request, pk: str | None = None) -> Response:
        need = self.get_object()
        services.need_remove(user=acting_user(request), need=need)
        return Response(status=status.HTTP_204_NO_CONTENT)
