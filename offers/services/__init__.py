"""The offers app's writes, one module per part of an offer's life: ``offers`` (drafting, submitting,
withdrawing, expiring, the producers' offer policy, and ``offer_transition``, the one way an offer's status
moves), ``negotiation`` (messages, counter-offers, acceptance with its agreement, decline, read receipts)
and ``thread`` (numbering and appending the thread's events, and telling the sockets). Reads are in
``offers.selectors``; who is a party in ``offers.parties``. Every service takes keyword arguments only."""
