import datetime as dt
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand
from django.utils import timezone

from screening.models import PlaybackGrant


class Command(BaseCommand):
    help = "Delete viewing data (grants, heartbeats, fetches) older than SCREENING_REPORT_RETENTION_DAYS."

    def handle(self, *args: Any, **options: Any) -> None:
        cutoff = timezone.now() - dt.timedelta(days=settings.SCREENING_REPORT_RETENTION_DAYS)
        deleted, _detail = PlaybackGrant.objects.filter(created_at__lt=cutoff).delete()
        self.stdout.write(f"Deleted {deleted} viewing records older than {cutoff:%Y-%m-%d}.")
