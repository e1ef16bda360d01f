"""Cuts: what every entry about a cut says, a new cut's number, queueing its packaging, and a cut
imported from a file already on the server (demo seeding, operations staff).

A cut's status moves only along ``models.CUT_MACHINE``, through ``audit.transitions.transition``; each
entry names the cut's film and number (``cut_entry``) and, when a team member acts, the organisation
they produce the film for (``festival.policy.film_team_organisation``); the packaging worker acts as
the system.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from audit.services import audit_record
from audit.transitions import transition
from festival.models import Film
from festival.policy import film_team_organisation
from screening.models import CUT_MACHINE, Cut, CutStatus
from screening.policy import require_screener_manager
from screening.storage import media_store
from screening.tasks import package_cut

C = CutStatus


def cut_entry(*, cut: Cut, **data: Any) -> dict[str, Any]:
    """What every audit entry about a cut says besides its move: the film and the cut's number."""
    return {"film_id": cut.film_id, "number": cut.number, **data}


def enqueue_packaging(*, cut: Cut) -> None:
    """Queue the cut's packaging once the caller's transaction commits."""
    transaction.on_commit(lambda: package_cut.delay(cut.pk))


def new_cut(*, user: User, film: Film, filename: str, size: int, **fields: Any) -> Cut:
    """A cut numbered after the film's last one; the film row lock numbers concurrent uploads one at a
    time. Inside the caller's transaction."""
    Film.objects.select_for_update().get(pk=film.pk)
    last = Cut.objects.filter(film=film).order_by("-number").values_list("number", flat=True).first()
    return Cut.objects.create(
        film=film,
        number=(last or 0) + 1,
        uploaded_by=user,
        source_filename=filename[:255],
        source_size=size,
        segment_seconds=settings.SCREENING_SEGMENT_SECONDS,
        **fields,
    )


def cut_import(*, user: User, film: Film, path: Path) -> Cut:
    """A new cut from a file already on the server: no multipart upload; queued (the caller packages it)."""
    require_screener_manager(user=user, film=film)
    organisation = film_team_organisation(film_id=film.pk, user_id=user.pk)
    with transaction.atomic():
        cut = new_cut(user=user, film=film, filename=path.name, size=path.stat().st_size)
        media_store().put_file(cut.source_key, path, "video/mp4")
        audit_record(
            action="cut.imported",
            actor=user,
            organisation=organisation,
            target=cut,
            data={"film_id": film.pk, "number": cut.number, "filename": path.name},
        )
        return transition(
            cut,
            machine=CUT_MACHINE,
            to=C.QUEUED,
            actor=user,
            organisation=organisation,
            data=cut_entry(cut=cut),
            queued_at=timezone.now(),
        ).row
