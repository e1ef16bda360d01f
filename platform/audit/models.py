"""The tamper-evident audit log: append-only entries chained by hash, and the chain's head.

Entries are written only by ``audit.services.audit_record``. The ORM refuses to change or remove them
(``AuditLogImmutable``), and on PostgreSQL and SQLite database triggers refuse UPDATE, DELETE (and on
PostgreSQL TRUNCATE) as well (``audit.db_guard``). ``manage.py verify_audit`` proves the rest.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from audit.chain import GENESIS_HASH
from audit.exceptions import AuditLogImmutable

__all__ = ["ACTION_PATTERN", "AuditChainHead", "AuditCheckpoint", "AuditEntry", "AuditLogImmutable"]

ACTION_PATTERN = r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$"
validate_action = RegexValidator(
    ACTION_PATTERN, _("An audit action is a dotted lower-case name such as accreditation.approved.")
)


class AuditEntryQuerySet(models.QuerySet["AuditEntry"]):
    """Bulk writes that would rewrite history raise instead of running."""

    def update(self, **kwargs: Any) -> int:
        raise AuditLogImmutable("update")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise AuditLogImmutable("delete")

    def bulk_update(self, objs: Any, fields: Any, batch_size: int | None = None) -> int:
        raise AuditLogImmutable("bulk_update")

    def bulk_create(self, objs: Any, *args: Any, **kwargs: Any) -> list[AuditEntry]:
        # Entries created in bulk would skip the chain: audit_record is the one way in.
        raise AuditLogImmutable("bulk_create")


class AuditEntry(models.Model):
    seq = models.PositiveBigIntegerField(_("sequence"), unique=True, editable=False)
    created_at = models.DateTimeField(_("time (UTC)"), editable=False)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("actor"),
        null=True,
        on_delete=models.PROTECT,
        related_name="+",
        editable=False,
    )
    actor_label = models.CharField(_("actor"), max_length=254, editable=False)
    organisation = models.ForeignKey(
        "accounts.Organisation",
        verbose_name=_("organisation"),
        null=True,
        on_delete=models.PROTECT,
        related_name="+",
        editable=False,
    )
    action = models.CharField(_("action"), max_length=100, validators=[validate_action], editable=False)
    target_type = models.CharField(_("target type"), max_length=100, blank=True, editable=False)
    target_id = models.CharField(_("target id"), max_length=64, blank=True, editable=False)
    target_repr = models.CharField(_("target"), max_length=255, blank=True, editable=False)
    data = models.JSONField(_("data"), default=dict, blank=True, editable=False)
    ip = models.GenericIPAddressField(_("IP address"), null=True, blank=True, editable=False)
    prev_hash = models.CharField(_("previous hash"), max_length=64, editable=False)
    hash = models.CharField(_("hash"), max_length=64, unique=True, editable=False)
    seal = models.CharField(_("seal"), max_length=64, editable=False)

    objects = AuditEntryQuerySet.as_manager()

    class Meta:
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit entries")
        ordering = ["seq"]
        indexes = [
            models.Index(fields=["target_type", "target_id"], name="audit_entry_target_idx"),
            models.Index(fields=["action"], name="audit_entry_action_idx"),
            models.Index(fields=["created_at"], name="audit_entry_created_idx"),
        ]

    def __str__(self) -> str:
        return f"#{self.seq} {self.action} by {self.actor_label}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise AuditLogImmutable("save")
        # Always INSERT: an unsaved instance given an existing id must not turn into an UPDATE.
        kwargs["force_insert"] = True
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise AuditLogImmutable("delete")


class AuditChainHead(models.Model):
    """The single row (pk=1) naming the last entry; locking it serialises appends.

    Without it, deleting the newest entries would leave a shorter chain that still verifies.
    """

    id = models.PositiveSmallIntegerField(primary_key=True, default=1, editable=False)
    last_seq = models.PositiveBigIntegerField(_("last sequence"), default=0)
    last_hash = models.CharField(_("last hash"), max_length=64, default=GENESIS_HASH)
    seal = models.CharField(_("seal"), max_length=64, blank=True)

    class Meta:
        verbose_name = _("audit chain head")
        verbose_name_plural = _("audit chain head")
        constraints = [models.CheckConstraint(condition=models.Q(id=1), name="audit_chain_head_singleton")]

    def __str__(self) -> str:
        return f"audit head at #{self.last_seq}"


class AuditCheckpoint(models.Model):
    """A signed statement that the chain's entry ``seq`` had hash ``hash`` at ``signed_at``
    (``audit.checkpoints``). Whoever keeps one can later prove that history up to it was not rewritten."""

    seq = models.PositiveBigIntegerField(_("sequence number"), unique=True)
    hash = models.CharField(_("hash"), max_length=64)
    signed_at = models.DateTimeField(_("signed at"))
    public_key = models.CharField(_("public key"), max_length=64)
    signature = models.CharField(_("signature"), max_length=128)

    class Meta:
        ordering = ["-seq"]
        verbose_name = _("audit checkpoint")
        verbose_name_plural = _("audit checkpoints")

    def __str__(self) -> str:
        return f"audit checkpoint at #{self.seq}"
