"""The S3 media store of production: a private bucket, read and written with boto3."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from django.utils.translation import gettext

from screening.storage.base import (
    CHUNK_BYTES,
    InvalidParts,
    ObjectNotFound,
    StorageError,
    UploadedPart,
    UploadNotFound,
    check_part_number,
    check_part_order,
    normalize_etag,
    validate_key,
    validate_prefix,
)


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
        # boto3 and botocore (tens of MB) load only in processes configured for S3, never in the
        # embedded default's.
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
        validate_prefix(prefix, allow_empty=True)
        pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix)
        return sorted(item["Key"] for page in pages for item in page.get("Contents", []))

    def delete_prefix(self, prefix: str) -> None:
        validate_prefix(prefix, allow_empty=False)
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
        check_part_order(parts)
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
