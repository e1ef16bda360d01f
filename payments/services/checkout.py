"""Paying an instalment: a Stripe Checkout Session on the platform account (separate charges and
transfers, one transfer group per agreement), then, once Stripe says the PaymentIntent succeeded, a
transfer to the producer company's connected account less the platform fee.

Money state never changes on what a webhook or a browser claims: ``payment_settle``, ``payment_failed``
and ``checkout_expired`` re-read the object from Stripe and act only from the states that allow it, so
duplicated, late or replayed events change nothing twice.
"""

from __future__ import annotations

from functools import partial
from typing import Any

import stripe
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Membership, User
from accounts.policy import is_festival_admin, require_ready
from audit.services import audit_record
from audit.transitions import transition
from core.errors import Conflict, Forbidden
from payments.gateway import call, gateway
from payments.models import (
    INSTALMENT_MACHINE,
    PAYABLE,
    CheckoutSession,
    ConnectedAccount,
    Dispute,
    Instalment,
    InstalmentKind,
    InstalmentStatus,
    LedgerKind,
    StrayPayment,
    StrayStatus,
)
from payments.selectors import current_fee_bp, instalment_for_metadata
from payments.services import ledger
from payments.services.fees import fee_of
from payments.services.schedules import instalment_entry, instalment_release
from payments.tasks import resolve_dispute, send_receipt

SETTLED = frozenset({InstalmentStatus.PAID, InstalmentStatus.REFUNDED})


def instalment_pay(*, user: User, instalment: Instalment, success_url: str, cancel_url: str) -> str:
    """Open a Checkout Session for a due (or failed) instalment; returns the URL to send the payer to.

    Refused: an unready account, someone not in the paying company, a milestone, an instalment not yet
    due or already paid, a producer company without a ready connected account. An instalment whose date
    has come is released first (that one only: the others wait for the beat).
    """
    require_ready(user)
    if not Membership.objects.filter(user=user, organisation_id=instalment.payer_organisation_id).exists():
        raise Forbidden(_("Only the paying company pays this instalment."), code="not_payer")
    if instalment.kind != InstalmentKind.PAYMENT:
        raise Conflict(_("A service in kind is delivered, not paid."), code="not_a_payment")
    instalment_release(instalment=instalment)
    client = gateway()
    with transaction.atomic():
        locked = Instalment.objects.select_for_update().get(pk=instalment.pk)
        if locked.status in SETTLED:
            raise Conflict(_("This instalment is already paid."), code="already_paid")
        if locked.status not in PAYABLE:
            raise Conflict(_("This instalment is not due yet."), code="not_due")
        account = ConnectedAccount.objects.filter(organisation_id=locked.payee_organisation_id).first()
        if account is None or not (account.charges_enabled and account.payouts_enabled):
            raise Conflict(
                _("The producer company has not finished connecting to Stripe; it cannot be paid yet."),
                code="payee_not_connected",
            )
        expired = [
            _expire_session(client, opened)
            for opened in CheckoutSession.objects.select_for_update().filter(
                instalment=locked, closed_at__isnull=True
            )
        ]
        if (
            locked.checkout_session_id
            and not CheckoutSession.objects.filter(stripe_id=locked.checkout_session_id).exists()
        ):  # an attempt from before sessions had rows of their own
            expired.append(_expire_session(client, _session_row(locked, locked.checkout_session_id)))
        attempt = locked.attempts + 1
        fee_minor = fee_of(amount_minor=locked.amount_minor, fee_bp=current_fee_bp())
        agreement = locked.schedule.agreement
        metadata = {"instalment_id": str(locked.pk), "agreement": str(agreement.public_id)}
        name = _("%(film)s — instalment %(number)d") % {"film": agreement.film.title, "number": locked.number}
        session: Any = call(
            client.v1.checkout.sessions.create,
            "instalment.checkout",
            locked.pk,
            attempt,
            params={
                "mode": "payment",
                "line_items": [
                    {
                        "quantity": 1,
                        "price_data": {
                            "currency": locked.currency.lower(),
                            "unit_amount": locked.amount_minor,
                            "product_data": {"name": name},
                        },
                    }
                ],
                "payment_intent_data": {
                    "transfer_group": locked.schedule.transfer_group,
                    "metadata": metadata,
                    "receipt_email": user.email,
                    "description": name,
                },
                "metadata": metadata,
                # The payer pays the agreed amount in the agreed currency: Adaptive Pricing would charge
                # another currency, which is not the instalment
                "adaptive_pricing": {"enabled": False},
                "client_reference_id": str(locked.pk),
                "customer_email": user.email,
                "locale": user.language if user.language in ("es", "fr", "en") else "auto",
                "success_url": success_url,
                "cancel_url": cancel_url,
            },
        )
        CheckoutSession.objects.create(
            instalment=locked, stripe_id=session.id, attempt=attempt, opened_by=user
        )
        transition(
            locked,
            machine=INSTALMENT_MACHINE,
            to=InstalmentStatus.PROCESSING,
            actor=user,
            organisation=locked.payer_organisation,
            action="checkout.started",
            data=instalment_entry(
                instalment=locked,
                attempt=attempt,
                checkout_session=session.id,
                fee_minor=fee_minor,
                expired_sessions=expired,
            ),
            attempts=attempt,
            checkout_by=user,
            checkout_session_id=session.id,
            fee_minor=fee_minor,
            failure_reason="",
        )
    return str(session.url)


