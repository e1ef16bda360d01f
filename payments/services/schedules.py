"""Payment schedules: what an agreement's terms move, as instalments, and when each falls due.

An agreement gets its schedule in the transaction that records it (``offers.signals.agreement_recorded``,
received by ``payments.receivers``); agreements recorded before payments existed get theirs once, from
``schedules_backfill`` (migration 0004 and ``manage.py backfill_payment_schedules``):

- completion fund: one payment per tranche, from the fund to the producer company;
- distribution: one payment per instalment of the minimum guarantee (none when it is zero);
- sales: the minimum guarantee, if any, on signature;
- post-production in kind: one delivery milestone per service line, no money.

Triggers: ``on_signature`` is due at once, ``on_date`` on its date (``instalments_release``, run by the
worker's beat for every instalment, and ``instalment_release`` for the one about to be paid),
``on_delivery`` when the side that receives the delivery confirms it (``instalment_confirm_delivery``):
the payer for money, the producers for a service in kind.

Every status move goes through ``audit.transitions.transition`` on ``INSTALMENT_MACHINE``, its entry naming
the organisation the actor acted for; moves the system makes (a date come, Stripe's news) name the
organisation the instalment's money is for, the payee.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Membership, Organisation, User
from accounts.policy import require_ready
from audit.services import audit_record
from audit.transitions import transition
from core.errors import Conflict, Forbidden
from festival.policy import is_film_team
from offers.models import Agreement
from offers.terms.common import Instalment as TermsInstalment
from offers.terms.common import Money
from offers.terms.types import CompletionFundTerms, DistributionTerms, PostProductionTerms, SalesTerms
from payments.models import (
    INSTALMENT_MACHINE,
    Instalment,
    InstalmentKind,
    InstalmentStatus,
    PaymentSchedule,
    Source,
    Trigger,
)
from payments.selectors import agreement_terms, release_date_come


def instalment_entry(*, instalment: Instalment, **details: Any) -> dict[str, Any]:
    """What every audit entry about an instalment says of it, plus ``details``."""
    return {
        "agreement": str(instalment.schedule.agreement.public_id),
        "instalment": instalment.number,
        "amount_minor": instalment.amount_minor,
        "currency": instalment.currency,
        **details,
    }


# --- an agreement's schedule ------------------------------------------------------------------------------


def schedule_for_agreement(*, agreement: Agreement, actor: User | None = None) -> PaymentSchedule:
    """The agreement's schedule, created on first call inside the caller's transaction; its entry names
    ``actor`` (who accepted the deal) and the organisation they signed for."""
    existing = PaymentSchedule.objects.filter(agreement=agreement).first()
    if existing is not None:
        return existing
    return _schedule_create(agreement, actor=actor, organisation=_signed_for(agreement, actor))


def schedules_backfill() -> list[PaymentSchedule]:
    """The schedules of agreements recorded without one (before payments existed), each made once, by
    the system, in its own transaction; returns those made now (none the second time)."""
    made = []
    missing = Agreement.objects.filter(payment_schedule__isnull=True).select_related("producer_organisation")
    for agreement in missing.order_by("pk"):
        try:
            with transaction.atomic():
                made.append(
                    _schedule_create(
                        agreement, actor=None, organisation=agreement.producer_organisation, backfill=True
                    )
                )
        except IntegrityError:  # recorded meanwhile, with its own schedule
            continue
    return made


def _signed_for(agreement: Agreement, actor: User | None) -> Organisation | None:
    """The organisation ``actor`` signed the agreement for (the side that accepted last, when one person
    signed for both); for the system, the producers', whose money the schedule moves."""
    if actor is None:
        return agreement.producer_organisation
    sides = sorted(
        [
            (agreement.offeror_accepted_at, agreement.offeror_signatory_id, agreement.offeror_organisation),
            (
                agreement.producer_accepted_at,
                agreement.producer_signatory_id,
                agreement.producer_organisation,
            ),
        ],
        key=lambda side: side[0],
        reverse=True,
    )
    return next((organisation for _at, signatory, organisation in sides if signatory == actor.pk), None)


def _schedule_create(
    agreement: Agreement, *, actor: User | None, organisation: Organisation | None, backfill: bool = False
) -> PaymentSchedule:
    schedule = PaymentSchedule.objects.create(
        agreement=agreement, transfer_group=f"agreement-{agreement.public_id}"
    )
    now = timezone.now()
    rows = _planned(agreement)
    for number, row in enumerate(rows, start=1):
        row.schedule = schedule
        row.number = number
        row.payer_organisation_id = agreement.offeror_organisation_id
        row.payee_organisation_id = agreement.producer_organisation_id
        if _falls_due(row, now.date()):
            row.status = InstalmentStatus.DUE
            row.due_at = now
    Instalment.objects.bulk_create(rows)
    data: dict[str, Any] = {
        "agreement": str(agreement.public_id),
        "instalments": [
            {"number": r.number, "kind": r.kind, "amount_minor": r.amount_minor, "currency": r.currency}
            for r in rows
        ],
    }
    if backfill:
        data["backfill"] = True
    audit_record(
        action="schedule.created", actor=actor, organisation=organisation, target=schedule, data=data
    )
    return schedule


