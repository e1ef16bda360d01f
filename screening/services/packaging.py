"""Packaging a cut: probe the upload, build the encrypted HLS ladder with both forensic variants, publish
it all at once. The worker's job (``tasks.package_cut``): this module loads the media pipeline (PyAV,
numpy, OpenCV), which no web process imports.

The job is idempotent and safe to run again: a worker that dies mid-job leaves the cut PROCESSING and
unpublished; the message is redelivered (acks_late) or the stalled cut is requeued when a worker starts
(``tasks.requeue_stalled``), and the job starts over from the source file. Files go to the store first;
the cut becomes READY in one transaction afterwards, so viewers never see a half-published ladder. The
worker acts as the system: its moves' entries name no actor.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
import time
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from audit.transitions import transition
from screening.keyring import seal
from screening.media.binary import ffmpeg_binary
from screening.media.errors import MediaRejected, PackagingCancelled, PackagingFailed
from screening.media.keys import new_content_key
from screening.media.ladder import plan_ladder
from screening.media.package import package_hls
from screening.media.probe import probe
from screening.models import CUT_MACHINE, Cut, CutStatus
from screening.selectors import packaging_alive
from screening.services.cuts import cut_entry
from screening.storage import content_type_for, media_store

logger = logging.getLogger(__name__)
MAX_ATTEMPTS = 3


class _Progress:
    """Writes progress to the cut at most once a second (the page polls it; the DB is the truth)."""

    def __init__(self, cut_id: int) -> None:
        self.cut_id = cut_id
        self.last = 0.0

    def __call__(self, percent: float, stage: str) -> None:
        now = time.monotonic()
        if now - self.last >= 1.0 or percent >= 100:
            self.last = now
            Cut.objects.filter(pk=self.cut_id).update(
                progress=round(percent, 1), stage=stage, progress_at=timezone.now()
            )

    def cancelled(self) -> bool:
        return bool(Cut.objects.filter(pk=self.cut_id).values_list("cancel_requested", flat=True).first())


def cut_package(*, cut_id: int) -> str:
    """Package and publish cut ``cut_id`` if it waits for it; returns what happened, for the worker's log."""
    with transaction.atomic():
        cut = Cut.objects.select_for_update().get(pk=cut_id)
        if cut.status not in (CutStatus.QUEUED, CutStatus.PROCESSING):
            return f"nothing to do: {cut.status}"
        if cut.status == CutStatus.PROCESSING and packaging_alive(cut):
            return "already running elsewhere"
        if cut.attempts >= MAX_ATTEMPTS:
            transition(
                cut,
                machine=CUT_MACHINE,
                to=CutStatus.FAILED,
                actor=None,
                data=cut_entry(cut=cut),
                failure_code="worker_lost",
                failure_reason="Packaging stopped three times; upload the file again.",
            )
            return "failed: too many attempts"
        cut = transition(
            cut,
            machine=CUT_MACHINE,
            to=CutStatus.PROCESSING,
            actor=None,
            data=cut_entry(cut=cut, attempt=cut.attempts + 1),
            attempts=cut.attempts + 1,
            started_at=timezone.now(),
            progress_at=timezone.now(),
            progress=0,
            stage="probing",
        ).row
    work = Path(tempfile.mkdtemp(prefix=f"cut-{cut.pk}-"))
    try:
        return _package(cut, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _package(cut: Cut, work: Path) -> str:
    store = media_store()
    progress = _Progress(cut.pk)
    source = work / "source"
    store.download(cut.source_key, source)
    try:
        facts = probe(
            source,
            max_duration_s=settings.SCREENING_MAX_DURATION_SECONDS,
            max_bytes=settings.SCREENING_MAX_UPLOAD_BYTES,
        )
        renditions = plan_ladder(facts.video.width, facts.video.height)
        content_key = new_content_key()
        out = work / "out"
        result = package_hls(
            source,
            out,
            renditions=renditions,
            key=content_key,
            segment_seconds=cut.segment_seconds,
            ffmpeg=ffmpeg_binary(settings.FFMPEG_BINARY or None),
            on_progress=progress,
            should_cancel=progress.cancelled,
            duration_s=facts.duration_s,
        )
        progress(100, "publishing")
        store.delete_prefix(cut.media_prefix)  # leftovers of an attempt that died mid-upload
        for relative in result.files:
            store.put_file(cut.media_prefix + relative, out / relative, content_type_for(relative))
    except MediaRejected as rejected:
        return _fail(cut, rejected.code, rejected.message)
    except PackagingCancelled:
        return _cancel(cut)
    except PackagingFailed as failed:
        logger.warning("packaging cut %s failed: %s", cut.pk, failed)
        return _fail(cut, "packaging_failed", str(failed))
    with transaction.atomic():
        locked = Cut.objects.select_for_update().get(pk=cut.pk)
        if locked.cancel_requested:
            store.delete_prefix(cut.media_prefix)
            transition(
                locked, machine=CUT_MACHINE, to=CutStatus.CANCELLED, actor=None, data=cut_entry(cut=locked)
            )
            return "cancelled"
        transition(
            locked,
            machine=CUT_MACHINE,
            to=CutStatus.READY,
            actor=None,
            data=cut_entry(
                cut=locked, duration_s=round(facts.duration_s, 3), renditions=[r.name for r in renditions]
            ),
            duration_s=facts.duration_s,
            width=facts.video.width,
            height=facts.video.height,
            renditions=[
                {
                    "name": r.name,
                    "width": r.width,
                    "height": r.height,
                    "bandwidth": r.video_bitrate_k * 1000 + r.audio_bitrate_k * 1000,
                }
                for r in renditions
            ],
            segment_count=result.renditions[0].segment_count if result.renditions else 0,
            sealed_key=seal(content_key),
            progress=100,
            stage="published",
            published_at=timezone.now(),
        )
    return "published"


def _fail(cut: Cut, code: str, reason: str) -> str:
    with transaction.atomic():
        transition(
            cut,
            machine=CUT_MACHINE,
            to=CutStatus.FAILED,
            actor=None,
            data=cut_entry(cut=cut, code=code),
            failure_code=code,
            failure_reason=reason,
            stage="failed",
        )
    return f"failed: {code}"


def _cancel(cut: Cut) -> str:
    media_store().delete_prefix(cut.media_prefix)
    with transaction.atomic():
        transition(
            cut,
            machine=CUT_MACHINE,
            to=CutStatus.CANCELLED,
            actor=None,
            data=cut_entry(cut=cut),
            stage="cancelled",
        )
    return "cancelled"
