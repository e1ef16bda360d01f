"""Payment pages (server-rendered) and Stripe's webhook:
``{% url "payments:schedule" agreement.public_id %}``."""

from django.urls import path

from payments.views import agreements, connect, staff, webhook

app_name = "payments"

urlpatterns = [
    path("agreements/<uuid:public_id>/payments/", agreements.schedule, name="schedule"),
    path("payments/instalments/<int:pk>/pay/", agreements.pay, name="pay"),
    path(
        "payments/instalments/<int:pk>/confirm-delivery/",
        agreements.confirm_delivery,
        name="confirm-delivery",
    ),
    path("payments/instalments/<int:pk>/refund/", agreements.refund, name="refund"),
    path("payments/instalments/<int:pk>/receipt/", agreements.receipt, name="receipt"),
    path("payments/stripe/webhook/", webhook.stripe_webhook, name="webhook"),
    path("organisation/payments/", connect.connect, name="connect"),
    path("organisation/<int:org_id>/stripe/connect/", connect.connect_start, name="connect-start"),
    path("organisation/<int:org_id>/stripe/return/", connect.connect_return, name="connect-return"),
    path(
        "organisation/<int:org_id>/stripe/refresh/",
        connect.connect_refresh_link,
        name="connect-refresh",
    ),
    path("staff/payments/", staff.staff, name="staff"),
    path("staff/payments/fee/", staff.fee_set, name="fee-set"),
    path("staff/payments/reconcile/", staff.reconcile, name="reconcile"),
    path("staff/payments/not-due/<int:pk>/refund/", staff.stray_refund, name="stray-refund"),
]
