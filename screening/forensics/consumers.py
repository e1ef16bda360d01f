"""A leak trace's progress, live on its page, over a WebSocket (docs/forensics.md).

The worker writes the trace's progress to its row at most once a second (``trace_job._Progress``); this
consumer reads the row once a second and pushes what changed, as the cut progress socket does
(``accounts.live.PollingConsumer``: the database is the source of truth, whichever process runs the job).
Only a festival admin whose account is ready may follow; anyone else, and a trace that does not exist,
gets the same close code (4404), so the socket tells an outsider nothing about which traces exist.
"""

from __future__ import annotations

from typing import Any

from accounts.live import PollingConsumer
from accounts.models import User
from accounts.policy import account_readiness, is_festival_admin
from screening.forensics.selectors import trace_state
from screening.models import LeakTrace


class TraceProgressConsumer(PollingConsumer):
    """Pushes ``{"type": "trace", "status", "progress", "stage", "stage_label", "result"}``; the page
    reloads itself once the status is done or failed, to show the result the server renders."""

    def setup(self) -> None:
        self.trace_id = self.scope["url_route"]["kwargs"]["trace_id"]

    def allowed(self, user: User) -> bool:
        if not user.is_authenticated or not is_festival_admin(user) or not account_readiness(user).ready:
            return False
        return LeakTrace.objects.filter(pk=self.trace_id).exists()

    def states(self) -> dict[str, Any]:
        # A trace deleted under an open page (the admin site cannot, but a shell can) reads as failed.
        return trace_state(self.trace_id) or {
            "type": "trace",
            "status": "failed",
            "progress": 0,
            "stage": "",
            "stage_label": "",
            "result": "",
        }
