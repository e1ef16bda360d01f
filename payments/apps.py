from typing import Any

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PaymentsConfig(AppConfig):
    name = "payments"
    verbose_name = _("Payments")

    def ready(self) -> None:
        from offers.signals import agreement_recorded

        agreement_recorded.connect(_schedule_agreement, dispatch_uid="payments.schedule_agreement")


def _schedule_agreement(sender: Any, agreement: Any, **kwargs: Any) -> None:
    from payments.schedules import schedule_for_agreement

    schedule_for_agreement(agreement)
