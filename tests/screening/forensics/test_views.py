"""The admins' leak-trace desk: who may reach it, filing a suspect copy, reading a trace, revoking the
named viewer, the JSON export, and the evidence chart's geometry (docs/forensics.md).

The trace job itself (the detector and the scorer) is tested elsewhere; here traces are filed through the
page and their outcome is written as ``trace_job.trace_run`` writes it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import uuid
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEntry
from screening.forensics import selectors, trace_job, tracing
from screening.forensics.variants import CONFIDENT_Z
from screening.models import (
    AccessRevocation,
    Cut,
    CutStatus,
    GrantEnd,
    LeakTrace,
    PlaybackGrant,
    TraceResult,
    TraceStatus,
)
from screening.storage import media_store
from tests.conftest import World, logged_in_client, make_user

pytestmark = pytest.mark.django_db

SUSPECT = b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 40  # any bytes: the job is not run here


# --- a world with a traced leak ---------------------------------------------------------------------------


def _cut(world: World, segments: int = 40) -> Cut:
    return Cut.objects.create(
        film=world.film,
        number=1,
        uploaded_by=world.producer,
        source_filename="fine-cut.mp4",
        source_size=1000,
        status=CutStatus.READY,
        duration_s=2.0 * segments,
        segment_count=segments,
        segment_seconds=2,
    )


def _grant(cut: Cut, viewer: Any, organisation: Any = None) -> PlaybackGrant:
    return PlaybackGrant.objects.create(
        viewer=viewer,
        organisation=organisation,
        cut=cut,
        device_hash="0" * 64,
        expires_at=timezone.now() + dt.timedelta(hours=1),
    )


def _row(grant: PlaybackGrant, agreements: int, n: int, log10_p: float, p_family: float) -> dict[str, Any]:
    return {
        "grant": str(grant.id),
        "viewer": grant.viewer.email,
        "viewer_name": grant.viewer.full_name,
        "organisation": grant.organisation.name if grant.organisation else "",
        "watched_at": grant.created_at.isoformat(),
        "agreements": agreements,
        "segments": n,
        "log10_p": log10_p,
        "p_family": p_family,
    }


def _trace(world: World, **fields: Any) -> LeakTrace:
    values: dict[str, Any] = {
        "film": world.film,
        "requested_by": world.admin,
        "suspect_name": "leak.mkv",
        "suspect_size": 123_456,
        "suspect_sha256": "ab" * 32,
        "suspect_key": "forensics/suspects/x",
    }
    values.update(fields)
    return LeakTrace.objects.create(**values)


@pytest.fixture
def leak(world: World) -> dict[str, Any]:
    """A done trace that names the professional's viewing among three grants of the cut: 30 segments
    decided, 28 of them clearly and all 28 agreeing with the named grant's codeword."""
    cut = _cut(world)
    guilty = _grant(cut, world.pro, world.distributor_org)
    innocent = _grant(cut, world.other_producer, world.other_producer_org)
    _grant(cut, world.admin)
    codeword = ("ab" * 15)[:30]
    decisions = []
    for i, symbol in enumerate(codeword):
        strength = (8.0 if symbol == "b" else -8.0) if i >= 2 else 1.5  # the first two are not clear
        decisions.append({"index": 5 + i, "strength": strength, "frames": 16})
    named_p = 2.0**-28
    evidence = {
        "status": "aligned",
        "detail": "",
        "alignment": {"a": 1.0, "b": 10.0},
        "covered_s": 60.0,
        "decisions": decisions,
        "confident": 28,
        "covered": 30,
        "needed": 22,
        "threshold": 1e-6,
        "grant_count": 3,
        "cut": 1,
        "ranking": [
            _row(guilty, 28, 28, math.log10(named_p), 3 * named_p),
            _row(innocent, 15, 28, -0.2, 1.0),
        ],
        "named": [str(guilty.id)],
        "codewords": {str(guilty.id): codeword, str(innocent.id): "a" * 30},
    }
    trace = _trace(
        world,
        cut=cut,
        status=TraceStatus.DONE,
        result=TraceResult.NAMED,
        progress=100,
        stage="done",
        evidence=evidence,
        finished_at=timezone.now(),
    )
    trace.named_grants.set([guilty])
    return {"trace": trace, "cut": cut, "guilty": guilty, "innocent": innocent}


def _staff_without_totp() -> Any:
    return make_user("staff-nomfa@festival.example", staff=True, mfa=False)


