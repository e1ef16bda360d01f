"""Payment schedules: what an agreement's terms move, as instalments, and when each falls due.

An agreement gets its schedule in the transaction that records it (``offers.signals.agreement_recorded``):

- completion fund: one payment per tranche, from the fund to the producer company;
- distribution: one payment per instalment of the minimum guarantee (none when it is zero);
- sales: the minimum guarantee, if any, on signature;
- post-production in kind: one delivery milestone per service line, no money.

Triggers: ``on_signature`` is due at once, ``on_date`` on its date (``instalments_release``, run by the
worker's beat and before every payment), ``on_delivery`` when the side that receives the delivery
confirms it (``instalment_confirm_delivery``): the payer for money, the producers for a service in kind.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import Membership, User
from accounts.policy import require_ready
from audit.services import audit_record
from core.errors import Conflict, Forbidden
from core.state_machine import move_state
from festival.models import FilmTeamMember
from offers.models import Agreement
from offers.terms import parse_terms
from offers.terms.common import Instalment as TermsInstalment
from offers.terms.common import Money
from offers.terms.types import CompletionFundTerms, DistributionTerms, PostProductionTerms, SalesTerms
from payments.models import (
    INSTALMENT_TRANSITIONS,
    Instalment,
    InstalmentKind,
    InstalmentStatus,
    PaymentSchedule,
    Source,
    Trigger,
)

REFUSAL = gettext_lazy("This instalment is %(status)s; it cannot become %(target)s.")


def agreement_terms(agreement: Agreement) -> Any:
    return parse_terms(json.loads(agreement.terms_canonical))


def schedule_for_agreement(agreement: Agreement, *, actor: User | None = None) -> PaymentSchedule:
    """The agreement's schedule, created on first call (inside the caller's transaction)."""
    existing = PaymentSchedule.objects.filter(agreement=agreement).first()
    if existing is not None:
        return existing
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
    audit_record(
        action="payments.schedule_created",
        actor=actor,
        organisation=agreement.producer_organisation,
        target=schedule,
        data={
            "agreement": str(agreement.public_id),
            "instalments": [
                {"number": r.number, "kind": r.kind, "amount_minor": r.amount_minor, "currency": r.currency}
                for r in rows
            ],
        },
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


def instalments_release(*, today: dt.date | None = None) -> int:
    """Move every scheduled payment whose date has come to due; returns how many moved."""
    today = today or timezone.localdate()
    moved = 0
    candidates = Instalment.objects.filter(
        status=InstalmentStatus.SCHEDULED,
        kind=InstalmentKind.PAYMENT,
        trigger=Trigger.ON_DATE,
        due_on__lte=today,
    ).values_list("pk", flat=True)
    for pk in candidates:
        with transaction.atomic():
            instalment = Instalment.objects.select_for_update().get(pk=pk)
            if instalment.status != InstalmentStatus.SCHEDULED:
                continue
            instalment_transition(
                instalment,
                InstalmentStatus.DUE,
                actor=None,
                action="payments.instalment_due",
                due_at=timezone.now(),
            )
            moved += 1
    return moved


def instalment_confirm_delivery(*, user: User, instalment: Instalment) -> Instalment:
    """The receiving side confirms an ``on_delivery`` step: a payment falls due, a milestone is done."""
    require_ready(user)
    if instalment.trigger != Trigger.ON_DELIVERY:
        raise Conflict(_("This instalment does not wait for a delivery."), code="not_on_delivery")
    if instalment.kind == InstalmentKind.PAYMENT:
        allowed = Membership.objects.filter(
            user=user, organisation_id=instalment.payer_organisation_id
        ).exists()
        message = _("The payer confirms the delivery that makes a payment due.")
    else:
        film_id = instalment.schedule.agreement.film_id
        allowed = FilmTeamMember.objects.filter(user=user, film_id=film_id).exists()
        message = _("The producers confirm the delivery of a service in kind.")
    if not allowed:
        raise Forbidden(message, code="not_receiver")
    target = InstalmentStatus.DUE if instalment.kind == InstalmentKind.PAYMENT else InstalmentStatus.DELIVERED
    now = timezone.now()
    with transaction.atomic():
        fields: dict[str, Any] = {"delivered_at": now, "delivered_by": user}
        if target == InstalmentStatus.DUE:
            fields["due_at"] = now
        return instalment_transition(
            instalment, target, actor=user, action="payments.delivery_confirmed", **fields
        )


def instalment_transition(
    instalment: Instalment,
    to: str,
    *,
    actor: User | None,
    action: str,
    data: dict[str, Any] | None = None,
    **fields: Any,
) -> Instalment:
    """Move an instalment along INSTALMENT_TRANSITIONS with its audit entry (caller holds the transaction)."""
    locked, previous = move_state(
        instalment, to=to, transitions=INSTALMENT_TRANSITIONS, refusal=str(REFUSAL), **fields
    )
    schedule = locked.schedule
    audit_record(
        action=action,
        actor=actor,
        organisation=locked.payee_organisation,
        target=locked,
        data={
            "agreement": str(schedule.agreement.public_id),
            "instalment": locked.number,
            "from": previous,
            "to": to,
            "amount_minor": locked.amount_minor,
            "currency": locked.currency,
            **(data or {}),
        },
    )
    return locked
