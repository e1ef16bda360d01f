"""Reads for the payment pages, the live status socket and the services: an agreement's schedule as its
reader may act on it, progress per currency, the ledger's balances and rows as people read them, Stripe
Connect accounts, the admins' desk. Nothing here writes (a schedule missing for an old agreement is made
by ``payments.services.schedules.schedules_backfill``, never while a page is read)."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, QuerySet, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import CompanyType, Membership, Organisation, User
from accounts.policy import is_festival_admin
from core.errors import NotFound
from core.money import format_money
from festival.policy import is_film_team
from offers.models import Agreement
from offers.selectors.agreements import agreements_visible_to
from offers.terms import parse_terms
from payments.display import instalment_label
from payments.models import (
    PAYABLE,
    ConnectedAccount,
    Dispute,
    Instalment,
    InstalmentKind,
    InstalmentStatus,
    LedgerEntry,
    PaymentSchedule,
    PlatformFee,
    StrayPayment,
    Trigger,
    WebhookEvent,
)
from payments.services.ledger import DISPUTE_LOSSES, DISPUTED_FUNDS, PLATFORM_FEES, STRIPE_BALANCE

# --- terms, schedules and instalments --------------------------------------------------------------------


def agreement_terms(agreement: Agreement) -> Any:
    """The agreed terms, parsed from the agreement's canonical JSON."""
    return parse_terms(json.loads(agreement.terms_canonical))


def schedule_of(agreement: Agreement) -> PaymentSchedule | None:
    """The agreement's schedule; None for an agreement written without one (the backfill makes it)."""
    return PaymentSchedule.objects.filter(agreement=agreement).first()


def schedule_instalments(schedule: PaymentSchedule) -> list[Instalment]:
    return list(
        schedule.instalments.select_related("payer_organisation", "payee_organisation").order_by("number")
    )


def schedule_ledger_entries(schedule: PaymentSchedule) -> QuerySet[LedgerEntry]:
    return (
        LedgerEntry.objects.filter(transaction__instalment__schedule=schedule)
        .select_related("transaction", "transaction__instalment")
        .order_by("transaction__created_at", "transaction_id", "pk")
    )


def payable_instalment(user: User, instalment_id: int) -> Instalment:
    """The instalment if ``user`` is a party to its agreement (NotFound otherwise, as if it did not
    exist)."""
    visible = agreements_visible_to(user=user).values("pk")
    instalment = (
        Instalment.objects.select_related("schedule__agreement", "payer_organisation", "payee_organisation")
        .filter(pk=instalment_id, schedule__agreement__in=visible)
        .first()
    )
    if instalment is None:
        raise NotFound(_("No such instalment."))
    return instalment


def instalment_for_metadata(metadata: Any) -> Instalment | None:
    """The instalment a Stripe object's metadata names, if any."""
    raw = metadata.to_dict().get("instalment_id") if metadata else None
    if raw is None or not str(raw).isdigit():
        return None
    return Instalment.objects.filter(pk=int(raw)).first()


def instalment_of_charge(charge_id: str) -> Instalment | None:
    """The instalment whose money this charge is: its own payment, or one it was not waiting for."""
    found = Instalment.objects.filter(charge_id=charge_id).first()
    if found is not None:
        return found
    stray = StrayPayment.objects.filter(charge_id=charge_id).select_related("instalment").first()
    return stray.instalment if stray is not None else None


def release_date_come(instalment: Instalment, today: dt.date) -> bool:
    """A scheduled payment whose date has come (``instalments_release`` makes it due)."""
    return (
        instalment.status == InstalmentStatus.SCHEDULED
        and instalment.kind == InstalmentKind.PAYMENT
        and instalment.trigger == Trigger.ON_DATE
        and instalment.due_on is not None
        and instalment.due_on <= today
    )


def pay_open(instalment: Instalment, today: dt.date) -> bool:
    """Payable now, or due today by its date (``instalment_pay`` releases it before paying)."""
    return instalment.status in PAYABLE or release_date_come(instalment, today)


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


def instalment_rows(
    instalments: list[Instalment], agreement: Agreement, user: User, confirming: int | None
) -> list[InstalmentRow]:
    terms = agreement_terms(agreement)
    member_of = set(Membership.objects.filter(user=user).values_list("organisation_id", flat=True))
    on_team = is_film_team(user, agreement.film_id)
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
            "paid": format_money(paid, currency),
            "total": format_money(total, currency),
        }
        for currency, (paid, total) in sorted(totals.items())
    ]


def payment_states(public_id: uuid.UUID) -> dict[str, Any]:
    """What the schedule page shows live: each instalment's status and Stripe's reason if it failed."""
    schedule = PaymentSchedule.objects.filter(agreement__public_id=public_id).first()
    if schedule is None:
        return {"type": "instalments", "disputed": False, "instalments": []}
    rows = (
        Instalment.objects.filter(schedule=schedule)
        .order_by("number")
        .values("pk", "status", "failure_reason", "paid_at")
    )
    return {
        "type": "instalments",
        "disputed": schedule.disputed,
        "instalments": [
            {
                "id": row["pk"],
                "status": row["status"],
                "status_label": str(InstalmentStatus(row["status"]).label),
                "failure_reason": row["failure_reason"],
                "paid_at": row["paid_at"].isoformat() if row["paid_at"] else None,
            }
            for row in rows
        ],
    }


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


# --- the ledger ------------------------------------------------------------------------------------------


