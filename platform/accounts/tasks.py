from typing import Any

from celery import shared_task

from accounts.memberships import membership_notice_email
from accounts.services import accreditation_decision_email


@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def send_accreditation_decision(accreditation_id: int) -> None:
    accreditation_decision_email(accreditation_id=accreditation_id)


@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def send_membership_notice(kind: str, details: dict[str, Any]) -> None:
    membership_notice_email(kind=kind, details=details)
