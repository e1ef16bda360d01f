"""Writes for screeners, one module per part (docs/architecture.md, "Where each kind of code lives"):

- ``cuts``       what a cut's entries say, numbering, queueing packaging, importing a file on the server;
- ``uploads``    a new cut's resumable upload, cancelling a cut, expiring stale uploads;
- ``packaging``  the worker's packaging job (loads the media pipeline: worker processes only);
- ``audience``   the film team's audience rules and an admin's revocation of access;
- ``grants``     pressing play, heartbeats, stop, and what the doors record of a grant's fetches.

Every service is keyword-only, one transaction with its audit entry, side effects on commit. The names
below are the services views, the API, consumers and the admin call (``services.grant_issue``);
``packaging`` is left out so that importing them never loads the media pipeline.
"""

from __future__ import annotations

from screening.services.audience import access_revoke, audience_rules_set
from screening.services.cuts import cut_import
from screening.services.grants import (
    device_hash,
    grant_heartbeat,
    grant_issue,
    grant_stop,
    key_fetched,
    pace_refusal_record,
    segment_fetched,
    segment_fetches_flush,
)
from screening.services.uploads import (
    cut_cancel,
    cut_create,
    upload_abort,
    upload_complete,
    upload_part_urls,
    uploads_expire,
)

__all__ = [
    "access_revoke",
    "audience_rules_set",
    "cut_cancel",
    "cut_create",
    "cut_import",
    "device_hash",
    "grant_heartbeat",
    "grant_issue",
    "grant_stop",
    "key_fetched",
    "pace_refusal_record",
    "segment_fetched",
    "segment_fetches_flush",
    "upload_abort",
    "upload_complete",
    "upload_part_urls",
    "uploads_expire",
]
