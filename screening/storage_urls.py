"""The local store's signed URLs; included at the site root as ``path("screening/", include(...))``."""

from django.urls import path

from screening import storage_views

app_name = "screening_storage"

urlpatterns = [
    path("blob/<path:key>", storage_views.blob, name="blob"),
    path("upload-part/<str:upload_id>/<int:n>", storage_views.upload_part, name="upload-part"),
]