def _session_row(instalment: Instalment, session_id: str) -> CheckoutSession:
    return CheckoutSession.objects.create(
        instalment=instalment,
        stripe_id=session_id,
        attempt=instalment.attempts,
        opened_by=instalment.checkout_by,
    )


def _expire_session(client: stripe.StripeClient, opened: CheckoutSession) -> str:
    """Close an earlier attempt's session before opening another, so one instalment is never paid
    twice; a session that cannot be expired has been paid, and its webhook will say so. Returns its id."""
    try:
        call(client.v1.checkout.sessions.expire, "checkout.expire", opened.stripe_id, on=opened.stripe_id)
        status = "expired"
    except stripe.InvalidRequestError:
        session: Any = client.v1.checkout.sessions.retrieve(opened.stripe_id)
        status = str(session.status)
        settled_apart = StrayPayment.objects.filter(payment_intent_id=str(session.payment_intent or "-"))
        if status != "expired" and not (status == "complete" and settled_apart.exists()):
            raise Conflict(
                _("The previous payment is being confirmed by Stripe; wait a moment before paying again."),
                code="payment_pending",
            ) from None
    opened.closed_at, opened.closed_as = timezone.now(), status
    opened.save(update_fields=["closed_at", "closed_as"])
    return opened.stripe_id


def payment_settle(*, payment_intent_id: str) -> str:
    """Re-read the PaymentIntent; if it succeeded for one of our instalments, mark it paid, transfer the
    money less the fee to the producer company, and post the ledger. Money for an instalment that is not
    waiting for it (paid already, refunded, or a different amount) is refunded and posted instead
    (``_stray_payment``). Returns what was done."""
    client = gateway()
    intent: Any = client.v1.payment_intents.retrieve(payment_intent_id)
    instalment = instalment_for_metadata(intent.metadata)
    if instalment is None:
        return "ignored: not one of our payments"
    if intent.status != "succeeded":
        return f"ignored: the payment is {intent.status}"
    with transaction.atomic():
        locked = Instalment.objects.select_for_update().select_related("schedule").get(pk=instalment.pk)
        if locked.payment_intent_id == intent.id:
            return "ignored: already settled"
        if intent.amount_received != locked.amount_minor or intent.currency.upper() != locked.currency:
            return _stray_payment(client, locked, intent, "amount_mismatch")
        if locked.status in SETTLED:
            return _stray_payment(client, locked, intent, "already_paid")
        if locked.status not in PAYABLE:
            return _stray_payment(client, locked, intent, "not_payable")
        account = ConnectedAccount.objects.get(organisation_id=locked.payee_organisation_id)
        charge: Any = client.v1.charges.retrieve(intent.latest_charge)
        net = locked.amount_minor - locked.fee_minor
        transfer: Any = call(
            client.v1.transfers.create,
            "instalment.transfer",
            locked.pk,
            intent.id,
            params={
                "amount": net,
                "currency": locked.currency.lower(),
                "destination": account.stripe_account_id,
                "transfer_group": locked.schedule.transfer_group,
                "source_transaction": charge.id,
                "metadata": {"instalment_id": str(locked.pk)},
            },
        )
        ledger.post_paid(instalment=locked, charge_id=charge.id, transfer_id=transfer.id)
        paid = transition(
            locked,
            machine=INSTALMENT_MACHINE,
            to=InstalmentStatus.PAID,
            actor=None,
            organisation=locked.payee_organisation,
            data=instalment_entry(
                instalment=locked,
                payment_intent=intent.id,
                charge=charge.id,
                transfer=transfer.id,
                net_minor=net,
            ),
            payment_intent_id=intent.id,
            charge_id=charge.id,
            transfer_id=transfer.id,
            receipt_url=charge.receipt_url or "",
            failure_reason="",
            paid_at=timezone.now(),
        )
        transaction.on_commit(partial(send_receipt.delay, paid.row.pk))
        _resolve_waiting_disputes(charge.id)
    return "processed: paid"


