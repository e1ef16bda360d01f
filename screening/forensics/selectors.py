"""Reads for the admins' leak-trace pages (docs/forensics.md): which traces to list, what a trace concluded
in words and numbers, and the geometry of its evidence chart.

A trace's ``evidence`` is JSON written by ``trace_job.trace_run``; a failed trace, a file that is not a
video or a copy of another film leaves most of its keys out, and an old trace may hold fewer keys than
today's code writes. So every read here treats every key as possibly missing or of the wrong type, and
shows what is there rather than failing the page of an accusation.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from typing import Any

from django.db.models import QuerySet
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy

from festival.models import Film
from screening.forensics.variants import CONFIDENT_Z
from screening.models import AccessRevocation, LeakTrace, PlaybackGrant, TraceResult, TraceStatus

# The stages ``tracing`` and ``detect`` report while a trace runs, in words for the page and its socket.
STAGE_LABELS = {
    "downloading": gettext_lazy("Fetching the suspect file"),
    "decoding": gettext_lazy("Reading the copy"),
    "aligning": gettext_lazy("Placing the copy on the film's timeline"),
    "measuring": gettext_lazy("Reading the mark, segment by segment"),
    "done": gettext_lazy("Done"),
}
FINISHED = (TraceStatus.DONE, TraceStatus.FAILED)
CHART_WIDTH = 800
CHART_HEIGHT = 200


def stage_label(stage: str) -> str:
    label = STAGE_LABELS.get(stage)
    return str(label) if label is not None else stage


def film_traces(*, film_id: int | None = None) -> QuerySet[LeakTrace]:
    """Traces newest first, of one film or of all; only for admins' pages (the views check that)."""
    traces = LeakTrace.objects.select_related("film", "requested_by", "cut").order_by("-created_at")
    return traces.filter(film_id=film_id) if film_id is not None else traces


def tracing_films() -> QuerySet[Film]:
    """The films a suspect copy can be filed against: every film (a leak of a film whose screener was
    withdrawn is still a leak; the trace then says plainly that nothing matches)."""
    return Film.objects.order_by("title", "pk")


def trace_state(trace_id: Any) -> dict[str, Any] | None:
    """What the detail page shows live (``consumers.TraceProgressConsumer``); None when it has gone."""
    row = LeakTrace.objects.filter(pk=trace_id).values("status", "progress", "stage", "result").first()
    if row is None:
        return None
    return {
        "type": "trace",
        "status": row["status"],
        "progress": row["progress"],
        "stage": row["stage"],
        "stage_label": stage_label(row["stage"]),
        "result": row["result"],
    }


# --- numbers --------------------------------------------------------------------------------------------


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return None
    return float(value)


