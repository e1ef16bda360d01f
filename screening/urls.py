"""Screening's pages and doors, at the site root (``path("", include("screening.urls"))``), with two nested
namespaces: ``screening:storage:`` (the local store's signed URLs) and ``screening:forensics:`` (leak
tracing, for festival staff)."""

from django.urls import include, path

from screening.views import playback, producer, storage

storage_patterns = [
    path("blob/<path:key>", storage.blob, name="blob"),
    path("upload-part/<str:upload_id>/<int:n>", storage.upload_part, name="upload-part"),
]

app_name = "screening"

urlpatterns = [
    path("films/<int:film_id>/watch/", playback.watch, name="watch"),
    path("films/<int:film_id>/screener/", producer.manage, name="manage"),
    path("cuts/<uuid:cut_id>/report/", producer.report, name="report"),
    path("cuts/<uuid:cut_id>/report.csv", producer.report_csv, name="report-csv"),
    path("play/cuts/<uuid:cut_id>/grants/", playback.grant_create, name="grant-create"),
    path("play/<uuid:grant_id>/master.m3u8", playback.master, name="master"),
    path("play/<uuid:grant_id>/<str:rendition>/index.m3u8", playback.media_playlist, name="media-playlist"),
    path("play/<uuid:grant_id>/key/<str:name>", playback.key, name="key"),
    path("play/<uuid:grant_id>/<str:rendition>/<str:name>", playback.segment, name="segment"),
    path("play/<uuid:grant_id>/heartbeat", playback.heartbeat, name="heartbeat"),
    path("screening/", include((storage_patterns, "storage"))),
    path("staff/leaks/", include("screening.forensics.urls")),
]
