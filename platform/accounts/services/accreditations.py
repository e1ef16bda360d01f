"""Accreditations: a person applies to a session on behalf of an organisation they belong to; festival admins
approve, reject or revoke; the applicant may withdraw. Each move goes along ``ACCREDITATION_MACHINE`` with
its audit entry, and the applicant is emailed each decision in their language.

The audit entry names the organisation the actor acted for: the applicant acts for the organisation they
apply on behalf of; festival admins act for the festival, which is no organisation (``None``).
"""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import (
    ACCREDITATION_MACHINE,
    Accreditation,
    AccreditationCategory,
    AccreditationStatus,
    Membership,
    Organisation,
    User,
)
from accounts.policy import require_festival_admin, require_ready
from accounts.services.decisions import decided_move
from accounts.tasks import send_accreditation_decision
from audit.services import audit_record
from core.errors import Conflict, InvalidInput, NotFound
from festival.models import Session

S = AccreditationStatus
DECISIONS = frozenset({S.APPROVED, S.REJECTED, S.REVOKED})  # the moves that record who decided, when, why
LIVE = (S.PENDING, S.APPROVED)


def _move(
    accreditation: Accreditation, *, to: str, actor: User, acting_for: Organisation | None, reason: str = ""
) -> Accreditation:
    return decided_move(
        row=accreditation,
        machine=ACCREDITATION_MACHINE,
        decisions=DECISIONS,
        to=to,
        actor=actor,
        acting_for=acting_for,
        reason=reason,
        data={
            "session_id": accreditation.session_id,
            "user_id": accreditation.user_id,
            "organisation_id": accreditation.organisation_id,
            "category": accreditation.category,
        },
    )


def accreditation_apply(
    *,
    user: User,
    session: Session,
    organisation: Organisation,
    category: str,
    accept_terms: bool,
    motivation: str = "",
) -> Accreditation:
    """Apply for accreditation to ``session`` on behalf of ``organisation``."""
    require_ready(user)
    if category not in AccreditationCategory.values:
        raise InvalidInput(_("Unknown accreditation category."), field="category")
    if not accept_terms:
        raise InvalidInput(
            _("Accept the accreditation terms (including viewing reports) to apply."), field="accept_terms"
        )
    if not Membership.objects.filter(user=user, organisation=organisation).exists():
        raise InvalidInput(
            _("You can only apply on behalf of an organisation you belong to."), field="organisation"
        )
    if timezone.now() > session.screening_closes_at:
        raise Conflict(_("This session is over: applications are closed."), field="session")
    with transaction.atomic():
        live = Accreditation.objects.select_for_update().filter(user=user, session=session, status__in=LIVE)
        if live.exists():
            raise Conflict(_("You already have an application for this session."), field="session")
        try:
            with transaction.atomic():
                accreditation = Accreditation.objects.create(
                    user=user,
                    organisation=organisation,
                    session=session,
                    category=category,
                    motivation=motivation.strip(),
                    terms_accepted_at=timezone.now(),
                )
        except IntegrityError as exc:  # a concurrent application won the race
            raise Conflict(_("You already have an application for this session."), field="session") from exc
        audit_record(
            action="accreditation.applied",
            actor=user,
            organisation=organisation,
            target=accreditation,
            data={"session_id": session.pk, "category": category},
        )
    return accreditation


def _require_admin(actor: User) -> None:
    require_festival_admin(actor, message=_("Only festival admins can decide on accreditations."))


def _decide(
    *, accreditation: Accreditation, admin: User, to: str, reason: str, notify: bool
) -> Accreditation:
    with transaction.atomic():
        result = _move(accreditation, to=to, actor=admin, acting_for=None, reason=reason)
        if notify:
            transaction.on_commit(lambda: send_accreditation_decision.delay(result.pk))
    return result


def accreditation_approve(
    *, accreditation: Accreditation, admin: User, reason: str = "", notify: bool = True
) -> Accreditation:
    """Approve a pending application; the applicant is emailed unless ``notify`` is False (demo seeding)."""
    _require_admin(admin)
    return _decide(accreditation=accreditation, admin=admin, to=S.APPROVED, reason=reason, notify=notify)


def accreditation_reject(*, accreditation: Accreditation, admin: User, reason: str) -> Accreditation:
    _require_admin(admin)
    if not reason.strip():
        raise InvalidInput(_("Give the applicant a reason for the rejection."), field="reason")
    return _decide(
        accreditation=accreditation, admin=admin, to=S.REJECTED, reason=reason.strip(), notify=True
    )


def accreditation_revoke(*, accreditation: Accreditation, admin: User, reason: str) -> Accreditation:
    _require_admin(admin)
    if not reason.strip():
        raise InvalidInput(_("Give a reason for revoking this accreditation."), field="reason")
    return _decide(accreditation=accreditation, admin=admin, to=S.REVOKED, reason=reason, notify=True)


def accreditation_withdraw(*, accreditation: Accreditation, user: User) -> Accreditation:
    """The applicant takes their application (or accreditation) back."""
    if accreditation.user_id != user.pk:
        raise NotFound(_("No such accreditation."))
    with transaction.atomic():
        return _move(accreditation, to=S.WITHDRAWN, actor=user, acting_for=accreditation.organisation)


def accreditations_withdraw_on_leaving(
    *, actor: User, acting_for: Organisation | None, user_id: int, organisation: Organisation
) -> None:
    """Withdraw the live accreditations ``user_id`` holds on ``organisation``'s behalf: they no longer act
    for it (``membership_remove``). The caller holds the transaction."""
    reason = _("No longer a member of %(name)s.") % {"name": organisation.name}
    for accreditation in Accreditation.objects.filter(
        user_id=user_id, organisation=organisation, status__in=LIVE
    ):
        _move(accreditation, to=S.WITHDRAWN, actor=actor, acting_for=acting_for, reason=reason)
