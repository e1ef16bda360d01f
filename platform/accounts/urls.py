"""The accounts app's pages: ``{% url "accounts:dashboard" %}``."""

from django.urls import path

from accounts import views

app_name = "accounts"

urlpatterns = [
    path("dashboard/", views.dashboard, name="dashboard"),
    path("organisation/", views.organisation, name="organisation"),
    path("accreditations/apply/", views.accreditation_apply, name="accreditation-apply"),
    path("accreditations/<int:pk>/withdraw/", views.accreditation_withdraw, name="accreditation-withdraw"),
    path("staff/accreditations/", views.review_queue, name="review-queue"),
    path("staff/accreditations/<int:pk>/<str:decision>/", views.review_decide, name="review-decide"),
]
