"""Celery tasks of accounts: the emails of ``accounts.notifications``, sent once the decision committed."""

from typing import Any

from celery import shared_task

from accounts.notifications import accreditation_decision_email, membership_notice_email


@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def send_accreditation_decision(accreditation_id: int) -> None:
    accreditation_decision_email(accreditation_id=accreditation_id)


@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def send_membership_notice(kind: str, details: dict[str, Any]) -> None:
    membership_notice_email(kind=kind, details=details)
