"""Emails about money: the payer's receipt, and admins' alert when Stripe opens a dispute."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.mail import send_mass_mail
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation

from accounts.models import User
from accounts.policy import festival_admins
from payments.models import Instalment


def _link(name: str, *args: Any) -> str:
    return settings.SITE_URL.rstrip("/") + reverse(name, args=args)


def _mail(template: str, users: list[User], context: dict[str, Any]) -> int:
    messages = []
    for user in users:
        with translation.override(user.language or None):
            subject = render_to_string(f"payments/email/{template}_subject.txt", {**context, "user": user})
            body = render_to_string(f"payments/email/{template}.txt", {**context, "user": user})
        messages.append((subject.strip(), body, None, [user.email]))
    send_mass_mail(messages, fail_silently=False)
    return len(messages)


def send_receipt(instalment_id: int) -> int:
    instalment = Instalment.objects.select_related(
        "schedule__agreement__film", "payer_organisation", "payee_organisation", "checkout_by"
    ).get(pk=instalment_id)
    if instalment.checkout_by is None:
        return 0
    context = {"instalment": instalment, "link": _link("payments:receipt", instalment.pk)}
    return _mail("receipt", [instalment.checkout_by], context)


def tell_admins_of_dispute(instalment_id: int) -> int:
    instalment = Instalment.objects.select_related("schedule__agreement__film").get(pk=instalment_id)
    admins = list(festival_admins().order_by("pk"))
    agreement = instalment.schedule.agreement
    context = {"instalment": instalment, "link": _link("payments:schedule", agreement.public_id)}
    return _mail("dispute", admins, context)
