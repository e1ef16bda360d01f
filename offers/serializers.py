from __future__ import annotations

from typing import Any

from rest_framework import serializers

from offers.models import Offer, OfferPolicy, OfferVersion


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


class OfferPolicySerializer(serializers.ModelSerializer[OfferPolicy]):
    class Meta:
        model = OfferPolicy
        fields = ["min_watched_share_bp"]
        extra_kwargs = {"min_watched_share_bp": {"min_value": None, "max_value": None}}
