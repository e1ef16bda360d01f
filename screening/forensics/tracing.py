"""Leak traces, the admins' side: an admin hands in a suspect copy of a film; a job names the viewing it
came from, or says clearly why it cannot (docs/forensics.md).

``trace_request`` stores the suspect file and queues the job (``tasks.trace_leak``, an audit entry in
the same transaction); the job itself is ``trace_job.trace_run``, which loads the detector (numpy,
OpenCV, PyAV) and so runs in the worker (or in the ``trace_leak`` command), never in a web process.
``trace_for`` finds a trace for an admin; ``trace_revoke`` ends the access of a viewer a trace named,
at once, through ``services.access_revoke``. An admin acts for the festival: the entries name no
organisation.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.policy import account_readiness, is_festival_admin
from audit.services import audit_record
from core.errors import Forbidden, InvalidInput, NotFound
from core.text import UnsafeText, check_text
from festival.models import Film
from screening.models import AccessRevocation, LeakTrace
from screening.services.audience import access_revoke
from screening.storage import media_store
from screening.tasks import trace_leak

SUSPECT_PREFIX = "forensics/suspects/"
_CHUNK = 1 << 20

ProgressCallback = Callable[[float, str], None]


def _require_admin(admin: User | None) -> None:
    """``None`` is the operator at the command line (``manage.py trace_leak``); anyone else must be a
    festival admin with a verified email and TOTP."""
    if admin is not None and (not is_festival_admin(admin) or not account_readiness(admin).ready):
        raise Forbidden(_("Only festival admins can trace leaks."), code="admin_required")


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def trace_request(
    *,
    admin: User | None,
    film: Film,
    path: Path,
    name: str,
    run_now: bool = False,
    echo: ProgressCallback | None = None,
) -> LeakTrace:
    """Store the suspect file at ``path`` and queue its trace (or run it here, reporting to ``echo``,
    when ``run_now``: the command line)."""
    _require_admin(admin)
    name = (name or "").strip() or "suspect"
    try:
        check_text(name, field="name")
    except UnsafeText:
        raise InvalidInput(
            _("The file name contains characters that are not allowed."), field="file"
        ) from None
    if len(name) > 255:
        raise InvalidInput(_("The file name is too long."), field="file")
    size = path.stat().st_size
    if size == 0:
        raise InvalidInput(_("The file is empty."), field="file")
    if size > settings.FORENSICS_MAX_SUSPECT_BYTES:
        raise InvalidInput(_("The file is larger than a suspect copy may be."), field="file")
    trace = LeakTrace(
        film=film, requested_by=admin, suspect_name=name, suspect_size=size, suspect_sha256=_sha256(path)
    )
    trace.suspect_key = f"{SUSPECT_PREFIX}{trace.id}"
    media_store().put_file(trace.suspect_key, path, "application/octet-stream")
    with transaction.atomic():
        trace.save()
        audit_record(
            action="leak_trace.requested",
            actor=admin,
            target=trace,
            data={"film_id": film.pk, "file": name, "size": size, "sha256": trace.suspect_sha256},
        )
        if not run_now:
            transaction.on_commit(lambda: trace_leak.delay(str(trace.pk)))
    if run_now:
        from screening.forensics.trace_job import trace_run  # the detector: never in a web process

        trace_run(trace_id=trace.pk, echo=echo)
        trace.refresh_from_db()
    return trace


def trace_for(*, admin: User, trace_id: Any) -> LeakTrace:
    """A trace an admin may see; NotFound for anyone else (they may not know it exists)."""
    if not is_festival_admin(admin):
        raise NotFound(_("No such trace."))
    trace = LeakTrace.objects.select_related("film", "cut", "requested_by").filter(pk=trace_id).first()
    if trace is None:
        raise NotFound(_("No such trace."))
    return trace


def trace_revoke(*, admin: User, trace: LeakTrace, grant_id: Any) -> AccessRevocation:
    """End at once every access of a viewer the trace named (and only such a viewer): someone who leaked
    one unfinished film is not shown the others."""
    _require_admin(admin)
    grant = trace.named_grants.select_related("viewer").filter(pk=grant_id).first()
    if grant is None:
        raise InvalidInput(_("This trace does not name that viewing."), field="grant")
    reason = _("Leak trace %(trace)s of %(file)s named this viewing (%(grant)s).") % {
        "trace": trace.id,
        "file": trace.suspect_name,
        "grant": grant.id,
    }
    return access_revoke(admin=admin, user=grant.viewer, film=None, reason=reason)
