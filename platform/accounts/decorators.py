"""Page guards: the same readiness rule as the API, answered with a page that says what is missing."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from accounts.policy import account_readiness, is_festival_admin

View = Callable[..., HttpResponse]


def ready_required(view: View) -> View:
    """Signed in, email verified and TOTP enrolled; otherwise a 403 page naming the missing step."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        refusal = account_readiness(request.user).refusal()
        if refusal:
            return render(
                request, "refused.html", {"message": refusal.message, "code": refusal.code}, status=403
            )
        return view(request, *args, **kwargs)

    return wrapper


def admin_required(view: View) -> View:
    @wraps(view)
    @ready_required
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not is_festival_admin(request.user):
            message = _("Only festival admins can see this page.")
            return render(request, "refused.html", {"message": message, "code": "admin_required"}, status=403)
        return view(request, *args, **kwargs)

    return wrapper
