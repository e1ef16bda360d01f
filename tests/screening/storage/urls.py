"""The storage URLs alone, mounted where the site mounts them."""

from django.urls import include, path

urlpatterns = [path("screening/", include("screening.storage_urls"))]
