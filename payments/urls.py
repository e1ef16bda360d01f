"""Payment pages (server-rendered) and Stripe's webhook. URL names are global, without a namespace:
``payments.notifications`` links to "payments-receipt" and "payments-schedule" from emails."""

from django.urls import path

from payments.views import agreements, connect, staff, webhook

urlpatterns = [
    path("agreements/<uuid:public_id>/payments/", agreements.schedule, name="payments-schedule"),
    path("payments/instalments/<int:pk>/pay/", agreements.pay, name="payments-pay"),
    path(
        "payments/instalments/<int:pk>/confirm-delivery/",
        agreements.confirm_delivery,
        name="payments-confirm-delivery",
    ),
    path("payments/instalments/<int:pk>/refund/", agreements.refund, name="payments-refund"),
    path("payments/instalments/<int:pk>/receipt/", agreements.receipt, name="payments-receipt"),
    path("payments/stripe/webhook/", webhook.stripe_webhook, name="payments-webhook"),
    path("organisation/payments/", connect.connect, name="payments-connect"),
    path("organisation/<int:org_id>/stripe/connect/", connect.connect_start, name="payments-connect-start"),
    path("organisation/<int:org_id>/stripe/return/", connect.connect_return, name="payments-connect-return"),
    path(
        "organisation/<int:org_id>/stripe/refresh/",
        connect.connect_refresh_link,
        name="payments-connect-refresh",
    ),
    path("staff/payments/", staff.staff, name="payments-staff"),
    path("staff/payments/fee/", staff.fee_set, name="payments-fee-set"),
    path("staff/payments/reconcile/", staff.reconcile, name="payments-reconcile"),
    path("staff/payments/not-due/<int:pk>/refund/", staff.stray_refund, name="payments-stray-refund"),
]
