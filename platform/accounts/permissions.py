"""API permissions. Each refusal names what is missing in ``detail`` and ``code``."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from rest_framework import exceptions
from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from accounts.models import User
from accounts.policy import account_readiness, is_festival_admin


class AccountReady(BasePermission):
    """Authenticated, with a verified email address and TOTP enrolled."""

    def has_permission(self, request: Request, view: Any) -> bool:
        if not request.user or not request.user.is_authenticated:
            raise exceptions.NotAuthenticated()
        refusal = account_readiness(request.user).refusal()
        if refusal:
            raise exceptions.PermissionDenied(refusal.message, code=refusal.code)
        return True


class FestivalAdminOrReadOnly(AccountReady):
    """Anyone ready may read; only festival admins may write."""

    def has_permission(self, request: Request, view: Any) -> bool:
        super().has_permission(request, view)
        if request.method in ("GET", "HEAD", "OPTIONS") or is_festival_admin(request.user):
            return True
        raise exceptions.PermissionDenied(_("Only festival admins can do this."), code="admin_required")


def acting_user(request: Request | HttpRequest) -> User:
    """The signed-in user of a request that a permission or decorator has already let through."""
    user = request.user
    if not isinstance(user, User):
        raise exceptions.NotAuthenticated()
    return user
