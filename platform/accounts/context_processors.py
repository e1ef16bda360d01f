from typing import Any

from django.http import HttpRequest

from accounts.policy import account_readiness, is_festival_admin


def account_status(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"readiness": account_readiness(user), "is_festival_admin": is_festival_admin(user)}
