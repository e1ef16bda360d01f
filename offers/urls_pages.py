"""Transitional: every offers page is routed by ``offers.urls`` (included through ``offers.urls_thread``
until platform/config/urls.py includes ``offers.urls``). Delete this module then."""

from typing import Any

urlpatterns: list[Any] = []
