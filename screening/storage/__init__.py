"""The one storage layer for screeners: local files in the embedded default, S3 in production.

``media_store()`` is the store the settings choose; ``base`` holds the interface (``MediaStore``), its
errors and the rules both back-ends keep alike, ``local`` and ``s3`` the two back-ends.

Nothing in the store is reachable without a signature: S3 objects stay private and are read through
presigned URLs; local objects are served only by ``views.storage.blob`` for a URL signed by
``screening.signing``.
"""

from __future__ import annotations

import functools
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from screening.storage.base import (
    CHUNK_BYTES,
    MAX_PARTS,
    IncompletePart,
    InvalidParts,
    MediaStore,
    ObjectNotFound,
    PartTooLarge,
    StorageError,
    UploadedPart,
    UploadNotFound,
    content_type_for,
    max_part_bytes,
    validate_key,
)
from screening.storage.local import LocalMediaStore
from screening.storage.s3 import S3MediaStore

__all__ = [
    "CHUNK_BYTES",
    "MAX_PARTS",
    "IncompletePart",
    "InvalidParts",
    "LocalMediaStore",
    "MediaStore",
    "ObjectNotFound",
    "PartTooLarge",
    "S3MediaStore",
    "StorageError",
    "UploadNotFound",
    "UploadedPart",
    "content_type_for",
    "local_store",
    "max_part_bytes",
    "media_store",
    "validate_key",
]


def media_store() -> MediaStore:
    """The store the settings choose; one instance per distinct configuration (tests change settings)."""
    return _store_for(
        settings.SCREENING_STORAGE,
        str(settings.SCREENING_MEDIA_ROOT),
        settings.SCREENING_S3_BUCKET,
        settings.SCREENING_S3_ENDPOINT_URL,
        settings.SCREENING_S3_REGION,
    )


def local_store() -> LocalMediaStore | None:
    """The store when it is the local one (whose objects the app serves itself), else None."""
    store = media_store()
    return store if isinstance(store, LocalMediaStore) else None


@functools.lru_cache(maxsize=16)
def _store_for(kind: str, root: str, bucket: str, endpoint_url: str | None, region: str) -> MediaStore:
    if kind == "local":
        return LocalMediaStore(Path(root))
    if kind == "s3":
        if not bucket:
            raise ImproperlyConfigured("SCREENING_STORAGE is 's3' but SCREENING_S3_BUCKET is empty.")
        return S3MediaStore(bucket, region=region, endpoint_url=endpoint_url)
    raise ImproperlyConfigured(f"SCREENING_STORAGE must be 'local' or 's3', not {kind!r}.")
