"""Who may do what: the account-readiness rule shared by pages and the API.

An account is *ready* when its email is verified and it has TOTP enrolled. Everything that shows a
film, an accreditation decision or an admin page requires a ready account (ARCHITECTURE.md security
baseline: MFA for every account that can see a screener, an offer or the admin pages).
"""

from __future__ import annotations

from dataclasses import dataclass

from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from django.contrib.auth.models import AnonymousUser
from django.utils.translation import gettext as _

from accounts.models import User


@dataclass(frozen=True)
class Readiness:
    email_verified: bool
    mfa_enabled: bool

    @property
    def ready(self) -> bool:
        return self.email_verified and self.mfa_enabled

    def refusal(self) -> tuple[str, str] | None:
        """The first missing step as (code, message), or None when the account is ready."""
        if not self.email_verified:
            return "email_unverified", _("Verify your email address before continuing.")
        if not self.mfa_enabled:
            return "mfa_required", _("Set up two-factor authentication (TOTP) before continuing.")
        return None


def account_readiness(user: User | AnonymousUser) -> Readiness:
    """Readiness of ``user``, memoised on the instance for the rest of the request."""
    if not user.is_authenticated:
        return Readiness(email_verified=False, mfa_enabled=False)
    cached: Readiness | None = getattr(user, "_readiness", None)
    if cached is None:
        cached = Readiness(
            email_verified=EmailAddress.objects.filter(
                user=user, verified=True, email__iexact=user.email
            ).exists(),
            mfa_enabled=Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists(),
        )
        user._readiness = cached  # type: ignore[attr-defined]
    return cached


def is_festival_admin(user: User | AnonymousUser) -> bool:
    return bool(user.is_authenticated and user.is_active and user.is_staff)
