from celery import shared_task

from payments import notifications
from payments.schedules import instalments_release


@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def send_receipt(instalment_id: int) -> None:
    notifications.send_receipt(instalment_id)


@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def tell_admins_of_dispute(instalment_id: int) -> None:
    notifications.tell_admins_of_dispute(instalment_id)


@shared_task
def release_due_instalments() -> int:
    """Run by the worker's beat every hour: instalments whose date has come fall due."""
    return instalments_release()
