"""The local media store of the embedded default: objects and multipart uploads as files.

Local objects live outside any static or media root and are served only by ``views.storage.blob`` for a
URL signed by ``screening.signing``, as S3 serves a presigned URL.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import secrets
import shutil
import tempfile
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO
from urllib.parse import urlencode

from django.urls import reverse
from django.utils.translation import gettext

from screening.signing import expiry_from_now, sign_path
from screening.storage.base import (
    CHUNK_BYTES,
    IncompletePart,
    InvalidParts,
    ObjectNotFound,
    PartTooLarge,
    UploadedPart,
    UploadNotFound,
    check_part_number,
    check_part_order,
    normalize_etag,
    validate_key,
    validate_prefix,
)

UPLOAD_ID = re.compile(r"^[A-Za-z0-9_-]{16,128}$")
PART_FILE = re.compile(r"^([0-9]{1,5})-([0-9a-f]{32})\.part$")
MD5_HEX = re.compile(r"^[0-9a-f]{32}$")
MANIFEST = "manifest.json"


def _part_mismatch(number: int) -> InvalidParts:
    return InvalidParts(
        gettext("Part %(number)s is missing or its ETag does not match the uploaded part.")
        % {"number": number}
    )


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
        validate_prefix(prefix, allow_empty=True)
        base = self._objects / prefix.rsplit("/", 1)[0] if "/" in prefix else self._objects
        if not base.is_dir():
            return []
        keys = (path.relative_to(self._objects).as_posix() for path in base.rglob("*") if path.is_file())
        return sorted(key for key in keys if key.startswith(prefix))

    def delete_prefix(self, prefix: str) -> None:
        """Delete every object under ``prefix``; the empty prefix is refused (it would empty the store)."""
        validate_prefix(prefix, allow_empty=False)
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
        path = reverse("screening:storage:blob", kwargs={"key": key})
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
        path = reverse("screening:storage:upload-part", kwargs={"upload_id": upload_id, "n": part_number})
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
        check_part_order(parts)
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
