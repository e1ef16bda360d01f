"""The local store's two doors, standing in for S3's presigned GET and presigned UploadPart.

They exist only for the local backend: with S3 the browser talks to the bucket and these answer 404.
Both are authorised by the URL's signature alone, like S3's presigned URLs, so they need no session
and the part upload is exempt from CSRF (a forged cross-site request cannot know a signature).
A missing or wrong signature is a 404 that says nothing about whether the object exists.
"""

from __future__ import annotations

from collections.abc import Iterator

from django.http import FileResponse, HttpRequest, HttpResponse, HttpResponseBase, QueryDict
from django.urls import reverse
from django.utils.translation import gettext
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods

from screening.signing import SignatureExpired, SignatureInvalid, seconds_left, verify_path
from screening.storage import (
    CHUNK_BYTES,
    MAX_PARTS,
    IncompletePart,
    LocalMediaStore,
    ObjectNotFound,
    PartTooLarge,
    UploadNotFound,
    content_type_for,
    local_store,
    max_part_bytes,
)

TEXT = "text/plain; charset=utf-8"


def _text(status: int, message: str) -> HttpResponse:
    response = HttpResponse(message, status=status, content_type=TEXT)
    response["Cache-Control"] = "no-store"
    return response


def _not_found() -> HttpResponse:
    # Plain text, not the site's 404 page: cheap, and identical whether or not the object exists.
    return _text(404, gettext("Not found."))


def _signed_local_store(path: str, query: QueryDict, *, extra: str) -> LocalMediaStore | HttpResponse:
    """The local store when ``query`` carries a valid, unexpired signature of ``path`` and ``extra``;
    otherwise the refusal to answer (an expired link says so; anything else is a plain 404)."""
    try:
        verify_path(path, exp=query.get("exp", ""), sig=query.get("sig", ""), extra=extra)
    except SignatureExpired:
        return _text(403, gettext("This link has expired. Reload the page to get a new one."))
    except SignatureInvalid:
        return _not_found()
    store = local_store()
    return store if store is not None else _not_found()


@require_GET
def blob(request: HttpRequest, key: str) -> HttpResponseBase:
    """Serve one stored object for a signed ``/screening/blob/<key>?[ct=..&]exp=..&sig=..``."""
    content_type = request.GET.get("ct", "")
    # The path is rebuilt from the key, so how the client percent-encoded it does not matter.
    path = reverse("screening:storage:blob", kwargs={"key": key})
    store = _signed_local_store(path, request.GET, extra=content_type)
    if isinstance(store, HttpResponse):
        return store
    try:
        handle = store.open_file(key)
    except (ObjectNotFound, ValueError):
        return _not_found()
    response = FileResponse(handle, content_type=content_type or content_type_for(key))
    response["Cache-Control"] = f"private, max-age={seconds_left(request.GET['exp'])}"
    return response


def _content_length(request: HttpRequest) -> int | None:
    try:
        length = int(request.META.get("CONTENT_LENGTH") or "")
    except ValueError:
        return None
    return length if length >= 0 else None


def _body_chunks(request: HttpRequest) -> Iterator[bytes]:
    """The request body in bounded chunks.

    ``request.read(n)`` and not ``request.body`` (which holds everything in memory and is capped by
    DATA_UPLOAD_MAX_MEMORY_SIZE) nor ``for line in request`` (which splits on newlines, and a binary part
    without one would come back as a single 32 MB "line").
    """
    while chunk := request.read(CHUNK_BYTES):
        yield chunk


@csrf_exempt
@require_http_methods(["PUT"])
def upload_part(request: HttpRequest, upload_id: str, n: int) -> HttpResponse:
    """Receive one part for a signed ``/screening/upload-part/<upload_id>/<n>?key=..&exp=..&sig=..``.

    Answers like S3's UploadPart: 200 with the part's MD5 as a quoted ``ETag``.
    """
    key = request.GET.get("key", "")
    path = reverse("screening:storage:upload-part", kwargs={"upload_id": upload_id, "n": n})
    store = _signed_local_store(path, request.GET, extra=key)
    if isinstance(store, HttpResponse):
        return store
    if not 1 <= n <= MAX_PARTS:
        return _text(400, gettext("Part numbers go from 1 to %(max)s.") % {"max": MAX_PARTS})
    length = _content_length(request)
    if length is None:
        return _text(411, gettext("Send the part with a Content-Length header."))
    limit = max_part_bytes()
    if length > limit:
        return _text(413, gettext("A part may not exceed %(bytes)s bytes.") % {"bytes": limit})
    try:
        part = store.multipart_write_part(
            key, upload_id, n, _body_chunks(request), max_bytes=limit, expected_size=length
        )
    except PartTooLarge as error:
        return _text(413, str(error))
    except IncompletePart as error:
        return _text(400, str(error))
    except (UploadNotFound, ValueError):
        return _not_found()
    response = HttpResponse(status=200)
    response["ETag"] = part.etag
    response["Access-Control-Expose-Headers"] = "ETag"
    response["Cache-Control"] = "no-store"
    return response
