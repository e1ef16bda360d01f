"""Leak traces: an admin hands in a suspect copy of a film; a job names the viewing it came from, or says
clearly why it cannot (docs/forensics.md).

``trace_request`` stores the suspect file and queues the job (an audit entry in the same transaction);
``trace_run`` is the job: for each published cut of the film, newest first, the detector aligns the copy
to the cut's timeline and reads A or B with a strength for every segment it covers
(``screening.forensics.detect``); the first cut it aligns with is scored against every grant ever issued
for that cut (``codeword.score``). A grant is named only when the chance that any innocent grant of the
cut agrees as well is below ``FORENSICS_NAMING_THRESHOLD`` (one in a million): the codewords are keyed
pseudo-random bits, so an innocent grant's agreements are a fair coin's whatever the copy holds, and the
chance is exact, not modelled. Every outcome, accusation or not, is audited.

``trace_revoke`` ends the access of a viewer a trace named, at once, through ``services.access_revoke``.
"""

from __future__ import annotations

import hashlib
import logging
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.policy import account_readiness, is_festival_admin
from audit.services import audit_record
from core.errors import Forbidden, InvalidInput, NotFound
from core.text import UnsafeText, check_text
from festival.models import Film
from screening import services
from screening.forensics import codeword, detect, mark
from screening.forensics.reference import TIMELINE, StoredReference
from screening.keyring import unseal
from screening.media.binary import ffmpeg_binary
from screening.models import (
    AccessRevocation,
    Cut,
    CutStatus,
    LeakTrace,
    PlaybackGrant,
    TraceResult,
    TraceStatus,
)
from screening.storage import ObjectNotFound, media_store

logger = logging.getLogger(__name__)

SUSPECT_PREFIX = "forensics/suspects/"
RANKING_SHOWN = 10
# A copy with at most this share of clear segments reads as unmarked. Pure noise would give |z| >= 3 in
# 0.27 % of segments; an unmarked original, re-encoded, gave up to 6 % in the tests (its picture is the
# midpoint of A and B only before encoding); a marked copy, even damaged, gives far more.
UNMARKED_SHARE = 0.1
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
            action="screening.leak_trace_requested",
            actor=admin,
            target=trace,
            data={"film_id": film.pk, "file": name, "size": size, "sha256": trace.suspect_sha256},
        )
        if not run_now:
            transaction.on_commit(lambda: _enqueue(trace.pk))
    if run_now:
        trace_run(trace.pk, echo=echo)
        trace.refresh_from_db()
    return trace


def _enqueue(trace_id: Any) -> None:
    from screening.tasks import trace_leak

    trace_leak.delay(str(trace_id))


class _Progress:
    """Writes progress to the trace at most once a second (its page follows it over a WebSocket)."""

    def __init__(self, trace_id: Any, echo: ProgressCallback | None) -> None:
        self.trace_id, self.echo, self.last = trace_id, echo, 0.0

    def __call__(self, percent: float, stage: str) -> None:
        if self.echo is not None:
            self.echo(percent, stage)
        now = time.monotonic()
        if now - self.last >= 1.0 or percent >= 100:
            self.last = now
            LeakTrace.objects.filter(pk=self.trace_id).update(
                progress=round(min(percent, 100.0), 1), stage=stage[:32], progress_at=timezone.now()
            )


def _reference(cut: Cut) -> StoredReference:
    return StoredReference(
        store=media_store(),
        media_prefix=cut.media_prefix,
        content_key=unseal(cut.sealed_key),
        renditions=cut.renditions,
        segment_count=cut.segment_count,
        duration_s=cut.duration_s or 0.0,
    )


def _candidate_cuts(film: Film) -> list[Cut]:
    """The film's published cuts that carry the mark, newest first (a cut packaged before forensic
    marking has no timeline, and one variant only)."""
    cuts = Cut.objects.filter(film=film, status=CutStatus.READY).exclude(sealed_key="").order_by("-number")
    store = media_store()
    marked = []
    for cut in cuts:
        try:
            store.size(cut.media_prefix + TIMELINE)
        except ObjectNotFound:
            continue
        marked.append(cut)
    return marked


def _grant_row(grant: PlaybackGrant, score: codeword.GrantScore) -> dict[str, Any]:
    return {
        "grant": str(grant.id),
        "viewer": grant.viewer.email,
        "viewer_name": grant.viewer.full_name,
        "organisation": grant.organisation.name if grant.organisation else "",
        "watched_at": grant.created_at.isoformat(),
        "agreements": score.agreements,
        "segments": score.n,
        "log10_p": score.log10_p,
        "p_family": score.p_family,
    }


