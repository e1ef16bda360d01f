from django.urls import include, path
from rest_framework.routers import DefaultRouter

from accounts.api import AccreditationViewSet, MeView, OrganisationViewSet
from festival.api import FilmViewSet, NeedViewSet, SessionViewSet
from offers.api import OfferPolicyView, OfferViewSet
from screening.api import (
    AudienceRulesView,
    CutCancelView,
    FilmCutsView,
    UploadAbortView,
    UploadCompleteView,
    UploadPartUrlsView,
    UploadView,
)


class Router(DefaultRouter):
    """No `.json`/`.api` suffix routes: the custom actions take no `format` argument (each suffix route was a
    500), and `?format=` or the Accept header already choose the renderer. A suffix is a 404."""

    include_format_suffixes = False


router = Router()
router.register("organisations", OrganisationViewSet, basename="organisation")
router.register("accreditations", AccreditationViewSet, basename="accreditation")
router.register("sessions", SessionViewSet, basename="session")
router.register("films", FilmViewSet, basename="film")
router.register("needs", NeedViewSet, basename="need")
router.register("offers", OfferViewSet, basename="offer")

app_name = "api"

urlpatterns = [
    path("me/", MeView.as_view(), name="api-me"),
    path("films/<int:film_id>/cuts/", FilmCutsView.as_view(), name="film-cuts"),
    path("films/<int:film_id>/audience-rules/", AudienceRulesView.as_view(), name="film-audience-rules"),
    path("films/<int:film_id>/offer-policy/", OfferPolicyView.as_view(), name="film-offer-policy"),
    path("cuts/<uuid:cut_id>/cancel/", CutCancelView.as_view(), name="cut-cancel"),
    path("uploads/<int:upload_id>/", UploadView.as_view(), name="upload"),
    path("uploads/<int:upload_id>/part-urls/", UploadPartUrlsView.as_view(), name="upload-part-urls"),
    path("uploads/<int:upload_id>/complete/", UploadCompleteView.as_view(), name="upload-complete"),
    path("uploads/<int:upload_id>/abort/", UploadAbortView.as_view(), name="upload-abort"),
    path("", include(router.urls)),
]
