"""The one storage layer for screeners: local files in the embedded default, S3 in production.

Everything the screening app keeps (uploaded sources, packaged HLS ladders, posters) goes through
``media_store()``, so the rest of the code never knows which backend it talks to. Both backends offer
the same resumable multipart upload that S3 offers: the browser asks the API for a signed URL per part,
PUTs the bytes straight to it (to S3 in production, to ``storage_views.upload_part`` locally), keeps the
ETag of each part, and the API completes the upload with the list of ETags.

Nothing in the store is reachable without a signature: S3 objects stay private and are read through
presigned URLs; local objects live outside any static or media root and are served only by
``storage_views.blob`` for a URL signed by ``screening.signing``.
"""

from __future__ import annotations

import functools
import hashlib
import json
import math
import os
import re
import secrets
import shutil
import tempfile
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, BinaryIO, NamedTuple, Protocol
from urllib.parse import urlencode

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.urls import reverse
from django.utils.translation import gettext

from screening.signing import expiry_from_now, sign_path

CHUNK_BYTES = 1024 * 1024
MAX_PARTS = 10_000  # S3's limit, kept locally so both backends accept the same uploads
PART_SLACK_BYTES = 64 * 1024
S3_MIN_PART_BYTES = 5 * 1024 * 1024  # S3 refuses to complete when a part but the last is smaller
MAX_KEY_BYTES = 1024  # S3's limit

CONTENT_TYPES = {
    ".m3u8": "application/vnd.apple.mpegurl",
    ".ts": "video/mp2t",
    ".m4s": "video/iso.segment",
    ".mp4": "video/mp4",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".png": "image/png",
    ".webp": "image/webp",
    ".vtt": "text/vtt",
    ".json": "application/json",
}


class UploadedPart(NamedTuple):
    number: int
    etag: str  # the MD5 hex in double quotes, as S3 sends it
    size: int


class StorageError(Exception):
    """Something the store refused; subclasses say what."""


class ObjectNotFound(StorageError, FileNotFoundError):
    """No object under this key."""


class UploadNotFound(StorageError, LookupError):
    """No multipart upload with this id for this key (never created, completed, or aborted)."""


class InvalidParts(StorageError, ValueError):
    """The part list given to complete an upload does not match what was uploaded."""


class PartTooLarge(StorageError, ValueError):
    """A part above ``max_part_bytes()``."""


class IncompletePart(StorageError, ValueError):
    """The body of a part ended before its announced length: the connection dropped."""


# --- Keys and limits ------------------------------------------------------------------------------


def validate_key(key: str) -> str:
    """Return ``key`` if it is a safe relative object key, else raise ValueError.

    The local backend maps keys to paths, so a key must never climb out of the store (``..``, an
    absolute path, a backslash that Windows tools would read as a separator, a NUL that truncates C
    strings). The same rule holds for S3, so a key valid in one backend is valid in the other.
    """
    if not isinstance(key, str) or not key:
        raise ValueError("An object key must be a non-empty string.")
    if "\x00" in key or "\\" in key or key.startswith("/"):
        raise ValueError(f"Unsafe object key: {key!r}")
    if any(part in {"", ".", ".."} for part in key.split("/")):
        raise ValueError(f"Unsafe object key: {key!r}")
    if len(key.encode()) > MAX_KEY_BYTES:
        raise ValueError("An object key is at most 1024 bytes.")
    return key


def _validate_prefix(prefix: str, *, allow_empty: bool) -> str:
    """A prefix is a key, optionally ending with '/'; the empty prefix means the whole store."""
    if prefix == "" and allow_empty:
        return prefix
    validate_key(prefix[:-1] if prefix.endswith("/") else prefix)
    return prefix


def content_type_for(key: str) -> str:
    """The type a browser and hls.js expect for what the packager writes, by extension."""
    return CONTENT_TYPES.get(Path(key).suffix.lower(), "application/octet-stream")


def max_part_bytes() -> int:
    """The largest part accepted: the configured part size, or the larger size the API must pick to fit
    the largest allowed file in 10,000 parts, plus a little slack for rounding."""
    needed = math.ceil(settings.SCREENING_MAX_UPLOAD_BYTES / MAX_PARTS)
    return max(settings.SCREENING_UPLOAD_PART_BYTES, needed) + PART_SLACK_BYTES


