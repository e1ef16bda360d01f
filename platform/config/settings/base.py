"""Settings for every environment, read from environment variables with embedded defaults.

The embedded default (no variables set) runs on one machine with nothing to install: SQLite, the
in-memory channel layer, a file-system Celery broker, local media storage and console email.
Set DATABASE_URL and REDIS_URL to run on PostgreSQL and Redis; production.py adds what a public
deployment needs on top of this file.
"""

import os
import warnings
from pathlib import Path
from typing import Any

import dj_database_url
import django_stubs_ext
from django.utils.translation import gettext_lazy as _

from config.settings.embedded_secrets import embedded_secret

# Lets Django classes be subscripted at run time (ModelForm[Film]) as django-stubs types them.
django_stubs_ext.monkeypatch()

BASE_DIR = Path(__file__).resolve().parents[3]
PLATFORM_DIR = BASE_DIR / "platform"
VAR_DIR = Path(os.environ.get("VAR_DIR", BASE_DIR / "var"))


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value else default


# Secrets come from the environment; the embedded default makes random ones on first start under
# VAR_DIR/secrets/ (mode 0600) and reuses them (embedded_secrets.py). None is a constant in the code.
SECRET_KEY = os.environ.get("SECRET_KEY") or embedded_secret(VAR_DIR, "secret_key")
# Key that seals audit entries (HMAC over each entry hash). Someone who can write to the database
# but does not hold this key cannot rebuild a consistent chain after tampering.
AUDIT_SEAL_KEY = os.environ.get("AUDIT_SEAL_KEY") or embedded_secret(VAR_DIR, "audit_seal_key")
# Signs the audit chain's published checkpoints (Ed25519; 32 bytes in urlsafe base64). Kept in the settings,
# never in the database, so that whoever can rewrite the database cannot sign a rewritten history.
AUDIT_CHECKPOINT_KEY = os.environ.get("AUDIT_CHECKPOINT_KEY") or embedded_secret(
    VAR_DIR, "audit_checkpoint_key"
)
AUDIT_CHECKPOINT_INTERVAL_SECONDS = env_int("AUDIT_CHECKPOINT_INTERVAL_SECONDS", 24 * 3600)
DEBUG = env_bool("DEBUG", False)
# Behind a proxy that sets X-Forwarded-For, its first hop is the client address recorded in the audit log.
AUDIT_TRUST_X_FORWARDED_FOR = env_bool("AUDIT_TRUST_X_FORWARDED_FOR", False)
ALLOWED_HOSTS = [h for h in os.environ.get("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver").split(",") if h]
CSRF_TRUSTED_ORIGINS = [o for o in os.environ.get("CSRF_TRUSTED_ORIGINS", "").split(",") if o]
SITE_URL = os.environ.get("SITE_URL", "http://127.0.0.1:8000")

# --- Payments: Stripe (test-mode keys for real; none: payments show as not configured) ----------------
STRIPE_SECRET_KEY = os.environ.get("STRIPE_SECRET_KEY", "")
STRIPE_WEBHOOK_SECRET = os.environ.get("STRIPE_WEBHOOK_SECRET", "")
STRIPE_API_BASE = os.environ.get("STRIPE_API_BASE", "")  # tests point it at a local Stripe-shaped server
STRIPE_WEBHOOK_TOLERANCE_SECONDS = 300  # a signature's timestamp may be this far off, either way

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_countries",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "allauth.headless",
    "channels",
    "audit",
    "accounts",
    "festival",
    "screening",
    "offers",
    "payments",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "audit.middleware.AuditContextMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "accounts.middleware.SessionIdleTimeoutMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "core.middleware.UntrustedInputMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "accounts.middleware.SecurityHeadersMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [PLATFORM_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "accounts.context_processors.account_status",
            ],
        },
    },
]

# --- Database -----------------------------------------------------------------------------------
DATABASE_URL = os.environ.get("DATABASE_URL") or f"sqlite:///{VAR_DIR / 'db.sqlite3'}"
DATABASES: dict[str, Any] = {
    "default": dj_database_url.parse(DATABASE_URL, conn_max_age=env_int("DB_CONN_MAX_AGE", 0))
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Under ASGI a persistent connection per thread leaks; psycopg's pool is the fix
    # (docs/architecture.md, figures).
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": env_int("DB_POOL_MIN", 2),
        "max_size": env_int("DB_POOL_MAX", 20),
        "timeout": 10,
    }