# Stripe's refusals of a refund that retrying will not change: the money is held for an admin. Anything
# else (Stripe unreachable, a 5xx) fails the webhook, which Stripe then delivers again.
PERMANENT_REFUSALS = (stripe.InvalidRequestError, stripe.CardError, stripe.PermissionError)


def _stray_payment(client: stripe.StripeClient, locked: Instalment, intent: Any, reason: str) -> str:
    """Money for ``locked`` that it was not waiting for: post it as owed back to the payer, then refund
    it in full (``stray.refund`` keyed by the PaymentIntent, so once however often this runs). If Stripe
    refuses, the money stays posted as owed, held for an admin (``stray_payment_refund``)."""
    stray = StrayPayment.objects.select_for_update().filter(payment_intent_id=intent.id).first()
    if stray is not None and stray.status == StrayStatus.REFUNDED:
        return "ignored: already refunded"
    if stray is None:
        stray = StrayPayment.objects.create(
            instalment=locked,
            payment_intent_id=intent.id,
            charge_id=str(intent.latest_charge),
            amount_minor=int(intent.amount_received),
            currency=str(intent.currency).upper(),
            reason=reason,
            status=StrayStatus.HELD,
        )
        ledger.post(
            kind=LedgerKind.STRAY_CHARGE,
            stripe_object_id=stray.charge_id,
            instalment=locked,
            currency=stray.currency,
            legs=ledger.move(
                debit=ledger.STRIPE_BALANCE,
                credit=ledger.owed_to(instalment=locked),
                amount_minor=stray.amount_minor,
            ),
        )
        _stray_recorded(
            "stray_payment.received",
            stray,
            actor=None,
            amount_minor=stray.amount_minor,
            currency=stray.currency,
            reason=reason,
        )
    _resolve_waiting_disputes(stray.charge_id)
    try:
        _refund_stray(client, stray, actor=None)
    except PERMANENT_REFUSALS as exc:
        stray.detail = (exc.user_message or str(exc))[:500]
        stray.save(update_fields=["detail", "updated_at"])
        _stray_recorded("stray_payment.held", stray, actor=None, refusal=stray.detail)
        return "processed: paid twice, held for an admin"
    return "processed: paid twice, refunded" if reason == "already_paid" else f"processed: {reason}, refunded"


def _refund_stray(client: stripe.StripeClient, stray: StrayPayment, *, actor: User | None) -> None:
    refund: Any = call(
        client.v1.refunds.create,
        "stray.refund",
        stray.payment_intent_id,
        params={
            "payment_intent": stray.payment_intent_id,
            "reason": "duplicate",
            "metadata": {"instalment_id": str(stray.instalment_id), "stray": "true"},
        },
    )
    instalment = stray.instalment
    ledger.post(
        kind=LedgerKind.STRAY_REFUND,
        stripe_object_id=refund.id,
        instalment=instalment,
        currency=stray.currency,
        legs=ledger.move(
            debit=ledger.owed_to(instalment=instalment),
            credit=ledger.STRIPE_BALANCE,
            amount_minor=stray.amount_minor,
        ),
    )
    stray.status, stray.refund_id = StrayStatus.REFUNDED, refund.id
    stray.save(update_fields=["status", "refund_id", "updated_at"])
    _stray_recorded("stray_payment.refunded", stray, actor=actor, refund=refund.id)


