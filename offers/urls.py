"""The offers app's pages (server-rendered): ``{% url "offers:new" film.pk %}``."""

from django.urls import path

from offers.views import memo, pages, thread

app_name = "offers"

urlpatterns = [
    path("offers/<int:pk>/", thread.offer_thread, name="thread"),
    path("films/<int:film_id>/offers/", pages.film_offers, name="film-offers"),
    path("films/<int:film_id>/offers/new/", pages.offer_new, name="new"),
    path("offers/mine/", pages.my_offers, name="mine"),
    path("offers/schema/<slug:kind>.json", pages.offer_terms_schema, name="terms-schema"),
    path("offers/<int:pk>/edit/", pages.offer_edit, name="edit"),
    path("offers/<int:pk>/withdraw/", pages.offer_withdraw, name="withdraw"),
    path("agreements/<uuid:public_id>/", memo.memo, name="agreement-memo"),
    path("agreements/<uuid:public_id>/memo.pdf", memo.memo_pdf, name="agreement-memo-pdf"),
    path("agreements/<uuid:public_id>/checkpoint.json", memo.memo_checkpoint, name="agreement-checkpoint"),
]
