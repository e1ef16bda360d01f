from celery import shared_task

from offers.notifications import notify_offline_parties


@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def notify_thread_event(event_id: int) -> None:
    notify_offline_parties(event_id=event_id)
