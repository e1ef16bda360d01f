"""Leak tracing, for festival staff: ``{% url "screening:forensics:trace-detail" trace.public_id %}``."""

from django.urls import path

from screening.forensics import views

app_name = "forensics"

urlpatterns = [
    path("", views.trace_list, name="trace-list"),
    path("<uuid:trace_id>/", views.trace_detail, name="trace-detail"),
    path("<uuid:trace_id>/revoke/", views.trace_revoke, name="trace-revoke"),
    path("<uuid:trace_id>/evidence.json", views.trace_evidence, name="trace-evidence"),
]
