"""Checking the audit log end to end: every hash, link, sequence number and seal, and the head.

Entries are read in pages by sequence number (keyset pagination), so the whole log is never held in
memory and no server-side cursor is needed. The head is read first: entries appended while the check
runs come after it and are still checked, but cannot make a sound log look broken.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from audit.chain import GENESIS_HASH, entry_hash, entry_seal, head_seal, seal_matches
from audit.models import AuditChainHead, AuditEntry

REASON_EDITED = gettext_lazy("hash does not match its contents (edited)")
REASON_LINK = gettext_lazy("previous-hash link broken (an entry was removed or inserted before it)")
REASON_SEAL = gettext_lazy("seal invalid")
REASON_TAIL = gettext_lazy("head does not match the last entry (entries removed from the end)")
REASON_HEAD_MISSING = gettext_lazy("the chain head is missing")
REASON_HEAD_SEAL = gettext_lazy("head seal invalid")


def reason_gap(expected: int) -> str:
    return _("sequence gap: expected %(expected)d") % {"expected": expected}


@dataclass(frozen=True)
class VerifyResult:
    """The outcome: ``ok``, how many entries were checked, and where and why the chain first broke.

    ``seq``/``entry_id`` are None when the break is in the head itself with no entry to blame.
    """

    ok: bool
    checked: int
    seq: int | None = None
    entry_id: int | None = None
    reason: str = ""
    last_hash: str = ""  # the hash of the last entry checked

    @property
    def message(self) -> str:
        if self.ok:
            return _("Audit chain intact: %(count)d entries.") % {"count": self.checked}
        if self.seq is None:
            return _("Audit chain broken at the head: %(reason)s") % {"reason": self.reason}
        return _("Audit chain broken at entry seq=%(seq)d (id=%(id)s): %(reason)s") % {
            "seq": self.seq,
            "id": self.entry_id,
            "reason": self.reason,
        }


def _broken(checked: int, entry: AuditEntry | None, reason: str | Promise) -> VerifyResult:
    return VerifyResult(
        ok=False,
        checked=checked,
        seq=entry.seq if entry is not None else None,
        entry_id=entry.pk if entry is not None else None,
        reason=str(reason),
    )


def _entry_problem(entry: AuditEntry, *, expected_seq: int, prev_hash: str, key: str) -> str | None:
    if entry_hash(entry) != entry.hash:
        return str(REASON_EDITED)
    if not seal_matches(entry_seal(entry.hash, key=key), entry.seal):
        return str(REASON_SEAL)
    if entry.seq != expected_seq:
        return reason_gap(expected_seq)
    if entry.prev_hash != prev_hash:
        return str(REASON_LINK)
    return None


def verify_chain(*, chunk_size: int = 1000, through_seq: int | None = None) -> VerifyResult:
    """Walk the whole log in sequence order and return the first problem found, if any.

    ``through_seq`` stops after that entry and leaves the head out (a checkpoint's question: is the chain
    sound up to there, and what is that entry's hash?)."""
    key = settings.AUDIT_SEAL_KEY
    head = AuditChainHead.objects.filter(pk=1).first()
    head_seq = head.last_seq if head is not None else 0

    checked = 0
    prev_hash = GENESIS_HASH
    last: AuditEntry | None = None
    head_entry_hash: str | None = None
    while True:
        page = AuditEntry.objects.order_by("seq")
        if through_seq is not None:
            page = page.filter(seq__lte=through_seq)
        if last is not None:
            page = page.filter(seq__gt=last.seq)
        entries = list(page[:chunk_size])
        for entry in entries:
            problem = _entry_problem(entry, expected_seq=checked + 1, prev_hash=prev_hash, key=key)
            if problem is not None:
                return _broken(checked, entry, problem)
            checked += 1
            prev_hash = entry.hash
            last = entry
            if entry.seq == head_seq:
                head_entry_hash = entry.hash
        if len(entries) < chunk_size:
            break

    if through_seq is not None:
        return VerifyResult(ok=True, checked=checked, last_hash=prev_hash if checked else "")

    if head is None:
        return (
            VerifyResult(ok=True, checked=0) if last is None else _broken(checked, last, REASON_HEAD_MISSING)
        )
    if not seal_matches(head_seal(head.last_seq, head.last_hash, key=key), head.seal):
        return _broken(checked, last, REASON_HEAD_SEAL)
    expected_head_hash = GENESIS_HASH if head_seq == 0 else head_entry_hash
    if head_seq > checked or head.last_hash != expected_head_hash:
        return _broken(checked, last, REASON_TAIL)
    return VerifyResult(ok=True, checked=checked, last_hash=prev_hash if checked else "")
