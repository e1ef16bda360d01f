"""Emails to the parties of a thread who are not looking at it when something decisive happens: a new
offer, a counter-offer, an acceptance, a decline. Each in the recipient's language, with a link."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.mail import send_mass_mail
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation

from accounts.policy import account_readiness
from festival.policy import film_team_user_ids
from offers.models import Side, ThreadEvent
from offers.parties import party_users
from offers.presence import present_users


def notify_offline_parties(*, event_id: int) -> int:
    """Send the event's email to the ready accounts of the side that did not write it, except those who
    have the thread open; returns how many were sent."""
    event = ThreadEvent.objects.select_related("offer__film", "offer__organisation", "author", "version").get(
        pk=event_id
    )
    offer = event.offer
    producer_ids = film_team_user_ids(offer.film_id)
    other_side = [
        user
        for user in party_users(offer)
        if (user.pk in producer_ids) != (event.side == Side.PRODUCER) and account_readiness(user).ready
    ]
    online = present_users(offer.pk, [u.pk for u in other_side])
    link = settings.SITE_URL.rstrip("/") + reverse("offers:thread", args=[offer.pk])
    messages = []
    for user in other_side:
        if user.pk in online:
            continue
        context: dict[str, Any] = {"event": event, "offer": offer, "user": user, "link": link}
        with translation.override(user.language):
            subject = render_to_string("offers/email/thread_event_subject.txt", context).strip()
            body = render_to_string("offers/email/thread_event.txt", context)
        messages.append((subject, body, None, [user.email]))
    send_mass_mail(messages, fail_silently=False)
    return len(messages)
