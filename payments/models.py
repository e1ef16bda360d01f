"""Stripe Connect accounts of production companies (what Stripe last told us about them)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class ConnectedAccount(models.Model):
    """A production company's Express account on Stripe Connect. Its flags are copied from Stripe's
    Account object each time it is re-read (``payments.connect.connect_refresh``), never set by hand."""

    organisation = models.OneToOneField(
        "accounts.Organisation", on_delete=models.PROTECT, related_name="connected_account"
    )
    stripe_account_id = models.CharField(max_length=64, unique=True)
    details_submitted = models.BooleanField(_("details submitted"), default=False)
    charges_enabled = models.BooleanField(_("charges enabled"), default=False)
    payouts_enabled = models.BooleanField(_("payouts enabled"), default=False)
    requirements_due = models.JSONField(_("requirements due"), default=list, blank=True)
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
