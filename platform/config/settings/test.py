"""Settings for the test suite: the base settings, with fast hashing and in-process side effects."""

import os

from .base import *  # noqa: F403
from .base import CHANNEL_LAYERS, DATABASES, STATIC_ROOT

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
CELERY_TASK_ALWAYS_EAGER = True
CELERY_TASK_EAGER_PROPAGATES = True
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
if "pool" in DATABASES["default"].get("OPTIONS", {}):
    # Test transactions and the pool do not mix: tests hold one connection per process.
    del DATABASES["default"]["OPTIONS"]["pool"]

STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # WhiteNoise warns about a missing folder otherwise

if "CONFIG" in CHANNEL_LAYERS["default"]:
    # Parallel test processes share one Redis, and their test databases number offers alike: each process
    # keeps its groups to itself.
    CHANNEL_LAYERS["default"]["CONFIG"]["prefix"] = f"asgi-test-{os.getpid()}"

# A test's data lives in a transaction the event loop's own pool cannot see (and each test's loop would
# leave a pool open): sockets write through Django. tests/offers/test_thread_async_writes.py turns it on
# with committed data and closes the pool.
THREAD_ASYNC_WRITES = False
