from allauth.account.adapter import DefaultAccountAdapter
from django.http import HttpRequest
from django.urls import reverse


class AccountAdapter(DefaultAccountAdapter):
    """After login, people land on their dashboard, which tells them what step is next."""

    def get_login_redirect_url(self, request: HttpRequest) -> str:
        return reverse("accounts:dashboard")
