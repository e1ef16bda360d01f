"""Issue 11: refusals that do not reveal an object exists (item 4), and an upload whose completion fails
after the store assembled it leaves nothing behind (item 2)."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from screening.media.binary import ffmpeg_binary
from screening.models import Cut, CutStatus, PlaybackGrant, Upload, UploadStatus
from screening.storage import media_store
from tests.conftest import World, api_client, logged_in_client
from tests.screening.conftest import viewer_client
from tests.screening.media.conftest import make_clip
from tests.screening.test_upload_and_packaging import _send_parts, _start

pytestmark = pytest.mark.django_db


@pytest.fixture
def small_parts(settings: Any, store_root: Path) -> None:
    settings.SCREENING_UPLOAD_PART_BYTES = 64 * 1024


def _requests(upload_id: object, cut_id: object) -> list[tuple[str, str, dict[str, Any] | None]]:
    return [
        ("get", f"/api/uploads/{upload_id}/", None),
        ("post", f"/api/uploads/{upload_id}/part-urls/", {"part_numbers": [1]}),
        ("post", f"/api/uploads/{upload_id}/complete/", {"parts": [{"number": 1, "etag": '"00"'}]}),
        ("post", f"/api/uploads/{upload_id}/abort/", None),
        ("post", f"/api/cuts/{cut_id}/cancel/", None),
    ]


def _answers(client: APIClient, upload_id: object, cut_id: object) -> list[tuple[int, Any]]:
    out = []
    for method, url, body in _requests(upload_id, cut_id):
        response = getattr(client, method)(url, body, format="json")
        out.append((response.status_code, response.json()))
    return out


@pytest.mark.parametrize("who", ["pro", "other_producer", "pending"])
def test_a_real_upload_or_cut_is_refused_like_a_missing_one(world: World, store_root: Path, who: str) -> None:
    producer = api_client(world.producer)
    started = _start(producer, world, Path(__file__), name="film.mp4")
    upload_id, cut_id = started["upload"]["id"], started["cut"]["id"]
    client = api_client(getattr(world, who))
    real = _answers(client, upload_id, cut_id)
    missing = _answers(client, upload_id + 1000, uuid.uuid4())
    assert [status for status, _body in real] == [404] * 5
    assert real == missing  # the same answer, word for word
    assert Upload.objects.get(pk=upload_id).status == UploadStatus.OPEN
    assert Cut.objects.get(public_id=cut_id).status == CutStatus.UPLOADING
    # The team still reaches it.
    assert producer.get(f"/api/uploads/{upload_id}/").status_code == 200


@pytest.mark.parametrize("who", ["pending", "rejected", "other_producer"])
def test_a_grant_request_without_a_device_is_refused_like_a_missing_cut(
    world: World, cut: Cut, who: str
) -> None:
    """Someone who may not know the film: the same 404 whatever else the request lacks."""
    if who == "other_producer":
        world.film.session = world.sansebastian  # a film of a session they are not accredited to
        world.film.save()
    client = logged_in_client(getattr(world, who))  # no device cookie
    real = client.post(reverse("screening:grant-create", args=[cut.public_id]))
    missing = client.post(reverse("screening:grant-create", args=[uuid.uuid4()]))
    assert (real.status_code, real["X-Refusal-Code"], real.content) == (
        missing.status_code,
        missing["X-Refusal-Code"],
        missing.content,
    )
    assert real.status_code == 404
    assert not PlaybackGrant.objects.exists()


def test_an_admitted_viewer_without_a_device_is_told_so(world: World, cut: Cut) -> None:
    response = logged_in_client(world.pro).post(reverse("screening:grant-create", args=[cut.public_id]))
    assert response.status_code == 400
    assert not PlaybackGrant.objects.exists()
    assert (
        viewer_client(world.pro).post(reverse("screening:grant-create", args=[cut.public_id])).status_code
        == 201
    )


# --- A completion that fails after assembly ------------------------------------------------------------


@pytest.fixture
def clip(tmp_path: Path) -> Path:
    return make_clip(ffmpeg_binary(), tmp_path / "fine-cut.mp4", width=320, height=180, seconds=2)


def test_a_size_mismatch_fails_the_cut_and_deletes_the_assembled_file(
    world: World, small_parts: None, clip: Path
) -> None:
    client = api_client(world.producer)
    data = clip.read_bytes()
    started = client.post(
        f"/api/films/{world.film.pk}/cuts/",
        {"filename": "fine-cut.mp4", "size": len(data) + 7, "content_type": "video/mp4"},
        format="json",
    ).json()
    upload = started["upload"]
    etags = _send_parts(client, upload, data, list(range(1, upload["part_count"] + 1)))
    done = client.post(
        f"/api/uploads/{upload['id']}/complete/",
        {"parts": [{"number": n, "etag": e} for n, e in etags.items()]},
        format="json",
    )
    assert done.status_code == 400
    assert "parts" in done.json()
    cut = Cut.objects.get(public_id=started["cut"]["id"])
    assert cut.status == CutStatus.FAILED
    assert cut.failure_code == "size_mismatch"
    assert str(len(data)) in cut.failure_reason
    assert not media_store().exists(cut.source_key)
    assert media_store().list_prefix(f"uploads/{cut.public_id}/") == []
    assert Upload.objects.get(pk=upload["id"]).status != UploadStatus.OPEN
    # Completing again changes nothing and says why.
    again = client.post(
        f"/api/uploads/{upload['id']}/complete/",
        {"parts": [{"number": n, "etag": e} for n, e in etags.items()]},
        format="json",
    )
    assert again.status_code == 409
    assert Cut.objects.get(pk=cut.pk).status == CutStatus.FAILED


def test_a_cut_cancelled_while_its_upload_completes_leaves_no_file(
    world: World, small_parts: None, clip: Path
) -> None:
    client = api_client(world.producer)
    started = _start(client, world, clip)
    upload = started["upload"]
    etags = _send_parts(client, upload, clip.read_bytes(), list(range(1, upload["part_count"] + 1)))
    assert client.post(f"/api/cuts/{started['cut']['id']}/cancel/").status_code == 200
    done = client.post(
        f"/api/uploads/{upload['id']}/complete/",
        {"parts": [{"number": n, "etag": e} for n, e in etags.items()]},
        format="json",
    )
    assert done.status_code == 409
    cut = Cut.objects.get(public_id=started["cut"]["id"])
    assert cut.status == CutStatus.CANCELLED
    assert not media_store().exists(cut.source_key)
