"""S3's check of presigned URLs, put in front of moto's server because moto does not make it.

Found with moto 5.2.5 (see the report in tests/screening/storage/test_s3_store.py): by default moto
serves a presigned URL whatever its signature or expiry (a tampered or expired URL gets 200), and with
its IAM emulation switched on (``INITIAL_NO_AUTH_ACTION_COUNT=0``) every presigned request fails with a
500, because that code path only reads the ``Authorization`` header.

This WSGI middleware verifies SigV4 query-string authentication as S3 documents it
(https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-query-string-auth.html), written from the
specification rather than with botocore's signer, so it is an independent judge of the URLs the store
makes. Requests without ``X-Amz-Signature`` (boto3's own calls, which sign a header, and anonymous
requests) go to moto untouched, so moto's own refusals are still what the anonymous-access tests see.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, quote

StartResponse = Callable[..., Any]
WsgiApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]
MAX_EXPIRES = 7 * 24 * 3600


def _uri_encode(value: str) -> str:
    return quote(value, safe="-_.~")


def _hmac(key: bytes, message: str) -> bytes:
    return hmac.new(key, message.encode(), hashlib.sha256).digest()


def _header(environ: dict[str, Any], name: str) -> str:
    if name == "content-type":
        return str(environ.get("CONTENT_TYPE", ""))
    if name == "content-length":
        return str(environ.get("CONTENT_LENGTH", ""))
    return str(environ.get("HTTP_" + name.upper().replace("-", "_"), ""))


class PresignedUrlGate:
    """Refuses presigned requests whose signature does not match or whose time is up, like S3 does."""

    def __init__(self, app: WsgiApp, *, access_key: str, secret_key: str) -> None:
        self.app = app
        self.access_key = access_key
        self.secret_key = secret_key
        self.clock: Callable[[], datetime] = lambda: datetime.now(UTC)

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        pairs = parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True)
        if "X-Amz-Signature" not in dict(pairs) or environ["REQUEST_METHOD"] == "OPTIONS":
            # S3 answers CORS preflights from the bucket's CORS rules, without authenticating them.
            return self.app(environ, start_response)
        refusal = self.refusal(environ, pairs)
        if refusal is None:
            return self.app(environ, start_response)
        length = int(environ.get("CONTENT_LENGTH") or 0)
        if length:
            environ["wsgi.input"].read(length)  # drain, so the client reads our answer
        body = (
            f'<?xml version="1.0" encoding="UTF-8"?>\n'
            f"<Error><Code>{refusal[0]}</Code><Message>{refusal[1]}</Message></Error>"
        ).encode()
        start_response(
            "403 Forbidden", [("Content-Type", "application/xml"), ("Content-Length", str(len(body)))]
        )
        return [body]

    def refusal(self, environ: dict[str, Any], pairs: list[tuple[str, str]]) -> tuple[str, str] | None:
        """(S3 error code, message), or None when the URL is genuine and in date."""
        params = dict(pairs)
        try:
            access_key, day, region, service, terminator = params["X-Amz-Credential"].split("/")
            signed_at = datetime.strptime(params["X-Amz-Date"], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
            expires = int(params["X-Amz-Expires"])
            signed_headers = params["X-Amz-SignedHeaders"]
        except (KeyError, ValueError):
            return ("AuthorizationQueryParametersError", "Malformed query-string authentication.")
        if params.get("X-Amz-Algorithm") != "AWS4-HMAC-SHA256" or terminator != "aws4_request":
            return ("AuthorizationQueryParametersError", "Only AWS4-HMAC-SHA256 is supported.")
        if access_key != self.access_key:
            return ("InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist in our records.")
        if not 1 <= expires <= MAX_EXPIRES:
            return ("AuthorizationQueryParametersError", "X-Amz-Expires must be between 1 and 604800.")
        if self.clock() > signed_at + timedelta(seconds=expires):
            return ("AccessDenied", "Request has expired")
        scope = f"{day}/{region}/{service}/aws4_request"
        expected = self.signature(environ, pairs, signed_headers, params["X-Amz-Date"], scope)
        if not hmac.compare_digest(expected, params["X-Amz-Signature"]):
            return ("SignatureDoesNotMatch", "The request signature we calculated does not match.")
        return None

    def signature(
        self,
        environ: dict[str, Any],
        pairs: list[tuple[str, str]],
        signed_headers: str,
        amz_date: str,
        scope: str,
    ) -> str:
        raw_path = str(environ.get("RAW_URI") or environ.get("REQUEST_URI") or environ["PATH_INFO"]).split(
            "?"
        )[0]
        query = "&".join(
            f"{name}={value}"
            for name, value in sorted(
                (_uri_encode(k), _uri_encode(v)) for k, v in pairs if k != "X-Amz-Signature"
            )
        )
        names = signed_headers.split(";")
        headers = "".join(f"{name}:{_header(environ, name).strip()}\n" for name in names)
        canonical = "\n".join(
            [environ["REQUEST_METHOD"], raw_path, query, headers, signed_headers, "UNSIGNED-PAYLOAD"]
        )
        to_sign = "\n".join(
            ["AWS4-HMAC-SHA256", amz_date, scope, hashlib.sha256(canonical.encode()).hexdigest()]
        )
        day, region, service, _terminator = scope.split("/")
        key = _hmac(("AWS4" + self.secret_key).encode(), day)
        for part in (region, service, "aws4_request"):
            key = _hmac(key, part)
        return hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
