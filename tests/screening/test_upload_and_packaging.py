"""Journey 2: a producer uploads a cut in parts (resumable), it is packaged in the background, and a
broken file ends failed with a clear reason and nothing published."""

from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from rest_framework.test import APIClient

from audit.models import AuditEntry
from screening.media.binary import ffmpeg_binary
from screening.models import Cut, CutStatus, Upload
from screening.storage import media_store
from tests.conftest import World, api_client, audit_actions
from tests.screening.media.conftest import make_clip

pytestmark = pytest.mark.django_db


@pytest.fixture
def small_parts(settings: Any, store_root: Path) -> None:
    settings.SCREENING_UPLOAD_PART_BYTES = 64 * 1024


def _start(client: APIClient, world: World, path: Path, name: str | None = None) -> dict[str, Any]:
    response = client.post(
        f"/api/films/{world.film.pk}/cuts/",
        {"filename": name or path.name, "size": path.stat().st_size, "content_type": "video/mp4"},
        format="json",
    )
    assert response.status_code == 201, response.content
    return dict(response.json())


def _send_parts(client: APIClient, upload: dict[str, Any], data: bytes, numbers: list[int]) -> dict[int, str]:
    urls = client.post(f"/api/uploads/{upload['id']}/part-urls/", {"part_numbers": numbers}, format="json")
    assert urls.status_code == 200, urls.content
    etags = {}
    browser = Client()  # the PUT carries no session: the signed URL is the authorisation, as with S3
    size = upload["part_size"]
    for number, url in urls.json()["urls"].items():
        n = int(number)
        body = data[(n - 1) * size : n * size]
        response = browser.generic("PUT", url, body, content_type="application/octet-stream")
        assert response.status_code == 200, response.content
        assert response["ETag"] == f'"{hashlib.md5(body).hexdigest()}"'  # noqa: S324 (S3's part ETag)
        etags[n] = response["ETag"]
    return etags


def _upload_file(client: APIClient, world: World, path: Path, name: str | None = None) -> Cut:
    started = _start(client, world, path, name)
    upload = started["upload"]
    data = path.read_bytes()
    etags = _send_parts(client, upload, data, list(range(1, upload["part_count"] + 1)))
    done = client.post(
        f"/api/uploads/{upload['id']}/complete/",
        {"parts": [{"number": n, "etag": e} for n, e in etags.items()]},
        format="json",
    )
    assert done.status_code == 200, done.content
    return Cut.objects.get(public_id=started["cut"]["id"])


@pytest.fixture
def clip(tmp_path: Path) -> Path:
    return make_clip(ffmpeg_binary(), tmp_path / "fine-cut.mp4", width=640, height=360, seconds=4)


def test_upload_resume_and_package(
    world: World, small_parts: None, clip: Path, django_capture_on_commit_callbacks: Any
) -> None:
    client = api_client(world.producer)
    started = _start(client, world, clip)
    upload = started["upload"]
    assert upload["part_count"] > 2
    data = clip.read_bytes()
    # The connection drops after two parts; the browser asks what the store holds and sends the rest.
    first = _send_parts(client, upload, data, [1, 2])
    status = client.get(f"/api/uploads/{upload['id']}/").json()
    assert sorted(p["number"] for p in status["parts"]) == [1, 2]
    rest = _send_parts(client, upload, data, list(range(3, upload["part_count"] + 1)))
    etags = {**first, **rest}
    with django_capture_on_commit_callbacks(execute=True):
        done = client.post(
            f"/api/uploads/{upload['id']}/complete/",
            {"parts": [{"number": n, "etag": e} for n, e in sorted(etags.items())]},
            format="json",
        )
    assert done.status_code == 200, done.content
    cut = Cut.objects.get(public_id=started["cut"]["id"])
    assert cut.status == CutStatus.READY, (cut.failure_code, cut.failure_reason)
    assert [r["name"] for r in cut.renditions] == ["360p"]
    assert cut.segment_count >= 1 and cut.sealed_key.startswith("v1:")
    assert media_store().exists(cut.media_prefix + "master.m3u8")
    assert media_store().exists(cut.media_prefix + "poster.jpg")
    assert {"cut.upload_started", "cut.queued", "cut.processing", "cut.ready"} <= set(audit_actions())
    # The producer queued it for their company; the worker packaged it as the system.
    named = {
        e.action: (e.actor_id, e.organisation_id)
        for e in AuditEntry.objects.filter(action__in=["cut.queued", "cut.processing", "cut.ready"])
    }
    assert named == {
        "cut.queued": (world.producer.pk, world.producer_org.pk),
        "cut.processing": (None, None),
        "cut.ready": (None, None),
    }


