from celery import shared_task

from payments import notifications
from payments.schedules import instalments_release


@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def send_receipt(instalment_id: int) -> None:
    notifications.send_receipt(instalment_id)


@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def tell_admins_of_dispute(instalment_id: int) -> None:
    notifications.tell_admins_of_dispute(instalment_id)


@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def resolve_dispute(dispute_id: str) -> str:
    """A dispute that arrived before its charge was known, re-read now that the charge is recorded (if
    this fails, reconciliation resolves it)."""
    from payments.refunds import dispute_update  # payments.refunds queues this module's tasks

    return dispute_update(dispute_id)


@shared_task
def release_due_instalments() -> int:
    """Run by the worker's beat every hour: instalments whose date has come fall due."""
    return instalments_release()
