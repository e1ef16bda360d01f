"""Screeners: cuts and their uploads, audience rules, playback grants and what each grant watched."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from audit.transitions import StateMachine


class CutStatus(models.TextChoices):
    UPLOADING = "uploading", _("Uploading")
    QUEUED = "queued", _("Waiting to be packaged")
    PROCESSING = "processing", _("Packaging")
    READY = "ready", _("Published")
    FAILED = "failed", _("Failed")
    CANCELLED = "cancelled", _("Cancelled")


_C = CutStatus
CUT_MACHINE = StateMachine(
    subject="cut",
    transitions={
        _C.UPLOADING: frozenset({_C.QUEUED, _C.CANCELLED, _C.FAILED}),
        _C.QUEUED: frozenset({_C.PROCESSING, _C.CANCELLED, _C.FAILED}),
        _C.PROCESSING: frozenset({_C.PROCESSING, _C.READY, _C.FAILED, _C.CANCELLED, _C.QUEUED}),
        _C.READY: frozenset(),
        _C.FAILED: frozenset(),
        _C.CANCELLED: frozenset(),
    },
    refusal=_("This cut is %(status)s and cannot become %(target)s."),
)


class CutStage(models.TextChoices):
    """What the packaging job is doing now (the worker reports these as it goes)."""

    PROBING = "probing", _("Checking the file")
    TRANSCODING = "transcoding", _("Transcoding")
    SEALING = "sealing", _("Marking and encrypting the forensic variants")
    POSTER = "poster", _("Making the poster and thumbnails")
    VERIFYING = "verifying", _("Verifying the ladder")
    PACKAGED = "packaged", _("Packaged")
    PUBLISHING = "publishing", _("Publishing")
    PUBLISHED = "published", _("Published")
    FAILED = "failed", _("Failed")
    CANCELLED = "cancelled", _("Cancelled")


class Cut(models.Model):
    """One version of a film's screener. Each upload is a new cut; the film shows its newest published one.

    Status moves only along ``CUT_MACHINE`` (``audit.transitions.transition``, in ``screening.services``).
    A cut is published all at once: its files are all in the store before the status becomes READY in
    one transaction.
    """

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    film = models.ForeignKey("festival.Film", on_delete=models.PROTECT, related_name="cuts")
    number = models.PositiveIntegerField(_("cut number"))
    status = models.CharField(
        _("status"), max_length=16, choices=CutStatus.choices, default=CutStatus.UPLOADING
    )
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    source_filename = models.CharField(max_length=255)
    source_size = models.PositiveBigIntegerField()
    source_content_type = models.CharField(max_length=100, blank=True)
    # The uploader's Idempotency-Key: a retried "start upload" request finds the cut it already made
    idempotency_key = models.CharField(max_length=100, blank=True)
    # Probed and packaged facts
    duration_s = models.FloatField(null=True, blank=True)
    width = models.PositiveIntegerField(null=True, blank=True)
    height = models.PositiveIntegerField(null=True, blank=True)
    renditions = models.JSONField(default=list, blank=True)
    segment_count = models.PositiveIntegerField(default=0)
    segment_seconds = models.PositiveIntegerField(default=2)
    # The AES-128 content key, sealed with the key-encryption key (never stored or logged in clear)
    sealed_key = models.TextField(blank=True)
    # Job progress
    progress = models.FloatField(default=0)
    stage = models.CharField(max_length=32, blank=True, choices=CutStage.choices)
    progress_at = models.DateTimeField(null=True, blank=True)  # a live job touches it every second
    cancel_requested = models.BooleanField(default=False)
    attempts = models.PositiveIntegerField(default=0)
    failure_code = models.CharField(max_length=32, blank=True)
    failure_reason = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    queued_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    published_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("cut")
        verbose_name_plural = _("cuts")
        ordering = ["film", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["film", "number"], name="cut_unique_number_per_film"),
            models.UniqueConstraint(
                fields=["film", "uploaded_by", "idempotency_key"],
                condition=~models.Q(idempotency_key=""),
                name="cut_unique_idempotency_key",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.film} — cut {self.number}"

    @property
    def source_key(self) -> str:
        return f"uploads/{self.public_id}/source"

    @property
    def media_prefix(self) -> str:
        return f"cuts/{self.public_id}/"


class UploadStatus(models.TextChoices):
    OPEN = "open", _("Open")
    COMPLETED = "completed", _("Completed")
    ABORTED = "aborted", _("Aborted")


class Upload(models.Model):
    """The resumable multipart upload that brings a cut's source file into the store."""

    cut = models.OneToOneField(Cut, on_delete=models.CASCADE, related_name="upload")
    storage_upload_id = models.CharField(max_length=1024)
    part_size = models.PositiveBigIntegerField()
    part_count = models.PositiveIntegerField()
    status = models.CharField(max_length=16, choices=UploadStatus.choices, default=UploadStatus.OPEN)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"upload of {self.cut}"


