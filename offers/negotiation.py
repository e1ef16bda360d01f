"""Transitional: the negotiation's writes live in ``offers.services.negotiation``. Delete this module once
tests/accounts/test_memberships.py and tests/test_hostile_input.py import ``offers.services.negotiation``."""

from offers.services.negotiation import thread_accept  # noqa: F401
