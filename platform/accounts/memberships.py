"""Who belongs to an organisation: membership is granted by its administrators (or festival admins), never
taken by the member (docs: README "Organisations and accreditation"; ARCHITECTURE invariant 2).

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
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import (
    Accreditation,
    AccreditationStatus,
    Membership,
    MembershipRequest,
    MembershipRequestStatus,
    MembershipRole,
    Organisation,
    User,
)
from accounts.policy import is_festival_admin, require_ready
from audit.services import audit_record
from core.errors import Conflict, Forbidden, InvalidInput, NotFound
from core.state_machine import move_state

R = MembershipRequestStatus
MEMBERSHIP_REQUEST_TRANSITIONS: Mapping[str, frozenset[str]] = {
    R.PENDING: frozenset({R.APPROVED, R.REJECTED, R.WITHDRAWN}),
    R.APPROVED: frozenset(),
    R.REJECTED: frozenset(),
    R.WITHDRAWN: frozenset(),
}
MAX_TEXT = 2000


# --- who may ------------------------------------------------------------------------------------------------


def _require_ready(user: User) -> None:
    require_ready(user)


def organisation_role_of(*, user: User, organisation_id: int) -> str | None:
    """``user``'s role in the organisation, or None when not an (approved) member."""
    if not user.is_authenticated:
        return None
    return (
        Membership.objects.filter(user=user, organisation_id=organisation_id)
        .values_list("role", flat=True)
        .first()
    )


def may_manage_organisation(*, user: User, organisation_id: int) -> bool:
    """Festival admins, and the organisation's own administrators."""
    return is_festival_admin(user) or (
        organisation_role_of(user=user, organisation_id=organisation_id) == MembershipRole.ADMIN
    )


def require_organisation_manager(*, actor: User, organisation_id: int) -> None:
    """Festival admins and the organisation's administrators (ready) pass. Members who are not
    administrators know the organisation: 403. Everyone else outside it: 404."""
    if may_manage_organisation(user=actor, organisation_id=organisation_id):
        _require_ready(actor)
        return
    if organisation_role_of(user=actor, organisation_id=organisation_id) is None:
        raise NotFound(_("No such organisation."))
    raise Forbidden(
        _("Only the organisation's administrators (or festival admins) can do this."),
        code="organisation_admin_required",
    )


def _lock_organisation(organisation_id: int) -> Organisation:
    return Organisation.objects.select_for_update().get(pk=organisation_id)


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
    _require_ready(user)
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
            organisation=organisation,
            target=request,
            data={"user_id": user.pk, "message": message},
        )
        transaction.on_commit(lambda: _notify("requested", request_id=request.pk))
    return request


def membership_request_visible(*, user: User, request_id: int) -> MembershipRequest:
    """The request if ``user`` may know of it (its author, its organisation's administrators, festival
    admins); NotFound otherwise, the same as for a request that does not exist."""
    request = MembershipRequest.objects.select_related("user", "organisation").filter(pk=request_id).first()
    if request is None or not (
        request.user_id == user.pk
        or may_manage_organisation(user=user, organisation_id=request.organisation_id)
    ):
        raise NotFound(_("No such request."))
    return request


def _decider(*, actor: User, request: MembershipRequest) -> None:
    if may_manage_organisation(user=actor, organisation_id=request.organisation_id):
        _require_ready(actor)
        return
    if request.user_id != actor.pk:
        raise NotFound(_("No such request."))
    raise Forbidden(
        _("Only the organisation's administrators (or festival admins) can decide on this request."),
        code="organisation_admin_required",
    )


def membership_request_transition(
    *,
    request: MembershipRequest,
    to: str,
    actor: User,
    reason: str = "",
    data: Mapping[str, Any] | None = None,
) -> MembershipRequest:
    """Move a request to ``to`` from its locked, re-read state, with its audit entry. The only place that
    changes ``MembershipRequest.status``; the caller holds the transaction."""
    decision = (
        {"decided_by": actor, "decided_at": timezone.now(), "decision_reason": reason}
        if to in (R.APPROVED, R.REJECTED)
        else {}
    )
    locked, previous = move_state(
        request,
        to=to,
        transitions=MEMBERSHIP_REQUEST_TRANSITIONS,
        refusal=_("This request is %(status)s and cannot become %(target)s."),
        **decision,
    )
    audit_record(
        action=f"membership.{to}",
        actor=actor,
        organisation=locked.organisation,
        target=locked,
        data={"from": previous, "to": to, "reason": reason, "user_id": locked.user_id, **(data or {})},
    )
    request.refresh_from_db()
    return locked


def membership_request_approve(
    *, actor: User, request: MembershipRequest, role: str = MembershipRole.MEMBER, reason: str = ""
) -> Membership:
    """Approve a pending request: the requester becomes a member (or administrator) in the same
    transaction."""
    _decider(actor=actor, request=request)
    _check_role(role)
    reason = _clean(reason, field="reason")
    with transaction.atomic():
        _lock_organisation(request.organisation_id)
        # Should the request no longer be pending, the transition below refuses and this rolls back too.
        membership, _created = Membership.objects.get_or_create(
            user_id=request.user_id, organisation_id=request.organisation_id, defaults={"role": role}
        )
        membership_request_transition(
            request=request,
            to=R.APPROVED,
            actor=actor,
            reason=reason,
            data={"membership_id": membership.pk, "role": membership.role},
        )
        transaction.on_commit(lambda: _notify("approved", request_id=request.pk))
    return membership


