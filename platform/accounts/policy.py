"""Account readiness, festival staff and organisation administrators: the one home of these rules
(docs/architecture.md, "Rules and their homes").

An account is *ready* when its email is verified and it has TOTP enrolled. Everything that shows a
film, an offer, an accreditation decision or an admin page requires a ready account (docs/architecture.md,
security baseline: MFA for every account that can see a screener, an offer or the admin pages).

The rule is written once for the ORM (``account_readiness``) and once as SQL for the hand-written
statements of the lean paths (``email_verified_sql``, ``mfa_sql``); a test proves the two agree.
"""

from __future__ import annotations

from dataclasses import dataclass

from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from django.contrib.auth.models import AnonymousUser
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from accounts.models import Membership, MembershipRole, User
from core.errors import Forbidden, NotFound, Refusal


@dataclass(frozen=True)
class Readiness:
    email_verified: bool
    mfa_enabled: bool

    @property
    def ready(self) -> bool:
        return self.email_verified and self.mfa_enabled

    def refusal(self) -> Refusal | None:
        """The first missing step, or None when the account is ready."""
        if not self.email_verified:
            return Refusal("email_unverified", _("Verify your email address before continuing."))
        if not self.mfa_enabled:
            return Refusal("mfa_required", _("Set up two-factor authentication (TOTP) before continuing."))
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


def known_readiness(user: User | AnonymousUser) -> Readiness | None:
    """The readiness already read for ``user`` in this request or socket check, without a query (for the
    event loop, which cannot query), or None when it has not been read."""
    return getattr(user, "_readiness", None)


def is_festival_admin(user: User | AnonymousUser) -> bool:
    """Festival staff: they run sessions, decide accreditations and read every deal."""
    return bool(user.is_authenticated and user.is_active and user.is_staff)


def festival_admins() -> QuerySet[User]:
    """``is_festival_admin`` as a queryset (whom to tell)."""
    return User.objects.filter(is_active=True, is_staff=True)


def require_festival_admin(user: User | AnonymousUser, *, message: str | None = None) -> None:
    """A ready festival admin, or Forbidden ``admin_required`` (readiness's own refusal for an admin not
    ready)."""
    if not is_festival_admin(user):
        raise Forbidden(message or _("Only festival admins can do this."), code="admin_required")
    require_ready(user)


# --- organisations: their administrators manage their members ---------------------------------------


def organisation_role_of(*, user: User, organisation_id: int) -> str | None:
    """``user``'s role in the organisation, or None when not an (approved) member."""
    if not user.is_authenticated:
        return None
    return (
        Membership.objects.filter(user=user, organisation_id=organisation_id)
        .values_list("role", flat=True)
        .first()
    )


def may_manage_organisation(*, user: User, organisation_id: int) -> bool:
    """Festival admins, and the organisation's own administrators."""
    return is_festival_admin(user) or (
        organisation_role_of(user=user, organisation_id=organisation_id) == MembershipRole.ADMIN
    )


def require_organisation_manager(*, actor: User, organisation_id: int) -> None:
    """Festival admins and the organisation's administrators (ready) pass. Members who are not
    administrators know the organisation: 403. Everyone else outside it: 404."""
    if may_manage_organisation(user=actor, organisation_id=organisation_id):
        require_ready(actor)
        return
    if organisation_role_of(user=actor, organisation_id=organisation_id) is None:
        raise NotFound(_("No such organisation."))
    raise Forbidden(
        _("Only the organisation's administrators (or festival admins) can do this."),
        code="organisation_admin_required",
    )


def require_ready(user: User | AnonymousUser) -> None:
    """Raise Forbidden (``email_unverified`` or ``mfa_required``) unless ``user`` is ready."""
    refusal = account_readiness(user).refusal()
    if refusal is not None:
        raise refusal.error()


def email_verified_sql(user: str) -> str:
    """``account_readiness(...).email_verified`` as a SQL boolean over the user table aliased ``user``."""
    table = EmailAddress._meta.db_table  # aliases and table names only, never values
    checks = f"e.user_id = {user}.id AND e.verified AND LOWER(e.email) = LOWER({user}.email)"
    return f"EXISTS(SELECT 1 FROM {table} e WHERE {checks})"  # noqa: S608


def mfa_sql(user: str) -> str:
    """``account_readiness(...).mfa_enabled`` as a SQL boolean over the user table aliased ``user``."""
    table = Authenticator._meta.db_table
    return f"EXISTS(SELECT 1 FROM {table} a WHERE a.user_id = {user}.id AND a.type = 'totp')"  # noqa: S608
