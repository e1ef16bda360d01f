"""Stripe Connect accounts of production companies (what Stripe last told us about them)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from audit.transitions import StateMachine


class ConnectedAccount(models.Model):
    """A production company's Express account on Stripe Connect. Its flags are copied from Stripe's
    Account object each time it is re-read (``payments.services.connect.connect_refresh``), never set by
    hand."""

    organisation = models.OneToOneField(
        "accounts.Organisation", on_delete=models.PROTECT, related_name="connected_account"
    )
    stripe_account_id = models.CharField(max_length=64, unique=True)
    details_submitted = models.BooleanField(_("details submitted"), default=False)
    charges_enabled = models.BooleanField(_("charges enabled"), default=False)
    payouts_enabled = models.BooleanField(_("payouts enabled"), default=False)
    requirements_due = models.JSONField(_("requirements due"), default=list, blank=True)
    # Onboarding links asked for: the number of the next one is part of its idempotency key, so a
    # network retry of one request gets the same link and a new request a fresh one
    links_issued = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    refreshed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("connected Stripe account")
        verbose_name_plural = _("connected Stripe accounts")

    def __str__(self) -> str:
        return f"{self.organisation} ({self.stripe_account_id})"

    @property
    def ready(self) -> bool:
        return self.details_submitted and self.charges_enabled and self.payouts_enabled


class PlatformFee(models.Model):
    """The platform's fee on each paid instalment, in basis points, as admins set it. The newest row is
    in force (zero when there is none); older rows stay as the record of what applied when."""

    fee_bp = models.PositiveIntegerField(_("platform fee (basis points)"))
    set_by = models.ForeignKey("accounts.User", on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(condition=models.Q(fee_bp__lte=5000), name="platform_fee_at_most_half")
        ]

    def __str__(self) -> str:
        return f"{self.fee_bp / 100:.2f} %"


class PaymentSchedule(models.Model):
    """What an agreement moves, instalment by instalment: money for funds, guarantees and fees;
    delivery milestones for services in kind. Created with the agreement, never re-planned."""

    agreement = models.OneToOneField(
        "offers.Agreement", on_delete=models.PROTECT, related_name="payment_schedule"
    )
    transfer_group = models.CharField(max_length=64, unique=True)  # Stripe's grouping of the deal's money
    disputed = models.BooleanField(_("disputed"), default=False)  # flagged for admins by a Stripe dispute
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("payment schedule")
        verbose_name_plural = _("payment schedules")

    def __str__(self) -> str:
        return f"{self.agreement} — {self.transfer_group}"


class InstalmentKind(models.TextChoices):
    PAYMENT = "payment", _("Payment")
    MILESTONE = "milestone", _("Delivery milestone")


class Trigger(models.TextChoices):
    ON_SIGNATURE = "on_signature", _("On signature")
    ON_DATE = "on_date", _("On a date")
    ON_DELIVERY = "on_delivery", _("On delivery confirmed")


class Source(models.TextChoices):
    """Where in the agreed terms an instalment comes from (its label is drawn from there)."""

    TRANCHE = "tranche", _("Completion fund tranche")
    MG_INSTALMENT = "mg_instalment", _("Minimum guarantee instalment")
    MINIMUM_GUARANTEE = "minimum_guarantee", _("Minimum guarantee")
    SERVICE = "service", _("Service in kind")


class InstalmentStatus(models.TextChoices):
    SCHEDULED = "scheduled", _("Scheduled")
    DUE = "due", _("Due")
    PROCESSING = "processing", _("Payment in progress")
    FAILED = "failed", _("Payment failed")
    PAID = "paid", _("Paid")
    REFUNDED = "refunded", _("Refunded")
    DELIVERED = "delivered", _("Delivered")


S = InstalmentStatus
INSTALMENT_TRANSITIONS: dict[str, frozenset[str]] = {
    S.SCHEDULED: frozenset({S.DUE, S.DELIVERED}),
    S.DUE: frozenset({S.PROCESSING, S.PAID, S.DELIVERED}),  # paid: money that arrived after an expiry
    # Checkout may still succeed after a failed attempt; an expired session puts it back to due
    S.PROCESSING: frozenset({S.PROCESSING, S.PAID, S.FAILED, S.DUE}),
    S.FAILED: frozenset({S.PROCESSING, S.PAID}),
    S.PAID: frozenset({S.REFUNDED}),
    S.REFUNDED: frozenset(),
    S.DELIVERED: frozenset(),
}
INSTALMENT_MACHINE = StateMachine(
    subject="instalment",
    transitions=INSTALMENT_TRANSITIONS,
    refusal=_("This instalment is %(status)s; it cannot become %(target)s."),
)
PAYABLE = frozenset({S.DUE, S.PROCESSING, S.FAILED})


class Instalment(models.Model):
    """One step of a schedule: an amount that one organisation pays another when its trigger fires,
    or (``kind=milestone``) a delivery the receiving side confirms. Stripe's ids are kept to re-read
    and reconcile every object the payment made."""

    schedule = models.ForeignKey(PaymentSchedule, on_delete=models.PROTECT, related_name="instalments")
    number = models.PositiveSmallIntegerField()
    kind = models.CharField(max_length=16, choices=InstalmentKind.choices)
    source = models.CharField(max_length=32, choices=Source.choices)
    source_index = models.PositiveSmallIntegerField()  # position in the terms' tranches, lines...
    amount_minor = models.BigIntegerField()
    currency = models.CharField(max_length=3)
    payer_organisation = models.ForeignKey(
        "accounts.Organisation", on_delete=models.PROTECT, related_name="instalments_to_pay"
    )
    payee_organisation = models.ForeignKey(
        "accounts.Organisation", on_delete=models.PROTECT, related_name="instalments_to_receive"
    )
    trigger = models.CharField(max_length=16, choices=Trigger.choices)
    due_on = models.DateField(null=True, blank=True)  # with on_date
    delivery = models.CharField(max_length=500, blank=True)  # with on_delivery: what must be delivered
    status = models.CharField(max_length=16, choices=InstalmentStatus.choices, default=S.SCHEDULED)
    attempts = models.PositiveIntegerField(default=0)
    checkout_session_id = models.CharField(max_length=255, blank=True)
    payment_intent_id = models.CharField(max_length=255, blank=True)
    charge_id = models.CharField(max_length=255, blank=True)
    transfer_id = models.CharField(max_length=255, blank=True)
    transfer_reversal_id = models.CharField(max_length=255, blank=True)
    refund_id = models.CharField(max_length=255, blank=True)
    dispute_id = models.CharField(max_length=255, blank=True)
    dispute_status = models.CharField(max_length=32, blank=True)
    fee_minor = models.BigIntegerField(default=0)
    failure_reason = models.CharField(max_length=500, blank=True)
    receipt_url = models.URLField(max_length=500, blank=True)
    due_at = models.DateTimeField(null=True, blank=True)
    paid_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    delivered_by = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    refunded_at = models.DateTimeField(null=True, blank=True)
    checkout_by = models.ForeignKey(  # who opened the latest payment attempt (and gets the receipt)
        "accounts.User", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("instalment")
        verbose_name_plural = _("instalments")
        ordering = ["schedule", "number"]
        constraints = [
            models.UniqueConstraint(fields=["schedule", "number"], name="instalment_number_unique"),
            models.CheckConstraint(
                condition=models.Q(amount_minor__gte=0), name="instalment_amount_positive"
            ),
            models.UniqueConstraint(
                fields=["payment_intent_id"],
                condition=~models.Q(payment_intent_id=""),
                name="instalment_payment_intent_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_source_display()} {self.source_index + 1} ({self.get_status_display()})"


class WebhookOutcome(models.TextChoices):
    RECEIVED = "received", _("Received")
    PROCESSED = "processed", _("Processed")
    IGNORED = "ignored", _("Ignored")
    FAILED = "failed", _("Failed, Stripe will resend it")
    BAD_SIGNATURE = "bad_signature", _("Bad signature or timestamp")
    MALFORMED = "malformed", _("Signed, but not an event")


class WebhookEvent(models.Model):
    """Every webhook delivery we were sent: a verified event once by its id (Stripe resends it until
    it is acknowledged), a signed body that is not an event with its bytes and no id, a delivery with a
    bad signature or a timestamp outside the tolerance as a record of the attempt only (its hash).

    ``body`` is the truth: the bytes exactly as received and verified (a ``bytea``, which holds what
    PostgreSQL's ``text`` and ``jsonb`` cannot: NUL, lone surrogate escapes, any encoding). ``payload`` is
    a parsed copy for reading, kept when the JSON holds only what ``core.text`` accepts; Stripe's decimal
    fields stay the strings Stripe sent (``"amount_decimal": "2000"``), never floats or Decimals."""

    stripe_event_id = models.CharField(max_length=255, unique=True, null=True, blank=True)
    type = models.CharField(max_length=100, blank=True)
    object_id = models.CharField(max_length=255, blank=True)
    outcome = models.CharField(max_length=16, choices=WebhookOutcome.choices)
    detail = models.CharField(max_length=500, blank=True)
    payload = models.JSONField(null=True, blank=True)  # the parsed copy, when it is safe to keep
    body = models.BinaryField(null=True, blank=True)  # the signed bytes, as received
    body_sha256 = models.CharField(max_length=64)
    deliveries = models.PositiveIntegerField(default=1)
    received_at = models.DateTimeField(auto_now_add=True)
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("Stripe webhook event")
        verbose_name_plural = _("Stripe webhook events")
        ordering = ["-received_at"]

    def __str__(self) -> str:
        return f"{self.stripe_event_id or '(unsigned)'} {self.type} {self.outcome}"


class LedgerKind(models.TextChoices):
    CHARGE = "charge", _("Charge")
    PLATFORM_FEE = "platform_fee", _("Platform fee")
    TRANSFER = "transfer", _("Transfer to the producer")
    TRANSFER_REVERSAL = "transfer_reversal", _("Transfer reversed")
    FEE_REFUND = "fee_refund", _("Platform fee returned")
    REFUND = "refund", _("Refund to the payer")
    DISPUTE = "dispute", _("Dispute: funds withdrawn")
    DISPUTE_WON = "dispute_won", _("Dispute won: funds reinstated")
    DISPUTE_LOST = "dispute_lost", _("Dispute lost")
    STRAY_CHARGE = "stray_charge", _("Payment not due: received")
    STRAY_REFUND = "stray_refund", _("Payment not due: refunded")


class LedgerTransaction(models.Model):
    """One movement of money, as balanced entries (``LedgerEntry``); written once per Stripe object and
    kind, so a webhook that arrives twice cannot post twice."""

    kind = models.CharField(max_length=32, choices=LedgerKind.choices)
    stripe_object_id = models.CharField(max_length=255)
    instalment = models.ForeignKey(Instalment, on_delete=models.PROTECT, related_name="ledger_transactions")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["kind", "stripe_object_id"], name="ledger_once_per_stripe_object")
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.stripe_object_id}"


class LedgerEntry(models.Model):
    """One leg of a movement: debits positive, credits negative, so each transaction sums to zero per
    currency (``payments.services.ledger.post`` refuses anything else)."""

    transaction = models.ForeignKey(LedgerTransaction, on_delete=models.PROTECT, related_name="entries")
    account = models.CharField(max_length=100)
    amount_minor = models.BigIntegerField()
    currency = models.CharField(max_length=3)

    class Meta:
        ordering = ["transaction", "pk"]
        indexes = [models.Index(fields=["account", "currency"])]

    def __str__(self) -> str:
        return f"{self.account} {self.amount_minor} {self.currency}"


class CheckoutSession(models.Model):
    """Every Checkout Session opened for an instalment. The newest is the pending attempt; opening another
    expires every one still open (``closed_at`` empty), so no two can take the instalment's money."""

    instalment = models.ForeignKey(Instalment, on_delete=models.PROTECT, related_name="checkout_sessions")
    stripe_id = models.CharField(max_length=255, unique=True)
    attempt = models.PositiveIntegerField()
    opened_by = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    opened_at = models.DateTimeField(auto_now_add=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_as = models.CharField(max_length=16, blank=True)  # Stripe's status then: expired, complete

    class Meta:
        ordering = ["instalment", "attempt", "pk"]

    def __str__(self) -> str:
        return f"{self.stripe_id} ({self.closed_as or 'open'})"


class StrayStatus(models.TextChoices):
    REFUNDED = "refunded", _("Refunded to the payer")
    HELD = "held", _("Held for an admin")


class StrayPayment(models.Model):
    """Money Stripe took for an instalment that was not waiting for it (already paid on another session,
    refunded, or a different amount): posted to the ledger as owed back to the payer and refunded at
    once, or held for an admin when Stripe refuses the refund."""

    instalment = models.ForeignKey(Instalment, on_delete=models.PROTECT, related_name="stray_payments")
    payment_intent_id = models.CharField(max_length=255, unique=True)
    charge_id = models.CharField(max_length=255)
    amount_minor = models.BigIntegerField()
    currency = models.CharField(max_length=3)
    reason = models.CharField(max_length=32)  # already_paid, not_payable, amount_mismatch
    status = models.CharField(max_length=16, choices=StrayStatus.choices)
    refund_id = models.CharField(max_length=255, blank=True)
    detail = models.CharField(max_length=500, blank=True)  # Stripe's refusal, when held
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("payment not due")
        verbose_name_plural = _("payments not due")

    def __str__(self) -> str:
        return f"{self.charge_id} {self.amount_minor} {self.currency} ({self.status})"


# A dispute's statuses after which it needs nothing more (won, lost, an inquiry closed, one prevented);
# any other status, including one Stripe adds later, keeps the agreement flagged for admins.
DISPUTE_CLOSED = frozenset({"won", "lost", "warning_closed", "prevented"})


class Dispute(models.Model):
    """A Stripe dispute (a chargeback, or an inquiry: ``warning_*``) as last re-read from Stripe. Its
    instalment is empty while the disputed charge is not known yet; it is filled in when the charge's
    events arrive or reconciliation runs. An agreement is flagged while any of its disputes is open."""

    stripe_id = models.CharField(max_length=255, unique=True)
    charge_id = models.CharField(max_length=255, db_index=True)
    instalment = models.ForeignKey(
        Instalment, null=True, blank=True, on_delete=models.PROTECT, related_name="disputes"
    )
    amount_minor = models.BigIntegerField()
    currency = models.CharField(max_length=3)
    status = models.CharField(max_length=32)
    reason = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("dispute")
        verbose_name_plural = _("disputes")

    def __str__(self) -> str:
        return f"{self.stripe_id} {self.status}"

    @property
    def open(self) -> bool:
        return self.status not in DISPUTE_CLOSED
