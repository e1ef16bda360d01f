"""REST API for screeners: cuts and their resumable uploads, and the film's audience rules."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import Organisation
from accounts.permissions import AccountReady, acting_user
from core.errors import InvalidInput
from festival.models import Film
from festival.selectors import films_visible_to
from screening import services
from screening.models import Cut, Upload
from screening.policy import require_screener_manager
from screening.selectors import film_cuts, films_managed_by, uploaded_parts
from screening.serializers import (
    AudienceRulesSerializer,
    CompleteSerializer,
    CutCreateSerializer,
    CutSerializer,
    PartNumbersSerializer,
    PartUrlsSerializer,
    UploadSerializer,
    UploadStatusSerializer,
)


def _visible_films(request: Request) -> QuerySet[Film]:
    return films_visible_to(user=acting_user(request))


def _managed_films(request: Request) -> QuerySet[Film]:
    """Films whose cuts and uploads the caller may know about: their team's films (all, for an admin).
    Anyone else gets the same 404 for a real cut or upload as for a missing one."""
    return films_managed_by(user=acting_user(request))


def _upload(request: Request, upload_id: int) -> Upload:
    return get_object_or_404(
        Upload.objects.select_related("cut", "cut__film"), pk=upload_id, cut__film__in=_managed_films(request)
    )


def _valid(serializer: type[serializers.Serializer[Any]], request: Request) -> dict[str, Any]:
    """The request body parsed by ``serializer``; a 400 naming each field at fault otherwise."""
    data = serializer(data=request.data)
    data.is_valid(raise_exception=True)
    return dict(data.validated_data)


class FilmCutsView(APIView):
    permission_classes = [AccountReady]

    @extend_schema(responses=CutSerializer(many=True))
    def get(self, request: Request, film_id: int) -> Response:
        film = get_object_or_404(_visible_films(request), pk=film_id)
        require_screener_manager(user=acting_user(request), film=film)
        return Response(CutSerializer(film_cuts(film=film), many=True).data)

    @extend_schema(request=CutCreateSerializer, responses={201: CutSerializer})
    def post(self, request: Request, film_id: int) -> Response:
        film = get_object_or_404(_visible_films(request), pk=film_id)
        cut = services.cut_create(
            user=acting_user(request),
            film=film,
            idempotency_key=request.headers.get("Idempotency-Key", ""),
            **_valid(CutCreateSerializer, request),
        )
        return Response(
            {"cut": CutSerializer(cut).data, "upload": UploadSerializer(cut.upload).data},
            status=status.HTTP_201_CREATED,
        )


class CutCancelView(APIView):
    permission_classes = [AccountReady]

    @extend_schema(request=None, responses=CutSerializer)
    def post(self, request: Request, cut_id: str) -> Response:
        cut = get_object_or_404(
            Cut.objects.select_related("film"), public_id=cut_id, film__in=_managed_films(request)
        )
        return Response(CutSerializer(services.cut_cancel(user=acting_user(request), cut=cut)).data)


class UploadView(APIView):
    permission_classes = [AccountReady]

    @extend_schema(responses=UploadStatusSerializer)
    def get(self, request: Request, upload_id: int) -> Response:
        upload = _upload(request, upload_id)
        require_screener_manager(user=acting_user(request), film=upload.cut.film)
        parts = uploaded_parts(upload=upload)
        return Response(
            {
                **UploadSerializer(upload).data,
                "parts": [{"number": p.number, "size": p.size, "etag": p.etag} for p in parts],
            }
        )


class UploadPartUrlsView(APIView):
    permission_classes = [AccountReady]

    @extend_schema(request=PartNumbersSerializer, responses=PartUrlsSerializer)
    def post(self, request: Request, upload_id: int) -> Response:
        upload = _upload(request, upload_id)
        numbers = _valid(PartNumbersSerializer, request)["part_numbers"]
        urls = services.upload_part_urls(user=acting_user(request), upload=upload, part_numbers=numbers)
        return Response({"urls": {str(n): url for n, url in urls.items()}})


class UploadCompleteView(APIView):
    permission_classes = [AccountReady]

    @extend_schema(request=CompleteSerializer, responses=CutSerializer)
    def post(self, request: Request, upload_id: int) -> Response:
        upload = _upload(request, upload_id)
        parts = [(p["number"], p["etag"]) for p in _valid(CompleteSerializer, request)["parts"]]
        cut = services.upload_complete(user=acting_user(request), upload=upload, parts=parts)
        return Response({"cut": CutSerializer(cut).data})


class UploadAbortView(APIView):
    permission_classes = [AccountReady]

    @extend_schema(request=None, responses=CutSerializer)
    def post(self, request: Request, upload_id: int) -> Response:
        upload = _upload(request, upload_id)
        return Response(
            {"cut": CutSerializer(services.upload_abort(user=acting_user(request), upload=upload)).data}
        )


class AudienceRulesView(APIView):
    permission_classes = [AccountReady]

    @extend_schema(request=AudienceRulesSerializer, responses=AudienceRulesSerializer)
    def put(self, request: Request, film_id: int) -> Response:
        film = get_object_or_404(_visible_films(request), pk=film_id)
        values = _valid(AudienceRulesSerializer, request)
        ids = values.pop("blocked_organisations")
        organisations = list(Organisation.objects.filter(pk__in=ids))
        if len(organisations) != len(set(ids)):
            raise InvalidInput(_("Unknown organisation."), field="blocked_organisations")
        services.audience_rules_set(
            user=acting_user(request), film=film, blocked_organisations=organisations, **values
        )
        return Response({**values, "blocked_organisations": sorted(o.pk for o in organisations)})
