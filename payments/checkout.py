"""Paying an instalment: a Stripe Checkout Session on the platform account (separate charges and
transfers, one transfer group per agreement), then, once Stripe says the PaymentIntent succeeded, a
transfer to the producer company's connected account less the platform fee.

Money state never changes on what a webhook or a browser claims: ``payment_settle``, ``payment_failed``
and ``checkout_expired`` re-read the object from Stripe and act only from the states that allow it, so
duplicated, late or replayed events change nothing twice.
"""

from __future__ import annotations

from typing import Any

import stripe
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Membership, User
from accounts.policy import account_readiness
from audit.services import audit_record
from core.errors import Conflict, Forbidden, NotFound
from offers.agreement_selectors import agreements_visible_to
from payments import ledger
from payments.fees import current_fee_bp, fee_of
from payments.gateway import call, gateway
from payments.models import (
    PAYABLE,
    ConnectedAccount,
    Instalment,
    InstalmentKind,
    InstalmentStatus,
    LedgerKind,
)
from payments.schedules import instalment_transition, instalments_release
from payments.tasks import send_receipt

SETTLED = frozenset({InstalmentStatus.PAID, InstalmentStatus.REFUNDED})


def payable_instalment(user: User, instalment_id: int) -> Instalment:
    """The instalment if ``user`` is a party to its agreement (404 otherwise, as if it did not exist)."""
    visible = agreements_visible_to(user).values("pk")
    instalment = (
        Instalment.objects.select_related("schedule__agreement", "payer_organisation", "payee_organisation")
        .filter(pk=instalment_id, schedule__agreement__in=visible)
        .first()
    )
    if instalment is None:
        raise NotFound(_("No such instalment."))
    return instalment


def instalment_pay(*, user: User, instalment: Instalment, success_url: str, cancel_url: str) -> str:
    """Open a Checkout Session for a due (or failed) instalment; returns the URL to send the payer to.

    Refused: an unready account, someone not in the paying company, a milestone, an instalment not yet
    due or already paid, a producer company without a ready connected account.
    """
    refusal = account_readiness(user).refusal()
    if refusal:
        raise Forbidden(refusal[1], code=refusal[0])
    if not Membership.objects.filter(user=user, organisation_id=instalment.payer_organisation_id).exists():
        raise Forbidden(_("Only the paying company pays this instalment."), code="not_payer")
    if instalment.kind != InstalmentKind.PAYMENT:
        raise Conflict(_("A service in kind is delivered, not paid."), code="not_a_payment")
    instalments_release()
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
        if locked.status == InstalmentStatus.PROCESSING and locked.checkout_session_id:
            _expire_session(client, locked)
        attempt = locked.attempts + 1
        fee_minor = fee_of(locked.amount_minor, current_fee_bp())
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
                "client_reference_id": str(locked.pk),
                "customer_email": user.email,
                "locale": user.language if user.language in ("es", "fr", "en") else "auto",
                "success_url": success_url,
                "cancel_url": cancel_url,
            },
        )
        instalment_transition(
            locked,
            InstalmentStatus.PROCESSING,
            actor=user,
            action="payments.checkout_started",
            data={"attempt": attempt, "checkout_session": session.id, "fee_minor": fee_minor},
            attempts=attempt,
            checkout_by=user,
            checkout_session_id=session.id,
            fee_minor=fee_minor,
            failure_reason="",
        )
    return str(session.url)


def _expire_session(client: stripe.StripeClient, instalment: Instalment) -> None:
    """Close the previous attempt's session before opening another, so one instalment is never paid
    twice; a session that cannot be expired has been paid, and the webhook will say so."""
    try:
        call(
            client.v1.checkout.sessions.expire,
            "checkout.expire",
            instalment.checkout_session_id,
            on=instalment.checkout_session_id,
        )
    except stripe.InvalidRequestError:
        session: Any = client.v1.checkout.sessions.retrieve(instalment.checkout_session_id)
        if session.status != "expired":
            raise Conflict(
                _("The previous payment is being confirmed by Stripe; wait a moment before paying again."),
                code="payment_pending",
            ) from None


def _instalment_for(metadata: Any) -> Instalment | None:
    """The instalment a Stripe object's metadata names, if any."""
    raw = metadata.to_dict().get("instalment_id") if metadata else None
    if raw is None or not str(raw).isdigit():
        return None
    return Instalment.objects.filter(pk=int(raw)).first()


