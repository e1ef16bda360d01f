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
from rest_framework.serializers import Serializer
from rest_framework.views import APIView

from accounts.models import (
    Accreditation,
    AccreditationStatus,
    Membership,
    MembershipRequest,
    MembershipRequestStatus,
    Organisation,
)
from accounts.permissions import AccountReady, acting_user
from accounts.policy import (
    is_festival_admin,
    organisation_role_of,
    require_organisation_manager,
)
from accounts.selectors import (
    accreditations_visible_to,
    members_of,
    membership_request_visible,
    membership_requests_visible_to,
)
from accounts.serializers import (
    AccreditationApplySerializer,
    AccreditationSerializer,
    DecisionSerializer,
    MemberSerializer,
    MembershipApproveSerializer,
    MembershipRequestCreateSerializer,
    MembershipRequestSerializer,
    MeSerializer,
    OrganisationCreateSerializer,
    OrganisationSerializer,
    RoleSerializer,
)
from accounts.services import accreditations, memberships, organisations
from core.errors import InvalidInput, NotFound
from core.params import choice_param, int_param
from festival.models import Session


def _request_step(step: str) -> Any:
    """The route of a step on one request to join: POST organisations/requests/<id>/<step>/."""
    url_path = rf"requests/(?P<request_id>[0-9]+)/{step}"
    return action(detail=False, methods=["post"], url_path=url_path, url_name=f"request-{step}")


def _member_step(step: str) -> Any:
    """The route of a step on one member: POST organisations/<pk>/members/<user id>/<step>/."""
    url_path = rf"members/(?P<user_id>[0-9]+)/{step}"
    return action(detail=True, methods=["post"], url_path=url_path, url_name=f"member-{step}")


class MeView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses=MeSerializer)
    def get(self, request: Request) -> Response:
        return Response(MeSerializer(acting_user(request)).data)


class OrganisationViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet[Organisation]
):
    """Organisations are a directory any signed-in person may read. Creating one or asking to join one
    needs a ready account; the organisation's administrators (or festival admins) decide who belongs."""

    serializer_class = OrganisationSerializer
    queryset = Organisation.objects.all()
    lookup_value_regex = "[0-9]+"

    def get_permissions(self) -> list[Any]:
        if self.action in ("list", "retrieve"):
            return [IsAuthenticated()]
        return [AccountReady()]

    @extend_schema(request=OrganisationCreateSerializer, responses={201: OrganisationSerializer})
    def create(self, request: Request) -> Response:
        data = OrganisationCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        organisation = organisations.organisation_create(user=acting_user(request), **data.validated_data)
        return Response(OrganisationSerializer(organisation).data, status=status.HTTP_201_CREATED)

    def _page(self, queryset: QuerySet[Any], serializer: type[Any]) -> Response:
        page = self.paginate_queryset(queryset)
        if page is None:
            return Response(serializer(queryset, many=True).data)
        return self.get_paginated_response(serializer(page, many=True).data)

    # --- requests to join ---------------------------------------------------------------------------

    @extend_schema(
        methods=["POST"],
        request=MembershipRequestCreateSerializer,
        responses={201: MembershipRequestSerializer},
        description="Ask to join this organisation; nothing is granted until an administrator approves.",
    )
    @extend_schema(methods=["GET"], responses=MembershipRequestSerializer(many=True))
    @action(detail=True, methods=["get", "post"], url_path="requests", url_name="requests")
    def requests(self, request: Request, pk: str | None = None) -> Response:
        organisation = self.get_object()
        user = acting_user(request)
        if request.method == "GET":
            require_organisation_manager(actor=user, organisation_id=organisation.pk)
            status_filter = choice_param(request.query_params, "status", MembershipRequestStatus.values)
            found = membership_requests_visible_to(
                user=user, organisation_id=organisation.pk, status=status_filter
            )
            return self._page(found, MembershipRequestSerializer)
        data = MembershipRequestCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        created = memberships.membership_request_create(
            user=user, organisation=organisation, message=data.validated_data["message"]
        )
        return Response(MembershipRequestSerializer(created).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        operation_id="organisations_requests_all", responses=MembershipRequestSerializer(many=True)
    )
    @action(detail=False, methods=["get"], url_path="requests", url_name="all-requests")
    def all_requests(self, request: Request) -> Response:
        """Requests the caller may see: their own, their organisations' (as administrator), all for admins."""
        found = membership_requests_visible_to(
            user=acting_user(request),
            organisation_id=int_param(request.query_params, "organisation"),
            status=choice_param(request.query_params, "status", MembershipRequestStatus.values),
        )
        return self._page(found, MembershipRequestSerializer)

    @extend_schema(responses=MembershipRequestSerializer)
    @action(detail=False, methods=["get"], url_path=r"requests/(?P<request_id>[0-9]+)", url_name="request")
    def request_detail(self, request: Request, request_id: str) -> Response:
        return Response(MembershipRequestSerializer(self._request(request, request_id)).data)

    def _request(self, request: Request, request_id: str) -> MembershipRequest:
        return membership_request_visible(user=acting_user(request), request_id=int(request_id))

    def _decide_request(
        self, request: Request, request_id: str, serializer: type[Serializer[None]], decide: Any
    ) -> Response:
        """Approve or reject: the decision's input, then the service; answers the request as it now is."""
        found = self._request(request, request_id)
        data = serializer(data=request.data)
        data.is_valid(raise_exception=True)
        decide(actor=acting_user(request), request=found, **data.validated_data)
        return Response(MembershipRequestSerializer(found).data)

    @extend_schema(request=MembershipApproveSerializer, responses=MembershipRequestSerializer)
    @_request_step("approve")
    def request_approve(self, request: Request, request_id: str) -> Response:
        return self._decide_request(
            request, request_id, MembershipApproveSerializer, memberships.membership_request_approve
        )

    @extend_schema(request=DecisionSerializer, responses=MembershipRequestSerializer)
    @_request_step("reject")
    def request_reject(self, request: Request, request_id: str) -> Response:
        return self._decide_request(
            request, request_id, DecisionSerializer, memberships.membership_request_reject
        )

    @extend_schema(request=None, responses=MembershipRequestSerializer)
    @_request_step("withdraw")
    def request_withdraw(self, request: Request, request_id: str) -> Response:
        found = self._request(request, request_id)
        result = memberships.membership_request_withdraw(user=acting_user(request), request=found)
        return Response(MembershipRequestSerializer(result).data)

    # --- members --------------------------------------------------------------------------------------

    def _members_organisation(self, request: Request) -> Organisation:
        """The organisation, if the caller belongs to it or is a festival admin; 404 otherwise."""
        organisation = self.get_object()
        user = acting_user(request)
        if (
            not is_festival_admin(user)
            and organisation_role_of(user=user, organisation_id=organisation.pk) is None
        ):
            raise NotFound(_("No such organisation."))
        return organisation

    def _member(self, request: Request, user_id: str) -> Membership:
        organisation = self._members_organisation(request)
        membership = members_of(organisation_id=organisation.pk).filter(user_id=int(user_id)).first()
        if membership is None:
            raise NotFound(_("No such member."))
        return membership

    @extend_schema(responses=MemberSerializer(many=True))
    @action(detail=True, methods=["get"], url_path="members", url_name="members")
    def members(self, request: Request, pk: str | None = None) -> Response:
        organisation = self._members_organisation(request)
        return self._page(members_of(organisation_id=organisation.pk), MemberSerializer)

    @extend_schema(request=DecisionSerializer, responses={204: None})
    @_member_step("remove")
    def member_remove(self, request: Request, user_id: str, pk: str | None = None) -> Response:
        membership = self._member(request, user_id)
        data = DecisionSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        memberships.membership_remove(
            actor=acting_user(request), membership=membership, reason=data.validated_data["reason"]
        )
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=RoleSerializer, responses=MemberSerializer)
    @_member_step("role")
    def member_role(self, request: Request, user_id: str, pk: str | None = None) -> Response:
        membership = self._member(request, user_id)
        data = RoleSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        result = memberships.membership_set_role(
            actor=acting_user(request), membership=membership, role=data.validated_data["role"]
        )
        return Response(MemberSerializer(result).data)


class AccreditationViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet[Accreditation]
):
    """A person's own accreditations; admins see and decide on everyone's."""

    serializer_class = AccreditationSerializer
    permission_classes = [AccountReady]
    queryset = Accreditation.objects.none()  # for the schema; get_queryset scopes it to the caller

    def get_queryset(self) -> QuerySet[Accreditation]:
        params = self.request.query_params
        return accreditations_visible_to(
            user=acting_user(self.request),
            status=choice_param(params, "status", AccreditationStatus.values),
            session_id=int_param(params, "session"),
        )

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
        accreditation = accreditations.accreditation_apply(
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
        return self._decide(request, accreditations.accreditation_approve)

    @extend_schema(request=DecisionSerializer, responses=AccreditationSerializer)
    @action(detail=True, methods=["post"])
    def reject(self, request: Request, pk: str | None = None) -> Response:
        return self._decide(request, accreditations.accreditation_reject)

    @extend_schema(request=DecisionSerializer, responses=AccreditationSerializer)
    @action(detail=True, methods=["post"])
    def revoke(self, request: Request, pk: str | None = None) -> Response:
        return self._decide(request, accreditations.accreditation_revoke)

    @extend_schema(request=None, responses=AccreditationSerializer)
    @action(detail=True, methods=["post"])
    def withdraw(self, request: Request, pk: str | None = None) -> Response:
        accreditation = self.get_object()
        result = accreditations.accreditation_withdraw(accreditation=accreditation, user=acting_user(request))
        return Response(AccreditationSerializer(result).data)
