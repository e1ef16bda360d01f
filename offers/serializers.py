from __future__ import annotations

from typing import Any

from rest_framework import serializers

from offers.models import Agreement, Offer, OfferPolicy, OfferVersion


class OfferVersionSerializer(serializers.ModelSerializer[OfferVersion]):
    author_email = serializers.EmailField(source="author.email", read_only=True)

    class Meta:
        model = OfferVersion
        fields = ["number", "author_email", "schema_version", "terms", "terms_hash", "created_at"]
        read_only_fields = fields


class OfferSerializer(serializers.ModelSerializer[Offer]):
    organisation_name = serializers.CharField(source="organisation.name", read_only=True)
    versions = OfferVersionSerializer(many=True, read_only=True)
    watched_cut = serializers.UUIDField(source="watched_cut.public_id", read_only=True, default=None)

    class Meta:
        model = Offer
        fields = [
            "id",
            "film",
            "organisation",
            "organisation_name",
            "kind",
            "status",
            "expires_on",
            "watched_cut",
            "watched_share_bp",
            "created_at",
            "submitted_at",
            "last_seq",
            "last_activity_at",
            "versions",
        ]
        read_only_fields = fields


class OfferCreateSerializer(serializers.Serializer[None]):
    film = serializers.IntegerField()
    organisation = serializers.IntegerField()
    terms = serializers.JSONField()
    expires_on = serializers.DateField(required=False, allow_null=True, default=None)

    def validate_terms(self, value: Any) -> Any:
        if not isinstance(value, dict):
            raise serializers.ValidationError("Terms must be an object.")
        return value


class OfferTermsSerializer(serializers.Serializer[None]):
    terms = serializers.JSONField()
    expires_on = serializers.DateField(required=False, allow_null=True, help_text="Omit to keep it.")


class OfferPolicySerializer(serializers.ModelSerializer[OfferPolicy]):
    class Meta:
        model = OfferPolicy
        fields = ["min_watched_share_bp"]
        extra_kwargs = {"min_watched_share_bp": {"min_value": None, "max_value": None, "required": True}}


class ThreadMessageSerializer(serializers.Serializer[None]):
    body = serializers.CharField(max_length=4000, trim_whitespace=True)
    client_id = serializers.CharField(max_length=64, required=False, allow_blank=True, default="")


class ThreadCounterSerializer(serializers.Serializer[None]):
    base_version = serializers.IntegerField(min_value=1)
    terms = serializers.JSONField()
    body = serializers.CharField(max_length=4000, required=False, allow_blank=True, default="")
    client_id = serializers.CharField(max_length=64, required=False, allow_blank=True, default="")

    def validate_terms(self, value: Any) -> Any:
        if not isinstance(value, dict):
            raise serializers.ValidationError("Terms must be an object.")
        return value


class ThreadAcceptSerializer(serializers.Serializer[None]):
    version = serializers.IntegerField(min_value=1)
    terms_hash = serializers.RegexField(r"^[0-9a-f]{64}$")


class ThreadReasonSerializer(serializers.Serializer[None]):
    reason = serializers.CharField(max_length=4000, required=False, allow_blank=True, default="")


class ThreadReadSerializer(serializers.Serializer[None]):
    seq = serializers.IntegerField(min_value=0)


class ThreadEventSerializer(serializers.Serializer[None]):
    """The shape of one thread event (offers.selectors.thread.event_payload), for the schema."""

    seq = serializers.IntegerField()
    kind = serializers.CharField()
    side = serializers.CharField()
    author = serializers.DictField(allow_null=True)
    body = serializers.CharField()
    client_id = serializers.CharField()
    version = serializers.DictField(allow_null=True)
    created_at = serializers.DateTimeField()


class ThreadEventPageSerializer(serializers.Serializer[None]):
    """A page of GET /api/offers/<id>/events/: ``next`` is null on the last page."""

    results = ThreadEventSerializer(many=True)
    next = serializers.URLField(allow_null=True)
    last_seq = serializers.IntegerField()


class AgreementSerializer(serializers.Serializer[Agreement]):
    id = serializers.UUIDField(source="public_id")
    offer = serializers.IntegerField(source="offer_id")
    version = serializers.IntegerField(source="version.number")
    film = serializers.IntegerField(source="film_id")
    kind = serializers.CharField()
    offeror_organisation = serializers.CharField(source="offeror_organisation.name")
    producer_organisation = serializers.CharField(source="producer_organisation.name")
    offeror_accepted_at = serializers.DateTimeField()
    producer_accepted_at = serializers.DateTimeField()
    terms_canonical = serializers.CharField()
    terms_hash = serializers.CharField()
    watched_share_bp = serializers.IntegerField()
    created_at = serializers.DateTimeField()