class TerritoryMode(models.TextChoices):
    ALL = "all", _("Every territory")
    ALLOW = "allow", _("Only these territories")
    BLOCK = "block", _("Every territory except these")


class AudienceRules(models.Model):
    """The producer's rules on who may watch the film, beyond accreditation to its session."""

    film = models.OneToOneField("festival.Film", on_delete=models.CASCADE, related_name="audience_rules")
    allowed_categories = models.JSONField(_("allowed accreditation categories"), default=list, blank=True)
    blocked_organisations = models.ManyToManyField(
        "accounts.Organisation", blank=True, related_name="+", verbose_name=_("blocked organisations")
    )
    territory_mode = models.CharField(
        _("territories"), max_length=8, choices=TerritoryMode.choices, default=TerritoryMode.ALL
    )
    territories = models.JSONField(_("territory list"), default=list, blank=True)
    max_plays_after_session = models.PositiveIntegerField(
        _("plays allowed after the session"), null=True, blank=True
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("audience rules")
        verbose_name_plural = _("audience rules")

    def __str__(self) -> str:
        return f"audience rules of {self.film}"


class AccessRevocation(models.Model):
    """An admin's instant stop on a viewer: for one film, or every film when ``film`` is empty."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    film = models.ForeignKey(
        "festival.Film", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reason = models.TextField()
    revoked_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    lifted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["user", "lifted_at"])]

    def __str__(self) -> str:
        return f"revocation of {self.user}"


class GrantEnd(models.TextChoices):
    SUPERSEDED = "superseded", _("Playback moved to another device")
    STOPPED = "stopped", _("Stopped by the viewer")
    REVOKED = "revoked", _("Access revoked")


class PlaybackGrant(models.Model):
    """Permission to stream one cut, for one viewer on one device, for a short time.

    Its id is the unguessable handle in every playback URL; each playlist, key and segment request
    re-checks the grant and the audience rules.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    viewer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    # The company the viewer watches for (empty for a festival admin previewing without one)
    organisation = models.ForeignKey(
        "accounts.Organisation", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    cut = models.ForeignKey(Cut, on_delete=models.PROTECT, related_name="grants")
    device_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)
    end_reason = models.CharField(max_length=16, choices=GrantEnd.choices, blank=True)
    last_heartbeat_at = models.DateTimeField(null=True, blank=True)
    last_position_s = models.FloatField(default=0)
    seconds_watched = models.FloatField(default=0)
    watched_segments = models.JSONField(default=list, blank=True)
    key_fetches = models.PositiveIntegerField(default=0)
    ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)

    class Meta:
        indexes = [models.Index(fields=["viewer", "ended_at"]), models.Index(fields=["cut", "created_at"])]

    def __str__(self) -> str:
        return f"grant {self.id} for {self.viewer}"


class SegmentFetch(models.Model):
    """Which segment each grant fetched, and when (the server's own record of viewing)."""

    grant = models.ForeignKey(PlaybackGrant, on_delete=models.CASCADE, related_name="segment_fetches")
    rendition = models.CharField(max_length=16)
    index = models.PositiveIntegerField()
    # Fetches are logged in Redis by the doors and written here at the next heartbeat, with their own time
    fetched_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["grant", "index"])]

    def __str__(self) -> str:
        return f"{self.rendition}/{self.index} for grant {self.grant_id}"


