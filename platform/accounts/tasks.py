from celery import shared_task

from accounts.services import accreditation_decision_email


@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def send_accreditation_decision(accreditation_id: int) -> None:
    accreditation_decision_email(accreditation_id=accreditation_id)