def balances(entries: QuerySet[LedgerEntry] | None = None) -> dict[str, dict[str, int]]:
    """Account -> currency -> balance (debits positive)."""
    rows = (entries if entries is not None else LedgerEntry.objects.all()).values("account", "currency")
    result: dict[str, dict[str, int]] = defaultdict(dict)
    for row in rows.annotate(total=Sum("amount_minor")).order_by("account", "currency"):
        result[row["account"]][row["currency"]] = row["total"]
    return dict(result)


def unbalanced_transactions() -> list[tuple[int, str, int]]:
    """(transaction id, currency, sum) of every movement that does not sum to zero: empty when the
    ledger balances."""
    rows = (
        LedgerEntry.objects.values("transaction_id", "currency")
        .annotate(total=Sum("amount_minor"))
        .exclude(total=0)
        .order_by("transaction_id")
    )
    return [(row["transaction_id"], row["currency"], row["total"]) for row in rows]


def totals_by_currency() -> dict[str, int]:
    """The sum of all entries per currency: zero for every currency when the ledger balances."""
    rows = LedgerEntry.objects.values("currency").annotate(total=Sum("amount_minor")).order_by("currency")
    return {row["currency"]: row["total"] for row in rows}


def account_labels(accounts: Iterable[str]) -> dict[str, str]:
    """Ledger account names as people read them: ``due_to:12`` is what is held for company 12."""
    fixed = {
        STRIPE_BALANCE: _("Stripe balance"),
        PLATFORM_FEES: _("Platform fees"),
        DISPUTED_FUNDS: _("Disputed funds"),
        DISPUTE_LOSSES: _("Dispute losses"),
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


def ledger_rows(entries: Iterable[LedgerEntry]) -> list[dict[str, Any]]:
    entries = list(entries)
    labels = account_labels(entry.account for entry in entries)
    return [
        {
            "entry": entry,
            "account": labels[entry.account],
            "debit": format_money(entry.amount_minor, entry.currency) if entry.amount_minor > 0 else "",
            "credit": format_money(-entry.amount_minor, entry.currency) if entry.amount_minor < 0 else "",
        }
        for entry in entries
    ]


def balance_rows() -> list[dict[str, Any]]:
    """Each ledger account's balance per currency, as people read both."""
    by_account = balances()
    labels = account_labels(by_account)
    return [
        {
            "account": labels[account],
            "amounts": [format_money(amount, currency) for currency, amount in sorted(by_currency.items())],
        }
        for account, by_currency in sorted(by_account.items())
    ]


# --- the platform fee ------------------------------------------------------------------------------------


def current_fee_bp() -> int:
    """The fee in force, in basis points: the newest an admin set, zero until one does."""
    latest = PlatformFee.objects.order_by("-created_at", "-pk").values_list("fee_bp", flat=True).first()
    return latest or 0


def fee_history(limit: int = 20) -> list[PlatformFee]:
    return list(PlatformFee.objects.select_related("set_by")[:limit])


# --- Stripe Connect --------------------------------------------------------------------------------------


def own_organisation(user: User, org_id: int) -> Organisation | None:
    """One of the user's organisations (None for any other, as if it did not exist)."""
    return Organisation.objects.filter(pk=org_id, memberships__user=user).first()


def connected_account_of(organisation: Organisation) -> ConnectedAccount | None:
    return ConnectedAccount.objects.filter(organisation=organisation).first()


def connected_account_by_stripe_id(stripe_account_id: str) -> ConnectedAccount | None:
    return ConnectedAccount.objects.filter(stripe_account_id=stripe_account_id).first()


@dataclass(frozen=True)
class Companies:
    """The user's production companies, each with its Stripe account if any, and their other
    organisations (which receive no payments)."""

    production: list[dict[str, Any]]
    others: list[Organisation]


def companies_of(user: User) -> Companies:
    organisations = list(user.organisations.order_by("name"))
    accounts = {
        account.organisation_id: account
        for account in ConnectedAccount.objects.filter(organisation__in=[o.pk for o in organisations])
    }
    return Companies(
        production=[
            {"organisation": org, "account": accounts.get(org.pk)}
            for org in organisations
            if org.company_type == CompanyType.PRODUCTION
        ],
        others=[org for org in organisations if org.company_type != CompanyType.PRODUCTION],
    )


# --- the admins' desk ------------------------------------------------------------------------------------


def stray_payment(pk: int) -> StrayPayment | None:
    return StrayPayment.objects.filter(pk=pk).first()


def staff_desk() -> dict[str, Any]:
    """What the admins' payments desk shows: the fee, connected accounts, disputed and recent schedules,
    the ledger's balances and totals, Stripe's latest events, payments not due and disputes waiting."""
    schedules = list(
        PaymentSchedule.objects.select_related(
            "agreement__film", "agreement__offeror_organisation", "agreement__producer_organisation"
        ).order_by("-created_at")[:200]
    )
    summaries = schedule_summaries(schedules)
    totals = totals_by_currency()
    return {
        "fee_bp": current_fee_bp(),
        "fees": fee_history(),
        "accounts": ConnectedAccount.objects.select_related("organisation").order_by("organisation__name"),
        "disputed": PaymentSchedule.objects.filter(disputed=True).select_related("agreement__film"),
        "schedules": [{"schedule": s, "summary": summaries.get(s.pk, "")} for s in schedules],
        "balances": balance_rows(),
        "totals": [(currency, format_money(total, currency)) for currency, total in totals.items()],
        "ledger_balanced": all(total == 0 for total in totals.values()),
        "unbalanced": unbalanced_transactions(),
        "events": WebhookEvent.objects.defer("body", "payload")[:50],
        "strays": StrayPayment.objects.select_related("instalment__schedule__agreement__film")[:50],
        "waiting_disputes": Dispute.objects.filter(instalment__isnull=True)[:50],
    }