class PaceDoor(models.TextChoices):
    SEGMENT = "segment", _("Segments")
    KEY = "key", _("Key")


class PaceRefusal(models.Model):
    """A grant that fetched faster than a viewing does, refused at a door (``screening.pace``).

    One row per grant and door, written at the first refusal and updated at most every
    ``SCREENING_PACE_RECORD_SECONDS`` while refusals go on: admins see who tried, when, and how often.
    """

    grant = models.ForeignKey(PlaybackGrant, on_delete=models.CASCADE, related_name="pace_refusals")
    door = models.CharField(_("door"), max_length=16, choices=PaceDoor.choices)
    refusals = models.PositiveIntegerField(_("refused requests"), default=0)
    first_at = models.DateTimeField(_("first refused at"))
    last_at = models.DateTimeField(_("last refused at"))

    class Meta:
        verbose_name = _("pace refusal")
        verbose_name_plural = _("pace refusals")
        ordering = ["-last_at"]
        constraints = [models.UniqueConstraint(fields=["grant", "door"], name="pace_refusal_per_grant_door")]

    def __str__(self) -> str:
        return f"{self.door} pace refused for grant {self.grant_id}"


class TraceStatus(models.TextChoices):
    QUEUED = "queued", _("Waiting")
    RUNNING = "running", _("Tracing")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")


_T = TraceStatus
TRACE_MACHINE = StateMachine(
    subject="leak_trace",
    transitions={
        _T.QUEUED: frozenset({_T.RUNNING, _T.FAILED}),
        _T.RUNNING: frozenset({_T.RUNNING, _T.DONE, _T.FAILED}),  # running again: a retried job
        _T.DONE: frozenset(),
        _T.FAILED: frozenset(),
    },
    refusal=_("This trace is %(status)s and cannot become %(target)s."),
)


class TraceResult(models.TextChoices):
    """What a trace concluded (``screening.forensics.trace_job``); only NAMED names anyone."""

    NAMED = "named", _("Traced to a viewing")
    TOO_SHORT = "too_short", _("Inconclusive: too short")
    TOO_DAMAGED = "too_damaged", _("Inconclusive: too damaged")
    NO_MATCH = "no_match", _("Inconclusive: no viewing matches")
    NOT_MARKED = "not_marked", _("Inconclusive: no mark found")
    NO_GRANTS = "no_grants", _("Inconclusive: nobody has watched this film")
    NOT_VIDEO = "not_video", _("Not a video")
    NOT_THIS_FILM = "not_this_film", _("Not this film")


class LeakTrace(models.Model):
    """A suspect copy of a film, and whose viewing it was traced to (docs/forensics.md).

    The suspect file stays in the media store under ``suspect_key`` for as long as the trace is kept:
    it is the evidence. ``evidence`` holds the alignment, every segment's decision and strength, and
    the best-scoring grants with their chances; ``named_grants`` are the viewings it names, if any.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    film = models.ForeignKey("festival.Film", on_delete=models.PROTECT, related_name="leak_traces")
    cut = models.ForeignKey(Cut, null=True, blank=True, on_delete=models.PROTECT, related_name="leak_traces")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    suspect_name = models.CharField(_("suspect file"), max_length=255)
    suspect_size = models.PositiveBigIntegerField()
    suspect_sha256 = models.CharField(max_length=64)
    suspect_key = models.CharField(max_length=300)
    status = models.CharField(max_length=16, choices=TraceStatus.choices, default=TraceStatus.QUEUED)
    progress = models.FloatField(default=0)
    stage = models.CharField(max_length=32, blank=True)
    progress_at = models.DateTimeField(null=True, blank=True)
    result = models.CharField(max_length=16, choices=TraceResult.choices, blank=True)
    detail = models.TextField(blank=True)
    evidence = models.JSONField(default=dict, blank=True)
    named_grants = models.ManyToManyField(PlaybackGrant, blank=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("leak trace")
        verbose_name_plural = _("leak traces")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"trace {self.id} of {self.suspect_name}"