def _count(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def family_log10(row: dict[str, Any], grant_count: int | None) -> float | None:
    """log10 of the chance that any viewing of the cut agrees with the copy as well as ``row``'s grant
    does (``p_family``). ``p_family`` underflows to 0 for a long copy, so ``log10_p`` plus log10 of the
    number of grants (the Bonferroni factor ``tracing`` used) takes over then."""
    p_family = _number(row.get("p_family"))
    if p_family is not None and 0 < p_family <= 1:
        return math.log10(p_family)
    log10_p = _number(row.get("log10_p"))
    if log10_p is not None and grant_count:
        return min(0.0, log10_p + math.log10(grant_count))
    return None


def certainty_exponent(row: dict[str, Any], grant_count: int | None) -> int | None:
    """The largest N with ``p_family < 10**-N``: the page says "below 1 in 10^N", a statement that is
    true, never rounded in the accused's disfavour. None when the row does not say, or for N < 1."""
    log10 = family_log10(row, grant_count)
    if log10 is None:
        return None
    exponent = math.ceil(-log10) - 1
    return exponent if exponent >= 1 else None


@dataclass(frozen=True)
class RankingRow:
    grant: str
    viewer: str
    viewer_name: str
    organisation: str
    watched_at: dt.datetime | None
    agreements: int | None
    segments: int | None
    exponent: int | None  # "below 1 in 10^N" when N >= 2
    percent: float | None  # the family chance in percent, for the rows that are not small
    named: bool


def ranking_rows(evidence: dict[str, Any]) -> list[RankingRow]:
    """The best-scoring viewings of the cut as the trace recorded them, best first."""
    ranking = evidence.get("ranking")
    named = evidence.get("named")
    named_ids = {str(g) for g in named} if isinstance(named, list) else set()
    grant_count = _count(evidence.get("grant_count"))
    rows = []
    for row in ranking if isinstance(ranking, list) else []:
        if not isinstance(row, dict):
            continue
        exponent = certainty_exponent(row, grant_count)
        log10 = family_log10(row, grant_count)
        watched = row.get("watched_at")
        rows.append(
            RankingRow(
                grant=str(row.get("grant", "")),
                viewer=str(row.get("viewer", "")),
                viewer_name=str(row.get("viewer_name", "")),
                organisation=str(row.get("organisation", "")),
                watched_at=parse_datetime(watched) if isinstance(watched, str) else None,
                agreements=_count(row.get("agreements")),
                segments=_count(row.get("segments")),
                exponent=exponent if exponent is not None and exponent >= 2 else None,
                percent=round(100 * 10**log10, 1) if log10 is not None and log10 > -2 else None,
                named=str(row.get("grant", "")) in named_ids,
            )
        )
    return rows


@dataclass(frozen=True)
class NamedViewing:
    """A viewing the trace names, read afresh from the database (the viewer's name may have changed;
    the evidence keeps what it was), with the trace's numbers for it and whether access is revoked."""

    grant: PlaybackGrant
    agreements: int | None
    segments: int | None
    exponent: int | None
    revoked_at: dt.datetime | None


def named_viewings(trace: LeakTrace) -> list[NamedViewing]:
    evidence = trace.evidence if isinstance(trace.evidence, dict) else {}
    grant_count = _count(evidence.get("grant_count"))
    ranking = evidence.get("ranking")
    rows = {
        str(row.get("grant")): row
        for row in (ranking if isinstance(ranking, list) else [])
        if isinstance(row, dict)
    }
    grants = trace.named_grants.select_related("viewer", "organisation").order_by("created_at")
    out = []
    for grant in grants:
        row = rows.get(str(grant.id), {})
        revocation = (
            AccessRevocation.objects.filter(user=grant.viewer, film__isnull=True, lifted_at__isnull=True)
            .order_by("-created_at")
            .first()
        )
        out.append(
            NamedViewing(
                grant=grant,
                agreements=_count(row.get("agreements")),
                segments=_count(row.get("segments")),
                exponent=certainty_exponent(row, grant_count),
                revoked_at=revocation.created_at if revocation else None,
            )
        )
    # Best first, as the trace ranked them (a pair of colluders is named together).
    order = list(rows)
    out.sort(key=lambda v: order.index(str(v.grant.id)) if str(v.grant.id) in order else len(order))
    return out


# --- the evidence chart -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Bar:
    index: int  # the segment of the cut's timeline
    strength: float  # the detector's signed z-score (> 0: B)
    kind: str  # "agree", "disagree", "weak" (|strength| < CONFIDENT_Z: an erasure) or "read" (no codeword)
    x: float
    y: float
    width: float
    height: float


@dataclass(frozen=True)
class Chart:
    """One bar per segment decision over the covered range, in a ``width`` x ``height`` SVG box whose
    middle line is strength 0; the ±CONFIDENT_Z band is where a decision is not confident."""

    width: float
    height: float
    bars: list[Bar]
    scale: float  # the strength at the top edge (and minus it at the bottom)
    zero_y: float
    band_top: float
    band_bottom: float
    first_index: int
    last_index: int
    reference: str  # the grant whose codeword colours the bars ("" when there is none)
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def band_height(self) -> float:
        return round(self.band_bottom - self.band_top, 2)

    @property
    def view_box(self) -> str:
        """Room on the left for the strength labels and below for the segment numbers."""
        return f"-50 -10 {self.width + 60:g} {self.height + 45:g}"

    @property
    def zero_label_y(self) -> float:
        return self.zero_y + 4

    @property
    def axis_label_y(self) -> float:
        return self.height + 18


def _decisions(evidence: dict[str, Any]) -> list[tuple[int, float]]:
    raw = evidence.get("decisions")
    out = []
    for decision in raw if isinstance(raw, list) else []:
        if not isinstance(decision, dict):
            continue
        index, strength = _count(decision.get("index")), _number(decision.get("strength"))
        if index is not None and strength is not None:
            out.append((index, strength))
    return out


def chart_reference(evidence: dict[str, Any]) -> str:
    """The named grant (the first, when colluders are named together), else the best-ranked one."""
    named = evidence.get("named")
    if isinstance(named, list) and named:
        return str(named[0])
    ranking = evidence.get("ranking")
    if isinstance(ranking, list) and ranking and isinstance(ranking[0], dict) and ranking[0].get("grant"):
        return str(ranking[0]["grant"])
    return ""


def evidence_chart(
    evidence: dict[str, Any],
    *,
    segment_count: int | None = None,
    width: float = CHART_WIDTH,
    height: float = CHART_HEIGHT,
) -> Chart | None:
    """The bars of the evidence chart, or None when the trace read no segment.

    ``codewords[grant]`` holds one symbol per decision, in the decisions' order, for the decisions on the
    cut (index < the cut's segment count): ``segment_count`` says which those are, so a symbol is never
    paired with the wrong segment. A bar agrees when the copy's symbol (B for a positive strength) is the
    reference grant's."""
    decisions = _decisions(evidence if isinstance(evidence, dict) else {})
    if not decisions:
        return None
    reference = chart_reference(evidence)
    codewords = evidence.get("codewords")
    symbols = codewords.get(reference, "") if isinstance(codewords, dict) else ""
    symbols = symbols if isinstance(symbols, str) else ""
    first = min(index for index, _strength in decisions)
    last = max(index for index, _strength in decisions)
    slot = width / (last - first + 1)
    scale = max(2 * CONFIDENT_Z, max(abs(strength) for _index, strength in decisions))
    zero_y = height / 2
    unit = zero_y / scale
    bars = []
    counts = {"agree": 0, "disagree": 0, "weak": 0, "read": 0}
    position = 0  # the decision's place among those on the cut: its symbol in the codeword string
    for index, strength in decisions:
        symbol = ""
        if segment_count is None or index < segment_count:
            symbol = symbols[position] if position < len(symbols) else ""
            position += 1
        if abs(strength) < CONFIDENT_Z:
            kind = "weak"
        elif symbol not in ("a", "b"):
            kind = "read"
        else:
            kind = "agree" if ("b" if strength > 0 else "a") == symbol else "disagree"
        counts[kind] += 1
        size = abs(strength) * unit
        bars.append(
            Bar(
                index=index,
                strength=strength,
                kind=kind,
                x=round((index - first) * slot + slot * 0.1, 2),
                y=round(zero_y - size if strength > 0 else zero_y, 2),
                width=round(max(slot * 0.8, 0.5), 2),
                height=round(size, 2),
            )
        )
    return Chart(
        width=width,
        height=height,
        bars=bars,
        scale=round(scale, 1),
        zero_y=zero_y,
        band_top=round(zero_y - CONFIDENT_Z * unit, 2),
        band_bottom=round(zero_y + CONFIDENT_Z * unit, 2),
        first_index=first,
        last_index=last,
        reference=reference,
        counts=counts,
    )


# --- the export -------------------------------------------------------------------------------------------


def trace_export(trace: LeakTrace) -> dict[str, Any]:
    """Everything the detail page shows, as JSON: the file, who asked and when, the outcome, the named
    viewings (with their revocation), and the detector's and scorer's evidence as recorded."""
    evidence = trace.evidence if isinstance(trace.evidence, dict) else {}
    return {
        "trace": str(trace.id),
        "film": {"id": trace.film_id, "title": trace.film.title},
        "cut": trace.cut.number if trace.cut else evidence.get("cut"),
        "file": {"name": trace.suspect_name, "size": trace.suspect_size, "sha256": trace.suspect_sha256},
        "requested_by": trace.requested_by.email if trace.requested_by else None,
        "requested_at": trace.created_at.isoformat(),
        "started_at": trace.started_at.isoformat() if trace.started_at else None,
        "finished_at": trace.finished_at.isoformat() if trace.finished_at else None,
        "status": trace.status,
        "result": trace.result,
        "result_label": str(TraceResult(trace.result).label) if trace.result in TraceResult.values else "",
        "detail": trace.detail,
        "named": [
            {
                "grant": str(viewing.grant.id),
                "viewer": viewing.grant.viewer.email,
                "viewer_name": viewing.grant.viewer.full_name,
                "organisation": viewing.grant.organisation.name if viewing.grant.organisation else "",
                "watched_at": viewing.grant.created_at.isoformat(),
                "agreements": viewing.agreements,
                "segments": viewing.segments,
                "chance_below_one_in_10_to_the": viewing.exponent,
                "access_revoked_at": viewing.revoked_at.isoformat() if viewing.revoked_at else None,
            }
            for viewing in named_viewings(trace)
        ],
        "evidence": evidence,
    }