def membership_request_reject(*, actor: User, request: MembershipRequest, reason: str) -> MembershipRequest:
    _decider(actor=actor, request=request)
    reason = _clean(reason, field="reason")
    if not reason:
        raise InvalidInput(_("Give the person a reason for the rejection."), field="reason")
    with transaction.atomic():
        _lock_organisation(request.organisation_id)
        result = membership_request_transition(request=request, to=R.REJECTED, actor=actor, reason=reason)
        transaction.on_commit(lambda: _notify("rejected", request_id=request.pk))
    return result


def membership_request_withdraw(*, user: User, request: MembershipRequest) -> MembershipRequest:
    """Its author takes a pending request back."""
    if request.user_id != user.pk:
        membership_request_visible(user=user, request_id=request.pk)  # 404 for whoever may not know of it
        raise Forbidden(_("Only the person who asked can withdraw this request."), code="not_requester")
    _require_ready(user)
    with transaction.atomic():
        _lock_organisation(request.organisation_id)
        return membership_request_transition(request=request, to=R.WITHDRAWN, actor=user)


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
        membership, created = Membership.objects.get_or_create(
            user=user, organisation=organisation, defaults={"role": role}
        )
        if not created:
            raise Conflict(_("%(name)s already belongs to this organisation.") % {"name": user.display_name})
        for pending in MembershipRequest.objects.filter(
            user=user, organisation=organisation, status=R.PENDING
        ):
            membership_request_transition(
                request=pending,
                to=R.APPROVED,
                actor=actor,
                reason=reason,
                data={"membership_id": membership.pk},
            )
        audit_record(
            action="membership.granted",
            actor=actor,
            organisation=organisation,
            target=membership,
            data={"user_id": user.pk, "role": role, "reason": reason},
        )
    return membership


def membership_set_role(*, actor: User, membership: Membership, role: str) -> Membership:
    require_organisation_manager(actor=actor, organisation_id=membership.organisation_id)
    _check_role(role)
    with transaction.atomic():
        _lock_organisation(membership.organisation_id)
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
            organisation=locked.organisation,
            target=locked,
            data={"user_id": locked.user_id, "from": previous, "to": role},
        )
    membership.role = role
    return locked


def membership_remove(*, actor: User, membership: Membership, reason: str = "") -> None:
    """An administrator (or festival admin) removes a member, or a member leaves. The person's live
    accreditations on the organisation's behalf are withdrawn with it: they no longer act for it."""
    if membership.user_id != actor.pk:
        require_organisation_manager(actor=actor, organisation_id=membership.organisation_id)
    else:
        _require_ready(actor)
    reason = _clean(reason, field="reason")
    from accounts.services import accreditation_transition

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
        audit_record(
            action="membership.removed",
            actor=actor,
            organisation=organisation,
            target=current,
            data={"user_id": user_id, "role": current.role, "reason": reason, "left": user_id == actor.pk},
        )
        current.delete()
        live = Accreditation.objects.filter(
            user_id=user_id,
            organisation=organisation,
            status__in=[AccreditationStatus.PENDING, AccreditationStatus.APPROVED],
        )
        for accreditation in live:
            accreditation_transition(
                accreditation=accreditation,
                to=AccreditationStatus.WITHDRAWN,
                actor=actor,
                reason=_("No longer a member of %(name)s.") % {"name": organisation.name},
            )
        if user_id != actor.pk:
            transaction.on_commit(
                lambda: _notify(
                    "removed",
                    user_id=user_id,
                    organisation_id=organisation.pk,
                    reason=reason,
                    membership_id=membership_id,
                )
            )


# --- notices ------------------------------------------------------------------------------------------------


def _notify(kind: str, **details: Any) -> None:
    from accounts.tasks import send_membership_notice

    send_membership_notice.delay(kind, details)


def membership_notice_email(*, kind: str, details: Mapping[str, Any]) -> None:
    """Email a membership notice, each recipient in their own language. Called by the Celery task.

    ``requested`` goes to the organisation's administrators; ``approved``/``rejected`` to the requester;
    ``removed`` to the person removed.
    """
    from django.conf import settings
    from django.core.mail import send_mail
    from django.template.loader import render_to_string
    from django.utils import translation

    context: dict[str, Any] = {
        "kind": kind,
        "site_url": settings.SITE_URL,
        "reason": details.get("reason", ""),
    }
    if kind == "removed":
        organisation = Organisation.objects.get(pk=details["organisation_id"])
        recipients = list(User.objects.filter(pk=details["user_id"]))
        context |= {"organisation": organisation}
    else:
        request = MembershipRequest.objects.select_related("user", "organisation", "decided_by").get(
            pk=details["request_id"]
        )
        organisation = request.organisation
        context |= {"organisation": organisation, "request": request, "requester": request.user}
        if kind == "requested":
            recipients = list(
                User.objects.filter(
                    memberships__organisation=organisation,
                    memberships__role=MembershipRole.ADMIN,
                    is_active=True,
                )
            )
        else:
            recipients = [request.user]
            context["reason"] = request.decision_reason
    for recipient in recipients:
        with translation.override(recipient.language):
            local = {**context, "recipient": recipient}
            if "request" in context:
                local["status_label"] = context["request"].get_status_display()
            subject = render_to_string("accounts/email/membership_notice_subject.txt", local).strip()
            body = render_to_string("accounts/email/membership_notice.txt", local)
        send_mail(subject, body, None, [recipient.email])
