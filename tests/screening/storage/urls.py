"""The storage URLs alone, mounted where and as the site mounts them (``screening:storage:``)."""

from django.urls import include, path

from screening.urls import storage_patterns

urlpatterns = [path("", include(([path("screening/", include((storage_patterns, "storage")))], "screening")))]
