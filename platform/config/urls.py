from typing import Any

from allauth.headless import urls as headless_urls
from django.contrib import admin
from django.urls import URLPattern, URLResolver, include, path
from django.views.i18n import JavaScriptCatalog
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from accounts.admin_security import secure_admin_site
from config.health import healthz

secure_admin_site(admin.site)


# allauth's headless routes for a login method this site does not offer (phone numbers): left out, so they
# answer 404 like any unknown path instead of reaching views that assume the method is configured (one of
# them, ManagePhoneView, was a 500 for a PUT without a session).
NOT_OFFERED = frozenset({"manage_phone", "verify_phone", "resend_phone_verification_code"})


def without_routes(patterns: list[Any], names: frozenset[str]) -> list[Any]:
    """``patterns`` with the routes named ``names`` left out, at any depth of includes."""
    kept: list[Any] = []
    for entry in patterns:
        if isinstance(entry, URLResolver):
            kept.append(
                URLResolver(
                    entry.pattern,
                    without_routes(entry.url_patterns, names),
                    entry.default_kwargs,
                    entry.app_name,
                    entry.namespace,
                )
            )
        elif not (isinstance(entry, URLPattern) and entry.name in names):
            kept.append(entry)
    return kept


urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("", include("festival.urls")),
    path("", include("accounts.urls")),
    path("", include("screening.urls")),
    path("", include("offers.urls")),
    path("", include("payments.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("jsi18n/", JavaScriptCatalog.as_view(), name="javascript-catalog"),
    path("admin/", admin.site.urls),
    path("accounts/", include("allauth.urls")),
    path(
        "_allauth/",
        include((without_routes(headless_urls.urlpatterns, NOT_OFFERED), headless_urls.app_name)),
    ),
    path("api/", include("config.api_urls", namespace="api")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="api-docs"),
]
