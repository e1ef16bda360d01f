from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from offers.signals import agreement_recorded


class PaymentsConfig(AppConfig):
    name = "payments"
    verbose_name = _("Payments")

    def ready(self) -> None:
        # Imported here, once the app registry is ready: the receivers load models and services
        from payments.receivers import schedule_agreement

        agreement_recorded.connect(schedule_agreement, dispatch_uid="payments.schedule_agreement")
