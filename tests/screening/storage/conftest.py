"""Fixtures for the storage layer: a local store in a temporary folder, and S3 on moto's server.

The storage URLs are served from a URLconf of their own (``tests.screening.storage.urls``, mounted at
``/screening/`` as the site does), so these tests do not depend on the rest of the site's views.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config
from moto.server import ThreadedMotoServer

from screening.storage import LocalMediaStore, S3MediaStore, media_store
from tests.screening.storage.sigv4_gate import PresignedUrlGate

ACCESS_KEY = "AKIATESTSCREENERS000"
SECRET_KEY = "test-secret-key-for-moto-only"
REGION = "eu-west-3"


@pytest.fixture(autouse=True)
def _storage_urls(settings: Any) -> None:
    settings.ROOT_URLCONF = "tests.screening.storage.urls"


@pytest.fixture
def local_store(settings: Any, tmp_path: Path) -> LocalMediaStore:
    settings.SCREENING_STORAGE = "local"
    settings.SCREENING_MEDIA_ROOT = tmp_path / "screening"
    store = media_store()
    assert isinstance(store, LocalMediaStore)
    return store


@dataclass
class Moto:
    endpoint: str
    gate: PresignedUrlGate


@pytest.fixture(scope="session")
def moto() -> Iterator[Moto]:
    """moto's S3 on 127.0.0.1 (a port the OS picks), behind the presigned-URL gate (see sigv4_gate.py)."""
    with pytest.MonkeyPatch.context() as env:
        env.setenv("AWS_ACCESS_KEY_ID", ACCESS_KEY)
        env.setenv("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
        env.delenv("AWS_SESSION_TOKEN", raising=False)
        env.delenv("AWS_PROFILE", raising=False)
        env.setenv("AWS_EC2_METADATA_DISABLED", "true")
        server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        server.start()
        # ThreadedMotoServer exposes no hook for WSGI middleware; werkzeug reads `server.app` per request.
        wsgi_server = server._server
        assert wsgi_server is not None
        gate = PresignedUrlGate(wsgi_server.app, access_key=ACCESS_KEY, secret_key=SECRET_KEY)
        wsgi_server.app = gate
        host, port = server.get_host_and_port()
        try:
            yield Moto(endpoint=f"http://{host}:{port}", gate=gate)
        finally:
            server.stop()


@functools.cache
def admin_client(endpoint: str) -> Any:
    """A plain boto3 client for what the tests do behind the store's back (create buckets, set ACLs)."""
    config = Config(signature_version="s3v4", s3={"addressing_style": "path"})
    return boto3.session.Session().client("s3", region_name=REGION, endpoint_url=endpoint, config=config)


@pytest.fixture
def s3_store(settings: Any, moto: Moto) -> S3MediaStore:
    """A store on a fresh bucket of its own, so tests run in any order and on any xdist worker."""
    bucket = f"screeners-{uuid.uuid4().hex[:16]}"
    admin_client(moto.endpoint).create_bucket(
        Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": REGION}
    )
    settings.SCREENING_STORAGE = "s3"
    settings.SCREENING_S3_BUCKET = bucket
    settings.SCREENING_S3_ENDPOINT_URL = moto.endpoint
    settings.SCREENING_S3_REGION = REGION
    store = media_store()
    assert isinstance(store, S3MediaStore)
    return store
