"""Errors raised by the audit log."""

from django.utils.translation import gettext_lazy as _


class AuditLogImmutable(Exception):
    """An attempt to change or remove an audit entry through the ORM.

    The log is append-only: entries are written once by ``audit.services.audit_record`` and never
    updated or deleted, so that the hash chain keeps proving what happened.
    """

    def __init__(self, operation: str) -> None:
        super().__init__(
            _("The audit log is append-only: %(operation)s is not allowed on audit entries.")
            % {"operation": operation}
        )
        self.operation = operation


class AuditTransactionRequired(RuntimeError):
    """``audit_record`` was called outside ``transaction.atomic``.

    An audit entry must commit or roll back together with the change it records; written on its own it
    could describe a change that never happened, or miss one that did.
    """
