"""The offers app's reads, one module per subject: ``offers`` (who sees which offer, what each is worth,
the producers' comparison, the dashboard, the terms editor's schema), ``thread`` (a negotiation's events
as clients receive them, read receipts) and ``agreements``. A selector never writes; who is a party to an
offer is ``offers.parties``."""
