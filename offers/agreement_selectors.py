"""Transitional: agreements' reads live in ``offers.selectors.agreements`` (keyword-only). Delete this
module once payments/consumers.py, payments/selectors.py and payments/views/agreements.py import
``offers.selectors.agreements`` and call ``agreements_visible_to(user=...)``."""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser
from django.db.models import QuerySet

from accounts.models import User
from offers.models import Agreement
from offers.selectors import agreements


def agreements_visible_to(user: User | AnonymousUser) -> QuerySet[Agreement]:
    return agreements.agreements_visible_to(user=user)
