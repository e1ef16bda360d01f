"""Celery entry points for screeners: parse, call one service (docs/architecture.md).

Web processes import this module to queue jobs, so it loads no job itself: each task imports its
service when it runs, in the worker. The packaging job (``services.packaging``: PyAV, numpy, OpenCV) and
the trace job (``forensics.trace_job``: the detector) add some 40 MB to a process; the imports below that
do so are the only function-local imports here, and say so.
"""

from __future__ import annotations

import logging

from celery import shared_task
from celery.signals import worker_ready

from screening.selectors import STALL_SECONDS, stalled_cut_ids

logger = logging.getLogger(__name__)


@shared_task(acks_late=True, reject_on_worker_lost=True)
def package_cut(cut_id: int) -> str:
    """Package and publish a cut (``services.packaging.cut_package``); safe to run again."""
    from screening.services.packaging import cut_package  # the media pipeline: worker processes only

    return cut_package(cut_id=int(cut_id))


def requeue_stalled(*, older_than_s: int = STALL_SECONDS) -> int:
    """Queue again the cuts whose worker died (``selectors.stalled_cut_ids``); returns how many."""
    count = 0
    for cut_id in stalled_cut_ids(older_than_s=older_than_s):
        package_cut.delay(cut_id)
        count += 1
    return count


@worker_ready.connect
def _requeue_on_worker_start(**_kwargs: object) -> None:
    """A worker that starts picks up the jobs a dead worker left behind."""
    count = requeue_stalled()
    if count:
        logger.info("requeued %d stalled packaging jobs", count)


@shared_task(acks_late=True, reject_on_worker_lost=True)
def trace_leak(trace_id: str) -> str:
    """A leak trace (``forensics.trace_job.trace_run``); safe to run again after a lost worker."""
    from screening.forensics.trace_job import trace_run  # the detector: worker processes only

    return str(trace_run(trace_id=str(trace_id)).result)
