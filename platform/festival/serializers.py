"""API shapes for sessions, films, post-production needs and a film's financing: parse and render only."""

from __future__ import annotations

from django_countries.serializer_fields import CountryField
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from festival.models import Film, FilmStage, Genre, NeedCategory, PostProductionNeed, Session
from festival.selectors import film_financing
from festival.services import SESSION_FIELDS


class SessionSerializer(serializers.ModelSerializer[Session]):
    country = CountryField()
    screening_opens_at = serializers.DateTimeField(read_only=True)
    screening_closes_at = serializers.DateTimeField(read_only=True)

    class Meta:
        model = Session
        fields = ["id", *SESSION_FIELDS, "screening_opens_at", "screening_closes_at"]


class NeedSerializer(serializers.ModelSerializer[PostProductionNeed]):
    gap_minor = serializers.IntegerField(read_only=True)

    class Meta:
        model = PostProductionNeed
        fields = ["id", "category", "estimated_cost_minor", "secured_minor", "gap_minor", "currency", "notes"]


class NeedInputSerializer(serializers.Serializer[None]):
    """Amounts are integers in minor units; a negative or fractional amount is refused by its field."""

    category = serializers.ChoiceField(choices=NeedCategory.choices)
    estimated_cost_minor = serializers.IntegerField(min_value=0)
    secured_minor = serializers.IntegerField(min_value=0, required=False, default=0)
    currency = serializers.CharField(min_length=3, max_length=3)
    notes = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)


class FinancingLineSerializer(serializers.Serializer[None]):
    currency = serializers.CharField()
    estimated_minor = serializers.IntegerField()
    secured_minor = serializers.IntegerField()
    gap_minor = serializers.IntegerField()


class FilmSerializer(serializers.ModelSerializer[Film]):
    countries = serializers.ListField(child=serializers.CharField(), source="country_codes", read_only=True)
    needs = NeedSerializer(many=True, read_only=True)
    financing = serializers.SerializerMethodField()
    session_name = serializers.CharField(source="session.name", read_only=True, default=None)

    class Meta:
        model = Film
        fields = [
            "id",
            "session",
            "session_name",
            "title",
            "original_title",
            "directors",
            "countries",
            "production_company",
            "logline_es",
            "logline_fr",
            "logline_en",
            "synopsis_es",
            "synopsis_fr",
            "synopsis_en",
            "runtime_minutes",
            "stage",
            "genre",
            "poster",
            "needs",
            "financing",
        ]
        read_only_fields = fields

    @extend_schema_field(FinancingLineSerializer(many=True))
    def get_financing(self, film: Film) -> list[dict[str, object]]:
        return FinancingLineSerializer(film_financing(film=film), many=True).data  # type: ignore[arg-type,return-value]


class FilmInputSerializer(serializers.Serializer[None]):
    """Every field optional on update (PATCH); ``film_create`` checks what a new film needs."""

    title = serializers.CharField(max_length=200, required=False)
    original_title = serializers.CharField(max_length=200, required=False, allow_blank=True)
    directors = serializers.ListField(child=serializers.CharField(max_length=200), required=False)
    countries = serializers.ListField(child=CountryField(), required=False, allow_empty=False)
    production_company = serializers.CharField(max_length=200, required=False)
    logline_es = serializers.CharField(max_length=300, required=False, allow_blank=True)
    logline_fr = serializers.CharField(max_length=300, required=False, allow_blank=True)
    logline_en = serializers.CharField(max_length=300, required=False, allow_blank=True)
    synopsis_es = serializers.CharField(required=False, allow_blank=True)
    synopsis_fr = serializers.CharField(required=False, allow_blank=True)
    synopsis_en = serializers.CharField(required=False, allow_blank=True)
    runtime_minutes = serializers.IntegerField(min_value=1, max_value=1000, required=False)
    stage = serializers.ChoiceField(choices=FilmStage.choices, required=False)
    genre = serializers.ChoiceField(choices=Genre.choices, required=False)


class FilmSelectSerializer(serializers.Serializer[None]):
    session = serializers.IntegerField()


class TeamAssignSerializer(serializers.Serializer[None]):
    user = serializers.IntegerField()
    organisation = serializers.IntegerField()
