from __future__ import annotations

from rest_framework import serializers

from screening.models import Cut, Upload


class CutSerializer(serializers.ModelSerializer[Cut]):
    id = serializers.UUIDField(source="public_id", read_only=True)

    class Meta:
        model = Cut
        fields = [
            "id",
            "number",
            "status",
            "source_filename",
            "source_size",
            "duration_s",
            "width",
            "height",
            "renditions",
            "progress",
            "stage",
            "failure_code",
            "failure_reason",
            "created_at",
            "published_at",
        ]
        read_only_fields = fields


class UploadSerializer(serializers.ModelSerializer[Upload]):
    class Meta:
        model = Upload
        fields = ["id", "part_size", "part_count", "status"]
        read_only_fields = fields


class CutCreateSerializer(serializers.Serializer[None]):
    filename = serializers.CharField(max_length=255)
    size = serializers.IntegerField(min_value=1)
    content_type = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")


class PartNumbersSerializer(serializers.Serializer[None]):
    part_numbers = serializers.ListField(child=serializers.IntegerField(min_value=1), max_length=1000)


class PartSerializer(serializers.Serializer[None]):
    number = serializers.IntegerField(min_value=1)
    etag = serializers.CharField(max_length=200)


class CompleteSerializer(serializers.Serializer[None]):
    parts = PartSerializer(many=True)


class AudienceRulesSerializer(serializers.Serializer[None]):
    allowed_categories = serializers.ListField(child=serializers.CharField(), required=False, default=list)
    blocked_organisations = serializers.ListField(
        child=serializers.IntegerField(), required=False, default=list
    )
    territory_mode = serializers.CharField(required=False, default="all")
    territories = serializers.ListField(child=serializers.CharField(), required=False, default=list)
    max_plays_after_session = serializers.IntegerField(required=False, allow_null=True, default=None)


class UploadedPartSerializer(serializers.Serializer[None]):
    number = serializers.IntegerField()
    size = serializers.IntegerField()
    etag = serializers.CharField()


class UploadStatusSerializer(UploadSerializer):
    """An upload and the parts the store already holds (what a resuming browser skips)."""

    parts = UploadedPartSerializer(many=True, read_only=True)

    class Meta(UploadSerializer.Meta):
        fields = [*UploadSerializer.Meta.fields, "parts"]
        read_only_fields = fields


class PartUrlsSerializer(serializers.Serializer[None]):
    urls = serializers.DictField(child=serializers.URLField(), help_text="Signed PUT URL per part number")
