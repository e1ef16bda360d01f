"""Offer pages (server-rendered). URL names are global, without a namespace: {% url 'offer-new' film.pk %}."""

from django.urls import path

from offers import views_pages

urlpatterns = [
    path("films/<int:film_id>/offers/", views_pages.film_offers, name="film-offers"),
    path("films/<int:film_id>/offers/new/", views_pages.offer_new, name="offer-new"),
    path("offers/mine/", views_pages.my_offers, name="my-offers"),
    path("offers/schema/<slug:kind>.json", views_pages.offer_terms_schema, name="offer-terms-schema"),
    path("offers/<int:pk>/edit/", views_pages.offer_edit, name="offer-edit"),
    path("offers/<int:pk>/withdraw/", views_pages.offer_withdraw, name="offer-withdraw"),
    # "offer-thread" (offers/<id>/, the offer and its negotiation) is offers.urls_thread's.
]
