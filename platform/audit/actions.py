"""The catalogue of audit actions: every name an audit entry may carry, in one place.

One naming scheme: ``<subject>.<event>``. The subject is the thing acted on, a singular snake_case noun
(``cut``, ``offer``, ``instalment``, ``leak_trace``), never an app's name; the event says what happened
to it, as a past participle or the state it moved to (``cut.ready``, ``instalment.paid``,
``grant.issued``). A state machine's moves are named ``<subject>.<new state>``, so every state of every
machine appears here (``audit.transitions`` checks it). ``audit_record`` refuses a name that is not in
the catalogue, so the admins' desk can list, label and filter every action there is.

Entries written before this catalogue carry older names; ``RENAMED`` maps each to its current name so a
reader can treat both alike (the chain's hashes cover the stored name, which is never rewritten).
"""

from __future__ import annotations

_EVENTS: dict[str, str] = {
    # accounts
    "organisation": "created",
    "accreditation": "applied approved rejected withdrawn revoked",
    "membership": "requested approved rejected withdrawn granted role_changed removed",
    # festival
    "edition": "created renamed",
    "session": "created updated",
    "film": (
        "created updated poster_changed selected team_member_added team_member_removed need_added "
        "need_updated need_removed offer_policy_changed audience_rules_changed"
    ),
    # screening
    "cut": "upload_started queued processing ready failed cancelled cancel_requested imported",
    "grant": "issued",
    "access": "revoked",
    "pace": "exceeded",
    "leak_trace": "requested running done failed",
    # offers
    "offer": "drafted draft_updated submitted countered accepted declined withdrawn expired",
    "agreement": "recorded",
    # payments
    "schedule": "created",
    "instalment": "due processing paid failed refunded delivered delivery_confirmed",
    "checkout": "started expired",
    "stray_payment": "received held refunded",
    "connect_account": "created updated onboarding_link_issued",
    "platform_fee": "set",
    "transfer": "reversed",
    "refund": "failed",
    "dispute": "pending opened updated",
}

ACTIONS: frozenset[str] = frozenset(
    f"{subject}.{event}" for subject, events in _EVENTS.items() for event in events.split()
)

# Names written before the catalogue, and what they are called now.
RENAMED: dict[str, str] = {
    "screening.grant_issued": "grant.issued",
    "screening.access_revoked": "access.revoked",
    "screening.pace_exceeded": "pace.exceeded",
    "screening.leak_trace_requested": "leak_trace.requested",
    "screening.leak_traced": "leak_trace.done",
    "screening.leak_trace_failed": "leak_trace.failed",
    "payments.schedule_created": "schedule.created",
    "payments.instalment_due": "instalment.due",
    "payments.delivery_confirmed": "instalment.delivery_confirmed",
    "payments.instalment_paid": "instalment.paid",
    "payments.payment_failed": "instalment.failed",
    "payments.instalment_refunded": "instalment.refunded",
    "payments.checkout_started": "checkout.started",
    "payments.checkout_expired": "checkout.expired",
    "payments.stray_payment_received": "stray_payment.received",
    "payments.stray_payment_held": "stray_payment.held",
    "payments.stray_payment_refunded": "stray_payment.refunded",
    "payments.account_created": "connect_account.created",
    "payments.account_updated": "connect_account.updated",
    "payments.onboarding_link_issued": "connect_account.onboarding_link_issued",
    "payments.platform_fee_set": "platform_fee.set",
    "payments.transfer_reversed": "transfer.reversed",
    "payments.refund_failed": "refund.failed",
    "payments.dispute_pending": "dispute.pending",
    "payments.dispute_opened": "dispute.opened",
    "payments.dispute_updated": "dispute.updated",
}


def is_action(name: str) -> bool:
    return name in ACTIONS


def current_name(stored: str) -> str:
    """The catalogue's name for an action as stored in an entry, old or new."""
    return RENAMED.get(stored, stored)


def move_action(subject: str, state: str) -> str:
    """The action of a state machine's move to ``state``: ``<subject>.<state>``, which must exist."""
    name = f"{subject}.{state}"
    if name not in ACTIONS:
        raise ValueError(f"The audit catalogue has no action {name!r} (see audit.actions).")
    return name