else:
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"timeout": 20, "transaction_mode": "IMMEDIATE", "init_command": "PRAGMA journal_mode=WAL;"}
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis: cache, channel layer, Celery -----------------------------------------------------------
REDIS_URL = os.environ.get("REDIS_URL", "")

if REDIS_URL:
    CACHES: dict[str, Any] = {"default": {"BACKEND": "core.cache.RedisCache", "LOCATION": REDIS_URL}}
    CHANNEL_LAYERS: dict[str, Any] = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {
                "hosts": [
                    {
                        "address": REDIS_URL,
                        "max_connections": env_int("CHANNEL_REDIS_MAX_CONN", 1000),
                        # No read timeout: redis-py 8's default 5 s equals channels_redis's blocking read
                        # and kills idle consumers (channels_redis issue #422); that read ends by itself.
                        # (30 s instead made closing an event loop hang on the pending read.)
                        "socket_timeout": None,
                        "socket_connect_timeout": 5,
                    }
                ],
                # Group messages beyond capacity are dropped silently: size it for bursts on purpose.
                "capacity": env_int("CHANNEL_CAPACITY", 1500),
                "expiry": 30,
                "group_expiry": 86400,
            },
        }
    }
    CELERY_BROKER_URL = REDIS_URL
else:
    # A file cache is shared by every process of `make run` (server and worker), so rate limits and
    # the TOTP replay guard hold across them; an in-process cache would not.
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "cache"),
        }
    }
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    CELERY_BROKER_URL = "filesystem://localhost/"  # a host named, or kombu warns on every start
    # The console email backend prints straight to the worker's output (not as a logged WARNING line)
    CELERY_WORKER_REDIRECT_STDOUTS = False
    for folder in ("queue", "processed", "control"):
        (VAR_DIR / "celery" / folder).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(VAR_DIR / "celery" / "queue"),
        "data_folder_out": str(VAR_DIR / "celery" / "queue"),
        "processed_folder": str(VAR_DIR / "celery" / "processed"),
        "store_processed": False,
        "control_folder": str(VAR_DIR / "celery" / "control"),
    }

CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True
# Negotiation messages written by each server's event loop through its own async PostgreSQL pool
# (offers.consumers); off falls back to Django's sync thread (slower under load, same results)
THREAD_ASYNC_WRITES = env_bool("THREAD_ASYNC_WRITES", True)
# Thread actions per user, over every socket and the REST API together (core.ratelimit)
THREAD_RATE_PER_SECOND = env_int("THREAD_RATE_PER_SECOND", 5)
THREAD_RATE_BURST = env_int("THREAD_RATE_BURST", 20)
# Logout and changes to an account reach its open sockets at once, through the channel layer, and a socket
# closes itself when its session's idle or absolute limit comes (accounts.socket_session). Beyond that, open
# sockets re-read their session this often (a safety net), and a plain message trusts a reading this
# recent: its one SQL statement re-checks the session row, the account, its password and TOTP itself.
# (At 1 s, a full re-read before nearly every message took the WebSocket benchmark's p99 to 36 s.)
SOCKET_SESSION_CHECK_SECONDS = env_int("SOCKET_SESSION_CHECK_SECONDS", 30)
SOCKET_SESSION_WRITE_CHECK_SECONDS = env_int("SOCKET_SESSION_WRITE_CHECK_SECONDS", 30)
# The demo's screener jobs (queue "demo", which `make run`'s worker also listens to)
CELERY_IMPORTS = ["screening.demo"]
# Run by `celery beat` (infra/run-embedded starts one beside the worker in `make run`)
CELERY_BEAT_SCHEDULE = {
    "release-due-instalments": {
        "task": "payments.tasks.release_due_instalments",
        "schedule": float(env_int("PAYMENTS_RELEASE_INTERVAL_SECONDS", 3600)),
    },
    "publish-audit-checkpoint": {
        "task": "audit.tasks.publish_checkpoint",
        "schedule": float(AUDIT_CHECKPOINT_INTERVAL_SECONDS),
    },
}
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celery" / "beat-schedule")

