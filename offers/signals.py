"""Signals other apps listen to, so that offers does not need to know them.

``agreement_recorded`` is sent inside the transaction that records an agreement (``agreement=``): a
receiver's writes (the payments app's schedule) live or die with the agreement itself.
"""

from django.dispatch import Signal

agreement_recorded = Signal()
