from django.urls import path

from offers import views_memo

urlpatterns = [
    path("agreements/<uuid:public_id>/", views_memo.memo, name="agreement-memo"),
    path("agreements/<uuid:public_id>/memo.pdf", views_memo.memo_pdf, name="agreement-memo-pdf"),
]
