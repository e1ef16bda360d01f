from django.urls import path

from offers import views_thread

urlpatterns = [
    path("offers/<int:pk>/", views_thread.offer_thread, name="offer-thread"),
]
