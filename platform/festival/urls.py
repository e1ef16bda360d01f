"""The festival app's pages: ``{% url "festival:film-detail" film.pk %}``."""

from django.urls import path

from festival import views

app_name = "festival"

urlpatterns = [
    path("", views.home, name="home"),
    path("films/", views.film_list, name="film-list"),
    path("films/<int:pk>/", views.film_detail, name="film-detail"),
    path("films/<int:pk>/poster/", views.film_poster, name="film-poster"),
    path("films/<int:pk>/edit/", views.film_edit, name="film-edit"),
    path("needs/<int:pk>/delete/", views.need_delete, name="need-delete"),
]
