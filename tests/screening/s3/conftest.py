"""The S3 path: moto's standalone server on loopback, behind the presigned-URL signature gate."""

from tests.screening.storage.conftest import Moto, moto, s3_store  # noqa: F401 (fixtures shared with storage tests)
