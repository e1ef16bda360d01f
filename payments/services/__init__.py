"""The payments app's writes, one module per part of the money's way: ``schedules`` (an agreement's
instalments and when they fall due), ``checkout`` (paying one through Stripe Checkout and settling it),
``strays`` (money for an instalment that was not waiting for it), ``refunds``, ``disputes``, ``connect``
(production companies' Stripe accounts), ``fees``, ``ledger`` (the double-entry postings),
``webhooks`` (Stripe's deliveries) and ``reconcile``. Reads are in ``payments.selectors``; the Stripe
client in ``payments.gateway``. Every service takes keyword arguments only."""
