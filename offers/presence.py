"""Who has an offer's thread open right now, in the shared cache (Redis in production).

Each open socket marks its user present for ``TTL`` seconds and refreshes the mark on every heartbeat
(the browser pings every 25 s); closing the socket clears it. A crashed process's marks expire by
themselves. The offline emails ask this before writing to someone.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.core.cache import cache

TTL = 70


def _key(offer_id: int, user_id: int) -> str:
    return f"thread-presence:{offer_id}:{user_id}"


def mark_present(offer_id: int, user_id: int) -> None:
    cache.set(_key(offer_id, user_id), 1, TTL)


def mark_absent(offer_id: int, user_id: int) -> None:
    cache.delete(_key(offer_id, user_id))


def present_users(offer_id: int, user_ids: Iterable[int]) -> set[int]:
    ids = list(user_ids)
    found = cache.get_many([_key(offer_id, user_id) for user_id in ids])
    return {user_id for user_id in ids if _key(offer_id, user_id) in found}
