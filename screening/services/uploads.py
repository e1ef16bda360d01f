"""A new cut's resumable upload: started, filled part by part by the browser, completed (the cut joins
the packaging queue) or aborted; a cut cancelled; uploads left open expired.

Each write is one transaction with its audit entry; the packaging task is queued on commit.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Organisation, User
from audit.services import audit_record
from audit.transitions import transition
from core.errors import Conflict, InvalidInput
from festival.models import Film
from festival.policy import film_team_organisation
from screening.models import CUT_MACHINE, Cut, CutStatus, Upload, UploadStatus
from screening.policy import require_screener_manager
from screening.services.cuts import cut_entry, enqueue_packaging, new_cut
from screening.storage import UploadNotFound, media_store

C = CutStatus
VIDEO_EXTENSIONS = {".mp4", ".mov", ".mkv", ".mxf", ".m4v", ".avi", ".webm", ".ts", ".mpg", ".mpeg"}


def cut_create(
    *, user: User, film: Film, filename: str, size: int, content_type: str = "", idempotency_key: str = ""
) -> Cut:
    """Start a new cut: a multipart upload in the store that the browser fills part by part.

    A request retried with the same ``idempotency_key`` returns the cut the first one made.
    """
    require_screener_manager(user=user, film=film)
    idempotency_key = idempotency_key.strip()[:100]
    if idempotency_key:
        existing = Cut.objects.filter(film=film, uploaded_by=user, idempotency_key=idempotency_key).first()
        if existing is not None:
            return existing
    name = filename.replace("\\", "/").rsplit("/", 1)[-1].strip()
    extension = ("." + name.rsplit(".", 1)[-1].lower()) if "." in name else ""
    if not name or extension not in VIDEO_EXTENSIONS:
        raise InvalidInput(_("Upload a video file (MP4, MOV, MKV, MXF...)."), field="filename")
    if content_type and not content_type.startswith(
        ("video/", "application/octet-stream", "application/mxf")
    ):
        raise InvalidInput(_("This file does not look like a video."), field="content_type")
    if size <= 0:
        raise InvalidInput(_("The file is empty."), field="size")
    if size > settings.SCREENING_MAX_UPLOAD_BYTES:
        raise InvalidInput(
            _("The file is larger than the limit of %(gb)s GB.")
            % {"gb": settings.SCREENING_MAX_UPLOAD_BYTES // 1024**3},
            field="size",
        )
    part_size = settings.SCREENING_UPLOAD_PART_BYTES
    part_count = max(1, math.ceil(size / part_size))
    if part_count > 10_000:
        part_size = math.ceil(size / 10_000)
        part_count = math.ceil(size / part_size)
    with transaction.atomic():
        cut = new_cut(
            user=user,
            film=film,
            filename=name,
            size=size,
            source_content_type=content_type[:100],
            idempotency_key=idempotency_key,
        )
        upload_id = media_store().multipart_create(cut.source_key, content_type or "application/octet-stream")
        Upload.objects.create(
            cut=cut, storage_upload_id=upload_id, part_size=part_size, part_count=part_count
        )
        audit_record(
            action="cut.upload_started",
            actor=user,
            organisation=film_team_organisation(film_id=film.pk, user_id=user.pk),
            target=cut,
            data={"film_id": film.pk, "number": cut.number, "filename": name, "size": size},
        )
    return cut


def _open_upload(user: User, upload: Upload) -> Upload:
    require_screener_manager(user=user, film=upload.cut.film)
    if upload.status != UploadStatus.OPEN:
        raise Conflict(_("This upload is already %(status)s.") % {"status": upload.get_status_display()})
    return upload


def upload_part_urls(*, user: User, upload: Upload, part_numbers: Iterable[int]) -> dict[int, str]:
    _open_upload(user, upload)
    numbers = sorted(set(part_numbers))
    if not numbers or numbers[0] < 1 or numbers[-1] > upload.part_count:
        raise InvalidInput(
            _("Part numbers go from 1 to %(count)s.") % {"count": upload.part_count}, field="part_numbers"
        )
    store = media_store()
    return {
        n: store.multipart_part_url(
            upload.cut.source_key,
            upload.storage_upload_id,
            n,
            expires_in=settings.SCREENING_URL_TTL_SECONDS * 10,
        )
        for n in numbers
    }


def upload_complete(*, user: User, upload: Upload, parts: list[tuple[int, str]]) -> Cut:
    """Assemble the parts; the cut joins the packaging queue on commit.

    A part list that does not match what was uploaded is refused and changes nothing (the upload stays
    open, to be completed with the right list). Once the store has assembled the file, any check that
    fails after it (the size announced at the start, a state that changed meanwhile) ends the cut
    ``failed`` with its reason and deletes the assembled file: nothing is left behind in the store.
    """
    _open_upload(user, upload)
    numbers = [n for n, _etag in parts]
    if sorted(numbers) != list(range(1, upload.part_count + 1)):
        raise InvalidInput(
            _("Send every part from 1 to %(count)s before completing.") % {"count": upload.part_count},
            field="parts",
        )
    store = media_store()
    try:
        store.multipart_complete(upload.cut.source_key, upload.storage_upload_id, sorted(parts))
    except UploadNotFound as error:
        raise Conflict(_("This upload is no longer open: start it again."), code="upload_gone") from error
    except ValueError as error:
        raise InvalidInput(str(error), field="parts") from error
    organisation = film_team_organisation(film_id=upload.cut.film_id, user_id=user.pk)
    try:
        stored_size = store.size(upload.cut.source_key)
        if stored_size != upload.cut.source_size:
            raise InvalidInput(
                _("The uploaded file has %(stored)s bytes, not the %(announced)s announced.")
                % {"stored": stored_size, "announced": upload.cut.source_size},
                field="parts",
                code="size_mismatch",
            )
        with transaction.atomic():
            Upload.objects.filter(pk=upload.pk).update(status=UploadStatus.COMPLETED)
            cut = transition(
                upload.cut,
                machine=CUT_MACHINE,
                to=C.QUEUED,
                actor=user,
                organisation=organisation,
                data=cut_entry(cut=upload.cut),
                queued_at=timezone.now(),
            ).row
            enqueue_packaging(cut=cut)
    except Exception as error:
        _assembled_upload_failed(upload, actor=user, organisation=organisation, error=error)
        raise
    return cut


def _assembled_upload_failed(
    upload: Upload, *, actor: User, organisation: Organisation | None, error: Exception
) -> None:
    """Delete an assembled source that will never be packaged and end its cut ``failed`` with the reason."""
    code = getattr(error, "code", "") or "upload_failed"
    reason = getattr(error, "message", "") or _("The upload could not be completed.")
    media_store().delete_prefix(upload.cut.source_key)
    with transaction.atomic():
        Upload.objects.filter(pk=upload.pk).update(status=UploadStatus.COMPLETED)
        locked = Cut.objects.select_for_update().get(pk=upload.cut.pk)
        if locked.status == C.UPLOADING:
            transition(
                locked,
                machine=CUT_MACHINE,
                to=C.FAILED,
                actor=actor,
                organisation=organisation,
                data=cut_entry(cut=locked, code=code),
                failure_code=str(code)[:32],
                failure_reason=str(reason),
                stage="failed",
            )


def upload_abort(*, user: User, upload: Upload) -> Cut:
    _open_upload(user, upload)
    return _abort(
        upload, actor=user, organisation=film_team_organisation(film_id=upload.cut.film_id, user_id=user.pk)
    )


def _abort(upload: Upload, *, actor: User | None, organisation: Organisation | None, reason: str = "") -> Cut:
    media_store().multipart_abort(upload.cut.source_key, upload.storage_upload_id)
    with transaction.atomic():
        Upload.objects.filter(pk=upload.pk).update(status=UploadStatus.ABORTED)
        return transition(
            upload.cut,
            machine=CUT_MACHINE,
            to=C.CANCELLED,
            actor=actor,
            organisation=organisation,
            data=cut_entry(cut=upload.cut, **({"reason": reason} if reason else {})),
        ).row


def uploads_expire(*, older_than: dt.timedelta) -> int:
    """Abort uploads left open longer than ``older_than`` (their parts cost storage); the system acts."""
    cutoff = timezone.now() - older_than
    stale = Upload.objects.select_related("cut").filter(status=UploadStatus.OPEN, created_at__lt=cutoff)
    count = 0
    for upload in stale:
        _abort(upload, actor=None, organisation=None, reason="expired")
        count += 1
    return count


def cut_cancel(*, user: User, cut: Cut) -> Cut:
    """Cancel a queued cut at once, or ask the worker to stop a cut being packaged."""
    require_screener_manager(user=user, film=cut.film)
    organisation = film_team_organisation(film_id=cut.film_id, user_id=user.pk)
    upload = Upload.objects.filter(cut=cut, status=UploadStatus.OPEN).select_related("cut").first()
    if upload is not None and cut.status == C.UPLOADING:
        return _abort(upload, actor=user, organisation=organisation)  # its parts are freed, not left behind
    with transaction.atomic():
        locked = Cut.objects.select_for_update().get(pk=cut.pk)
        if locked.status == C.PROCESSING:
            locked.cancel_requested = True
            locked.save(update_fields=["cancel_requested"])
            audit_record(
                action="cut.cancel_requested",
                actor=user,
                organisation=organisation,
                target=locked,
                data={"film_id": cut.film_id},
            )
            return locked
        return transition(
            locked,
            machine=CUT_MACHINE,
            to=C.CANCELLED,
            actor=user,
            organisation=organisation,
            data=cut_entry(cut=locked),
        ).row
