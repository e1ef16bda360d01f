"""Signals other apps listen to, so that offers does not need to know them (docs/architecture.md, Layers).

``agreement_recorded`` is sent inside the transaction that records an agreement
(``offers.services.negotiation.thread_accept``), with two keyword arguments:

- ``agreement``: the ``Agreement`` just recorded;
- ``actor``: the ``User`` whose acceptance recorded it (the audit entries of what receivers do in its
  name, such as the payments app's schedule, name them).

A receiver's writes live or die with the agreement itself.
"""

from django.dispatch import Signal

agreement_recorded = Signal()
