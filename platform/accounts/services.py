"""Writes for people, organisations and accreditations. Each runs in one transaction with its audit entry."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django_countries import countries

from accounts.models import (
    Accreditation,
    AccreditationCategory,
    AccreditationStatus,
    CompanyType,
    Membership,
    MembershipRole,
    Organisation,
    User,
)
from accounts.policy import is_festival_admin, require_ready
from audit.services import audit_record
from core.errors import Conflict, Forbidden, InvalidInput, NotFound
from core.state_machine import move_state
from festival.models import Session

# --- Organisations ------------------------------------------------------------------------------


def organisation_create(
    *, user: User, name: str, country: str, company_type: str, website: str = ""
) -> Organisation:
    """Create an organisation and make ``user`` its first member and administrator.

    Joining an existing one is a request its administrators decide (``accounts.memberships``).
    """
    require_ready(user)
    name = " ".join(name.split())
    if not name:
        raise InvalidInput(_("An organisation needs a name."), field="name")
    if country not in dict(countries):
        raise InvalidInput(
            _("“%(value)s” is not an ISO 3166 country code.") % {"value": country}, field="country"
        )
    if company_type not in CompanyType.values:
        raise InvalidInput(_("Unknown company type."), field="company_type")
    with transaction.atomic():
        if Organisation.objects.filter(name__iexact=name, country=country).exists():
            raise Conflict(
                _("%(name)s already exists in this country: ask to join it instead.") % {"name": name},
                field="name",
            )
        organisation = Organisation.objects.create(
            name=name, country=country, company_type=company_type, website=website
        )
        Membership.objects.create(user=user, organisation=organisation, role=MembershipRole.ADMIN)
        audit_record(
            action="organisation.created",
            actor=user,
            organisation=organisation,
            target=organisation,
            data={
                "name": name,
                "country": country,
                "company_type": company_type,
                "founder_id": user.pk,
                "founder_role": MembershipRole.ADMIN,
            },
        )
    return organisation


# --- Accreditation state machine ----------------------------------------------------------------

S = AccreditationStatus
ACCREDITATION_TRANSITIONS: Mapping[str, frozenset[str]] = {
    S.PENDING: frozenset({S.APPROVED, S.REJECTED, S.WITHDRAWN}),
    S.APPROVED: frozenset({S.REVOKED, S.WITHDRAWN}),
    S.REJECTED: frozenset(),
    S.WITHDRAWN: frozenset(),
    S.REVOKED: frozenset(),
}


def accreditation_transition(
    *, accreditation: Accreditation, to: str, actor: User, reason: str = "", ip: str | None = None
) -> Accreditation:
    """Move an accreditation to ``to`` from a locked, re-read state; refuse illegal moves.

    This is the only place that changes ``Accreditation.status``. The caller holds the transaction.
    """
    decision = (
        {"decided_by": actor, "decided_at": timezone.now(), "decision_reason": reason}
        if to in (S.APPROVED, S.REJECTED, S.REVOKED)
        else {}
    )
    locked, previous = move_state(
        accreditation,
        to=to,
        transitions=ACCREDITATION_TRANSITIONS,
        refusal=_("This accreditation is %(status)s and cannot become %(target)s."),
        **decision,
    )
    audit_record(
        action=f"accreditation.{to}",
        actor=actor,
        organisation=locked.organisation,
        target=locked,
        data={
            "from": previous,
            "to": to,
            "reason": reason,
            "session_id": locked.session_id,
            "user_id": locked.user_id,
            "category": locked.category,
        },
        ip=ip,
    )
    accreditation.refresh_from_db()
    return locked


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
        live = Accreditation.objects.select_for_update().filter(
            user=user, session=session, status__in=[S.PENDING, S.APPROVED]
        )
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
    if not is_festival_admin(actor):
        raise Forbidden(_("Only festival admins can decide on accreditations."), code="admin_required")
    require_ready(actor)


def accreditation_approve(
    *, accreditation: Accreditation, admin: User, reason: str = "", notify: bool = True
) -> Accreditation:
    """Approve a pending application; the applicant is emailed unless ``notify`` is False (demo seeding)."""
    _require_admin(admin)
    with transaction.atomic():
        result = accreditation_transition(
            accreditation=accreditation, to=S.APPROVED, actor=admin, reason=reason
        )
        if notify:
            transaction.on_commit(lambda: _notify_decision(result.pk))
    return result


def accreditation_reject(*, accreditation: Accreditation, admin: User, reason: str) -> Accreditation:
    _require_admin(admin)
    if not reason.strip():
        raise InvalidInput(_("Give the applicant a reason for the rejection."), field="reason")
    with transaction.atomic():
        result = accreditation_transition(
            accreditation=accreditation, to=S.REJECTED, actor=admin, reason=reason.strip()
        )
        transaction.on_commit(lambda: _notify_decision(result.pk))
    return result


def accreditation_revoke(*, accreditation: Accreditation, admin: User, reason: str) -> Accreditation:
    _require_admin(admin)
    if not reason.strip():
        raise InvalidInput(_("Give a reason for revoking this accreditation."), field="reason")
    with transaction.atomic():
        result = accreditation_transition(
            accreditation=accreditation, to=S.REVOKED, actor=admin, reason=reason
        )
        transaction.on_commit(lambda: _notify_decision(result.pk))
    return result


def accreditation_withdraw(*, accreditation: Accreditation, user: User) -> Accreditation:
    if accreditation.user_id != user.pk:
        raise NotFound(_("No such accreditation."))
    with transaction.atomic():
        return accreditation_transition(accreditation=accreditation, to=S.WITHDRAWN, actor=user)


def _notify_decision(accreditation_id: int) -> None:
    from accounts.tasks import send_accreditation_decision

    send_accreditation_decision.delay(accreditation_id)


def accreditation_decision_email(*, accreditation_id: int) -> None:
    """Email the applicant the decision, in their language. Called by the Celery task."""
    from django.conf import settings
    from django.core.mail import send_mail
    from django.template.loader import render_to_string
    from django.utils import translation

    accreditation = Accreditation.objects.select_related("user", "session", "organisation").get(
        pk=accreditation_id
    )
    context: dict[str, Any] = {"accreditation": accreditation, "site_url": settings.SITE_URL}
    with translation.override(accreditation.user.language):
        subject = render_to_string("accounts/email/accreditation_decision_subject.txt", context).strip()
        body = render_to_string("accounts/email/accreditation_decision.txt", context)
    send_mail(subject, body, None, [accreditation.user.email])