# --- Auth: allauth with verified email and TOTP ---------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "festival:home"
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_EMAIL_VERIFICATION_BY_CODE_ENABLED = False
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[Films in Progress] "
ACCOUNT_ADAPTER = "accounts.adapters.AccountAdapter"
ACCOUNT_SIGNUP_FORM_CLASS = "accounts.forms.SignupExtraForm"
ACCOUNT_RATE_LIMITS = {
    "login": "30/m/ip",
    "login_failed": "10/m/ip,5/5m/key",
    "signup": "20/m/ip",
    "reset_password": "20/m/ip,5/m/key",
    "reset_password_from_key": "20/m/ip",
    "confirm_email": "1/3m/key",
}
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = "Films in Progress"
HEADLESS_ONLY = False
HEADLESS_CLIENTS = ("app",)

# Sessions: new key at login (Django), 12 h absolute lifetime, 15 min idle timeout (middleware).
# Read through the cache (Redis in production), written through to the database.
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
SESSION_COOKIE_AGE = 12 * 3600
SESSION_IDLE_TIMEOUT_SECONDS = env_int("SESSION_IDLE_TIMEOUT_SECONDS", 15 * 60)
# Counted from the login, whatever the activity, for every kind of session (accounts.middleware)
SESSION_ABSOLUTE_LIFETIME_SECONDS = env_int("SESSION_ABSOLUTE_LIFETIME_SECONDS", SESSION_COOKIE_AGE)
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", False)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
LANGUAGE_COOKIE_SAMESITE = "Lax"
LANGUAGE_COOKIE_HTTPONLY = True
LANGUAGE_COOKIE_SECURE = SESSION_COOKIE_SECURE
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

# --- Email --------------------------------------------------------------------------------------
EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_FILE_PATH = os.environ.get("EMAIL_FILE_PATH", str(VAR_DIR / "mail"))
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = os.environ.get(
    "DEFAULT_FROM_EMAIL", "Films in Progress <no-reply@films-in-progress.test>"
)

# --- Internationalisation -----------------------------------------------------------------------
LANGUAGE_CODE = "en"
LANGUAGES = [("es", _("Spanish")), ("fr", _("French")), ("en", _("English"))]
LOCALE_PATHS = [PLATFORM_DIR / "locale"]
USE_I18N = True
TIME_ZONE = "UTC"
USE_TZ = True

# --- Static and media ---------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STATICFILES_DIRS = [PLATFORM_DIR / "static"]
# WhiteNoise (6.x) answers with a synchronous file iterator, which Django's ASGI handler reads in a thread
# and warns about once per process: expected here (static files are few and cached), not a fault to show.
warnings.filterwarnings(
    "ignore",
    message="StreamingHttpResponse must consume synchronous iterators",
    module="django.core.handlers.asgi",
)
# Files browsers ask for at the site's root (/favicon.ico, /apple-touch-icon.png), served by WhiteNoise
WHITENOISE_ROOT = PLATFORM_DIR / "static" / "root"
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", VAR_DIR / "media"))
MEDIA_URL = "/media/"
STORAGES: dict[str, Any] = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
POSTER_MAX_BYTES = env_int("POSTER_MAX_BYTES", 8 * 1024 * 1024)

# --- API ----------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "allauth.headless.contrib.rest_framework.authentication.XSessionTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["accounts.permissions.AccountReady"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.LimitOffsetPagination",
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "config.api.exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Films in Progress API",
    "DESCRIPTION": (
        "Accreditation, festival sessions and works in progress. Authenticate with a session cookie or "
        "with the X-Session-Token header obtained from allauth's headless app API under /_allauth/app/v1/."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "AccreditationCategoryEnum": "accounts.models.AccreditationCategory",
        "NeedCategoryEnum": "festival.models.NeedCategory",
        "CompanyTypeEnum": "accounts.models.CompanyType",
        "CountryEnum": "django_countries.countries",
        "FilmStageEnum": "festival.models.FilmStage",
        "CutStageEnum": "screening.models.CutStage",
    },
}

