"""The Celery application. Start a worker with ``celery --workdir platform -A config worker``."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")

app = Celery("films_in_progress")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
