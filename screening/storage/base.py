"""The media store's interface, its errors, and the rules both back-ends keep alike (keys, parts, types).

Everything the screening app keeps (uploaded sources, packaged HLS ladders, suspect copies) goes through
``screening.storage.media_store()``, so the rest of the code never knows which back-end it talks to
(``local`` in the embedded default, ``s3`` in production). Both offer the same resumable multipart
upload that S3 offers: the browser asks the API for a signed URL per part, PUTs the bytes straight to it
(to S3 in production, to ``views.storage.upload_part`` locally), keeps the ETag of each part, and the
API completes the upload with the list of ETags.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple, Protocol

from django.conf import settings
from django.utils.translation import gettext

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


def validate_prefix(prefix: str, *, allow_empty: bool) -> str:
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


def check_part_order(parts: list[tuple[int, str]]) -> None:
    if not parts:
        raise InvalidParts(gettext("There are no parts to assemble."))
    numbers = [number for number, _etag in parts]
    if numbers != sorted(set(numbers)):
        raise InvalidParts(gettext("List the parts in ascending order, each once."))


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