def check_part_number(number: int) -> int:
    if not 1 <= number <= MAX_PARTS:
        raise ValueError(gettext("Part numbers go from 1 to 10000."))
    return number


def normalize_etag(etag: str) -> str:
    """Browsers hand back the ETag header as they got it; compare and send it in S3's quoted form."""
    return '"' + etag.strip().strip('"').lower() + '"'


def _check_part_order(parts: list[tuple[int, str]]) -> None:
    if not parts:
        raise InvalidParts(gettext("There are no parts to assemble."))
    numbers = [number for number, _etag in parts]
    if numbers != sorted(set(numbers)):
        raise InvalidParts(gettext("List the parts in ascending order, each once."))


def _part_mismatch(number: int) -> InvalidParts:
    return InvalidParts(
        gettext("Part %(number)s is missing or its ETag does not match the uploaded part.")
        % {"number": number}
    )


# --- The interface --------------------------------------------------------------------------------


class MediaStore(Protocol):
    """What the screening app may do with its media, whichever backend holds it."""

    @property
    def presigns_downloads(self) -> bool:
        """True when ``signed_get_url`` points at the object store itself (S3), not at this app."""
        ...

    def put_file(self, key: str, path: Path, content_type: str) -> None: ...

    def put_bytes(self, key: str, data: bytes, content_type: str) -> None: ...

    def download(self, key: str, dest: Path) -> None: ...

    def open_stream(self, key: str, chunk_size: int = CHUNK_BYTES) -> Iterator[bytes]: ...

    def size(self, key: str) -> int: ...

    def exists(self, key: str) -> bool: ...

    def delete_prefix(self, prefix: str) -> None: ...

    def list_prefix(self, prefix: str) -> list[str]: ...

    def signed_get_url(self, key: str, *, expires_in: int, content_type: str | None = None) -> str: ...

    def multipart_create(self, key: str, content_type: str) -> str: ...

    def multipart_part_url(self, key: str, upload_id: str, part_number: int, *, expires_in: int) -> str: ...

    def multipart_parts(self, key: str, upload_id: str) -> list[UploadedPart]: ...

    def multipart_complete(self, key: str, upload_id: str, parts: list[tuple[int, str]]) -> None: ...

    def multipart_abort(self, key: str, upload_id: str) -> None: ...


def media_store() -> MediaStore:
    """The store the settings choose; one instance per distinct configuration (tests change settings)."""
    return _store_for(
        settings.SCREENING_STORAGE,
        str(settings.SCREENING_MEDIA_ROOT),
        settings.SCREENING_S3_BUCKET,
        settings.SCREENING_S3_ENDPOINT_URL,
        settings.SCREENING_S3_REGION,
    )


@functools.lru_cache(maxsize=16)
def _store_for(kind: str, root: str, bucket: str, endpoint_url: str | None, region: str) -> MediaStore:
    if kind == "local":
        return LocalMediaStore(Path(root))
    if kind == "s3":
        if not bucket:
            raise ImproperlyConfigured("SCREENING_STORAGE is 's3' but SCREENING_S3_BUCKET is empty.")
        return S3MediaStore(bucket, region=region, endpoint_url=endpoint_url)
    raise ImproperlyConfigured(f"SCREENING_STORAGE must be 'local' or 's3', not {kind!r}.")


# --- Local files ----------------------------------------------------------------------------------

UPLOAD_ID = re.compile(r"^[A-Za-z0-9_-]{16,128}$")
PART_FILE = re.compile(r"^([0-9]{1,5})-([0-9a-f]{32})\.part$")
MD5_HEX = re.compile(r"^[0-9a-f]{32}$")
MANIFEST = "manifest.json"


def _file_chunks(handle: BinaryIO, chunk_size: int) -> Iterator[bytes]:
    with handle:
        while chunk := handle.read(chunk_size):
            yield chunk


