"""The leak-trace job (docs/forensics.md): for each published cut of the film, newest first, the detector
aligns the suspect copy to the cut's timeline and reads A or B with a strength for every segment it
covers (``screening.forensics.detect``); the first cut it aligns with is scored against every grant ever
issued for that cut (``codeword.score``).

A grant is named only when the chance that any innocent grant of the cut agrees as well is below
``FORENSICS_NAMING_THRESHOLD`` (one in a million): the codewords are keyed pseudo-random bits, so an
innocent grant's agreements are a fair coin's whatever the copy holds, and the chance is exact, not
modelled. Every outcome, accusation or not, is audited; the job acts as the system.

This module loads the detector (numpy, OpenCV, PyAV): only the worker (``tasks.trace_leak``) and the
``trace_leak`` command import it, never a web process; the admins' side is ``tracing``.
"""

from __future__ import annotations

import logging
import tempfile
import time
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.transitions import transition
from festival.models import Film
from screening.forensics import codeword, detect
from screening.forensics.reference import TIMELINE, StoredReference
from screening.forensics.tracing import ProgressCallback
from screening.forensics.variants import codeword_secret
from screening.keyring import unseal
from screening.media.binary import ffmpeg_binary
from screening.models import TRACE_MACHINE, Cut, CutStatus, LeakTrace, PlaybackGrant, TraceResult, TraceStatus
from screening.storage import ObjectNotFound, media_store

logger = logging.getLogger(__name__)

RANKING_SHOWN = 10
# A copy with at most this share of clear segments reads as unmarked. Pure noise would give |z| >= 3 in
# 0.27 % of segments; an unmarked original, re-encoded, gave up to 6 % in the tests (its picture is the
# midpoint of A and B only before encoding); a marked copy, even damaged, gives far more.
UNMARKED_SHARE = 0.1


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
    secret = codeword_secret(unseal(cut.sealed_key))
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


def trace_run(*, trace_id: Any, echo: ProgressCallback | None = None) -> LeakTrace:
    """The job: align, decide, score, record. Idempotent: a finished trace is returned as it is."""
    trace = LeakTrace.objects.select_related("film").get(pk=trace_id)
    if trace.status in (TraceStatus.DONE, TraceStatus.FAILED):
        return trace
    with transaction.atomic():
        transition(
            trace, machine=TRACE_MACHINE, to=TraceStatus.RUNNING, actor=None, started_at=timezone.now()
        )
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
            transition(
                trace,
                machine=TRACE_MACHINE,
                to=TraceStatus.FAILED,
                actor=None,
                finished_at=timezone.now(),
                detail=_("The trace failed; see the logs."),
            )
        raise
    with transaction.atomic():
        trace = transition(
            trace,
            machine=TRACE_MACHINE,
            to=TraceStatus.DONE,
            actor=None,
            cut=cut,
            result=result,
            detail=detail,
            evidence=evidence,
            progress=100.0,
            stage="done",
            finished_at=timezone.now(),
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
        ).row
        trace.named_grants.set(named)
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
