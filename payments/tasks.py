from celery import shared_task

from payments import notifications
from payments.services.schedules import instalments_release


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
    # Imported here to break an import cycle: payments.services.disputes queues this module's tasks
    from payments.services.disputes import dispute_update

    return dispute_update(dispute_id=dispute_id)


@shared_task
def release_due_instalments() -> int:
    """Run by the worker's beat every hour: every instalment whose date has come falls due."""
    return instalments_release()