def _planned(agreement: Agreement) -> list[Instalment]:
    terms = agreement_terms(agreement)
    if isinstance(terms, CompletionFundTerms):
        return _payments(Source.TRANCHE, terms.tranches, terms.tranche_amounts)
    if isinstance(terms, DistributionTerms):
        return _payments(Source.MG_INSTALMENT, terms.payment_schedule, terms.instalment_amounts)
    if isinstance(terms, SalesTerms):
        mg = terms.minimum_guarantee
        if mg is None or mg.amount_minor == 0:
            return []
        return [_row(Source.MINIMUM_GUARANTEE, 0, mg, InstalmentKind.PAYMENT, Trigger.ON_SIGNATURE)]
    if not isinstance(terms, PostProductionTerms):
        raise TypeError(f"no schedule for terms of kind {terms.kind}")
    return [
        _row(
            Source.SERVICE,
            index,
            line.value,
            InstalmentKind.MILESTONE,
            Trigger.ON_DELIVERY,
            delivery=", ".join(terms.deliverables) if terms.deliverables else "",
        )
        for index, line in enumerate(terms.service_lines)
    ]


def _payments(
    source: Source, steps: tuple[TermsInstalment, ...], amounts: tuple[Money, ...]
) -> list[Instalment]:
    return [
        _row(
            source,
            index,
            amount,
            InstalmentKind.PAYMENT,
            Trigger(step.trigger.value),
            due_on=step.date,
            delivery=step.description or "",
        )
        for index, (step, amount) in enumerate(zip(steps, amounts, strict=True))
    ]


def _row(
    source: Source,
    index: int,
    money: Money,
    kind: InstalmentKind,
    trigger: Trigger,
    *,
    due_on: dt.date | None = None,
    delivery: str = "",
) -> Instalment:
    return Instalment(
        source=source,
        source_index=index,
        kind=kind,
        amount_minor=money.amount_minor,
        currency=money.currency,
        trigger=trigger,
        due_on=due_on,
        delivery=delivery[:500],
    )


def _falls_due(instalment: Instalment, today: dt.date) -> bool:
    if instalment.kind != InstalmentKind.PAYMENT:
        return False
    if instalment.trigger == Trigger.ON_SIGNATURE:
        return True
    return (
        instalment.trigger == Trigger.ON_DATE and instalment.due_on is not None and instalment.due_on <= today
    )


# --- when instalments fall due ----------------------------------------------------------------------------


def instalments_release(*, today: dt.date | None = None) -> int:
    """Move every scheduled payment whose date has come to due (the worker's beat); returns how many."""
    today = today or timezone.localdate()
    candidates = Instalment.objects.filter(
        status=InstalmentStatus.SCHEDULED,
        kind=InstalmentKind.PAYMENT,
        trigger=Trigger.ON_DATE,
        due_on__lte=today,
    ).values_list("pk", flat=True)
    return sum(_release(pk, today) for pk in candidates)


def instalment_release(*, instalment: Instalment, today: dt.date | None = None) -> bool:
    """Move this one instalment to due if its date has come (before it is paid, without waiting for
    the beat); returns whether it moved. No other instalment is touched."""
    today = today or timezone.localdate()
    return release_date_come(instalment, today) and _release(instalment.pk, today)


def _release(pk: int, today: dt.date) -> bool:
    with transaction.atomic():
        instalment = Instalment.objects.select_for_update().get(pk=pk)
        if not release_date_come(instalment, today):
            return False
        transition(
            instalment,
            machine=INSTALMENT_MACHINE,
            to=InstalmentStatus.DUE,
            actor=None,
            organisation=instalment.payee_organisation,
            data=instalment_entry(instalment=instalment),
            due_at=timezone.now(),
        )
        return True


def instalment_confirm_delivery(*, user: User, instalment: Instalment) -> Instalment:
    """The receiving side confirms an ``on_delivery`` step: a payment falls due, a milestone is done. The
    entry names the organisation that received the delivery: the payer's, or the producers'."""
    require_ready(user)
    if instalment.trigger != Trigger.ON_DELIVERY:
        raise Conflict(_("This instalment does not wait for a delivery."), code="not_on_delivery")
    if instalment.kind == InstalmentKind.PAYMENT:
        receiver = instalment.payer_organisation
        allowed = Membership.objects.filter(user=user, organisation=receiver).exists()
        message = _("The payer confirms the delivery that makes a payment due.")
    else:
        receiver = instalment.payee_organisation
        allowed = is_film_team(user, instalment.schedule.agreement.film_id)
        message = _("The producers confirm the delivery of a service in kind.")
    if not allowed:
        raise Forbidden(message, code="not_receiver")
    target = InstalmentStatus.DUE if instalment.kind == InstalmentKind.PAYMENT else InstalmentStatus.DELIVERED
    now = timezone.now()
    fields: dict[str, Any] = {"delivered_at": now, "delivered_by": user}
    if target == InstalmentStatus.DUE:
        fields["due_at"] = now
    with transaction.atomic():
        return transition(
            instalment,
            machine=INSTALMENT_MACHINE,
            to=target,
            actor=user,
            organisation=receiver,
            action="instalment.delivery_confirmed",
            data=instalment_entry(instalment=instalment),
            **fields,
        ).row
