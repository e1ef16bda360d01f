"""Who belongs to an organisation: membership is granted by its administrators (or festival admins), never
taken by the member (README, "Organisations and accreditation").

A ``Membership`` row means an *approved* member, and every party rule (offers, threads, agreements,
payments) reads only those rows. Joining an existing organisation is a ``MembershipRequest``: pending until
an administrator of that organisation, or a festival admin, approves it (creating the ``Membership`` in the
same transaction) or rejects it; its author may withdraw it. Administrators also remove members and change
roles. Each write runs in one transaction, with the organisation row locked so that two decisions cannot
race (the last-administrator rule is checked under that lock), and writes its audit entry.

Refusals: someone who may not know of a request (not its author, not an administrator of its organisation,
not a festival admin) gets ``NotFound``; the same for the members of an organisation one does not belong
to. A member who knows of the object but may not act gets ``Forbidden``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from accounts.models import (
    MEMBERSHIP_REQUEST_MACHINE,
    Membership,
    MembershipRequest,
    MembershipRequestStatus,
    MembershipRole,
    Organisation,
    User,
)
from accounts.policy import (
    may_manage_organisation,
    organisation_role_of,
    require_organisation_manager,
    require_ready,
)
from accounts.selectors import membership_request_visible
from accounts.services.accreditations import accreditations_withdraw_on_leaving
from accounts.services.decisions import decided_move
from accounts.tasks import send_membership_notice
from audit.services import audit_record
from core.errors import Conflict, Forbidden, InvalidInput, NotFound

R = MembershipRequestStatus
DECISIONS = frozenset({R.APPROVED, R.REJECTED})  # the moves that record who decided, when, why
MAX_TEXT = 2000


# --- who may ------------------------------------------------------------------------------------------------


def _acting_for(*, actor: User, organisation: Organisation) -> Organisation | None:
    """For the audit entry of a decision on ``organisation``'s members: the organisation when ``actor`` is
    one of its administrators; a festival admin acts for the festival, which is no organisation."""
    role = organisation_role_of(user=actor, organisation_id=organisation.pk)
    return organisation if role == MembershipRole.ADMIN else None


def _lock_organisation(organisation_id: int) -> Organisation:
    return Organisation.objects.select_for_update().get(pk=organisation_id)


def _move(
    request: MembershipRequest,
    *,
    to: str,
    actor: User,
    acting_for: Organisation | None,
    reason: str = "",
    data: Mapping[str, Any] | None = None,
) -> MembershipRequest:
    return decided_move(
        row=request,
        machine=MEMBERSHIP_REQUEST_MACHINE,
        decisions=DECISIONS,
        to=to,
        actor=actor,
        acting_for=acting_for,
        reason=reason,
        data={"user_id": request.user_id, "organisation_id": request.organisation_id, **(data or {})},
    )


def _clean(text: str, *, field: str) -> str:
    text = text.strip()
    if len(text) > MAX_TEXT:
        raise InvalidInput(_("Keep it under %(count)d characters.") % {"count": MAX_TEXT}, field=field)
    return text


def _check_role(role: str) -> None:
    if role not in MembershipRole.values:
        raise InvalidInput(_("Unknown role."), field="role")


# --- requests -----------------------------------------------------------------------------------------------


def membership_request_create(
    *, user: User, organisation: Organisation, message: str = ""
) -> MembershipRequest:
    """Ask to join ``organisation``. Grants nothing until an administrator approves it."""
    require_ready(user)
    message = _clean(message, field="message")
    with transaction.atomic():
        _lock_organisation(organisation.pk)
        if Membership.objects.filter(user=user, organisation=organisation).exists():
            raise Conflict(_("You already belong to this organisation."), code="already_member")
        if MembershipRequest.objects.filter(user=user, organisation=organisation, status=R.PENDING).exists():
            raise Conflict(_("You have already asked to join this organisation."), code="already_requested")
        try:
            with transaction.atomic():
                request = MembershipRequest.objects.create(
                    user=user, organisation=organisation, message=message
                )
        except IntegrityError as exc:  # defence in depth: the lock above already serialises askers
            raise Conflict(
                _("You have already asked to join this organisation."), code="already_requested"
            ) from exc
        audit_record(
            action="membership.requested",
            actor=user,
            organisation=None,  # not a member yet: the asker acts for no organisation
            target=request,
            data={"user_id": user.pk, "organisation_id": organisation.pk, "message": message},
        )
        transaction.on_commit(lambda: send_membership_notice.delay("requested", {"request_id": request.pk}))
    return request


def _decider(*, actor: User, request: MembershipRequest) -> None:
    if may_manage_organisation(user=actor, organisation_id=request.organisation_id):
        require_ready(actor)
        return
    if request.user_id != actor.pk:
        raise NotFound(_("No such request."))
    raise Forbidden(
        _("Only the organisation's administrators (or festival admins) can decide on this request."),
        code="organisation_admin_required",
    )


def membership_request_approve(
    *, actor: User, request: MembershipRequest, role: str = MembershipRole.MEMBER, reason: str = ""
) -> Membership:
    """Approve a pending request: the requester becomes a member (or administrator) in the same
    transaction."""
    _decider(actor=actor, request=request)
    _check_role(role)
    reason = _clean(reason, field="reason")
    with transaction.atomic():
        organisation = _lock_organisation(request.organisation_id)
        acting_for = _acting_for(actor=actor, organisation=organisation)
        # Should the request no longer be pending, the transition below refuses and this rolls back too.
        membership, _created = Membership.objects.get_or_create(
            user_id=request.user_id, organisation_id=request.organisation_id, defaults={"role": role}
        )
        _move(
            request,
            to=R.APPROVED,
            actor=actor,
            acting_for=acting_for,
            reason=reason,
            data={"membership_id": membership.pk, "role": membership.role},
        )
        transaction.on_commit(lambda: send_membership_notice.delay("approved", {"request_id": request.pk}))
    return membership


def membership_request_reject(*, actor: User, request: MembershipRequest, reason: str) -> MembershipRequest:
    _decider(actor=actor, request=request)
    reason = _clean(reason, field="reason")
    if not reason:
        raise InvalidInput(_("Give the person a reason for the rejection."), field="reason")
    with transaction.atomic():
        organisation = _lock_organisation(request.organisation_id)
        acting_for = _acting_for(actor=actor, organisation=organisation)
        result = _move(request, to=R.REJECTED, actor=actor, acting_for=acting_for, reason=reason)
        transaction.on_commit(lambda: send_membership_notice.delay("rejected", {"request_id": request.pk}))
    return result


def membership_request_withdraw(*, user: User, request: MembershipRequest) -> MembershipRequest:
    """Its author takes a pending request back."""
    if request.user_id != user.pk:
        membership_request_visible(user=user, request_id=request.pk)  # 404 for whoever may not know of it
        raise Forbidden(_("Only the person who asked can withdraw this request."), code="not_requester")
    require_ready(user)
    with transaction.atomic():
        _lock_organisation(request.organisation_id)
        return _move(request, to=R.WITHDRAWN, actor=user, acting_for=None)  # the asker is no member yet


# --- members ------------------------------------------------------------------------------------------------


def _other_admins(*, membership: Membership) -> bool:
    return (
        Membership.objects.filter(organisation_id=membership.organisation_id, role=MembershipRole.ADMIN)
        .exclude(pk=membership.pk)
        .exists()
    )


def _refuse_orphaning(*, membership: Membership, leaving: bool) -> None:
    """An organisation with members keeps at least one administrator to decide on them."""
    if membership.role != MembershipRole.ADMIN or _other_admins(membership=membership):
        return
    others = Membership.objects.filter(organisation_id=membership.organisation_id).exclude(pk=membership.pk)
    if leaving and not others.exists():
        return  # the last member leaves: festival admins still decide on future requests
    raise Conflict(
        _("%(name)s is the organisation's last administrator: make another member administrator first.")
        % {"name": membership.user.display_name},
        code="last_admin",
    )


def membership_grant(
    *,
    actor: User,
    organisation: Organisation,
    user: User,
    role: str = MembershipRole.MEMBER,
    reason: str = "",
) -> Membership:
    """An administrator (or a festival admin) adds a person directly, without a request (demo seeding,
    operations staff)."""
    require_organisation_manager(actor=actor, organisation_id=organisation.pk)
    _check_role(role)
    reason = _clean(reason, field="reason")
    with transaction.atomic():
        _lock_organisation(organisation.pk)
        acting_for = _acting_for(actor=actor, organisation=organisation)
        membership, created = Membership.objects.get_or_create(
            user=user, organisation=organisation, defaults={"role": role}
        )
        if not created:
            raise Conflict(_("%(name)s already belongs to this organisation.") % {"name": user.display_name})
        for pending in MembershipRequest.objects.filter(
            user=user, organisation=organisation, status=R.PENDING
        ):
            _move(
                pending,
                to=R.APPROVED,
                actor=actor,
                acting_for=acting_for,
                reason=reason,
                data={"membership_id": membership.pk},
            )
        audit_record(
            action="membership.granted",
            actor=actor,
            organisation=acting_for,
            target=membership,
            data={"user_id": user.pk, "role": role, "reason": reason},
        )
    return membership


def membership_set_role(*, actor: User, membership: Membership, role: str) -> Membership:
    require_organisation_manager(actor=actor, organisation_id=membership.organisation_id)
    _check_role(role)
    with transaction.atomic():
        organisation = _lock_organisation(membership.organisation_id)
        acting_for = _acting_for(actor=actor, organisation=organisation)
        locked = (
            Membership.objects.select_related("user").select_for_update(of=("self",)).get(pk=membership.pk)
        )
        previous = locked.role
        if previous == role:
            return locked
        if role != MembershipRole.ADMIN:
            _refuse_orphaning(membership=locked, leaving=False)
        locked.role = role
        locked.save(update_fields=["role"])
        audit_record(
            action="membership.role_changed",
            actor=actor,
            organisation=acting_for,
            target=locked,
            data={
                "user_id": locked.user_id,
                "organisation_id": organisation.pk,
                "from": previous,
                "to": role,
            },
        )
    membership.role = role
    return locked


def membership_remove(*, actor: User, membership: Membership, reason: str = "") -> None:
    """An administrator (or festival admin) removes a member, or a member leaves. The person's live
    accreditations on the organisation's behalf are withdrawn with it: they no longer act for it."""
    if membership.user_id != actor.pk:
        require_organisation_manager(actor=actor, organisation_id=membership.organisation_id)
    else:
        require_ready(actor)
    reason = _clean(reason, field="reason")
    with transaction.atomic():
        organisation = _lock_organisation(membership.organisation_id)
        locked = (
            Membership.objects.select_related("user").select_for_update(of=("self",)).filter(pk=membership.pk)
        )
        current = locked.first()
        if current is None:
            raise NotFound(_("No such member."))
        _refuse_orphaning(membership=current, leaving=True)
        user_id, membership_id = current.user_id, current.pk
        left = user_id == actor.pk
        # A member who leaves acts as one of its members; anyone else acts as its administrator or as staff.
        acting_for = organisation if left else _acting_for(actor=actor, organisation=organisation)
        audit_record(
            action="membership.removed",
            actor=actor,
            organisation=acting_for,
            target=current,
            data={
                "user_id": user_id,
                "organisation_id": organisation.pk,
                "role": current.role,
                "reason": reason,
                "left": left,
            },
        )
        current.delete()
        accreditations_withdraw_on_leaving(
            actor=actor, acting_for=acting_for, user_id=user_id, organisation=organisation
        )
        if not left:
            details = {
                "user_id": user_id,
                "organisation_id": organisation.pk,
                "reason": reason,
                "membership_id": membership_id,
            }
            transaction.on_commit(lambda: send_membership_notice.delay("removed", details))