def _urls(trace: LeakTrace) -> dict[str, tuple[str, str]]:
    return {
        "list": ("get", reverse("screening:forensics:trace-list")),
        "detail": ("get", reverse("screening:forensics:trace-detail", args=[trace.id])),
        "revoke": ("post", reverse("screening:forensics:trace-revoke", args=[trace.id])),
        "evidence": ("get", reverse("screening:forensics:trace-evidence", args=[trace.id])),
        "upload": ("post", reverse("screening:forensics:trace-list")),
    }


VIEWS = ["list", "detail", "revoke", "evidence", "upload"]


# --- who may reach the desk -------------------------------------------------------------------------------


@pytest.mark.parametrize("view", VIEWS)
@pytest.mark.parametrize("who", ["pro", "producer", "no_mfa", "unverified"])
def test_an_account_that_is_not_staff_gets_404(
    world: World, leak: dict[str, Any], view: str, who: str
) -> None:
    method, url = _urls(leak["trace"])[view]
    response = getattr(logged_in_client(getattr(world, who)), method)(url)
    assert response.status_code == 404
    page = response.content.decode()
    assert "Leak trace" not in page and "leak.mkv" not in page and "Trace a suspect copy" not in page
    assert not AccessRevocation.objects.exists() and LeakTrace.objects.count() == 1


@pytest.mark.parametrize("view", VIEWS)
def test_staff_without_totp_gets_the_readiness_refusal(world: World, leak: dict[str, Any], view: str) -> None:
    method, url = _urls(leak["trace"])[view]
    response = getattr(logged_in_client(_staff_without_totp()), method)(url)
    assert response.status_code == 403
    assert 'data-code="mfa_required"' in response.content.decode()


@pytest.mark.parametrize("view", VIEWS)
def test_a_visitor_is_sent_to_sign_in(world: World, leak: dict[str, Any], view: str) -> None:
    method, url = _urls(leak["trace"])[view]
    response = getattr(Client(), method)(url)
    assert response.status_code == 302 and reverse("account_login") in response["Location"]


@pytest.mark.parametrize("view", ["list", "detail", "evidence"])
def test_a_ready_admin_reads_every_page(world: World, leak: dict[str, Any], view: str) -> None:
    _method, url = _urls(leak["trace"])[view]
    assert logged_in_client(world.admin).get(url).status_code == 200


def test_an_unknown_trace_is_404_even_for_an_admin(world: World) -> None:
    client = logged_in_client(world.admin)
    missing = uuid.uuid4()
    for name in ("screening:forensics:trace-detail", "screening:forensics:trace-evidence"):
        assert client.get(reverse(name, args=[missing])).status_code == 404
    assert client.post(reverse("screening:forensics:trace-revoke", args=[missing])).status_code == 404


def test_the_nav_shows_leak_traces_to_staff_only(world: World) -> None:
    link = reverse("screening:forensics:trace-list")
    assert link in logged_in_client(world.admin).get(reverse("accounts:dashboard")).content.decode()
    assert link not in logged_in_client(world.pro).get(reverse("accounts:dashboard")).content.decode()


# --- filing a suspect copy --------------------------------------------------------------------------------


def _stored(key: str) -> bytes:
    return b"".join(media_store().open_stream(key))


def _upload(client: Client, data: dict[str, Any]) -> Any:
    return client.post(reverse("screening:forensics:trace-list"), data)


