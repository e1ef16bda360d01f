from django.urls import include, path
from rest_framework.routers import DefaultRouter

from accounts.api import AccreditationViewSet, MeView, OrganisationViewSet
from festival.api import FilmViewSet, NeedViewSet, SessionViewSet

router = DefaultRouter()
router.register("organisations", OrganisationViewSet, basename="organisation")
router.register("accreditations", AccreditationViewSet, basename="accreditation")
router.register("sessions", SessionViewSet, basename="session")
router.register("films", FilmViewSet, basename="film")
router.register("needs", NeedViewSet, basename="need")

app_name = "api"

urlpatterns = [
    path("me/", MeView.as_view(), name="api-me"),
    path("", include(router.urls)),
]
