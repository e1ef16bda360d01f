"""Offers to films, and their immutable numbered versions of terms."""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from audit.transitions import StateMachine


class OfferKind(models.TextChoices):
    POST_PRODUCTION = "post_production", _("Post-production services in kind")
    COMPLETION_FUND = "completion_fund", _("Completion fund")
    DISTRIBUTION = "distribution", _("Distribution")
    SALES = "sales", _("Sales and representation")


class OfferStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SUBMITTED = "submitted", _("Submitted")
    ACCEPTED = "accepted", _("Accepted")
    DECLINED = "declined", _("Declined")
    WITHDRAWN = "withdrawn", _("Withdrawn")
    EXPIRED = "expired", _("Expired")


_S = OfferStatus
# Submitted, an offer waits for an answer; every other end is final. Each move is ``offer.<state>`` in
# the audit log and, once the offer is submitted, an event of its thread (``offers.services.offers``).
OFFER_MACHINE = StateMachine(
    subject="offer",
    transitions={
        _S.DRAFT: frozenset({_S.SUBMITTED, _S.WITHDRAWN}),
        _S.SUBMITTED: frozenset({_S.ACCEPTED, _S.DECLINED, _S.WITHDRAWN, _S.EXPIRED}),
        _S.ACCEPTED: frozenset(),
        _S.DECLINED: frozenset(),
        _S.WITHDRAWN: frozenset(),
        _S.EXPIRED: frozenset(),
    },
    refusal=_("This offer is %(status)s and cannot become %(target)s."),
)


class Side(models.TextChoices):
    """Which party of a negotiation a person speaks for."""

    OFFEROR = "offeror", _("Offeror")
    PRODUCER = "producer", _("Producers")