# --- Festival -----------------------------------------------------------------------------------
FESTIVAL_FILMS_PER_SESSION = env_int("FESTIVAL_FILMS_PER_SESSION", 6)
FESTIVAL_SCREENING_DAYS_AFTER_END = env_int("FESTIVAL_SCREENING_DAYS_AFTER_END", 30)

# --- Screening ---------------------------------------------------------------------------------
# Screeners live in their own store, never under MEDIA_ROOT and never served without a signature.
# "local" keeps them under SCREENING_MEDIA_ROOT; "s3" uses the bucket below (moto's server in tests).
SCREENING_STORAGE = os.environ.get(
    "SCREENING_STORAGE", "s3" if os.environ.get("AWS_STORAGE_BUCKET_NAME") else "local"
)
SCREENING_MEDIA_ROOT = Path(os.environ.get("SCREENING_MEDIA_ROOT", VAR_DIR / "screening"))
SCREENING_S3_BUCKET = os.environ.get("AWS_STORAGE_BUCKET_NAME", "")
SCREENING_S3_ENDPOINT_URL = os.environ.get("AWS_S3_ENDPOINT_URL") or None
SCREENING_S3_REGION = os.environ.get("AWS_S3_REGION_NAME", "us-east-1")
# Key-encryption key for the per-cut AES-128 keys: 32 bytes, urlsafe base64. Made on first start in the
# embedded default, like the secrets above; production.py requires it.
SCREENING_KEY_ENCRYPTION_KEY = os.environ.get("SCREENING_KEY_ENCRYPTION_KEY") or embedded_secret(
    VAR_DIR, "screening_key_encryption_key"
)
SCREENING_MAX_UPLOAD_BYTES = env_int("SCREENING_MAX_UPLOAD_BYTES", 60 * 1024**3)
SCREENING_MAX_DURATION_SECONDS = env_int("SCREENING_MAX_DURATION_SECONDS", 4 * 3600)
SCREENING_UPLOAD_PART_BYTES = env_int("SCREENING_UPLOAD_PART_BYTES", 32 * 1024**2)
SCREENING_SEGMENT_SECONDS = env_int("SCREENING_SEGMENT_SECONDS", 2)  # one A/B symbol each (docs/forensics.md)
SCREENING_GRANT_TTL_SECONDS = env_int("SCREENING_GRANT_TTL_SECONDS", 4 * 3600)
SCREENING_URL_TTL_SECONDS = env_int("SCREENING_URL_TTL_SECONDS", 120)
SCREENING_HEARTBEAT_SECONDS = env_int("SCREENING_HEARTBEAT_SECONDS", 15)
SCREENING_REPORT_RETENTION_DAYS = env_int("SCREENING_REPORT_RETENTION_DAYS", 365)
# The pace of one grant's fetches (screening.pace): a burst for the start and seeks, then a sustained rate
SCREENING_PACE_BURST_SECONDS = env_int("SCREENING_PACE_BURST_SECONDS", 180)  # seconds of film
SCREENING_PACE_REALTIME_FACTOR = env_int("SCREENING_PACE_REALTIME_FACTOR", 4)  # times real time
SCREENING_PACE_RECORD_SECONDS = 10  # a refused grant's record is written at most this often
# Forensic tracing (docs/forensics.md): a suspect copy names a viewing only when the chance that any
# innocent grant of the cut scores as well is below this; and how large a suspect file may be.
FORENSICS_NAMING_THRESHOLD = 1e-6
FORENSICS_MAX_SUSPECT_BYTES = env_int("FORENSICS_MAX_SUSPECT_BYTES", 16 * 1024**3)
FFMPEG_BINARY = os.environ.get("FFMPEG_BINARY", "")
CSP_MEDIA_ORIGINS = [
    o for o in os.environ.get("CSP_MEDIA_ORIGINS", SCREENING_S3_ENDPOINT_URL or "").split(",") if o
]

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    # Refusals (4xx) are answers, not faults: only server errors are logged from django.request
    "loggers": {"django.db.backends": {"level": "WARNING"}, "django.request": {"level": "ERROR"}},
}