def test_each_upload_is_a_new_cut_and_the_film_shows_the_newest(
    world: World, small_parts: None, clip: Path, django_capture_on_commit_callbacks: Any
) -> None:
    from screening.selectors import current_cut

    client = api_client(world.producer)
    with django_capture_on_commit_callbacks(execute=True):
        first = _upload_file(client, world, clip)
    with django_capture_on_commit_callbacks(execute=True):
        second = _upload_file(client, world, clip, "fine-cut-v2.mp4")
    assert (first.number, second.number) == (1, 2)
    assert current_cut(film=world.film) == Cut.objects.get(pk=second.pk)
    assert Cut.objects.get(pk=first.pk).status == CutStatus.READY  # older cuts stay for the record


def _broken(tmp_path: Path, kind: str, clip: Path) -> Path:
    ffmpeg = ffmpeg_binary()
    if kind == "not_video":
        path = tmp_path / "notes.mp4"
        path.write_text("This is the director's statement, not a film.\n" * 200)
    elif kind == "truncated":
        path = tmp_path / "truncated.mp4"
        path.write_bytes(clip.read_bytes()[: clip.stat().st_size // 2])
    elif kind == "no_video_stream":
        path = tmp_path / "soundtrack.mp4"
        subprocess.run(
            [
                ffmpeg,
                "-loglevel",
                "error",
                "-y",
                "-f",
                "lavfi",
                "-i",
                "sine=duration=3",
                "-c:a",
                "aac",
                str(path),
            ],
            check=True,
        )
    else:
        raise AssertionError(kind)
    return path


@pytest.mark.parametrize("kind", ["not_video", "truncated", "no_video_stream"])
def test_broken_file_fails_with_a_reason_and_publishes_nothing(
    world: World,
    small_parts: None,
    clip: Path,
    tmp_path: Path,
    kind: str,
    django_capture_on_commit_callbacks: Any,
) -> None:
    path = _broken(tmp_path, kind, clip)
    with django_capture_on_commit_callbacks(execute=True):
        cut = _upload_file(api_client(world.producer), world, path)
    cut.refresh_from_db()
    assert cut.status == CutStatus.FAILED
    assert cut.failure_code == kind
    assert cut.failure_reason
    assert not media_store().exists(cut.media_prefix + "master.m3u8")


def test_too_long_fails(
    world: World, small_parts: None, clip: Path, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    settings.SCREENING_MAX_DURATION_SECONDS = 2
    with django_capture_on_commit_callbacks(execute=True):
        cut = _upload_file(api_client(world.producer), world, clip)
    cut.refresh_from_db()
    assert (cut.status, cut.failure_code) == (CutStatus.FAILED, "too_long")


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"filename": "statement.pdf", "size": 1000}, "filename"),
        ({"filename": "film.mp4", "size": 10**15}, "size"),
        ({"filename": "film.mp4", "size": 0}, "size"),
        ({"filename": "film.mp4", "size": 1000, "content_type": "text/html"}, "content_type"),
    ],
)
def test_bad_upload_requests_are_refused(
    world: World, store_root: Path, payload: dict[str, Any], field: str
) -> None:
    response = api_client(world.producer).post(f"/api/films/{world.film.pk}/cuts/", payload, format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert not Cut.objects.exists()


def test_only_the_films_team_uploads(world: World, store_root: Path) -> None:
    payload = {"filename": "film.mp4", "size": 1000}
    # A producer of another film who can see this one (accredited to its session): 403
    assert (
        api_client(world.other_producer)
        .post(f"/api/films/{world.film.pk}/cuts/", payload, format="json")
        .status_code
        == 403
    )
    # A professional: 403; someone who cannot see the film: 404
    assert (
        api_client(world.pro).post(f"/api/films/{world.film.pk}/cuts/", payload, format="json").status_code
        == 403
    )
    assert (
        api_client(world.pending)
        .post(f"/api/films/{world.film.pk}/cuts/", payload, format="json")
        .status_code
        == 404
    )
    assert not Cut.objects.exists()


def test_complete_with_missing_parts_or_wrong_etag_is_refused(
    world: World, small_parts: None, clip: Path
) -> None:
    client = api_client(world.producer)
    upload = _start(client, world, clip)["upload"]
    etags = _send_parts(client, upload, clip.read_bytes(), list(range(1, upload["part_count"] + 1)))
    missing = client.post(
        f"/api/uploads/{upload['id']}/complete/", {"parts": [{"number": 1, "etag": etags[1]}]}, format="json"
    )
    assert missing.status_code == 400 and "parts" in missing.json()
    wrong = client.post(
        f"/api/uploads/{upload['id']}/complete/",
        {"parts": [{"number": n, "etag": '"00"'} for n in etags]},
        format="json",
    )
    assert wrong.status_code == 400
    assert Upload.objects.get(pk=upload["id"]).status == "open"
    assert Cut.objects.get().status == CutStatus.UPLOADING


def test_cancel_a_queued_cut(world: World, small_parts: None, clip: Path) -> None:
    client = api_client(world.producer)
    cut = _upload_file(client, world, clip)  # on_commit not run: the cut waits in the queue
    assert cut.status == CutStatus.QUEUED
    response = client.post(f"/api/cuts/{cut.public_id}/cancel/")
    assert response.status_code == 200 and response.json()["status"] == "cancelled"


def test_cancel_during_packaging_stops_ffmpeg(world: World, small_parts: None, clip: Path) -> None:
    from screening.tasks import package_cut

    cut = _upload_file(api_client(world.producer), world, clip)
    Cut.objects.filter(pk=cut.pk).update(cancel_requested=True)
    assert package_cut(cut.pk) == "cancelled"
    cut.refresh_from_db()
    assert cut.status == CutStatus.CANCELLED
    assert not media_store().exists(cut.media_prefix + "master.m3u8")


def test_a_job_whose_worker_died_is_retried_and_publishes_once(
    world: World, small_parts: None, clip: Path
) -> None:
    import datetime as dt

    from django.utils import timezone

    from screening.tasks import package_cut, requeue_stalled

    cut = _upload_file(api_client(world.producer), world, clip)
    # A worker took the job and died: the cut is PROCESSING, its progress stale, nothing published.
    Cut.objects.filter(pk=cut.pk).update(
        status=CutStatus.PROCESSING, attempts=1, progress_at=timezone.now() - dt.timedelta(minutes=5)
    )
    assert package_cut(cut.pk) == "published"
    cut.refresh_from_db()
    assert (cut.status, cut.attempts) == (CutStatus.READY, 2)
    assert package_cut(cut.pk).startswith("nothing to do")  # a duplicate delivery changes nothing
    assert requeue_stalled() == 0


def test_a_live_job_is_not_started_twice(world: World, small_parts: None, clip: Path) -> None:
    from django.utils import timezone

    from screening.tasks import package_cut

    cut = _upload_file(api_client(world.producer), world, clip)
    Cut.objects.filter(pk=cut.pk).update(status=CutStatus.PROCESSING, attempts=1, progress_at=timezone.now())
    assert package_cut(cut.pk) == "already running elsewhere"


def test_a_retried_start_with_the_same_idempotency_key_makes_one_cut(world: World, store_root: Path) -> None:
    client = api_client(world.producer)
    payload = {"filename": "film.mp4", "size": 1000, "content_type": "video/mp4"}
    first = client.post(
        f"/api/films/{world.film.pk}/cuts/", payload, format="json", HTTP_IDEMPOTENCY_KEY="k-1"
    )
    again = client.post(
        f"/api/films/{world.film.pk}/cuts/", payload, format="json", HTTP_IDEMPOTENCY_KEY="k-1"
    )
    other = client.post(
        f"/api/films/{world.film.pk}/cuts/", payload, format="json", HTTP_IDEMPOTENCY_KEY="k-2"
    )
    assert first.json()["cut"]["id"] == again.json()["cut"]["id"] != other.json()["cut"]["id"]
    assert Cut.objects.count() == 2


def test_stale_uploads_are_aborted_and_their_parts_freed(world: World, small_parts: None, clip: Path) -> None:
    import datetime as dt
    import io

    from django.core.management import call_command
    from django.utils import timezone

    client = api_client(world.producer)
    started = _start(client, world, clip)
    upload = started["upload"]
    _send_parts(client, upload, clip.read_bytes(), [1])
    fresh = _start(client, world, clip, "other.mp4")
    Upload.objects.filter(pk=upload["id"]).update(created_at=timezone.now() - dt.timedelta(days=8))
    out = io.StringIO()
    call_command("purge_stale_uploads", "--days", "7", stdout=out)
    assert "Aborted 1" in out.getvalue()
    stale = Upload.objects.select_related("cut").get(pk=upload["id"])
    assert stale.status == "aborted" and stale.cut.status == CutStatus.CANCELLED
    assert Upload.objects.get(pk=fresh["upload"]["id"]).status == "open"
    gone = client.get(f"/api/uploads/{upload['id']}/")
    assert gone.json()["status"] == "aborted" and gone.json()["parts"] == []
    from screening.storage import UploadNotFound

    with pytest.raises(UploadNotFound):  # the stored parts are gone
        media_store().multipart_parts(stale.cut.source_key, stale.storage_upload_id)
