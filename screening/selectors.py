"""Reads for screeners: the films one manages and their cuts, the packaging jobs to requeue, the viewing
report. A selector never writes."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db.models import Count, Q, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Accreditation, User
from accounts.policy import is_festival_admin
from festival.extensions import FilmAction
from festival.models import Film
from festival.policy import films_of_team, may_manage_film
from screening.models import AudienceRules, Cut, CutStatus, PlaybackGrant, SegmentFetch, Upload, UploadStatus
from screening.storage import UploadedPart, media_store

# A packaging job that touched its cut within this many seconds is alive on some worker.
STALL_SECONDS = 90


def films_managed_by(*, user: User) -> QuerySet[Film]:
    """Films whose screener ``user`` manages: those of their producer team, or every film for an admin
    (``festival.policy.require_film_manager`` decides the same)."""
    if is_festival_admin(user):
        return Film.objects.all()
    return films_of_team(user)


def current_cut(*, film: Film) -> Cut | None:
    """The newest published cut; older cuts stay for the record."""
    return Cut.objects.filter(film=film).filter(status=CutStatus.READY).order_by("-number").first()


def film_cuts(*, film: Film) -> QuerySet[Cut]:
    """Every cut of the film, newest first."""
    return Cut.objects.filter(film=film).order_by("-number")


def audience_rules_of(*, film: Film) -> AudienceRules | None:
    return AudienceRules.objects.filter(film=film).first()


def uploaded_parts(*, upload: Upload) -> list[UploadedPart]:
    """The parts the store holds of an open upload (what a resuming browser skips); none once closed."""
    if upload.status != UploadStatus.OPEN:
        return []
    return media_store().multipart_parts(upload.cut.source_key, upload.storage_upload_id)


def packaging_alive(cut: Cut) -> bool:
    """A job that touched its cut recently is running on some worker: leave it alone."""
    return cut.progress_at is not None and (timezone.now() - cut.progress_at).total_seconds() < STALL_SECONDS


def stalled_cut_ids(*, older_than_s: int = STALL_SECONDS) -> list[int]:
    """Cuts whose worker died: PROCESSING without progress for a while, or QUEUED and forgotten."""
    cutoff = timezone.now() - dt.timedelta(seconds=older_than_s)
    return list(
        Cut.objects.filter(
            Q(status=CutStatus.PROCESSING, progress_at__lt=cutoff)
            | Q(status=CutStatus.QUEUED, queued_at__lt=cutoff)
        ).values_list("pk", flat=True)
    )


@dataclass
class ViewerRow:
    user_id: int
    name: str
    email: str
    organisation: str
    country: str
    category: str
    first_at: dt.datetime
    last_at: dt.datetime
    plays: int = 0
    seconds_watched: float = 0.0
    segments: set[int] = field(default_factory=set)
    segments_fetched: int = 0
    share: float = 0.0


@dataclass
class ViewingReport:
    cut: Cut
    viewers: list[ViewerRow]
    curve: list[float]  # share of viewers who watched each segment, in film order


def viewing_report(*, cut: Cut) -> ViewingReport:
    """Who watched this cut, when, how long, how much of it, and the audience retention curve."""
    grants = (
        PlaybackGrant.objects.filter(cut=cut).select_related("viewer", "organisation").order_by("created_at")
    )
    fetched: dict[str, int] = {}
    for grant_id, count in _fetch_counts(cut):
        fetched[str(grant_id)] = count
    categories = {
        a.user_id: a.get_category_display() for a in Accreditation.objects.filter(session=cut.film.session)
    }
    rows: dict[int, ViewerRow] = {}
    for grant in grants:
        row = rows.get(grant.viewer_id)
        if row is None:
            row = rows[grant.viewer_id] = ViewerRow(
                user_id=grant.viewer_id,
                name=grant.viewer.display_name,
                email=grant.viewer.email,
                organisation=grant.organisation.name if grant.organisation else "",
                country=grant.organisation.country.code if grant.organisation else "",
                category=str(categories.get(grant.viewer_id, "")),
                first_at=grant.created_at,
                last_at=grant.last_heartbeat_at or grant.created_at,
            )
        row.plays += 1
        row.seconds_watched += grant.seconds_watched
        row.segments.update(grant.watched_segments)
        row.segments_fetched += fetched.get(str(grant.id), 0)
        row.last_at = max(row.last_at, grant.last_heartbeat_at or grant.created_at)
    total = max(cut.segment_count, 1)
    for row in rows.values():
        row.share = len(row.segments) / total
    viewers = sorted(rows.values(), key=lambda r: r.first_at)
    curve = [
        (sum(1 for r in viewers if i in r.segments) / len(viewers)) if viewers else 0.0
        for i in range(cut.segment_count)
    ]
    return ViewingReport(cut=cut, viewers=viewers, curve=curve)


def _fetch_counts(cut: Cut) -> list[tuple[object, int]]:
    return list(
        SegmentFetch.objects.filter(grant__cut=cut)
        .values("grant_id")
        .annotate(n=Count("id"))
        .values_list("grant_id", "n")
    )


def retention_svg_points(curve: list[float], *, width: int = 800, height: int = 200) -> str:
    """The watch-through curve as SVG polyline points (a step per segment)."""
    if not curve:
        return ""
    step = width / len(curve)
    points = []
    for i, share in enumerate(curve):
        y = height - share * height
        points.append(f"{i * step:.1f},{y:.1f}")
        points.append(f"{(i + 1) * step:.1f},{y:.1f}")
    return " ".join(points)


def film_screener_actions(film: Film, user: User) -> list[FilmAction]:
    """Buttons on the film's page: watch the current cut; for its team, manage the screener."""
    actions = []
    if current_cut(film=film) is not None:
        actions.append(
            FilmAction(_("Watch the screener"), reverse("screening:watch", args=[film.pk]), primary=True)
        )
    if may_manage_film(user, film.pk):
        actions.append(
            FilmAction(_("Screener and viewing reports"), reverse("screening:manage", args=[film.pk]))
        )
    return actions
