"""Emails about accreditations and memberships, each recipient in their own language. The Celery tasks in
``accounts.tasks`` send them after the deciding transaction has committed."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.utils import translation

from accounts.models import Accreditation, MembershipRequest, MembershipRole, Organisation, User


def accreditation_decision_email(*, accreditation_id: int) -> None:
    """Email the applicant the decision, in their language."""
    accreditation = Accreditation.objects.select_related("user", "session", "organisation").get(
        pk=accreditation_id
    )
    context: dict[str, Any] = {"accreditation": accreditation, "site_url": settings.SITE_URL}
    with translation.override(accreditation.user.language):
        subject = render_to_string("accounts/email/accreditation_decision_subject.txt", context).strip()
        body = render_to_string("accounts/email/accreditation_decision.txt", context)
    send_mail(subject, body, None, [accreditation.user.email])


def membership_notice_email(*, kind: str, details: Mapping[str, Any]) -> None:
    """Email a membership notice, each recipient in their own language.

    ``requested`` goes to the organisation's administrators; ``approved``/``rejected`` to the requester;
    ``removed`` to the person removed.
    """
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
