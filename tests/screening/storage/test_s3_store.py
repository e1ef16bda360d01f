"""The S3 backend against a real S3 HTTP API: moto's server on loopback, driven the way a browser would.

What moto 5.2.5 enforces, found while writing these tests (so that none of them passes vacuously):
- An anonymous GET of an object is refused (403) unless the object's ACL is public-read; the store never
  sets an ACL, so objects stay private. ``test_an_unsigned_get_is_refused`` shows the public-read
  control being served, which proves the refusal is moto's ACL check and not a broken request.
- moto does NOT check presigned URLs: a tampered or expired one is served (200), and switching on moto's
  IAM emulation makes every presigned request fail with a 500. The tests therefore put
  ``sigv4_gate.PresignedUrlGate`` (S3's documented SigV4 query-string check) in front of moto.
- moto does NOT refuse anonymous listing of a bucket or anonymous part uploads in its default mode, so no
  test claims those; real S3 refuses both for a private bucket.
- CORS: moto applies the bucket's CORS rules (preflight from another origin 403, ``ExposeHeaders``
  returned), so the ETag exposure the browser needs is tested for real.
- The S3 rule that every part but the last is at least 5 MiB is enforced by moto at completion.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from screening.storage import InvalidParts, ObjectNotFound, S3MediaStore, UploadNotFound, media_store
from screening.storage.base import S3_MIN_PART_BYTES
from tests.screening.storage.conftest import Moto, admin_client


def md5_etag(data: bytes) -> str:
    return f'"{hashlib.md5(data, usedforsecurity=False).hexdigest()}"'


def test_objects_round_trip(s3_store: S3MediaStore, tmp_path: Path) -> None:
    assert media_store() is s3_store and s3_store.presigns_downloads is True
    source = tmp_path / "poster.jpg"
    source.write_bytes(b"\xff\xd8jpeg")
    s3_store.put_file("cuts/a/poster.jpg", source, "image/jpeg")
    s3_store.put_bytes("cuts/a/720p/seg_00001.ts", b"x" * 2500, "video/mp2t")
    s3_store.put_bytes("cuts/ab/seg_00001.ts", b"y", "video/mp2t")

    assert s3_store.exists("cuts/a/poster.jpg") and not s3_store.exists("cuts/a/none")
    assert s3_store.size("cuts/a/720p/seg_00001.ts") == 2500
    assert b"".join(s3_store.open_stream("cuts/a/720p/seg_00001.ts", chunk_size=1000)) == b"x" * 2500
    s3_store.download("cuts/a/poster.jpg", tmp_path / "out" / "poster.jpg")
    assert (tmp_path / "out" / "poster.jpg").read_bytes() == b"\xff\xd8jpeg"
    assert s3_store.list_prefix("cuts/a/") == ["cuts/a/720p/seg_00001.ts", "cuts/a/poster.jpg"]

    s3_store.delete_prefix("cuts/a/")
    assert s3_store.list_prefix("") == ["cuts/ab/seg_00001.ts"]
    for missing in (
        lambda: s3_store.size("cuts/a/poster.jpg"),
        lambda: s3_store.open_stream("cuts/a/poster.jpg"),
    ):
        with pytest.raises(ObjectNotFound):
            missing()
    with pytest.raises(ObjectNotFound):
        s3_store.download("cuts/a/poster.jpg", tmp_path / "gone")
    with pytest.raises(ValueError):
        s3_store.put_bytes("../escape", b"x", "text/plain")


def test_multipart_through_presigned_urls_resumes_and_completes(
    s3_store: S3MediaStore, tmp_path: Path
) -> None:
    key = "uploads/u1/source"
    first, last = bytes(range(256)) * (S3_MIN_PART_BYTES // 256), b"the end"
    upload_id = s3_store.multipart_create(key, "video/mp4")
    urls = {n: s3_store.multipart_part_url(key, upload_id, n, expires_in=300) for n in (1, 2)}
    assert urls[1].startswith(f"{s3_store.client.meta.endpoint_url}/{s3_store.bucket}/{key}?")

    response = httpx.put(urls[1], content=first)  # raw bytes, no extra headers, as the browser sends them
    assert response.status_code == 200
    assert response.headers["ETag"] == md5_etag(first)

    resumed = s3_store.multipart_parts(key, upload_id)  # a reloaded page asks what is already there
    assert [(p.number, p.etag, p.size) for p in resumed] == [(1, md5_etag(first), len(first))]

    etag_2 = httpx.put(urls[2], content=last).headers["ETag"]
    with pytest.raises(InvalidParts):
        s3_store.multipart_complete(key, upload_id, [(1, md5_etag(b"wrong")), (2, etag_2)])
    s3_store.multipart_complete(key, upload_id, [(1, resumed[0].etag.strip('"')), (2, etag_2)])

    assert s3_store.size(key) == len(first) + len(last)
    s3_store.download(key, tmp_path / "source")
    assert (tmp_path / "source").read_bytes() == first + last
    with pytest.raises(UploadNotFound):
        s3_store.multipart_parts(key, upload_id)


def test_parts_below_five_mib_cannot_be_completed(s3_store: S3MediaStore) -> None:
    key = "uploads/u2/source"
    upload_id = s3_store.multipart_create(key, "video/mp4")
    etags = [
        httpx.put(s3_store.multipart_part_url(key, upload_id, n, expires_in=60), content=b"small").headers[
            "ETag"
        ]
        for n in (1, 2)
    ]
    with pytest.raises(InvalidParts, match="5 MB"):
        s3_store.multipart_complete(key, upload_id, list(zip([1, 2], etags, strict=True)))


def test_many_parts_are_listed_across_pages(s3_store: S3MediaStore, monkeypatch: Any) -> None:
    """ListParts returns at most 1000 parts a page; a 60 GB upload in 32 MiB parts has 1920."""
    monkeypatch.setattr(s3_store, "list_parts_page_size", 2)
    key = "uploads/u3/source"
    upload_id = s3_store.multipart_create(key, "video/mp4")
    # Contiguous numbers: moto 5.2.5 treats the part-number marker as a list index, which is only right
    # when no part is missing (real S3 returns the parts numbered above the marker).
    for n in range(1, 6):
        s3_store.client.upload_part(
            Bucket=s3_store.bucket, Key=key, UploadId=upload_id, PartNumber=n, Body=b"p"
        )
    first_page = s3_store.client.list_parts(Bucket=s3_store.bucket, Key=key, UploadId=upload_id, MaxParts=2)
    assert first_page["IsTruncated"] and len(first_page["Parts"]) == 2  # the server does cut pages
    assert [p.number for p in s3_store.multipart_parts(key, upload_id)] == [1, 2, 3, 4, 5]


def test_abort_drops_the_upload_and_is_idempotent(s3_store: S3MediaStore) -> None:
    key = "uploads/u4/source"
    upload_id = s3_store.multipart_create(key, "video/mp4")
    s3_store.multipart_abort(key, upload_id)
    s3_store.multipart_abort(key, upload_id)
    with pytest.raises(UploadNotFound):
        s3_store.multipart_parts(key, upload_id)


def test_a_presigned_get_serves_the_object(s3_store: S3MediaStore) -> None:
    s3_store.put_bytes("cuts/c1/720p/seg_00001.ts", b"segment", "video/mp2t")
    response = httpx.get(s3_store.signed_get_url("cuts/c1/720p/seg_00001.ts", expires_in=60))
    assert response.status_code == 200
    assert response.content == b"segment"
    assert response.headers["Content-Type"] == "video/mp2t"

    url = s3_store.signed_get_url(
        "cuts/c1/720p/seg_00001.ts", expires_in=60, content_type="application/x-test"
    )
    assert httpx.get(url).headers["Content-Type"] == "application/x-test"


def tampered(url: str, **changes: str) -> str:
    parts = urlsplit(url)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()} | changes
    return parts._replace(query="&".join(f"{k}={v}" for k, v in query.items())).geturl()


def test_a_tampered_presigned_url_is_refused(s3_store: S3MediaStore) -> None:
    s3_store.put_bytes("cuts/c1/720p/seg_00001.ts", b"segment", "video/mp2t")
    s3_store.put_bytes("cuts/c1/720p/seg_00002.ts", b"segment", "video/mp2t")
    url = s3_store.signed_get_url("cuts/c1/720p/seg_00001.ts", expires_in=60)
    signature = parse_qs(urlsplit(url).query)["X-Amz-Signature"][0]

    for forged in (
        tampered(url, **{"X-Amz-Signature": signature[::-1]}),
        tampered(url, **{"X-Amz-Expires": "604800"}),
        url.replace("seg_00001", "seg_00002"),
    ):
        response = httpx.get(forged)
        assert response.status_code == 403
        assert b"SignatureDoesNotMatch" in response.content
    assert httpx.get(url).status_code == 200

    upload_id = s3_store.multipart_create("uploads/u5/source", "video/mp4")
    part_url = s3_store.multipart_part_url("uploads/u5/source", upload_id, 1, expires_in=60)
    assert httpx.put(part_url.replace("partNumber=1", "partNumber=2"), content=b"x").status_code == 403
    assert s3_store.multipart_parts("uploads/u5/source", upload_id) == []


def test_an_expired_presigned_url_is_refused(s3_store: S3MediaStore, moto: Moto, monkeypatch: Any) -> None:
    s3_store.put_bytes("cuts/c1/poster.jpg", b"jpeg", "image/jpeg")
    short = s3_store.signed_get_url("cuts/c1/poster.jpg", expires_in=60)
    long = s3_store.signed_get_url("cuts/c1/poster.jpg", expires_in=3600)
    monkeypatch.setattr(moto.gate, "clock", lambda: datetime.now(UTC) + timedelta(seconds=120))
    response = httpx.get(short)
    assert response.status_code == 403 and b"Request has expired" in response.content
    assert httpx.get(long).status_code == 200


def test_an_unsigned_get_is_refused(s3_store: S3MediaStore, moto: Moto) -> None:
    s3_store.put_bytes("cuts/c1/720p/seg_00001.ts", b"segment", "video/mp2t")
    bare = f"{moto.endpoint}/{s3_store.bucket}/cuts/c1/720p/seg_00001.ts"
    response = httpx.get(bare)
    assert response.status_code == 403
    assert b"segment" not in response.content

    # Control: the same anonymous request for an object made public is served, so the 403 above is
    # moto's access check and the store's objects are private by default.
    admin_client(moto.endpoint).put_object(
        Bucket=s3_store.bucket, Key="cuts/c1/public.txt", Body=b"public", ACL="public-read"
    )
    assert httpx.get(f"{moto.endpoint}/{s3_store.bucket}/cuts/c1/public.txt").content == b"public"


def test_cors_lets_the_site_read_each_part_etag(s3_store: S3MediaStore) -> None:
    s3_store.configure_upload_cors(["https://festival.example"])
    upload_id = s3_store.multipart_create("uploads/u6/source", "video/mp4")
    url = s3_store.multipart_part_url("uploads/u6/source", upload_id, 1, expires_in=60)

    preflight = {"Access-Control-Request-Method": "PUT"}
    allowed = httpx.options(url, headers={"Origin": "https://festival.example", **preflight})
    assert allowed.status_code == 200
    assert "PUT" in allowed.headers["Access-Control-Allow-Methods"]
    assert httpx.options(url, headers={"Origin": "https://elsewhere.example", **preflight}).status_code == 403

    response = httpx.put(url, content=b"part", headers={"Origin": "https://festival.example"})
    assert response.headers["Access-Control-Allow-Origin"] == "https://festival.example"
    assert response.headers["Access-Control-Expose-Headers"] == "ETag"
    assert response.headers["ETag"] == md5_etag(b"part")