class LocalMediaStore:
    """Objects under ``<root>/objects/<key>``; multipart uploads under ``<root>/multipart/<upload_id>/``.

    Each part is stored as ``<n>-<md5>.part``: the name carries the ETag, so listing the parts of a
    60 GB upload never re-reads it, and a part re-sent while an earlier attempt is still landing cannot
    leave a file whose name and content disagree. Every write goes to a temporary file on the same file
    system first and is renamed into place, so a reader never sees half an object.
    """

    presigns_downloads = False

    def __init__(self, root: Path) -> None:
        self.root = root
        self._objects = root / "objects"
        self._multipart = root / "multipart"
        self._tmp = root / "tmp"

    # Objects

    def object_path(self, key: str) -> Path:
        """The file behind ``key``; ValueError for a key that would land outside the store."""
        path = self._objects / validate_key(key)
        if not path.resolve().is_relative_to(self._objects.resolve()):
            raise ValueError(f"Unsafe object key: {key!r}")  # a symlink inside the store
        return path

    @contextmanager
    def _atomic_write(self, dest: Path) -> Iterator[BinaryIO]:
        self._tmp.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self._tmp, suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as handle:
                yield handle
            dest.parent.mkdir(parents=True, exist_ok=True)
            os.replace(tmp, dest)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def put_file(self, key: str, path: Path, content_type: str) -> None:
        """Copy a local file in. The content type is not stored: the blob view derives it from the key."""
        with self._atomic_write(self.object_path(key)) as out, path.open("rb") as src:
            shutil.copyfileobj(src, out, CHUNK_BYTES)

    def put_bytes(self, key: str, data: bytes, content_type: str) -> None:
        with self._atomic_write(self.object_path(key)) as out:
            out.write(data)

    def open_file(self, key: str) -> BinaryIO:
        """An open binary file for ``key`` (the blob view hands it to FileResponse)."""
        try:
            return self.object_path(key).open("rb")
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            raise ObjectNotFound(key) from None

    def download(self, key: str, dest: Path) -> None:
        dest.parent.mkdir(parents=True, exist_ok=True)
        with self.open_file(key) as src, dest.open("wb") as out:
            shutil.copyfileobj(src, out, CHUNK_BYTES)

    def open_stream(self, key: str, chunk_size: int = CHUNK_BYTES) -> Iterator[bytes]:
        """Chunks of the object; opened now, so a missing key raises here and not mid-response."""
        return _file_chunks(self.open_file(key), chunk_size)

    def size(self, key: str) -> int:
        path = self.object_path(key)
        if not path.is_file():
            raise ObjectNotFound(key)
        return path.stat().st_size

    def exists(self, key: str) -> bool:
        return self.object_path(key).is_file()

    def list_prefix(self, prefix: str) -> list[str]:
        """Keys starting with ``prefix`` (a plain string prefix, as in S3), sorted."""
        _validate_prefix(prefix, allow_empty=True)
        base = self._objects / prefix.rsplit("/", 1)[0] if "/" in prefix else self._objects
        if not base.is_dir():
            return []
        keys = (path.relative_to(self._objects).as_posix() for path in base.rglob("*") if path.is_file())
        return sorted(key for key in keys if key.startswith(prefix))

    def delete_prefix(self, prefix: str) -> None:
        """Delete every object under ``prefix``; the empty prefix is refused (it would empty the store)."""
        _validate_prefix(prefix, allow_empty=False)
        for key in self.list_prefix(prefix):
            path = self._objects / key
            path.unlink(missing_ok=True)
            self._prune_empty_dirs(path.parent)

    def _prune_empty_dirs(self, folder: Path) -> None:
        while folder != self._objects and folder.is_relative_to(self._objects):
            try:
                folder.rmdir()
            except OSError:
                return  # not empty (or already gone): stop climbing
            folder = folder.parent

    def signed_get_url(self, key: str, *, expires_in: int, content_type: str | None = None) -> str:
        """``/screening/blob/<key>?[ct=..&]exp=..&sig=..``, relative to this site."""
        validate_key(key)
        path = reverse("screening_storage:blob", kwargs={"key": key})
        query = urlencode({"ct": content_type}) + "&" if content_type else ""
        signature = sign_path(path, expires_at=expiry_from_now(expires_in), extra=content_type or "")
        return f"{path}?{query}{signature}"

    # Multipart uploads

    def _upload_dir(self, key: str, upload_id: str) -> Path:
        """The folder of an open upload of ``key``; UploadNotFound otherwise (ids are never paths)."""
        validate_key(key)
        if not UPLOAD_ID.match(upload_id):
            raise UploadNotFound(upload_id)
        folder = self._multipart / upload_id
        try:
            manifest = json.loads((folder / MANIFEST).read_text())
        except (OSError, ValueError):
            raise UploadNotFound(upload_id) from None
        if manifest.get("key") != key:
            raise UploadNotFound(upload_id)
        return folder

    def multipart_create(self, key: str, content_type: str) -> str:
        validate_key(key)
        upload_id = secrets.token_urlsafe(24)
        folder = self._multipart / upload_id
        folder.mkdir(parents=True)
        manifest = {"key": key, "content_type": content_type, "created_at": int(time.time())}
        (folder / MANIFEST).write_text(json.dumps(manifest))
        return upload_id

    def multipart_part_url(self, key: str, upload_id: str, part_number: int, *, expires_in: int) -> str:
        """``/screening/upload-part/<upload_id>/<n>?key=..&exp=..&sig=..``; the signature covers all three."""
        validate_key(key)
        check_part_number(part_number)
        path = reverse("screening_storage:upload-part", kwargs={"upload_id": upload_id, "n": part_number})
        signature = sign_path(path, expires_at=expiry_from_now(expires_in), extra=key)
        return f"{path}?{urlencode({'key': key})}&{signature}"

    def multipart_write_part(
        self,
        key: str,
        upload_id: str,
        part_number: int,
        chunks: Iterable[bytes],
        *,
        max_bytes: int,
        expected_size: int | None = None,
    ) -> UploadedPart:
        """Store one part from a stream of chunks, hashing as it goes; what S3 does for a part PUT."""
        folder = self._upload_dir(key, upload_id)
        check_part_number(part_number)
        digest = hashlib.md5(usedforsecurity=False)
        size = 0
        try:
            fd, tmp = tempfile.mkstemp(dir=folder, suffix=".tmp")
        except FileNotFoundError:
            raise UploadNotFound(upload_id) from None  # aborted or completed meanwhile
        try:
            with os.fdopen(fd, "wb") as out:
                for chunk in chunks:
                    size += len(chunk)
                    if size > max_bytes:
                        raise PartTooLarge(
                            gettext("A part may not exceed %(bytes)s bytes.") % {"bytes": max_bytes}
                        )
                    digest.update(chunk)
                    out.write(chunk)
            if expected_size is not None and size != expected_size:
                raise IncompletePart(gettext("The part ended before its announced length."))
            final = folder / f"{part_number}-{digest.hexdigest()}.part"
            os.replace(tmp, final)
        except FileNotFoundError:
            raise UploadNotFound(upload_id) from None
        finally:
            Path(tmp).unlink(missing_ok=True)
        self._drop_older_copies(folder, part_number, final)
        return UploadedPart(part_number, f'"{digest.hexdigest()}"', size)

    def _drop_older_copies(self, folder: Path, part_number: int, keep: Path) -> None:
        """A part re-sent with other bytes replaces the earlier copy; only strictly older copies go, so two
        attempts landing at once both cannot delete each other."""
        try:
            newest = keep.stat().st_mtime_ns
            for other in folder.glob(f"{part_number}-*.part"):
                if other != keep and other.stat().st_mtime_ns < newest:
                    other.unlink(missing_ok=True)
        except FileNotFoundError:
            pass  # the upload was completed or aborted meanwhile

    def _part_files(self, folder: Path) -> dict[int, tuple[int, int, str]]:
        """Part number -> (mtime, size, md5) of its newest copy."""
        newest: dict[int, tuple[int, int, str]] = {}
        for path in folder.iterdir():
            match = PART_FILE.match(path.name)
            if not match:
                continue
            try:
                stat = path.stat()
            except FileNotFoundError:
                continue
            number = int(match[1])
            if number not in newest or stat.st_mtime_ns > newest[number][0]:
                newest[number] = (stat.st_mtime_ns, stat.st_size, match[2])
        return newest

    def multipart_parts(self, key: str, upload_id: str) -> list[UploadedPart]:
        folder = self._upload_dir(key, upload_id)
        try:
            files = self._part_files(folder)
        except FileNotFoundError:
            raise UploadNotFound(upload_id) from None
        return [UploadedPart(n, f'"{md5}"', size) for n, (_mtime, size, md5) in sorted(files.items())]

    def multipart_complete(self, key: str, upload_id: str, parts: list[tuple[int, str]]) -> None:
        """Check every ETag, then concatenate the parts into the object in one rename."""
        folder = self._upload_dir(key, upload_id)
        _check_part_order(parts)
        sources = []
        for number, etag in parts:
            md5 = normalize_etag(etag).strip('"')
            path = folder / f"{number}-{md5}.part"
            if not MD5_HEX.match(md5) or not path.is_file():
                raise _part_mismatch(number)
            sources.append(path)
        try:
            with self._atomic_write(self.object_path(key)) as out:
                for path in sources:
                    with path.open("rb") as src:
                        shutil.copyfileobj(src, out, CHUNK_BYTES)
        except FileNotFoundError:
            raise UploadNotFound(upload_id) from None  # completed or aborted by a concurrent request
        shutil.rmtree(folder, ignore_errors=True)

    def multipart_abort(self, key: str, upload_id: str) -> None:
        """Drop the parts. Aborting an upload that is already gone is not an error."""
        try:
            folder = self._upload_dir(key, upload_id)
        except UploadNotFound:
            return
        shutil.rmtree(folder, ignore_errors=True)


