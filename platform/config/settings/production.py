"""Production: PostgreSQL, Redis and S3, configured only from the environment.

Start processes with DJANGO_SETTINGS_MODULE=config.settings.production. Missing required variables fail
at start-up rather than silently falling back to the embedded defaults.
"""

import os

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403
from .base import (
    AUDIT_CHECKPOINT_KEY,
    AUDIT_SEAL_KEY,
    DATABASES,
    REDIS_URL,
    SCREENING_KEY_ENCRYPTION_KEY,
    SECRET_KEY,
)
from .embedded_secrets import is_development_secret

for required in (
    "DATABASE_URL",
    "REDIS_URL",
    "SECRET_KEY",
    "AUDIT_SEAL_KEY",
    "AUDIT_CHECKPOINT_KEY",
    "ALLOWED_HOSTS",
    "SCREENING_KEY_ENCRYPTION_KEY",
):
    if not os.environ.get(required):
        raise ImproperlyConfigured(f"{required} must be set in production")
if DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
    raise ImproperlyConfigured("Production runs on PostgreSQL: DATABASE_URL must be postgres://...")
if not REDIS_URL:
    raise ImproperlyConfigured("Production needs REDIS_URL")
# A development secret (made by the embedded default, marked "insecure-embedded-", or any "insecure" key
# such as Django's "django-insecure-...") copied into the environment is refused like a missing one.
for name, value in (
    ("SECRET_KEY", SECRET_KEY),
    ("AUDIT_SEAL_KEY", AUDIT_SEAL_KEY),
    ("AUDIT_CHECKPOINT_KEY", AUDIT_CHECKPOINT_KEY),
    ("SCREENING_KEY_ENCRYPTION_KEY", SCREENING_KEY_ENCRYPTION_KEY),
):
    if is_development_secret(value):
        raise ImproperlyConfigured(f"{name} is a development key: production needs a secret of its own")

DEBUG = False
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = True
SECURE_HSTS_SECONDS = 365 * 24 * 3600
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
# The language cookie too: HTTPS only, not sent on cross-site requests, out of reach of scripts (none reads
# it: the pages carry their language in <html lang>).
LANGUAGE_COOKIE_SECURE = True
LANGUAGE_COOKIE_SAMESITE = "Lax"
LANGUAGE_COOKIE_HTTPONLY = True
EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.smtp.EmailBackend")

if os.environ.get("AWS_STORAGE_BUCKET_NAME"):
    STORAGES = {
        "default": {"BACKEND": "storages.backends.s3.S3Storage"},
        "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
    }
