"""The local store's signed doors over HTTP: blobs out, upload parts in, nothing without a signature."""

from __future__ import annotations

import hashlib
import time
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from django.test import Client
from django.urls import reverse

from screening.signing import sign_path
from screening.storage import InvalidParts, LocalMediaStore, UploadNotFound, max_part_bytes


def md5_etag(data: bytes) -> str:
    return f'"{hashlib.md5(data, usedforsecurity=False).hexdigest()}"'


def body(response: Any) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else bytes(response.content)


def with_query(url: str, **changes: str) -> str:
    """``url`` with some query parameters replaced (or dropped when the value is None)."""
    parts = urlsplit(url)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    query.update(changes)
    return f"{parts.path}?{urlencode({k: v for k, v in query.items() if v is not None})}"


# --- Blobs ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "content_type"),
    [
        ("cuts/c1/master.m3u8", "application/vnd.apple.mpegurl"),
        ("cuts/c1/720p/seg_00001.ts", "video/mp2t"),
        ("cuts/c1/poster.jpg", "image/jpeg"),
        ("cuts/c1/preview.mp4", "video/mp4"),
        ("cuts/c1/odd name ñ.bin", "application/octet-stream"),
    ],
)
def test_a_signed_url_serves_the_object(local_store: LocalMediaStore, key: str, content_type: str) -> None:
    local_store.put_bytes(key, b"payload " * 100, content_type)
    url = local_store.signed_get_url(key, expires_in=60)
    assert url.startswith("/screening/blob/cuts/c1/")

    response = Client().get(url)

    assert response.status_code == 200
    assert response["Content-Type"] == content_type
    assert body(response) == b"payload " * 100
    directive, max_age = response["Cache-Control"].split(", max-age=")
    assert directive == "private" and 55 <= int(max_age) <= 60


def test_a_signed_content_type_overrides_the_extension(local_store: LocalMediaStore) -> None:
    local_store.put_bytes("cuts/c1/thumbs.bin", b"{}", "application/json")
    url = local_store.signed_get_url("cuts/c1/thumbs.bin", expires_in=60, content_type="application/json")
    assert Client().get(url)["Content-Type"] == "application/json"
    assert Client().get(with_query(url, ct="text/html")).status_code == 404  # ct is under the signature


def test_blob_refusals_never_reveal_whether_the_object_exists(local_store: LocalMediaStore) -> None:
    local_store.put_bytes("cuts/c1/720p/seg_00001.ts", b"secret", "video/mp2t")
    local_store.put_bytes("cuts/c1/720p/seg_00002.ts", b"secret", "video/mp2t")
    url = local_store.signed_get_url("cuts/c1/720p/seg_00001.ts", expires_in=60)
    sig = parse_qs(urlsplit(url).query)["sig"][0]
    client = Client()

    refused = [
        urlsplit(url).path,  # unsigned
        with_query(url, sig=None),
        with_query(url, exp=None),
        with_query(url, sig=sig[:-1] + ("A" if sig[-1] != "A" else "B")),
        with_query(url, exp=str(int(time.time()) + 3600)),
        url.replace("seg_00001", "seg_00002"),  # a signature for another object
        local_store.signed_get_url("cuts/c1/720p/seg_09999.ts", expires_in=60),  # genuine, but no such object
    ]
    responses = [client.get(u) for u in refused]
    assert [r.status_code for r in responses] == [404] * len(refused)
    assert len({body(r) for r in responses}) == 1  # the same answer whether or not the object exists
    assert b"secret" not in body(responses[0])
    assert client.get(url).status_code == 200  # the genuine URL still works: the refusals are real


def test_an_expired_blob_url_gets_a_clear_403(local_store: LocalMediaStore) -> None:
    local_store.put_bytes("cuts/c1/poster.jpg", b"jpeg", "image/jpeg")
    path = reverse("screening:storage:blob", kwargs={"key": "cuts/c1/poster.jpg"})
    response = Client().get(f"{path}?{sign_path(path, expires_at=int(time.time()) - 5)}")
    assert response.status_code == 403
    assert b"expired" in response.content
    assert response["Content-Type"].startswith("text/plain")


def test_blobs_are_read_only(local_store: LocalMediaStore) -> None:
    local_store.put_bytes("cuts/c1/poster.jpg", b"jpeg", "image/jpeg")
    url = local_store.signed_get_url("cuts/c1/poster.jpg", expires_in=60)
    assert Client().post(url).status_code == 405
    assert Client().put(url, b"overwrite").status_code == 405


def test_the_blob_door_is_closed_when_the_store_is_s3(local_store: LocalMediaStore, settings: Any) -> None:
    local_store.put_bytes("cuts/c1/poster.jpg", b"jpeg", "image/jpeg")
    url = local_store.signed_get_url("cuts/c1/poster.jpg", expires_in=60)
    settings.SCREENING_STORAGE = "s3"
    settings.SCREENING_S3_BUCKET = "any-bucket"
    assert Client().get(url).status_code == 404


# --- Upload parts ---------------------------------------------------------------------------------


def put_part(client: Client, url: str, data: bytes, **extra: Any) -> Any:
    return client.put(url, data, content_type="application/octet-stream", **extra)


