from django.urls import path

from screening import views, views_producer

app_name = "screening"

urlpatterns = [
    path("films/<int:film_id>/watch/", views.watch, name="watch"),
    path("films/<int:film_id>/screener/", views_producer.manage, name="manage"),
    path("cuts/<uuid:cut_id>/report/", views_producer.report, name="report"),
    path("cuts/<uuid:cut_id>/report.csv", views_producer.report_csv, name="report-csv"),
    path("play/cuts/<uuid:cut_id>/grants/", views.grant_create, name="grant-create"),
    path("play/<uuid:grant_id>/master.m3u8", views.master, name="master"),
    path("play/<uuid:grant_id>/<str:rendition>/index.m3u8", views.media_playlist, name="media-playlist"),
    path("play/<uuid:grant_id>/key/<str:name>", views.key, name="key"),
    path("play/<uuid:grant_id>/<str:rendition>/<str:name>", views.segment, name="segment"),
    path("play/<uuid:grant_id>/heartbeat", views.heartbeat, name="heartbeat"),
]
