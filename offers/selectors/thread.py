"""Reads of a negotiation thread: its events as every client receives them, and the read receipts."""

from __future__ import annotations

from typing import Any

from offers.models import Agreement, EventKind, Offer, OfferVersion, ThreadEvent, ThreadRead
from offers.selectors.offers import terms_organisation_names
from offers.terms import diff_terms, parse_terms, render_terms

LANGUAGES = ("es", "fr", "en")


def version_payload(version: OfferVersion, previous: OfferVersion | None) -> dict[str, Any]:
    """A version's terms, rendered in each language; for a counter-offer, what changed from the version
    before it: field by field (``changes``, for programs) and line by line as people read the terms
    (``rendered_changes``: [label, before, after], None where a line was added or removed)."""
    terms = parse_terms(version.terms)
    before = parse_terms(previous.terms) if previous is not None else None
    names = terms_organisation_names(terms, *([before] if before is not None else []))
    rendered: dict[str, list[list[str]]] = {}
    rendered_changes: dict[str, list[list[str | None]]] = {}
    for language in LANGUAGES:
        lines = {
            str(label): str(value) for label, value in render_terms(terms, language, organisation_names=names)
        }
        rendered[language] = [[label, value] for label, value in lines.items()]
        if before is not None:
            old_lines = {
                str(label): str(value)
                for label, value in render_terms(before, language, organisation_names=names)
            }
            rendered_changes[language] = [
                [label, old_lines.get(label), lines.get(label)]
                for label in [*old_lines, *(label for label in lines if label not in old_lines)]
                if old_lines.get(label) != lines.get(label)
            ]
    changes = []
    if before is not None:
        changes = [
            {"path": c.path, "old": c.old, "new": c.new, "action": c.action}
            for c in diff_terms(before, terms)
        ]
    return {
        "number": version.number,
        "side": version.side,
        "terms_hash": version.terms_hash,
        "terms": version.terms,
        "rendered": rendered,
        "changes": changes,
        "rendered_changes": rendered_changes,
    }


def event_payload(event: ThreadEvent) -> dict[str, Any]:
    """One event as every client sees it: language-neutral, with versions rendered in each language."""
    version = None
    if event.version is not None:
        previous = (
            OfferVersion.objects.filter(offer_id=event.offer_id, number=event.version.number - 1).first()
            if event.kind == EventKind.COUNTER
            else None
        )
        version = version_payload(event.version, previous)
    author = None
    if event.author is not None:
        author = {"id": event.author.pk, "name": event.author.display_name}
    agreement = None
    if event.kind == EventKind.ACCEPTED:
        agreement = (
            Agreement.objects.filter(offer_id=event.offer_id).values_list("public_id", flat=True).first()
        )
    return {
        "seq": event.seq,
        "kind": event.kind,
        "side": event.side,
        "author": author,
        "body": event.body,
        "client_id": event.client_id,
        "version": version,
        "agreement": str(agreement) if agreement else None,
        "created_at": event.created_at.isoformat(),
    }


def events_after(*, offer: Offer, after: int, limit: int = 500) -> list[dict[str, Any]]:
    """The payloads of ``offer``'s events after sequence number ``after``, in order, at most ``limit``."""
    events = (
        ThreadEvent.objects.filter(offer=offer, seq__gt=after)
        .select_related("author", "version")
        .order_by("seq")[:limit]
    )
    return [event_payload(event) for event in events]


def thread_reads(*, offer: Offer) -> dict[int, int]:
    """How far each person has read the thread: {user id: sequence number}."""
    return dict(ThreadRead.objects.filter(offer=offer).values_list("user_id", "seq"))
