from django.contrib import admin
from django.http import HttpRequest, JsonResponse
from django.urls import include, path, re_path
from django.views.i18n import JavaScriptCatalog
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from accounts import views as account_views
from accounts.admin_security import secure_admin_site
from config.health import healthz
from festival import views as festival_views

secure_admin_site(admin.site)


def not_offered(request: HttpRequest, *args: object, **kwargs: object) -> JsonResponse:
    """allauth's headless API routes for a login method this site does not offer (phone numbers): they
    answer 404 in allauth's own shape rather than reach views that assume a configured method (one
    of them, ManagePhoneView, is a 500 for a PUT without a session)."""
    return JsonResponse({"status": 404}, status=404)


urlpatterns = [
    path("", festival_views.home, name="home"),
    path("healthz", healthz, name="healthz"),
    path("dashboard/", account_views.dashboard, name="dashboard"),
    path("organisation/", account_views.organisation, name="organisation"),
    path("accreditations/apply/", account_views.accreditation_apply, name="accreditation-apply"),
    path(
        "accreditations/<int:pk>/withdraw/",
        account_views.accreditation_withdraw,
        name="accreditation-withdraw",
    ),
    path("staff/accreditations/", account_views.review_queue, name="review-queue"),
    path("staff/accreditations/<int:pk>/<str:decision>/", account_views.review_decide, name="review-decide"),
    path("films/", festival_views.film_list, name="film-list"),
    path("films/<int:pk>/", festival_views.film_detail, name="film-detail"),
    path("films/<int:pk>/poster/", festival_views.film_poster, name="film-poster"),
    path("films/<int:pk>/edit/", festival_views.film_edit, name="film-edit"),
    path("needs/<int:pk>/delete/", festival_views.need_delete, name="need-delete"),
    path("", include("screening.urls")),
    path("", include("offers.urls_thread")),
    path("", include("offers.urls_pages")),
    path("", include("offers.urls_memo")),
    path("", include("payments.urls")),
    path("screening/", include("screening.storage_urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("jsi18n/", JavaScriptCatalog.as_view(), name="javascript-catalog"),
    path("admin/", admin.site.urls),
    path("accounts/", include("allauth.urls")),
    re_path(r"^_allauth/(?:app|browser)/v1/(?:account/phone|auth/phone/.*)$", not_offered),
    path("_allauth/", include("allauth.headless.urls")),
    path("api/", include("config.api_urls", namespace="api")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="api-docs"),
]
