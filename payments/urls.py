"""Payment pages (server-rendered) and Stripe's webhook. URL names are global, without a namespace:
``payments.notifications`` links to "payments-receipt" and "payments-schedule" from emails."""

from django.urls import path

from payments import views

urlpatterns = [
    path("agreements/<uuid:public_id>/payments/", views.schedule, name="payments-schedule"),
    path("payments/instalments/<int:pk>/pay/", views.pay, name="payments-pay"),
    path(
        "payments/instalments/<int:pk>/confirm-delivery/",
        views.confirm_delivery,
        name="payments-confirm-delivery",
    ),
    path("payments/instalments/<int:pk>/refund/", views.refund, name="payments-refund"),
    path("payments/instalments/<int:pk>/receipt/", views.receipt, name="payments-receipt"),
    path("payments/stripe/webhook/", views.stripe_webhook, name="payments-webhook"),
    path("organisation/payments/", views.connect, name="payments-connect"),
    path("organisation/<int:org_id>/stripe/connect/", views.connect_start, name="payments-connect-start"),
    path("organisation/<int:org_id>/stripe/return/", views.connect_return, name="payments-connect-return"),
    path(
        "organisation/<int:org_id>/stripe/refresh/",
        views.connect_refresh_link,
        name="payments-connect-refresh",
    ),
    path("staff/payments/", views.staff, name="payments-staff"),
    path("staff/payments/fee/", views.fee_set, name="payments-fee-set"),
    path("staff/payments/reconcile/", views.reconcile, name="payments-reconcile"),
    path("staff/payments/not-due/<int:pk>/refund/", views.stray_refund, name="payments-stray-refund"),
]