def test_parts_uploaded_through_signed_urls_resume_and_complete(local_store: LocalMediaStore) -> None:
    key = "uploads/u1/source"
    upload_id = local_store.multipart_create(key, "video/mp4")
    parts = {1: b"\x00\x01" * 600, 2: b"\n" * 1200, 3: b"tail"}
    urls = {n: local_store.multipart_part_url(key, upload_id, n, expires_in=60) for n in parts}
    assert urls[2].startswith(f"/screening/upload-part/{upload_id}/2?key=uploads%2Fu1%2Fsource&exp=")
    client = Client(enforce_csrf_checks=True)  # authorised by the signature, not a session

    for n in (1, 3):  # the connection drops before part 2
        response = put_part(client, urls[n], parts[n])
        assert response.status_code == 200
        assert response["ETag"] == md5_etag(parts[n])
        assert response["Access-Control-Expose-Headers"] == "ETag"

    listed = local_store.multipart_parts(key, upload_id)
    assert [(p.number, p.size, p.etag) for p in listed] == [
        (1, 1200, md5_etag(parts[1])),
        (3, 4, md5_etag(b"tail")),
    ]

    etag_2 = put_part(client, urls[2], parts[2])["ETag"]
    local_store.multipart_complete(
        key, upload_id, [(1, md5_etag(parts[1])), (2, etag_2), (3, md5_etag(b"tail"))]
    )
    assert local_store.open_file(key).read() == parts[1] + parts[2] + parts[3]


def test_a_wrong_etag_is_refused_at_completion(local_store: LocalMediaStore) -> None:
    key = "uploads/u2/source"
    upload_id = local_store.multipart_create(key, "video/mp4")
    etag = put_part(Client(), local_store.multipart_part_url(key, upload_id, 1, expires_in=60), b"data")[
        "ETag"
    ]
    with pytest.raises(InvalidParts, match="Part 1"):
        local_store.multipart_complete(key, upload_id, [(1, md5_etag(b"other data"))])
    assert not local_store.exists(key)
    local_store.multipart_complete(key, upload_id, [(1, etag)])
    assert local_store.open_file(key).read() == b"data"


def test_an_oversize_part_is_refused(local_store: LocalMediaStore, settings: Any) -> None:
    settings.SCREENING_UPLOAD_PART_BYTES = 256 * 1024
    settings.SCREENING_MAX_UPLOAD_BYTES = 1024**3  # 10,000 parts of 256 KiB would not hold it
    limit = max_part_bytes()
    assert limit > 256 * 1024
    key = "uploads/u3/source"
    upload_id = local_store.multipart_create(key, "video/mp4")
    url = local_store.multipart_part_url(key, upload_id, 1, expires_in=60)

    response = put_part(Client(), url, b"x" * (limit + 1))
    assert response.status_code == 413
    assert str(limit).encode() in response.content
    assert local_store.multipart_parts(key, upload_id) == []
    assert put_part(Client(), url, b"x" * limit).status_code == 200


def test_a_part_is_streamed_not_held_in_memory(local_store: LocalMediaStore, settings: Any) -> None:
    """DATA_UPLOAD_MAX_MEMORY_SIZE guards request.body; the part view never touches it."""
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024
    key = "uploads/u4/source"
    upload_id = local_store.multipart_create(key, "video/mp4")
    data = bytes(range(256)) * 40 * 1024  # 10 MiB, ten chunks of the view's reader
    response = put_part(Client(), local_store.multipart_part_url(key, upload_id, 1, expires_in=60), data)
    assert response.status_code == 200
    assert local_store.multipart_parts(key, upload_id)[0].size == len(data)


def test_part_refusals(local_store: LocalMediaStore) -> None:
    key = "uploads/u5/source"
    upload_id = local_store.multipart_create(key, "video/mp4")
    url = local_store.multipart_part_url(key, upload_id, 1, expires_in=60)
    sig = parse_qs(urlsplit(url).query)["sig"][0]
    client = Client()

    not_found = [
        urlsplit(url).path,
        with_query(url, sig=sig[::-1]),
        with_query(url, key="uploads/other/source"),  # the key is under the signature
        url.replace(f"/{upload_id}/1?", f"/{upload_id}/2?"),  # so is the part number
        local_store.multipart_part_url(key, "A" * 32, 1, expires_in=60),  # genuine URL, no such upload
        local_store.multipart_part_url("uploads/other/source", upload_id, 1, expires_in=60),  # not its key
    ]
    assert [put_part(client, u, b"data").status_code for u in not_found] == [404] * len(not_found)

    path = reverse("screening:storage:upload-part", kwargs={"upload_id": upload_id, "n": 1})
    expired = f"{path}?key={key}&{sign_path(path, expires_at=int(time.time()) - 1, extra=key)}"
    response = put_part(client, expired, b"data")
    assert response.status_code == 403 and b"expired" in response.content

    for n in (0, 10_001):
        path = reverse("screening:storage:upload-part", kwargs={"upload_id": upload_id, "n": n})
        signed = f"{path}?key={key}&{sign_path(path, expires_at=int(time.time()) + 60, extra=key)}"
        assert put_part(client, signed, b"data").status_code == 400

    assert put_part(client, url, b"data", CONTENT_LENGTH="lots").status_code == 411
    assert client.get(url).status_code == 405
    assert local_store.multipart_parts(key, upload_id) == []


def test_a_part_after_abort_is_refused(local_store: LocalMediaStore) -> None:
    key = "uploads/u6/source"
    upload_id = local_store.multipart_create(key, "video/mp4")
    url = local_store.multipart_part_url(key, upload_id, 1, expires_in=60)
    local_store.multipart_abort(key, upload_id)
    assert put_part(Client(), url, b"data").status_code == 404
    with pytest.raises(UploadNotFound):
        local_store.multipart_parts(key, upload_id)
