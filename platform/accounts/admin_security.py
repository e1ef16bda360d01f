"""The Django admin behind the same door as everything else: allauth login (so TOTP), then readiness.

Django's own admin login form would skip the second factor, so it is replaced by a redirect to allauth's
login; a staff member without a verified email or TOTP gets the page that says what is missing.
"""

from __future__ import annotations

from typing import Any

from allauth.account.decorators import secure_admin_login
from django.contrib.admin import AdminSite
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from accounts.policy import account_readiness, is_festival_admin


def secure_admin_site(site: AdminSite) -> None:
    original_has_permission = site.has_permission
    original_admin_view = site.admin_view

    def has_permission(request: HttpRequest) -> bool:
        return original_has_permission(request) and account_readiness(request.user).ready

    def admin_view(view: Any, cacheable: bool = False) -> Any:
        wrapped = original_admin_view(view, cacheable)

        def guarded(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            refusal = account_readiness(request.user).refusal() if request.user.is_authenticated else None
            if refusal and is_festival_admin(request.user):
                return render(
                    request, "refused.html", {"message": refusal.message, "code": refusal.code}, status=403
                )
            response: HttpResponse = wrapped(request, *args, **kwargs)
            return response

        return guarded

    site.has_permission = has_permission  # type: ignore[method-assign]
    site.admin_view = admin_view  # type: ignore[method-assign]
    site.login = secure_admin_login(site.login)  # type: ignore[method-assign]