def payment_settle(payment_intent_id: str) -> str:
    """Re-read the PaymentIntent; if it succeeded for one of our instalments, mark it paid, transfer the
    money less the fee to the producer company, and post the ledger. Returns what was done."""
    client = gateway()
    intent: Any = client.v1.payment_intents.retrieve(payment_intent_id)
    instalment = _instalment_for(intent.metadata)
    if instalment is None:
        return "ignored: not one of our payments"
    if intent.status != "succeeded":
        return f"ignored: the payment is {intent.status}"
    if intent.amount_received != instalment.amount_minor or intent.currency.upper() != instalment.currency:
        with transaction.atomic():
            audit_record(
                action="payments.amount_mismatch",
                actor=None,
                organisation=instalment.payee_organisation,
                target=instalment,
                data={
                    "payment_intent": intent.id,
                    "received": intent.amount_received,
                    "currency": intent.currency,
                },
            )
        return "ignored: the amount does not match the instalment"
    with transaction.atomic():
        locked = Instalment.objects.select_for_update().select_related("schedule").get(pk=instalment.pk)
        if locked.status in SETTLED:
            return "ignored: already settled"
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
        due_to = ledger.due_to(locked)
        ledger.post(
            kind=LedgerKind.CHARGE,
            stripe_object_id=charge.id,
            instalment=locked,
            legs=ledger.move(ledger.STRIPE_BALANCE, due_to, locked.amount_minor),
        )
        ledger.post(
            kind=LedgerKind.PLATFORM_FEE,
            stripe_object_id=charge.id,
            instalment=locked,
            legs=ledger.move(due_to, ledger.PLATFORM_FEES, locked.fee_minor),
        )
        ledger.post(
            kind=LedgerKind.TRANSFER,
            stripe_object_id=transfer.id,
            instalment=locked,
            legs=ledger.move(due_to, ledger.STRIPE_BALANCE, net),
        )
        paid = instalment_transition(
            locked,
            InstalmentStatus.PAID,
            actor=None,
            action="payments.instalment_paid",
            data={
                "payment_intent": intent.id,
                "charge": charge.id,
                "transfer": transfer.id,
                "net_minor": net,
            },
            payment_intent_id=intent.id,
            charge_id=charge.id,
            transfer_id=transfer.id,
            receipt_url=charge.receipt_url or "",
            failure_reason="",
            paid_at=timezone.now(),
        )
        transaction.on_commit(lambda: send_receipt.delay(paid.pk))
    return "processed: paid"


def payment_failed(payment_intent_id: str) -> str:
    """Re-read the PaymentIntent; if it did not succeed, record Stripe's reason on a pending instalment."""
    client = gateway()
    intent: Any = client.v1.payment_intents.retrieve(payment_intent_id)
    instalment = _instalment_for(intent.metadata)
    if instalment is None:
        return "ignored: not one of our payments"
    if intent.status == "succeeded":  # a failure that arrives after the success changes nothing
        return payment_settle(payment_intent_id)
    error = intent.last_payment_error
    reason = (error.message if error and error.message else "") or _("The payment did not go through.")
    with transaction.atomic():
        locked = Instalment.objects.select_for_update().get(pk=instalment.pk)
        if locked.status != InstalmentStatus.PROCESSING:
            return f"ignored: the instalment is {locked.status}"
        instalment_transition(
            locked,
            InstalmentStatus.FAILED,
            actor=None,
            action="payments.payment_failed",
            data={"payment_intent": intent.id, "reason": reason, "code": getattr(error, "code", None)},
            failure_reason=reason[:500],
            payment_intent_id=intent.id,
        )
    return "processed: failed"


def checkout_completed(session_id: str) -> str:
    session: Any = gateway().v1.checkout.sessions.retrieve(session_id)
    if not session.payment_intent:
        return "ignored: no payment on this session"
    return payment_settle(str(session.payment_intent))


def checkout_expired(session_id: str) -> str:
    """An abandoned Checkout puts its instalment back to due (if it is still that attempt's)."""
    session: Any = gateway().v1.checkout.sessions.retrieve(session_id)
    instalment = _instalment_for(session.metadata)
    if instalment is None:
        return "ignored: not one of our sessions"
    if session.status != "expired":
        return f"ignored: the session is {session.status}"
    with transaction.atomic():
        locked = Instalment.objects.select_for_update().get(pk=instalment.pk)
        if locked.status != InstalmentStatus.PROCESSING or locked.checkout_session_id != session.id:
            return "ignored: not the pending attempt"
        instalment_transition(
            locked,
            InstalmentStatus.DUE,
            actor=None,
            action="payments.checkout_expired",
            data={"checkout_session": session.id},
        )
    return "processed: due again"
