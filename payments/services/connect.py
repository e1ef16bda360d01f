"""Stripe Connect onboarding of production companies: an Express account per company, account links
that are asked for afresh each time (they expire within minutes), and the account's status re-read
from Stripe.

A member acts for their own company; Stripe's news about an account (``account.updated``) is recorded by
the system for the company the account belongs to.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import CompanyType, Membership, Organisation, User
from accounts.policy import require_ready
from audit.services import audit_record
from core.errors import Forbidden, InvalidInput
from payments.gateway import call, gateway
from payments.models import ConnectedAccount


def _require_producer_member(user: User, organisation: Organisation) -> None:
    require_ready(user)
    if not Membership.objects.filter(user=user, organisation=organisation).exists():
        raise Forbidden(_("Only members of a company can connect it to Stripe."), code="not_member")
    if organisation.company_type != CompanyType.PRODUCTION:
        raise InvalidInput(
            _("Only production companies receive payments; connect your production company."),
            field="organisation",
        )


def connect_onboarding_link(
    *, user: User, organisation: Organisation, return_url: str, refresh_url: str
) -> str:
    """The URL where ``user`` completes their company's Stripe onboarding; creates the company's Express
    account on the first call (one per company, however often this is retried)."""
    _require_producer_member(user, organisation)
    client = gateway()
    account = ConnectedAccount.objects.filter(organisation=organisation).first()
    if account is None:
        created: Any = call(
            client.v1.accounts.create,
            "account.create",
            organisation.pk,
            params={
                "type": "express",
                "country": str(organisation.country),
                "metadata": {"organisation_id": str(organisation.pk)},
            },
        )
        with transaction.atomic():
            account, made = ConnectedAccount.objects.get_or_create(
                organisation=organisation, defaults={"stripe_account_id": created.id}
            )
            if made:
                _recorded("connect_account.created", account, actor=user, stripe_account_id=created.id)
    # Each request for a link is the next one of this account: its number is in the idempotency key, so
    # the client's network retries get the same link and a new request (one expired, or used) a fresh one
    with transaction.atomic():
        locked = ConnectedAccount.objects.select_for_update().get(pk=account.pk)
        locked.links_issued += 1
        locked.save(update_fields=["links_issued"])
        _recorded("connect_account.onboarding_link_issued", locked, actor=user, link=locked.links_issued)
    link: Any = call(
        client.v1.account_links.create,
        "account.link",
        locked.stripe_account_id,
        locked.links_issued,
        params={
            "account": locked.stripe_account_id,
            "type": "account_onboarding",
            "return_url": return_url,
            "refresh_url": refresh_url,
        },
    )
    return str(link.url)


def connect_refresh(*, account: ConnectedAccount, actor: User | None = None) -> ConnectedAccount:
    """Re-read the account from Stripe and record its status (with an audit entry when it changed)."""
    remote: Any = gateway().v1.accounts.retrieve(account.stripe_account_id)
    requirements = remote.requirements.to_dict() if remote.requirements else {}
    status = {
        "details_submitted": bool(remote.details_submitted),
        "charges_enabled": bool(remote.charges_enabled),
        "payouts_enabled": bool(remote.payouts_enabled),
        "requirements_due": sorted(requirements.get("currently_due") or []),
    }
    with transaction.atomic():
        locked = ConnectedAccount.objects.select_for_update().get(pk=account.pk)
        before = {name: getattr(locked, name) for name in status}
        for name, value in status.items():
            setattr(locked, name, value)
        locked.refreshed_at = timezone.now()
        locked.save()
        if before != status:
            _recorded("connect_account.updated", locked, actor=actor, **{"from": before, "to": status})
    return locked


def _recorded(action: str, account: ConnectedAccount, *, actor: User | None, **data: Any) -> None:
    """An account's entry names its company: the one its member acted for, or whose account it is."""
    audit_record(action=action, actor=actor, organisation=account.organisation, target=account, data=data)
