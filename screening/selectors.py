"""Reads for screeners: the film's current cut and the viewing report."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db.models import Count, QuerySet
from django.urls import reverse
from django.utils.translation import gettext as _

from accounts.models import Accreditation, User
from accounts.policy import is_festival_admin
from festival.extensions import FilmAction
from festival.models import Film
from screening.models import Cut, CutStatus, PlaybackGrant, SegmentFetch


def films_managed_by(*, user: User) -> QuerySet[Film]:
    """Films whose screener ``user`` manages: those of their producer team, or every film for an admin
    (``services.require_team`` decides the same)."""
    if is_festival_admin(user):
        return Film.objects.all()
    return Film.objects.filter(team_members__user=user).distinct()


def current_cut(*, film: Film) -> Cut | None:
    """The newest published cut; older cuts stay for the record."""
    return Cut.objects.filter(film=film).filter(status=CutStatus.READY).order_by("-number").first()


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
    if is_festival_admin(user) or film.team_members.filter(user=user).exists():
        actions.append(
            FilmAction(_("Screener and viewing reports"), reverse("screening:manage", args=[film.pk]))
        )
    return actions
