"""Offers to films, and their immutable numbered versions of terms."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class OfferKind(models.TextChoices):
    POST_PRODUCTION = "post_production", _("Post-production services in kind")
    COMPLETION_FUND = "completion_fund", _("Completion fund")
    DISTRIBUTION = "distribution", _("Distribution")
    SALES = "sales", _("Sales and representation")


class OfferStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SUBMITTED = "submitted", _("Submitted")
    WITHDRAWN = "withdrawn", _("Withdrawn")
    EXPIRED = "expired", _("Expired")


class Offer(models.Model):
    """An organisation's offer to a film. Status moves only through ``offers.services.offer_transition``."""

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
