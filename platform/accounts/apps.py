from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = _("Accounts and accreditation")

    def ready(self) -> None:
        from accounts import socket_session  # models are loaded only now

        socket_session.connect_signals()