def _score(cut: Cut, evidence: detect.Evidence) -> tuple[str, str, dict[str, Any], list[PlaybackGrant]]:
    grants = {g.id: g for g in PlaybackGrant.objects.filter(cut=cut).select_related("viewer", "organisation")}
    secret = mark.codeword_secret(unseal(cut.sealed_key))
    codewords = {grant_id: codeword.codeword(secret, grant_id, cut.segment_count) for grant_id in grants}
    verdict = codeword.score(evidence.decisions, codewords, threshold=settings.FORENSICS_NAMING_THRESHOLD)
    named = [grants[s.key] for s in verdict.named]
    reason: str = verdict.reason
    if reason in ("too_damaged", "no_match") and verdict.confident <= max(
        1, UNMARKED_SHARE * verdict.covered
    ):
        reason = "not_marked"
    scored = {
        "confident": verdict.confident,
        "covered": verdict.covered,
        "needed": verdict.needed,
        "threshold": verdict.threshold,
        "grant_count": len(grants),
        "ranking": [_grant_row(grants[s.key], s) for s in verdict.ranking[:RANKING_SHOWN]],
        "named": [str(g.id) for g in named],
        "codewords": {
            str(s.key): "".join(
                "b" if codewords[s.key][d.index] else "a"
                for d in evidence.decisions
                if d.index < cut.segment_count
            )
            for s in verdict.ranking[:3]
        },
    }
    reasons = {
        "named": "",
        "too_short": _(
            "The copy covers too few segments: even a perfect match over %(covered)d segments could not "
            "exclude every other viewing with the required certainty (%(needed)d clear segments needed)."
        ),
        "too_damaged": _(
            "The mark could be read clearly in only %(confident)d of the %(covered)d segments the copy "
            "covers (%(needed)d needed): it is too damaged to name anyone."
        ),
        "no_match": _(
            "%(confident)d segments were read clearly, but no viewing of this cut matches them well enough. "
            "The copy may be unmarked (made from another source), or from a viewing of another cut."
        ),
        "no_grants": _("Nobody has been granted a viewing of this cut, so there is nobody to match."),
        "not_marked": _(
            "No mark could be read in the %(covered)d segments the copy covers: it was not made from a "
            "marked screener of this film (another source, or the unmarked original), or it was damaged "
            "beyond reading. Nobody is named."
        ),
    }
    values = {"covered": verdict.covered, "confident": verdict.confident, "needed": verdict.needed}
    return reason, reasons[reason] % values, scored, named


def trace_run(trace_id: Any, *, echo: ProgressCallback | None = None) -> LeakTrace:
    """The job: align, decide, score, record. Idempotent: a finished trace is returned as it is."""
    trace = LeakTrace.objects.select_related("film").get(pk=trace_id)
    if trace.status in (TraceStatus.DONE, TraceStatus.FAILED):
        return trace
    LeakTrace.objects.filter(pk=trace.pk).update(status=TraceStatus.RUNNING, started_at=timezone.now())
    progress = _Progress(trace.pk, echo)
    progress(0.0, "downloading")
    try:
        with tempfile.TemporaryDirectory(prefix="screening-trace-") as scratch:
            suspect = Path(scratch) / "suspect"
            media_store().download(trace.suspect_key, suspect)
            result, detail, evidence, named, cut = _trace_file(trace.film, suspect, progress)
    except Exception:
        logger.exception("leak trace %s failed", trace.pk)
        with transaction.atomic():
            LeakTrace.objects.filter(pk=trace.pk).update(
                status=TraceStatus.FAILED,
                finished_at=timezone.now(),
                detail=_("The trace failed; see the logs."),
            )
            audit_record(action="screening.leak_trace_failed", actor=None, target=trace, data={})
        raise
    with transaction.atomic():
        trace = LeakTrace.objects.select_for_update().get(pk=trace.pk)
        trace.cut, trace.result, trace.detail, trace.evidence = cut, result, detail, evidence
        trace.status, trace.progress, trace.stage, trace.finished_at = (
            TraceStatus.DONE,
            100.0,
            "done",
            timezone.now(),
        )
        trace.save()
        trace.named_grants.set(named)
        audit_record(
            action="screening.leak_traced",
            actor=None,
            target=trace,
            data={
                "film_id": trace.film_id,
                "cut_id": cut.pk if cut else None,
                "result": result,
                "named": [
                    {"grant": str(g.id), "viewer_id": g.viewer_id, "organisation_id": g.organisation_id}
                    for g in named
                ],
                "covered": evidence.get("covered"),
                "confident": evidence.get("confident"),
                "best_log10_p": (evidence.get("ranking") or [{}])[0].get("log10_p"),
            },
        )
    return trace


def _trace_file(
    film: Film, suspect: Path, progress: ProgressCallback
) -> tuple[str, str, dict[str, Any], list[PlaybackGrant], Cut | None]:
    cuts = _candidate_cuts(film)
    if not cuts:
        detail = _("This film has no published screener that carries the forensic mark to compare with.")
        return TraceResult.NO_GRANTS, detail, {}, [], None
    last: detect.Evidence | None = None
    share = 100.0 / len(cuts)
    for number, cut in enumerate(cuts):

        def report(percent: float, stage: str, base: float = number * share) -> None:
            progress(base + percent * share / 100.0, stage)

        evidence = detect.trace(
            suspect, _reference(cut), ffmpeg=ffmpeg_binary(settings.FFMPEG_BINARY or None), on_progress=report
        )
        last = evidence
        if evidence.status == "not_video":
            return (
                TraceResult.NOT_VIDEO,
                _("This file is not a video that can be read."),
                evidence.to_dict(),
                [],
                None,
            )
        if evidence.status == "too_short":
            return (
                TraceResult.TOO_SHORT,
                _("This copy is too short to be placed on the film's timeline."),
                evidence.to_dict(),
                [],
                cut,
            )
        if evidence.status == "aligned":
            reason, detail, scored, named = _score(cut, evidence)
            return reason, detail, {**evidence.to_dict(), **scored, "cut": cut.number}, named, cut
    return (
        TraceResult.NOT_THIS_FILM,
        _("This video does not match any screener of this film."),
        last.to_dict() if last is not None else {},
        [],
        None,
    )


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
    return services.access_revoke(admin=admin, user=grant.viewer, film=None, reason=reason)
