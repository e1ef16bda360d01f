"""Transitional: every offers page is routed by ``offers.urls``. Delete this module, ``urls_pages`` and
``urls_memo`` once platform/config/urls.py includes ``offers.urls`` instead of the three."""

from offers.urls import urlpatterns  # noqa: F401
