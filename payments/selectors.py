"""Reads for the payment pages: an agreement's schedule as its reader may act on it, progress per
currency, ledger rows and account names as people read them, schedules summarised for admins."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Membership, Organisation, User
from accounts.policy import is_festival_admin
from festival.models import FilmTeamMember
from offers.models import Agreement
from payments import ledger
from payments.display import instalment_label, money_text
from payments.models import (
    PAYABLE,
    Instalment,
    InstalmentKind,
    InstalmentStatus,
    LedgerEntry,
    PaymentSchedule,
    Trigger,
)
from payments.schedules import agreement_terms, schedule_for_agreement


def account_labels(accounts: Iterable[str]) -> dict[str, str]:
    """Ledger account names as people read them: ``due_to:12`` is what is held for company 12."""
    fixed = {
        ledger.STRIPE_BALANCE: _("Stripe balance"),
        ledger.PLATFORM_FEES: _("Platform fees"),
        ledger.DISPUTED_FUNDS: _("Disputed funds"),
        ledger.DISPUTE_LOSSES: _("Dispute losses"),
    }
    accounts = set(accounts)

    def org_of(account: str) -> int | None:
        prefix, _sep, org_id = account.partition(":")
        return int(org_id) if prefix in ("due_to", "owed_to") and org_id.isdigit() else None

    org_ids = {org_id for org_id in map(org_of, accounts) if org_id is not None}
    names = dict(Organisation.objects.filter(pk__in=org_ids).values_list("pk", "name"))
    labels = {}
    for account in accounts:
        if account in fixed:
            labels[account] = fixed[account]
        elif (org_id := org_of(account)) is not None and account.startswith("due_to:"):
            labels[account] = _("Held for %(company)s") % {"company": names.get(org_id, account)}
        elif org_id is not None:
            labels[account] = _("Owed back to %(company)s") % {"company": names.get(org_id, account)}
        else:
            labels[account] = account
    return labels


@dataclass(frozen=True)
class InstalmentRow:
    """One instalment and what this reader may do with it."""

    instalment: Instalment
    label: str
    net_minor: int
    can_pay: bool
    retry: bool
    can_confirm: bool
    can_refund: bool


def schedule_of(agreement: Agreement) -> PaymentSchedule:
    """The agreement's schedule, made now if the agreement was recorded before payments existed."""
    existing = PaymentSchedule.objects.filter(agreement=agreement).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            return schedule_for_agreement(agreement)
    except IntegrityError:  # another request made it first
        return PaymentSchedule.objects.get(agreement=agreement)


def pay_open(instalment: Instalment, today: dt.date) -> bool:
    """Payable now, or due today by its date (``instalment_pay`` releases it before paying)."""
    if instalment.status in PAYABLE:
        return True
    return (
        instalment.status == InstalmentStatus.SCHEDULED
        and instalment.trigger == Trigger.ON_DATE
        and instalment.due_on is not None
        and instalment.due_on <= today
    )


def instalment_rows(
    instalments: list[Instalment], agreement: Agreement, user: User, confirming: int | None
) -> list[InstalmentRow]:
    terms = agreement_terms(agreement)
    member_of = set(Membership.objects.filter(user=user).values_list("organisation_id", flat=True))
    on_team = FilmTeamMember.objects.filter(user=user, film_id=agreement.film_id).exists()
    admin = is_festival_admin(user)
    today = timezone.localdate()
    rows = []
    for instalment in instalments:
        payment = instalment.kind == InstalmentKind.PAYMENT
        payer = instalment.payer_organisation_id in member_of
        waiting_for_stripe = instalment.pk == confirming and instalment.status == InstalmentStatus.PROCESSING
        rows.append(
            InstalmentRow(
                instalment=instalment,
                label=instalment_label(instalment, terms),
                net_minor=instalment.amount_minor - instalment.fee_minor,
                can_pay=payment and payer and pay_open(instalment, today) and not waiting_for_stripe,
                retry=instalment.status == InstalmentStatus.FAILED,
                can_confirm=instalment.trigger == Trigger.ON_DELIVERY
                and instalment.status == InstalmentStatus.SCHEDULED
                and (payer if payment else on_team),
                can_refund=admin and instalment.status == InstalmentStatus.PAID,
            )
        )
    return rows


def payment_progress(instalments: list[Instalment]) -> list[dict[str, Any]]:
    """Paid so far of the money the schedule moves, per currency (milestones move none)."""
    totals: dict[str, list[int]] = {}
    for instalment in instalments:
        if instalment.kind != InstalmentKind.PAYMENT:
            continue
        paid_total = totals.setdefault(instalment.currency, [0, 0])
        paid_total[1] += instalment.amount_minor
        if instalment.status == InstalmentStatus.PAID:
            paid_total[0] += instalment.amount_minor
    return [
        {
            "currency": currency,
            "paid_minor": paid,
            "total_minor": total,
            "paid": money_text(paid, currency),
            "total": money_text(total, currency),
        }
        for currency, (paid, total) in sorted(totals.items())
    ]


def ledger_rows(entries: Iterable[LedgerEntry]) -> list[dict[str, Any]]:
    entries = list(entries)
    labels = account_labels(entry.account for entry in entries)
    return [
        {
            "entry": entry,
            "account": labels[entry.account],
            "debit": money_text(entry.amount_minor, entry.currency) if entry.amount_minor > 0 else "",
            "credit": money_text(-entry.amount_minor, entry.currency) if entry.amount_minor < 0 else "",
        }
        for entry in entries
    ]


def schedule_summaries(schedules: list[PaymentSchedule]) -> dict[int, str]:
    """Each schedule's instalments counted by status: "1 Paid · 1 Scheduled"."""
    counts: dict[int, list[str]] = {}
    rows = (
        Instalment.objects.filter(schedule__in=schedules)
        .values("schedule_id", "status")
        .annotate(n=Count("pk"))
        .order_by("schedule_id", "status")
    )
    for row in rows:
        status = InstalmentStatus(row["status"]).label
        counts.setdefault(row["schedule_id"], []).append(f"{row['n']} {status}")
    return {schedule_id: " · ".join(parts) for schedule_id, parts in counts.items()}