class Offer(models.Model):
    """An organisation's offer to a film. Its status moves only along ``OFFER_MACHINE``, through
    ``offers.services.offers.offer_transition``."""

    film = models.ForeignKey("festival.Film", on_delete=models.PROTECT, related_name="offers")
    organisation = models.ForeignKey("accounts.Organisation", on_delete=models.PROTECT, related_name="offers")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(_("type"), max_length=32, choices=OfferKind.choices)
    status = models.CharField(
        _("status"), max_length=16, choices=OfferStatus.choices, default=OfferStatus.DRAFT
    )
    expires_on = models.DateField(_("expires on"), null=True, blank=True)
    # What the offeror had watched when they submitted: the cut and the share of it
    watched_cut = models.ForeignKey(
        "screening.Cut", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    watched_share_bp = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    # The thread: the sequence number of its last event (bumped under this row's lock) and when it moved
    last_seq = models.PositiveBigIntegerField(default=0)
    last_activity_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("offer")
        verbose_name_plural = _("offers")
        ordering = ["-updated_at"]
        indexes = [models.Index(fields=["film", "status"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} — {self.organisation} → {self.film}"


class OfferVersion(models.Model):
    """One immutable numbered version of an offer's terms, with the hash of its canonical JSON.

    A draft's version 1 may be rewritten until the offer is submitted; after that versions are only added.
    """

    offer = models.ForeignKey(Offer, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    side = models.CharField(max_length=16, choices=Side.choices, default=Side.OFFEROR)
    schema_version = models.PositiveIntegerField()
    terms = models.JSONField()
    terms_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["offer", "number"]
        constraints = [
            models.UniqueConstraint(fields=["offer", "number"], name="offer_version_unique_number")
        ]

    def __str__(self) -> str:
        return f"{self.offer} v{self.number}"


class OfferPolicy(models.Model):
    """The producers' conditions on offers to their film: how much of the current cut an offeror must
    have watched before submitting (basis points of its segments)."""

    film = models.OneToOneField("festival.Film", on_delete=models.CASCADE, related_name="offer_policy")
    min_watched_share_bp = models.PositiveIntegerField(_("minimum share watched (basis points)"), default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("offer policy")
        verbose_name_plural = _("offer policies")

    def __str__(self) -> str:
        return f"offer policy of {self.film}"


class EventKind(models.TextChoices):
    SUBMITTED = "submitted", _("Offer submitted")
    MESSAGE = "message", _("Message")
    COUNTER = "counter", _("Counter-offer")
    ACCEPTED = "accepted", _("Accepted")
    DECLINED = "declined", _("Declined")
    WITHDRAWN = "withdrawn", _("Withdrawn")
    EXPIRED = "expired", _("Expired")


class ThreadEvent(models.Model):
    """One event of an offer's negotiation thread, numbered 1, 2, 3... within the offer.

    Written only by ``offers.services.thread`` (``append_event``, ``MESSAGE_SQL``) under the offer's row
    lock, before it is broadcast; a client that reconnects asks for everything after the last number it
    saw. ``client_id`` makes a resent message appear once.
    """

    offer = models.ForeignKey(Offer, on_delete=models.CASCADE, related_name="events")
    seq = models.PositiveBigIntegerField()
    kind = models.CharField(max_length=16, choices=EventKind.choices)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    side = models.CharField(max_length=16, choices=Side.choices, blank=True)
    body = models.TextField(blank=True)
    version = models.ForeignKey(
        OfferVersion, null=True, blank=True, on_delete=models.PROTECT, related_name="events"
    )
    client_id = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["offer", "seq"]
        constraints = [
            models.UniqueConstraint(fields=["offer", "seq"], name="thread_event_unique_seq"),
            models.UniqueConstraint(
                fields=["offer", "author", "client_id"],
                condition=~models.Q(client_id=""),
                name="thread_event_unique_client_id",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.offer_id}#{self.seq} {self.kind}"


class ThreadRead(models.Model):
    """How far a person has read an offer's thread (read receipts)."""

    offer = models.ForeignKey(Offer, on_delete=models.CASCADE, related_name="reads")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    seq = models.PositiveBigIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["offer", "user"], name="thread_read_unique")]

    def __str__(self) -> str:
        return f"{self.user_id} read {self.offer_id} up to {self.seq}"


class AgreementImmutable(Exception):
    """An agreement is written once, by ``offers.services.negotiation.thread_accept``, and never changed."""


class AgreementQuerySet(models.QuerySet["Agreement"]):
    def update(self, **kwargs: Any) -> int:
        raise AgreementImmutable("update")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise AgreementImmutable("delete")


class Agreement(models.Model):
    """The record of an accepted version: who agreed to what, when, on the strength of which screener.

    ``terms_canonical`` is the RFC 8785 canonical JSON of the accepted terms and ``terms_hash`` its
    SHA-256; ``offers.memo.agreement_verify`` recomputes both from the stored version.
    """

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    offer = models.OneToOneField(Offer, on_delete=models.PROTECT, related_name="agreement")
    version = models.OneToOneField(OfferVersion, on_delete=models.PROTECT, related_name="agreement")
    film = models.ForeignKey("festival.Film", on_delete=models.PROTECT, related_name="agreements")
    kind = models.CharField(_("type"), max_length=32, choices=OfferKind.choices)
    offeror_organisation = models.ForeignKey(
        "accounts.Organisation", on_delete=models.PROTECT, related_name="agreements_as_offeror"
    )
    producer_organisation = models.ForeignKey(
        "accounts.Organisation", on_delete=models.PROTECT, related_name="agreements_as_producer"
    )
    offeror_signatory = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    producer_signatory = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    offeror_accepted_at = models.DateTimeField()
    producer_accepted_at = models.DateTimeField()
    terms_canonical = models.TextField()
    terms_hash = models.CharField(max_length=64)
    watched_cut = models.ForeignKey(
        "screening.Cut", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    watched_share_bp = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField()

    objects = AgreementQuerySet.as_manager()

    class Meta:
        verbose_name = _("agreement")
        verbose_name_plural = _("agreements")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} — {self.offeror_organisation} / {self.film}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise AgreementImmutable("save")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise AgreementImmutable("delete")
