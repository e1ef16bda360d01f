"""The platform's fee, as admins set it (zero until they do; the fee in force is read by
``payments.selectors.current_fee_bp``)."""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.policy import is_festival_admin
from audit.services import audit_record
from core.errors import Forbidden, InvalidInput
from payments.models import PlatformFee
from payments.selectors import current_fee_bp

MAX_FEE_BP = 5000


def fee_of(*, amount_minor: int, fee_bp: int) -> int:
    """The fee on an amount, rounded down to the minor unit (the producer never receives less than
    the agreed share)."""
    return amount_minor * fee_bp // 10_000


def platform_fee_set(*, user: User, fee_bp: object) -> PlatformFee:
    """An admin sets the fee (acting for the festival: the entry names no organisation)."""
    if not is_festival_admin(user):
        raise Forbidden(_("Only festival admins set the platform fee."), code="admins_only")
    if not isinstance(fee_bp, int) or isinstance(fee_bp, bool) or not 0 <= fee_bp <= MAX_FEE_BP:
        raise InvalidInput(
            _("Give the fee in basis points, from 0 to %(max)d (50 %%).") % {"max": MAX_FEE_BP},
            field="fee_bp",
        )
    with transaction.atomic():
        before = current_fee_bp()
        fee = PlatformFee.objects.create(fee_bp=fee_bp, set_by=user)
        audit_record(
            action="platform_fee.set",
            actor=user,
            target=fee,
            data={"from_bp": before, "to_bp": fee_bp},
        )
    return fee
