"""The leak demo of `make run`: the last demo film's screener, three demo viewers, a leaked copy in
VAR_DIR/demo/, and the admin's trace names the first viewer and nobody else (docs/forensics.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from accounts.models import User
from festival.demo import seed_demo
from screening.demo import leak_demo_film, leaked_copy_path, make_demo_screener_now
from screening.forensics.tracing import trace_request
from screening.models import CutStatus, PlaybackGrant, TraceResult

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow, pytest.mark.xdist_group("forensics")]


def test_the_demo_leak_is_traced_to_its_viewer(settings: Any, tmp_path: Path) -> None:
    settings.VAR_DIR = tmp_path
    settings.SCREENING_STORAGE = "local"
    settings.SCREENING_MEDIA_ROOT = tmp_path / "store"
    seed_demo(with_posters=False)
    film = leak_demo_film()
    assert film is not None
    cut = make_demo_screener_now(film)
    assert cut is not None and cut.status == CutStatus.READY
    grants = list(PlaybackGrant.objects.filter(cut=cut).order_by("created_at"))
    assert len(grants) == 3 and len({g.viewer_id for g in grants}) == 3
    assert leaked_copy_path().is_file()

    admin = User.objects.get(is_staff=True)
    trace = trace_request(
        admin=admin, film=film, path=leaked_copy_path(), name="leaked-copy.mp4", run_now=True
    )
    assert trace.result == TraceResult.NAMED, (trace.detail, trace.evidence.get("ranking"))
    assert list(trace.named_grants.all()) == [grants[0]]
