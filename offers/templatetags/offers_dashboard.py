"""The offers part of a person's dashboard (platform/templates/accounts/dashboard.html):
``{% load offers_dashboard %}{% offers_dashboard %}``. The data comes from
``offers.selectors.offers.offers_overview``; the accounts view needs no change."""

from __future__ import annotations

from typing import Any

from django import template

from offers.selectors.offers import offers_overview

register = template.Library()


@register.inclusion_tag("offers/_dashboard_offers.html", takes_context=True)
def offers_dashboard(context: Any) -> dict[str, Any]:
    user = context.get("user")
    if user is None or not getattr(user, "is_authenticated", False):
        return {"overview": None}
    return {"overview": offers_overview(user=user)}