def _stray_recorded(action: str, stray: StrayPayment, *, actor: User | None, **details: Any) -> None:
    """The entry of a payment not due: an admin acts for the festival (no organisation); the system
    names the payer's company, whose money it is."""
    instalment = stray.instalment
    audit_record(
        action=action,
        actor=actor,
        organisation=None if actor is not None else instalment.payer_organisation,
        target=instalment,
        data={"payment_intent": stray.payment_intent_id, "charge": stray.charge_id, **details},
    )


def stray_payment_refund(*, user: User, stray: StrayPayment) -> StrayPayment:
    """An admin refunds a payment that was held because Stripe refused its automatic refund."""
    if not is_festival_admin(user):
        raise Forbidden(_("Only festival admins refund a payment."), code="admins_only")
    client = gateway()
    with transaction.atomic():
        locked = StrayPayment.objects.select_for_update().select_related("instalment").get(pk=stray.pk)
        if locked.status == StrayStatus.REFUNDED:
            raise Conflict(_("This payment has been refunded already."), code="already_refunded")
        try:
            _refund_stray(client, locked, actor=user)
        except stripe.StripeError as exc:
            raise Conflict(
                _("Stripe refused the refund: %(reason)s") % {"reason": exc.user_message or str(exc)},
                code="stripe_refused",
            ) from None
    return locked


def _resolve_waiting_disputes(charge_id: str) -> None:
    """Disputes that arrived before this charge was known are re-read once it is recorded."""
    waiting = Dispute.objects.filter(charge_id=charge_id, instalment__isnull=True)
    for dispute_id in waiting.values_list("stripe_id", flat=True):
        transaction.on_commit(partial(resolve_dispute.delay, dispute_id))


def payment_failed(*, payment_intent_id: str) -> str:
    """Re-read the PaymentIntent; if it did not succeed, record Stripe's reason on a pending instalment."""
    client = gateway()
    intent: Any = client.v1.payment_intents.retrieve(payment_intent_id)
    instalment = instalment_for_metadata(intent.metadata)
    if instalment is None:
        return "ignored: not one of our payments"
    if intent.status == "succeeded":  # a failure that arrives after the success changes nothing
        return payment_settle(payment_intent_id=payment_intent_id)
    error = intent.last_payment_error
    reason = (error.message if error and error.message else "") or _("The payment did not go through.")
    with transaction.atomic():
        locked = Instalment.objects.select_for_update().get(pk=instalment.pk)
        if locked.status != InstalmentStatus.PROCESSING:
            return f"ignored: the instalment is {locked.status}"
        transition(
            locked,
            machine=INSTALMENT_MACHINE,
            to=InstalmentStatus.FAILED,
            actor=None,
            organisation=locked.payee_organisation,
            data=instalment_entry(
                instalment=locked, payment_intent=intent.id, reason=reason, code=getattr(error, "code", None)
            ),
            failure_reason=reason[:500],
            payment_intent_id=intent.id,
        )
    return "processed: failed"


def checkout_completed(*, session_id: str) -> str:
    session: Any = gateway().v1.checkout.sessions.retrieve(session_id)
    if not session.payment_intent:
        return "ignored: no payment on this session"
    _session_closed(session)
    return payment_settle(payment_intent_id=str(session.payment_intent))


def _session_closed(session: Any) -> None:
    if session.status in ("complete", "expired"):
        CheckoutSession.objects.filter(stripe_id=session.id, closed_at__isnull=True).update(
            closed_at=timezone.now(), closed_as=str(session.status)
        )


def checkout_expired(*, session_id: str) -> str:
    """An abandoned Checkout puts its instalment back to due (if it is still that attempt's)."""
    session: Any = gateway().v1.checkout.sessions.retrieve(session_id)
    instalment = instalment_for_metadata(session.metadata)
    if instalment is None:
        return "ignored: not one of our sessions"
    if session.status != "expired":
        return f"ignored: the session is {session.status}"
    _session_closed(session)
    with transaction.atomic():
        locked = Instalment.objects.select_for_update().get(pk=instalment.pk)
        if locked.status != InstalmentStatus.PROCESSING or locked.checkout_session_id != session.id:
            return "ignored: not the pending attempt"
        transition(
            locked,
            machine=INSTALMENT_MACHINE,
            to=InstalmentStatus.DUE,
            actor=None,
            organisation=locked.payee_organisation,
            action="checkout.expired",
            data=instalment_entry(instalment=locked, checkout_session=session.id),
        )
    return "processed: due again"
