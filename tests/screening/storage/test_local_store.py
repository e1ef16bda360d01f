"""The local backend: object operations, keys that try to escape, multipart bookkeeping, configuration."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured

from screening.storage import (
    IncompletePart,
    InvalidParts,
    LocalMediaStore,
    ObjectNotFound,
    PartTooLarge,
    UploadNotFound,
    media_store,
)


def md5_etag(data: bytes) -> str:
    return f'"{hashlib.md5(data, usedforsecurity=False).hexdigest()}"'


def files_under(folder: Path) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())


def test_objects_round_trip(local_store: LocalMediaStore, tmp_path: Path) -> None:
    source = tmp_path / "poster.jpg"
    source.write_bytes(b"\xff\xd8jpeg")
    local_store.put_file("cuts/a/poster.jpg", source, "image/jpeg")
    local_store.put_bytes("cuts/a/720p/index.m3u8", b"#EXTM3U\n", "application/vnd.apple.mpegurl")
    local_store.put_bytes("cuts/a/720p/seg_00001.ts", b"x" * 2500, "video/mp2t")

    assert local_store.exists("cuts/a/poster.jpg")
    assert local_store.size("cuts/a/720p/seg_00001.ts") == 2500
    chunks = list(local_store.open_stream("cuts/a/720p/seg_00001.ts", chunk_size=1000))
    assert [len(c) for c in chunks] == [1000, 1000, 500]
    local_store.download("cuts/a/poster.jpg", tmp_path / "out" / "deep" / "poster.jpg")
    assert (tmp_path / "out" / "deep" / "poster.jpg").read_bytes() == b"\xff\xd8jpeg"
    assert (local_store.root / "objects" / "cuts/a/poster.jpg").read_bytes() == b"\xff\xd8jpeg"


def test_missing_objects(local_store: LocalMediaStore, tmp_path: Path) -> None:
    assert not local_store.exists("cuts/none")
    with pytest.raises(ObjectNotFound):
        local_store.size("cuts/none")
    with pytest.raises(ObjectNotFound):
        local_store.open_stream("cuts/none")  # raises at once, not when the response is half sent
    with pytest.raises(ObjectNotFound):
        local_store.download("cuts/none", tmp_path / "x")
    local_store.put_bytes("cuts/dir/file", b"1", "text/plain")
    with pytest.raises(ObjectNotFound):
        local_store.open_stream("cuts/dir")  # a folder is not an object


def test_list_and_delete_by_prefix(local_store: LocalMediaStore) -> None:
    for key in ["cuts/a/1.ts", "cuts/a/x/2.ts", "cuts/ab/3.ts", "cuts/b/4.ts"]:
        local_store.put_bytes(key, b"1", "video/mp2t")
    assert local_store.list_prefix("cuts/a/") == ["cuts/a/1.ts", "cuts/a/x/2.ts"]
    assert local_store.list_prefix("cuts/a") == ["cuts/a/1.ts", "cuts/a/x/2.ts", "cuts/ab/3.ts"]  # as S3
    assert local_store.list_prefix("nothing/") == []

    local_store.delete_prefix("cuts/a/")
    assert local_store.list_prefix("") == ["cuts/ab/3.ts", "cuts/b/4.ts"]
    assert not (local_store.root / "objects" / "cuts" / "a").exists()  # empty folders pruned
    with pytest.raises(ValueError, match="non-empty"):
        local_store.delete_prefix("")


def test_writes_are_atomic(local_store: LocalMediaStore, tmp_path: Path) -> None:
    local_store.put_bytes("cuts/a/master.m3u8", b"old", "application/vnd.apple.mpegurl")
    with pytest.raises(FileNotFoundError):
        local_store.put_file(
            "cuts/a/master.m3u8", tmp_path / "does-not-exist", "application/vnd.apple.mpegurl"
        )
    assert local_store.open_file("cuts/a/master.m3u8").read() == b"old"
    assert files_under(local_store.root / "tmp") == []


UNSAFE_KEYS = [
    "../outside",
    "cuts/../../outside",
    "cuts/..",
    "/etc/passwd",
    "cuts\\..\\outside",
    "cuts/a\x00.ts",
    "",
    "cuts//a",
    "./cuts",
    "cuts/.",
    "x" * 1025,
]


@pytest.mark.parametrize("key", UNSAFE_KEYS)
def test_keys_that_escape_the_store_are_refused(
    local_store: LocalMediaStore, tmp_path: Path, key: str
) -> None:
    for attempt in (
        lambda: local_store.put_bytes(key, b"evil", "text/plain"),
        lambda: local_store.open_stream(key),
        lambda: local_store.exists(key),
        lambda: local_store.signed_get_url(key, expires_in=60),
        lambda: local_store.multipart_create(key, "video/mp4"),
        lambda: local_store.delete_prefix(key),
    ):
        with pytest.raises(ValueError):
            attempt()
    if key:  # the empty prefix lists the whole store, on purpose
        with pytest.raises(ValueError):
            local_store.list_prefix(key)
    assert not (tmp_path / "outside").exists()
    assert files_under(tmp_path) == []


def test_a_symlink_inside_the_store_does_not_lead_out(local_store: LocalMediaStore, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (local_store.root / "objects").mkdir(parents=True)
    os.symlink(outside, local_store.root / "objects" / "link")
    with pytest.raises(ValueError):
        local_store.put_bytes("link/evil", b"evil", "text/plain")
    assert list(outside.iterdir()) == []


def write_part(store: LocalMediaStore, key: str, upload_id: str, number: int, data: bytes) -> str:
    part = store.multipart_write_part(
        key, upload_id, number, [data], max_bytes=1 << 20, expected_size=len(data)
    )
    return part.etag


def test_multipart_parts_resume_and_complete(local_store: LocalMediaStore) -> None:
    key = "uploads/u1/source"
    upload_id = local_store.multipart_create(key, "video/mp4")
    assert len(upload_id) >= 32 and upload_id != local_store.multipart_create(key, "video/mp4")
    one, two, three = b"a" * 1000, b"b" * 1000, b"c" * 10
    write_part(local_store, key, upload_id, 1, one)
    write_part(local_store, key, upload_id, 3, three)

    listed = local_store.multipart_parts(key, upload_id)  # what a resuming browser asks for
    assert [(p.number, p.etag, p.size) for p in listed] == [
        (1, md5_etag(one), 1000),
        (3, md5_etag(three), 10),
    ]

    write_part(local_store, key, upload_id, 2, b"wrong bytes, sent again below")
    write_part(local_store, key, upload_id, 2, two)  # a re-sent part replaces the earlier one
    assert [p.etag for p in local_store.multipart_parts(key, upload_id)] == [
        md5_etag(one),
        md5_etag(two),
        md5_etag(three),
    ]
    assert len(list((local_store.root / "multipart" / upload_id).glob("2-*.part"))) == 1

    local_store.multipart_complete(
        key, upload_id, [(1, md5_etag(one)), (2, md5_etag(two)), (3, md5_etag(three))]
    )
    assert local_store.open_file(key).read() == one + two + three
    assert not (local_store.root / "multipart" / upload_id).exists()
    with pytest.raises(UploadNotFound):
        local_store.multipart_parts(key, upload_id)


def test_completing_with_a_wrong_etag_changes_nothing(local_store: LocalMediaStore) -> None:
    key = "uploads/u2/source"
    upload_id = local_store.multipart_create(key, "video/mp4")
    etags = [write_part(local_store, key, upload_id, n, bytes([n]) * 100) for n in (1, 2)]

    for parts in (
        [(1, etags[0]), (2, md5_etag(b"something else"))],
        [(1, etags[0]), (2, "not-an-etag")],
        [(2, etags[1]), (1, etags[0])],  # S3 wants ascending order too
        [(1, etags[0]), (1, etags[0])],
        [],
    ):
        with pytest.raises(InvalidParts):
            local_store.multipart_complete(key, upload_id, parts)
    assert not local_store.exists(key)
    assert len(local_store.multipart_parts(key, upload_id)) == 2

    local_store.multipart_complete(key, upload_id, [(1, etags[0].strip('"')), (2, etags[1].upper())])
    assert local_store.size(key) == 200


def test_a_part_over_the_limit_or_cut_short_is_not_kept(local_store: LocalMediaStore) -> None:
    key = "uploads/u3/source"
    upload_id = local_store.multipart_create(key, "video/mp4")
    with pytest.raises(PartTooLarge):
        local_store.multipart_write_part(key, upload_id, 1, iter([b"x" * 600, b"x" * 600]), max_bytes=1000)
    with pytest.raises(IncompletePart):
        local_store.multipart_write_part(key, upload_id, 1, [b"x" * 10], max_bytes=1000, expected_size=20)
    assert local_store.multipart_parts(key, upload_id) == []
    assert files_under(local_store.root / "multipart" / upload_id) == ["manifest.json"]


def test_an_upload_belongs_to_its_key_and_ids_are_not_paths(local_store: LocalMediaStore) -> None:
    upload_id = local_store.multipart_create("uploads/u4/source", "video/mp4")
    with pytest.raises(UploadNotFound):
        local_store.multipart_parts("uploads/other/source", upload_id)
    for bad_id in ["..", "../../objects", "x" * 8, upload_id + "/.."]:
        with pytest.raises(UploadNotFound):
            local_store.multipart_parts("uploads/u4/source", bad_id)


def test_abort_drops_the_parts_and_is_idempotent(local_store: LocalMediaStore) -> None:
    key = "uploads/u5/source"
    upload_id = local_store.multipart_create(key, "video/mp4")
    write_part(local_store, key, upload_id, 1, b"data")
    local_store.multipart_abort(key, upload_id)
    local_store.multipart_abort(key, upload_id)
    assert not (local_store.root / "multipart" / upload_id).exists()
    with pytest.raises(UploadNotFound):
        write_part(local_store, key, upload_id, 2, b"late")


def test_the_store_follows_the_settings(settings: Any, tmp_path: Path) -> None:
    settings.SCREENING_STORAGE = "local"
    settings.SCREENING_MEDIA_ROOT = tmp_path / "one"
    first = media_store()
    assert media_store() is first
    assert first.presigns_downloads is False
    settings.SCREENING_MEDIA_ROOT = tmp_path / "two"
    second = media_store()
    assert isinstance(second, LocalMediaStore) and second.root == tmp_path / "two"

    settings.SCREENING_STORAGE = "ftp"
    with pytest.raises(ImproperlyConfigured):
        media_store()
    settings.SCREENING_STORAGE = "s3"
    settings.SCREENING_S3_BUCKET = ""
    with pytest.raises(ImproperlyConfigured):
        media_store()
