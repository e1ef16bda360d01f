"""API shapes for people, organisations, requests to join and accreditations: parse and render only."""

from __future__ import annotations

from django_countries.serializer_fields import CountryField
from rest_framework import serializers

from accounts.models import (
    Accreditation,
    AccreditationCategory,
    CompanyType,
    Membership,
    MembershipRequest,
    MembershipRole,
    Organisation,
    User,
)
from accounts.policy import account_readiness


class OrganisationSerializer(serializers.ModelSerializer[Organisation]):
    country = CountryField()

    class Meta:
        model = Organisation
        fields = ["id", "name", "country", "company_type", "website"]


class OrganisationCreateSerializer(serializers.Serializer[None]):
    name = serializers.CharField(max_length=200)
    country = CountryField()
    company_type = serializers.ChoiceField(choices=CompanyType.choices)
    website = serializers.URLField(required=False, allow_blank=True, default="")


class MembershipRequestSerializer(serializers.ModelSerializer[MembershipRequest]):
    organisation = OrganisationSerializer(read_only=True)
    user_email = serializers.EmailField(source="user.email", read_only=True)
    user_name = serializers.CharField(source="user.display_name", read_only=True)

    class Meta:
        model = MembershipRequest
        fields = [
            "id",
            "organisation",
            "user_email",
            "user_name",
            "status",
            "message",
            "decision_reason",
            "decided_at",
            "created_at",
        ]
        read_only_fields = fields


class MembershipRequestCreateSerializer(serializers.Serializer[None]):
    message = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)


class MembershipApproveSerializer(serializers.Serializer[None]):
    reason = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)
    role = serializers.ChoiceField(choices=MembershipRole.choices, default=MembershipRole.MEMBER)


class MemberSerializer(serializers.ModelSerializer[Membership]):
    user_id = serializers.IntegerField(read_only=True)
    email = serializers.EmailField(source="user.email", read_only=True)
    name = serializers.CharField(source="user.display_name", read_only=True)

    class Meta:
        model = Membership
        fields = ["user_id", "email", "name", "role", "joined_at"]
        read_only_fields = fields


class RoleSerializer(serializers.Serializer[None]):
    role = serializers.ChoiceField(choices=MembershipRole.choices)


class MyMembershipSerializer(serializers.ModelSerializer[Membership]):
    class Meta:
        model = Membership
        fields = ["organisation", "role"]
        read_only_fields = fields


class AccreditationSerializer(serializers.ModelSerializer[Accreditation]):
    user_email = serializers.EmailField(source="user.email", read_only=True)
    session_name = serializers.CharField(source="session.name", read_only=True)
    organisation = OrganisationSerializer(read_only=True)

    class Meta:
        model = Accreditation
        fields = [
            "id",
            "user_email",
            "session",
            "session_name",
            "organisation",
            "category",
            "status",
            "motivation",
            "decision_reason",
            "decided_at",
            "created_at",
        ]
        read_only_fields = fields


class AccreditationApplySerializer(serializers.Serializer[None]):
    session = serializers.IntegerField()
    organisation = serializers.IntegerField()
    category = serializers.ChoiceField(choices=AccreditationCategory.choices)
    motivation = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)
    accept_terms = serializers.BooleanField()


class DecisionSerializer(serializers.Serializer[None]):
    reason = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)


class MeSerializer(serializers.ModelSerializer[User]):
    email_verified = serializers.SerializerMethodField()
    mfa_enabled = serializers.SerializerMethodField()
    organisations = OrganisationSerializer(many=True, read_only=True)
    memberships = MyMembershipSerializer(many=True, read_only=True)

    class Meta:
        model = User
        fields = [
            "id",
            "email",
            "full_name",
            "language",
            "is_staff",
            "email_verified",
            "mfa_enabled",
            "organisations",
            "memberships",
        ]

    def get_email_verified(self, user: User) -> bool:
        return account_readiness(user).email_verified

    def get_mfa_enabled(self, user: User) -> bool:
        return account_readiness(user).mfa_enabled
