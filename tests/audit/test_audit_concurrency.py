"""Concurrent appends are serialised by the head lock: no duplicate or missing sequence numbers."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, transaction

from audit.models import AuditEntry
from audit.services import audit_record
from audit.verify import verify_chain

WRITERS = 4
PER_WRITER = 15


@pytest.mark.django_db(transaction=True)
def test_concurrent_appends_keep_the_chain_contiguous() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("needs concurrent writers on PostgreSQL")
    start = threading.Barrier(WRITERS)
    errors: list[BaseException] = []

    def writer(n: int) -> None:
        from django.db import connection as thread_connection

        try:
            start.wait()
            for i in range(PER_WRITER):
                with transaction.atomic():
                    audit_record(action="load.appended", actor=None, data={"writer": n, "i": i})
        except BaseException as exc:  # collected and asserted on in the main thread
            errors.append(exc)
        finally:
            thread_connection.close()

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    seqs = list(AuditEntry.objects.order_by("seq").values_list("seq", flat=True))
    assert seqs == list(range(1, WRITERS * PER_WRITER + 1))
    result = verify_chain()
    assert result.ok, result.message