# --- S3 -------------------------------------------------------------------------------------------


def _error_code(error: Exception) -> str:
    response: dict[str, Any] = getattr(error, "response", None) or {}
    return str(response.get("Error", {}).get("Code", ""))


def _s3_body_chunks(body: Any, chunk_size: int) -> Iterator[bytes]:
    try:
        yield from body.iter_chunks(chunk_size)
    finally:
        body.close()


class S3MediaStore:
    """A private bucket, read and written with boto3; browsers only ever get presigned URLs.

    Credentials come from the environment the way boto3 reads them (variables, instance role...). With
    an endpoint URL (moto in tests, MinIO, another S3-compatible service) addressing is path-style, so
    the bucket name needs no DNS.
    """

    presigns_downloads = True
    list_parts_page_size = 1000  # S3's maximum; tests lower it to see pagination with a few parts

    def __init__(self, bucket: str, *, region: str, endpoint_url: str | None) -> None:
        import boto3
        from botocore.config import Config

        options: dict[str, Any] = {
            "signature_version": "s3v4",
            "retries": {"max_attempts": 5, "mode": "standard"},
            "connect_timeout": 10,
            "read_timeout": 60,
        }
        if endpoint_url:
            options["s3"] = {"addressing_style": "path"}
        # A session per store: boto3's default session is not safe to share between threads.
        session = boto3.session.Session()
        self.bucket = bucket
        self.client = session.client(
            "s3", region_name=region, endpoint_url=endpoint_url, config=Config(**options)
        )

    def _client_error(self) -> type[Exception]:
        return self.client.exceptions.ClientError

    # Objects

    def put_file(self, key: str, path: Path, content_type: str) -> None:
        """Upload a file; boto3 switches to a multipart upload by itself for large ones."""
        validate_key(key)
        self.client.upload_file(str(path), self.bucket, key, ExtraArgs={"ContentType": content_type})

    def put_bytes(self, key: str, data: bytes, content_type: str) -> None:
        validate_key(key)
        self.client.put_object(Bucket=self.bucket, Key=key, Body=data, ContentType=content_type)

    def download(self, key: str, dest: Path) -> None:
        validate_key(key)
        dest.parent.mkdir(parents=True, exist_ok=True)
        try:
            self.client.download_file(self.bucket, key, str(dest))
        except self._client_error() as error:
            if _error_code(error) in {"404", "NoSuchKey"}:
                raise ObjectNotFound(key) from None
            raise

    def open_stream(self, key: str, chunk_size: int = CHUNK_BYTES) -> Iterator[bytes]:
        """Chunks of the object; the GET happens now, so a missing key raises here."""
        validate_key(key)
        try:
            response = self.client.get_object(Bucket=self.bucket, Key=key)
        except self.client.exceptions.NoSuchKey:
            raise ObjectNotFound(key) from None
        return _s3_body_chunks(response["Body"], chunk_size)

    def _head(self, key: str) -> dict[str, Any] | None:
        validate_key(key)
        try:
            return self.client.head_object(Bucket=self.bucket, Key=key)
        except self._client_error() as error:
            if _error_code(error) in {"404", "NoSuchKey"}:
                return None
            raise

    def size(self, key: str) -> int:
        head = self._head(key)
        if head is None:
            raise ObjectNotFound(key)
        return int(head["ContentLength"])

    def exists(self, key: str) -> bool:
        return self._head(key) is not None

    def list_prefix(self, prefix: str) -> list[str]:
        _validate_prefix(prefix, allow_empty=True)
        pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix)
        return sorted(item["Key"] for page in pages for item in page.get("Contents", []))

    def delete_prefix(self, prefix: str) -> None:
        _validate_prefix(prefix, allow_empty=False)
        keys = self.list_prefix(prefix)
        for start in range(0, len(keys), 1000):  # DeleteObjects takes at most 1000 keys
            batch = [{"Key": key} for key in keys[start : start + 1000]]
            response = self.client.delete_objects(
                Bucket=self.bucket, Delete={"Objects": batch, "Quiet": True}
            )
            if response.get("Errors"):
                raise StorageError(f"S3 refused to delete {len(response['Errors'])} objects under {prefix!r}")

    def signed_get_url(self, key: str, *, expires_in: int, content_type: str | None = None) -> str:
        validate_key(key)
        params = {"Bucket": self.bucket, "Key": key}
        if content_type:
            params["ResponseContentType"] = content_type
        return str(self.client.generate_presigned_url("get_object", Params=params, ExpiresIn=expires_in))

    # Multipart uploads

    def multipart_create(self, key: str, content_type: str) -> str:
        validate_key(key)
        response = self.client.create_multipart_upload(Bucket=self.bucket, Key=key, ContentType=content_type)
        return str(response["UploadId"])

    def multipart_part_url(self, key: str, upload_id: str, part_number: int, *, expires_in: int) -> str:
        """A presigned UploadPart URL: the browser PUTs the raw bytes with no extra headers."""
        validate_key(key)
        check_part_number(part_number)
        params = {"Bucket": self.bucket, "Key": key, "UploadId": upload_id, "PartNumber": part_number}
        return str(self.client.generate_presigned_url("upload_part", Params=params, ExpiresIn=expires_in))

    def multipart_parts(self, key: str, upload_id: str) -> list[UploadedPart]:
        validate_key(key)
        paginator = self.client.get_paginator("list_parts")
        try:
            pages = list(
                paginator.paginate(
                    Bucket=self.bucket,
                    Key=key,
                    UploadId=upload_id,
                    PaginationConfig={"PageSize": self.list_parts_page_size},
                )
            )
        except self.client.exceptions.NoSuchUpload:
            raise UploadNotFound(upload_id) from None
        return [
            UploadedPart(int(part["PartNumber"]), normalize_etag(part["ETag"]), int(part["Size"]))
            for page in pages
            for part in page.get("Parts", [])
        ]

    def multipart_complete(self, key: str, upload_id: str, parts: list[tuple[int, str]]) -> None:
        validate_key(key)
        _check_part_order(parts)
        listed = [{"PartNumber": number, "ETag": normalize_etag(etag)} for number, etag in parts]
        try:
            self.client.complete_multipart_upload(
                Bucket=self.bucket, Key=key, UploadId=upload_id, MultipartUpload={"Parts": listed}
            )
        except self._client_error() as error:
            code = _error_code(error)
            if code == "NoSuchUpload":
                raise UploadNotFound(upload_id) from None
            if code in {"InvalidPart", "InvalidPartOrder"}:
                raise InvalidParts(
                    gettext("A part is missing or its ETag does not match the uploaded part.")
                ) from None
            if code == "EntityTooSmall":
                raise InvalidParts(gettext("Every part but the last must be at least 5 MB.")) from None
            raise

    def multipart_abort(self, key: str, upload_id: str) -> None:
        """Drop the parts. Aborting an upload that is already gone is not an error."""
        validate_key(key)
        try:
            self.client.abort_multipart_upload(Bucket=self.bucket, Key=key, UploadId=upload_id)
        except self.client.exceptions.NoSuchUpload:
            return

    # Deployment

    def configure_upload_cors(self, allowed_origins: list[str]) -> None:
        """Let the site's pages PUT parts and GET segments cross-origin, and read each part's ETag.

        Without ``ExposeHeaders: ETag`` the browser hides the ETag of a cross-origin response and the
        upload can never be completed.
        """
        rule = {
            "AllowedOrigins": allowed_origins,
            "AllowedMethods": ["GET", "PUT"],
            "AllowedHeaders": ["*"],
            "ExposeHeaders": ["ETag"],
            "MaxAgeSeconds": 3600,
        }
        self.client.put_bucket_cors(Bucket=self.bucket, CORSConfiguration={"CORSRules": [rule]})
