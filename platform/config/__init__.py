"""Project wiring. The feature apps (screening, offers, payments) live at the repository root, next to
platform/; every entry point (manage.py, uvicorn --app-dir platform, celery --workdir platform, pytest)
imports this package first, so this is where the repository root joins the import path."""

import sys
from pathlib import Path

_REPO_ROOT = str(Path(__file__).resolve().parents[2])
if _REPO_ROOT not in sys.path:
    sys.path.append(_REPO_ROOT)

from config.celery import app as celery_app  # noqa: E402

__all__ = ["celery_app"]
