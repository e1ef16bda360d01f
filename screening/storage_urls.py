"""The local store's signed URLs; included at the site root as ``path("screening/", include(...))``."""

from django.urls import path

from screening.views import storage

app_name = "screening_storage"

urlpatterns = [
    path("blob/<path:key>", storage.blob, name="blob"),
    path("upload-part/<str:upload_id>/<int:n>", storage.upload_part, name="upload-part"),
]
