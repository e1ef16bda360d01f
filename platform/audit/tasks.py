"""The beat's audit jobs."""

from __future__ import annotations

from celery import shared_task

from audit.checkpoints import checkpoint_publish


@shared_task(name="audit.tasks.publish_checkpoint")
def publish_checkpoint() -> int:
    """Sign the chain's head (``AUDIT_CHECKPOINT_INTERVAL_SECONDS``); returns the sequence number covered."""
    checkpoint = checkpoint_publish()
    return checkpoint.seq if checkpoint is not None else 0