def test_an_upload_files_the_copy_on_disk_and_queues_its_trace(
    world: World, store_root: Path, django_capture_on_commit_callbacks: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: dict[str, Any] = {}
    request = tracing.trace_request

    def spy(**kwargs: Any) -> LeakTrace:
        # The service is handed a file on disk (the forced temporary-file handler), holding what was sent.
        seen["path"], seen["bytes"] = kwargs["path"], kwargs["path"].read_bytes()
        return request(**kwargs)

    monkeypatch.setattr(tracing, "trace_request", spy)
    client = logged_in_client(world.admin)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = _upload(
            client, {"film": world.film.pk, "file": SimpleUploadedFile("leak copy.mkv", SUSPECT)}
        )
    trace = LeakTrace.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("screening:forensics:trace-detail", args=[trace.id])
    assert isinstance(seen["path"], Path) and seen["bytes"] == SUSPECT
    assert (trace.film, trace.requested_by, trace.status) == (world.film, world.admin, TraceStatus.QUEUED)
    assert (trace.suspect_name, trace.suspect_size) == ("leak copy.mkv", len(SUSPECT))
    assert trace.suspect_sha256 == hashlib.sha256(SUSPECT).hexdigest()
    assert _stored(trace.suspect_key) == SUSPECT  # kept as evidence
    entry = AuditEntry.objects.get(action="leak_trace.requested")
    assert entry.data["sha256"] == trace.suspect_sha256

    # The queued job is the trace of this very trace (CELERY_TASK_ALWAYS_EAGER runs it when committed).
    ran: list[str] = []

    def run(*, trace_id: Any, **_: Any) -> LeakTrace:
        ran.append(str(trace_id))
        return trace

    monkeypatch.setattr(trace_job, "trace_run", run)
    assert len(callbacks) == 1
    callbacks[0]()
    assert ran == [str(trace.id)]

    page = client.get(response["Location"]).content.decode()
    assert "data-trace-live" in page and f"/ws/forensics/traces/{trace.id}/" in page and "js/trace.js" in page
    assert "<progress" in page and "leak copy.mkv" in page


def test_a_large_upload_streams_to_disk(world: World, store_root: Path, settings: Any) -> None:
    """A body over the in-memory limits still arrives as a file on disk (nothing is held in memory)."""
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 1024
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024
    big = SUSPECT * 4
    response = _upload(
        logged_in_client(world.admin), {"film": world.film.pk, "file": SimpleUploadedFile("a.mp4", big)}
    )
    assert response.status_code == 302
    assert _stored(LeakTrace.objects.get().suspect_key) == big


@pytest.mark.parametrize(
    "data, status, message",
    [
        ({"film": "{film}"}, 400, "Choose the suspect file to upload."),
        ({"file": "leak.mkv"}, 400, "Choose the film this copy is of."),
        ({"film": "999999", "file": "leak.mkv"}, 400, "There is no such film"),
        ({"film": "abc", "file": "leak.mkv"}, 400, "There is no such film"),
        ({"film": str(2**70), "file": "leak.mkv"}, 400, "There is no such film"),
        ({"film": "{film}", "file": ("empty.mkv", b"")}, 400, "The file is empty."),
        ({"film": "{film}", "file": ("le\x00ak.mkv", SUSPECT)}, 400, 'data-field="file"'),
        ({"film": "{film}", "file": ("le\x1bak.mkv", SUSPECT)}, 400, 'data-field="file"'),
        ({"film": "{film}\x00", "file": "leak.mkv"}, 400, 'data-field="film"'),
    ],
    ids=[
        "no file",
        "no film",
        "unknown film",
        "film not a number",
        "film overflows",
        "empty file",
        "NUL in the file name",
        "escape in the file name",
        "NUL in the film",
    ],
)
def test_bad_input_is_refused_clearly_and_files_nothing(
    world: World, store_root: Path, data: dict[str, Any], status: int, message: str
) -> None:
    form: dict[str, Any] = {}
    for name, value in data.items():
        if name == "file":
            filename, content = value if isinstance(value, tuple) else (value, SUSPECT)
            form[name] = SimpleUploadedFile(filename, content)
        else:
            form[name] = value.format(film=world.film.pk)
    response = _upload(logged_in_client(world.admin), form)
    assert response.status_code == status
    assert message in response.content.decode()
    assert not LeakTrace.objects.exists()
    assert not AuditEntry.objects.filter(action__startswith="leak_trace.").exists()
    assert media_store().list_prefix(tracing.SUSPECT_PREFIX) == []


def test_a_file_over_the_limit_is_refused_in_the_services_words(
    world: World, store_root: Path, settings: Any
) -> None:
    settings.FORENSICS_MAX_SUSPECT_BYTES = 100
    response = _upload(
        logged_in_client(world.admin), {"film": world.film.pk, "file": SimpleUploadedFile("a.mp4", SUSPECT)}
    )
    assert response.status_code == 400
    assert "The file is larger than a suspect copy may be." in response.content.decode()
    assert not LeakTrace.objects.exists()


def test_the_list_shows_traces_newest_first_and_filters_by_film(world: World, leak: dict[str, Any]) -> None:
    other = _trace(
        world, film=world.other_film, suspect_name="other-film.mp4", status=TraceStatus.RUNNING, progress=42
    )
    client = logged_in_client(world.admin)
    page = client.get(reverse("screening:forensics:trace-list")).content.decode()
    assert page.index("other-film.mp4") < page.index("leak.mkv")  # newest first
    assert 'value="42' in page  # the running trace's progress bar
    assert "Traced to a viewing" in page
    filtered = client.get(reverse("screening:forensics:trace-list"), {"film": world.film.pk}).content.decode()
    assert "leak.mkv" in filtered and "other-film.mp4" not in filtered
    assert str(other.id) not in filtered
    assert (
        client.get(reverse("screening:forensics:trace-list"), {"film": "abc"}).status_code == 200
    )  # a message, no 500


# --- reading a trace --------------------------------------------------------------------------------------


def test_a_named_trace_says_whose_viewing_how_certain_and_shows_the_evidence(
    world: World, leak: dict[str, Any]
) -> None:
    page = logged_in_client(world.admin).get(
        reverse("screening:forensics:trace-detail", args=[leak["trace"].id])
    )
    text = page.content.decode()
    assert "Traced to the viewing of Marie Dupont (Cine Sur) on" in text
    # p_family = 3 * 2^-28 = 1.1e-8: below 1 in 10^7, not below 1 in 10^8.
    assert "below 1 in 10<sup>7</sup>" in text
    assert "28 of the 28 clearly read segments" in text
    assert "data-trace-live" not in text and "js/trace.js" not in text
    # The chart: one bar per decision, coloured against the named grant's codeword.
    assert text.count('class="bar-agree"') == 28 and text.count('class="bar-weak"') == 2
    assert 'class="bar-disagree"' not in text and "data-band" in text and 'role="img"' in text
    # The ranking, the file and who asked.
    assert f'data-grant="{leak["innocent"].id}"' in text and "producer@pampa.example" in text
    assert "ab" * 32 in text and "leak.mkv" in text and "admin@festival.example" in text
    assert f'name="grant" value="{leak["guilty"].id}"' in text
    assert "Revoke this viewer&#x27;s access now" in text or "Revoke this viewer's access now" in text
    assert f'value="{leak["innocent"].id}"' not in text  # no button for a viewing the trace does not name


def test_the_chart_keeps_a_decimal_point_in_every_language(world: World, leak: dict[str, Any]) -> None:
    client = logged_in_client(world.admin)
    client.cookies["django_language"] = "fr"
    text = client.get(reverse("screening:forensics:trace-detail", args=[leak["trace"].id])).content.decode()
    chart = selectors.evidence_chart(leak["trace"].evidence, segment_count=40)
    assert chart is not None
    assert f'x="{chart.bars[0].x}" y="{chart.bars[0].y}"' in text  # 2.67, not 2,67


@pytest.mark.parametrize(
    "fields, expected",
    [
        (
            {"result": TraceResult.TOO_SHORT, "detail": "The copy covers too few segments."},
            "<strong>Inconclusive:</strong> The copy covers too few segments.",
        ),
        (
            {"result": TraceResult.NO_MATCH, "detail": "No viewing matches."},
            "<strong>Inconclusive:</strong> No viewing",
        ),
        (
            {"result": TraceResult.NOT_VIDEO, "detail": "Not readable."},
            "<strong>Not a video:</strong> Not readable.",
        ),
        (
            {"result": TraceResult.NOT_THIS_FILM, "detail": "Other film."},
            "<strong>Not this film:</strong> Other film.",
        ),
        (
            {"status": TraceStatus.FAILED, "detail": "The trace failed; see the logs."},
            "The trace failed: The trace failed",
        ),
    ],
    ids=["too short", "no match", "not a video", "not this film", "failed"],
)
def test_an_outcome_without_a_name_says_so_plainly(
    world: World, fields: dict[str, Any], expected: str
) -> None:
    values = {"status": TraceStatus.DONE, "evidence": {"status": "not_video"} if "result" in fields else {}}
    trace = _trace(world, **{**values, **fields})
    text = (
        logged_in_client(world.admin)
        .get(reverse("screening:forensics:trace-detail", args=[trace.id]))
        .content.decode()
    )
    assert expected in text
    assert "Revoke this viewer" not in text and "Traced to the viewing" not in text


def test_a_running_trace_shows_its_progress_without_javascript(world: World) -> None:
    trace = _trace(world, status=TraceStatus.RUNNING, progress=37.5, stage="aligning")
    text = (
        logged_in_client(world.admin)
        .get(reverse("screening:forensics:trace-detail", args=[trace.id]))
        .content.decode()
    )
    assert 'value="37.5"' in text and "38% · Placing the copy on the film&#x27;s timeline" in text
    assert "Result" not in text


# --- revoking the named viewer ----------------------------------------------------------------------------


def _revoke(world: World, trace: LeakTrace, grant: Any, confirm: str | None = "yes") -> Any:
    data = {"grant": str(grant)} | ({"confirm": confirm} if confirm else {})
    return logged_in_client(world.admin).post(
        reverse("screening:forensics:trace-revoke", args=[trace.id]), data, follow=True
    )


def test_revoking_the_named_viewer_ends_their_access_now_and_is_audited(
    world: World, leak: dict[str, Any]
) -> None:
    response = _revoke(world, leak["trace"], leak["guilty"].id)
    assert response.redirect_chain[-1][0] == reverse(
        "screening:forensics:trace-detail", args=[leak["trace"].id]
    )
    assert "Access revoked: pro@cinesur.example is refused at every door" in response.content.decode()
    revocation = AccessRevocation.objects.get()
    assert (revocation.user, revocation.film, revocation.revoked_by) == (world.pro, None, world.admin)
    assert str(leak["trace"].id) in revocation.reason
    leak["guilty"].refresh_from_db()
    assert leak["guilty"].end_reason == GrantEnd.REVOKED and leak["guilty"].ended_at is not None
    entry = AuditEntry.objects.get(action="access.revoked")
    assert entry.actor == world.admin and entry.data["film_id"] is None
    # The page now says so instead of offering the button again.
    assert "Access revoked on" in response.content.decode()
    assert 'name="confirm"' not in response.content.decode()


@pytest.mark.parametrize("which", ["innocent", "garbage", "unconfirmed"])
def test_only_a_named_confirmed_viewing_is_revoked(world: World, leak: dict[str, Any], which: str) -> None:
    grant = {"innocent": leak["innocent"].id, "garbage": "not-a-uuid", "unconfirmed": leak["guilty"].id}[
        which
    ]
    response = _revoke(world, leak["trace"], grant, confirm=None if which == "unconfirmed" else "yes")
    assert response.status_code == 200
    assert 'class="message error"' in response.content.decode()
    assert not AccessRevocation.objects.exists()
    assert not AuditEntry.objects.filter(action="access.revoked").exists()


def test_revoke_takes_only_post(world: World, leak: dict[str, Any]) -> None:
    url = reverse("screening:forensics:trace-revoke", args=[leak["trace"].id])
    assert logged_in_client(world.admin).get(url).status_code == 405


# --- the export -------------------------------------------------------------------------------------------


def test_the_evidence_exports_as_json_with_everything_on_the_page(world: World, leak: dict[str, Any]) -> None:
    trace = leak["trace"]
    response = logged_in_client(world.admin).get(
        reverse("screening:forensics:trace-evidence", args=[trace.id])
    )
    assert response["Content-Type"] == "application/json"
    assert f'filename="leak-trace-{trace.id}.json"' in response["Content-Disposition"]
    body = response.json()
    assert body["trace"] == str(trace.id) and body["result"] == "named" and body["cut"] == 1
    assert body["file"] == {"name": "leak.mkv", "size": 123_456, "sha256": "ab" * 32}
    assert body["requested_by"] == "admin@festival.example"
    (named,) = body["named"]
    assert (named["grant"], named["viewer"], named["organisation"]) == (
        str(leak["guilty"].id),
        world.pro.email,
        "Cine Sur",
    )
    assert named["chance_below_one_in_10_to_the"] == 7 and named["access_revoked_at"] is None
    assert body["evidence"] == trace.evidence


def test_a_failed_trace_exports_too(world: World) -> None:
    trace = _trace(world, status=TraceStatus.FAILED, requested_by=None, evidence={})
    body = (
        logged_in_client(world.admin)
        .get(reverse("screening:forensics:trace-evidence", args=[trace.id]))
        .json()
    )
    assert body["status"] == "failed" and body["named"] == [] and body["requested_by"] is None


# --- the chart and the numbers, without a database --------------------------------------------------------


@pytest.mark.django_db(False)
def test_the_chart_geometry() -> None:
    evidence = {
        "decisions": [
            {"index": 10, "strength": 6.0},
            {"index": 11, "strength": -4.0},
            {"index": 12, "strength": 1.0},
            {"index": 13, "strength": -8.0},
        ],
        "named": ["g1"],
        "ranking": [{"grant": "g2"}],
        "codewords": {"g1": "bbab", "g2": "baaa"},
    }
    chart = selectors.evidence_chart(evidence, width=800, height=200)
    assert chart is not None and chart.reference == "g1"
    # Scale: the largest strength (8) at each edge; zero in the middle; 12.5 units per unit of strength.
    assert (chart.scale, chart.zero_y, chart.band_top, chart.band_bottom) == (8.0, 100.0, 62.5, 137.5)
    assert chart.band_height == 75.0 == 2 * CONFIDENT_Z * 12.5
    assert [(b.x, b.y, b.width, b.height) for b in chart.bars] == [
        (20.0, 25.0, 160.0, 75.0),  # +6: up from the middle
        (220.0, 100.0, 160.0, 50.0),  # -4: down from the middle
        (420.0, 87.5, 160.0, 12.5),
        (620.0, 100.0, 160.0, 100.0),
    ]
    assert [b.kind for b in chart.bars] == ["agree", "disagree", "weak", "disagree"]
    assert chart.counts == {"agree": 1, "disagree": 2, "weak": 1, "read": 0}
    assert (chart.first_index, chart.last_index) == (10, 13)


@pytest.mark.django_db(False)
def test_the_chart_spreads_the_covered_range_and_pairs_symbols_with_decisions_on_the_cut() -> None:
    evidence = {
        "decisions": [
            {"index": 0, "strength": 4.0},
            {"index": 99, "strength": -4.0},
            {"index": 3, "strength": 5.0},
        ],
        "ranking": [{"grant": "g"}],
        "codewords": {"g": "bb"},  # one symbol per decision on the cut (segment 99 is past its end)
    }
    chart = selectors.evidence_chart(evidence, segment_count=50, width=100, height=10)
    assert chart is not None and chart.reference == "g"
    assert [b.kind for b in chart.bars] == ["agree", "read", "agree"]
    slot = 100 / 100
    assert [b.x for b in chart.bars] == [round(0.1 * slot, 2), round(99.1 * slot, 2), round(3.1 * slot, 2)]
    assert chart.scale == 2 * CONFIDENT_Z  # never narrower than twice the band


@pytest.mark.django_db(False)
@pytest.mark.parametrize(
    "evidence",
    [
        {},
        {"decisions": None},
        {"decisions": "x"},
        {"decisions": [{"index": "1", "strength": 3}]},
        {"decisions": [{"index": -1, "strength": 3}, {"index": 1, "strength": float("nan")}, 7]},
    ],
)
def test_no_readable_decision_no_chart(evidence: dict[str, Any]) -> None:
    assert selectors.evidence_chart(evidence) is None


@pytest.mark.django_db(False)
@pytest.mark.parametrize(
    "row, grants, exponent",
    [
        ({"p_family": 3e-9}, 3, 8),  # 3e-9 < 1e-8
        ({"p_family": 1e-6}, 3, 5),  # exactly 1e-6 is not below it
        ({"p_family": 0.0, "log10_p": -40.0}, 100, 37),  # underflowed: log10_p + log10(N) = -38
        ({"p_family": 1.0, "log10_p": -0.1}, 5, None),
        ({"p_family": 0.05}, 5, 1),
        ({}, 5, None),
        ({"p_family": "x", "log10_p": None}, 5, None),
    ],
)
def test_the_certainty_is_never_overstated(row: dict[str, Any], grants: int, exponent: int | None) -> None:
    assert selectors.certainty_exponent(row, grants) == exponent
    if exponent is not None:
        assert 10 ** selectors.family_log10(row, grants) < 10.0**-exponent  # type: ignore[operator]


@pytest.mark.django_db(False)
def test_ranking_rows_tolerate_missing_keys() -> None:
    rows = selectors.ranking_rows({"ranking": [{"grant": "g", "p_family": 0.5}, "junk"], "named": ["g"]})
    assert len(rows) == 1 and rows[0].named and rows[0].percent == 50.0 and rows[0].exponent is None
    assert rows[0].watched_at is None and rows[0].agreements is None
    assert selectors.ranking_rows({"ranking": "x"}) == []


def test_the_admin_site_lists_traces_read_only(world: World, leak: dict[str, Any]) -> None:
    client = logged_in_client(world.admin)
    listing = client.get(reverse("admin:screening_leaktrace_changelist"))
    assert listing.status_code == 200 and "leak.mkv" in listing.content.decode()
    assert client.get(reverse("admin:screening_leaktrace_add")).status_code == 403
    page = client.get(reverse("admin:screening_leaktrace_change", args=[leak["trace"].id]))
    assert page.status_code == 200 and 'name="_save"' not in page.content.decode()
    assert (
        client.post(
            reverse("admin:screening_leaktrace_delete", args=[leak["trace"].id]), {"post": "yes"}
        ).status_code
        == 403
    )
    assert LeakTrace.objects.filter(pk=leak["trace"].id).exists()
