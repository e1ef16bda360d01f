"""The pace of a viewing: a token bucket per grant and door, shared by every process through Redis.

A player fetches a burst at the start (its buffer) and after each seek, then about one second of media
per second. A download fetches everything as fast as it can. Each grant has two buckets:

- segments, counted in seconds of media: ``SCREENING_PACE_BURST_SECONDS`` at once, refilled at
  ``SCREENING_PACE_REALTIME_FACTOR`` seconds of media per second of wall time (a few times real time);
- keys, counted the same way: every segment has its own key (docs/forensics.md), so a player fetches
  one key per segment and a download one per segment too; the key bucket has the segment bucket's size
  and refill, separately, so that neither door lends the other its allowance.

A fetch beyond the bucket is refused (429, ``pace_exceeded``, with ``Retry-After``) and costs nothing.
Refusals are counted in the bucket; at most every ``SCREENING_PACE_RECORD_SECONDS`` per grant and door
the caller writes the count to the database (``services.pace_refusal_record``), where admins see who
tried, without letting a flood of refused requests become a flood of writes.

One Redis script (``PACE_SCRIPT``) does all of it in one round trip, and also records what an accepted
fetch was: a segment goes to the grant's fetch log (a Redis list, written to ``SegmentFetch`` rows at
the next heartbeat, ``services.segment_fetches_flush``), a key fetch increments the grant's key counter.
So the hot path of a door stays one database statement and one Redis command. The lean front
(``screening.asgi``) runs the script with its async client; the Django views with Django's cache client.
Without Redis (the embedded default's file cache, one process) ``pace_take`` keeps the same bucket in
Django's cache, best-effort.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.cache import cache, caches
from django.core.cache.backends.redis import RedisCache

SEGMENT, KEY = "segment", "key"
COUNT = "#"  # the log argument that increments a counter instead of appending to a list

# KEYS: bucket hash, fetch log (list) or counter. ARGV: now (ms), capacity, refill per second, cost,
# expiry (s), log entry or COUNT (or "" for nothing), record interval (ms).
# Returns {1} when taken; {0, retry after (ms), refusals so far, 1 when the caller should record now}.
PACE_SCRIPT = """
local now = tonumber(ARGV[1])
local capacity = tonumber(ARGV[2])
local rate = tonumber(ARGV[3])
local cost = tonumber(ARGV[4])
local ttl = tonumber(ARGV[5])
local state = redis.call('HMGET', KEYS[1], 't', 'at', 'refused', 'recorded')
local tokens = tonumber(state[1]) or capacity
local at = tonumber(state[2]) or now
if now > at then tokens = math.min(capacity, tokens + (now - at) * rate / 1000) end
if tokens >= cost then
  redis.call('HSET', KEYS[1], 't', tostring(tokens - cost), 'at', tostring(math.max(now, at)))
  redis.call('EXPIRE', KEYS[1], ttl)
  if ARGV[6] == '#' then
    redis.call('INCR', KEYS[2])
    redis.call('EXPIRE', KEYS[2], ttl)
  elseif ARGV[6] ~= '' then
    redis.call('RPUSH', KEYS[2], ARGV[6])
    redis.call('EXPIRE', KEYS[2], ttl)
  end
  return {1}
end
local refused = (tonumber(state[3]) or 0) + 1
local recorded = tonumber(state[4]) or 0
local record = 0
if now - recorded >= tonumber(ARGV[7]) then
  record = 1
  recorded = now
end
redis.call('HSET', KEYS[1], 't', tostring(tokens), 'at', tostring(math.max(now, at)),
           'refused', refused, 'recorded', tostring(recorded))
redis.call('EXPIRE', KEYS[1], ttl)
local wait = math.ceil((cost - tokens) * 1000 / rate)
return {0, wait, refused, record}
"""
# The fetch log, taken whole and emptied in one step (a heartbeat and a report may flush at once).
TAKE_LOG_SCRIPT = "local items = redis.call('LRANGE', KEYS[1], 0, -1) redis.call('DEL', KEYS[1]) return items"


@dataclass(frozen=True)
class Bucket:
    capacity: float
    per_second: float

    @property
    def retry_cap_ms(self) -> int:
        return int(math.ceil(1000 / self.per_second)) if self.per_second > 0 else 3_600_000


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    retry_after_s: int = 0
    refusals: int = 0
    record: bool = False  # the first refusal of a recording interval: write the count now


def segment_bucket() -> Bucket:
    return Bucket(
        capacity=float(settings.SCREENING_PACE_BURST_SECONDS),
        per_second=float(settings.SCREENING_PACE_REALTIME_FACTOR),
    )


def bucket_for(door: str) -> Bucket:
    """Both doors are paced in seconds of media: a key costs its segment's duration."""
    return segment_bucket()


def record_interval_ms() -> int:
    return int(float(settings.SCREENING_PACE_RECORD_SECONDS) * 1000)


def state_ttl() -> int:
    """How long a grant's bucket and logs live without use: as long as a grant may (then it is gone)."""
    return int(settings.SCREENING_GRANT_TTL_SECONDS) + 3600


def bucket_key(grant_id: object, door: str) -> str:
    return f"screening:pace:{door}:{grant_id}"


def fetch_log_key(grant_id: object) -> str:
    """The Redis list of a grant's accepted segment fetches, ``<rendition> <index> <unix ms>`` each."""
    return f"screening:fetches:{grant_id}"


def key_fetch_counter(grant_id: object) -> str:
    """The cache key counting a grant's key fetches (an int Django's cache reads)."""
    return f"screening:key-fetches:{grant_id}"


def log_entry(rendition: str, index: int, now_ms: int) -> str:
    return f"{rendition} {index} {now_ms}"


def script_args(
    *, grant_id: object, door: str, cost: float, log: str, now_ms: int, make_key: Any
) -> tuple[list[str], list[Any]]:
    """The keys and arguments of PACE_SCRIPT for one fetch (``make_key`` is the cache's key maker)."""
    bucket = bucket_for(door)
    second = fetch_log_key(grant_id) if door == SEGMENT else key_fetch_counter(grant_id)
    keys = [make_key(bucket_key(grant_id, door)), make_key(second)]
    args = [now_ms, bucket.capacity, bucket.per_second, cost, state_ttl(), log, record_interval_ms()]
    return keys, args


def verdict(result: Any) -> Verdict:
    """PACE_SCRIPT's answer as a Verdict."""
    values = [int(v) for v in result]
    if values[0] == 1:
        return Verdict(allowed=True)
    return Verdict(
        allowed=False,
        retry_after_s=max(1, math.ceil(values[1] / 1000)),
        refusals=values[2],
        record=bool(values[3]),
    )


def redis_client() -> Any | None:
    """Django's own Redis client for the default cache, or None when the cache is not Redis."""
    backend = caches["default"]
    if isinstance(backend, RedisCache):
        return backend._cache.get_client(write=True)  # type: ignore[attr-defined]
    return None


_SCRIPTS: dict[tuple[int, str], Any] = {}


def _script(client: Any, source: str) -> Any:
    found = _SCRIPTS.get((id(client), source))
    if found is None:
        found = _SCRIPTS[(id(client), source)] = client.register_script(source)
    return found


def pace_take(*, grant_id: object, door: str, cost: float, log: str) -> Verdict:
    """Take ``cost`` from the grant's bucket for ``door``; on success record ``log`` (see PACE_SCRIPT)."""
    now_ms = int(time.time() * 1000)
    client = redis_client()
    if client is not None:
        keys, args = script_args(
            grant_id=grant_id, door=door, cost=cost, log=log, now_ms=now_ms, make_key=cache.make_key
        )
        return verdict(_script(client, PACE_SCRIPT)(keys=keys, args=args))
    return _take_in_cache(grant_id, door, cost, now_ms)


def _take_in_cache(grant_id: object, door: str, cost: float, now_ms: int) -> Verdict:
    """The same bucket in a cache without scripts (the embedded default, one process): best-effort."""
    bucket = bucket_for(door)
    key = bucket_key(grant_id, door)
    state = cache.get(key) or {}
    tokens = float(state.get("t", bucket.capacity))
    at = int(state.get("at", now_ms))
    if now_ms > at:
        tokens = min(bucket.capacity, tokens + (now_ms - at) * bucket.per_second / 1000)
    at = max(now_ms, at)
    if tokens >= cost:
        cache.set(key, {**state, "t": tokens - cost, "at": at}, timeout=state_ttl())
        return Verdict(allowed=True)
    refused = int(state.get("refused", 0)) + 1
    recorded = int(state.get("recorded", 0))
    record = now_ms - recorded >= record_interval_ms()
    cache.set(
        key,
        {"t": tokens, "at": at, "refused": refused, "recorded": now_ms if record else recorded},
        timeout=state_ttl(),
    )
    wait_ms = math.ceil((cost - tokens) * 1000 / bucket.per_second) if bucket.per_second > 0 else 3_600_000
    return Verdict(
        allowed=False, retry_after_s=max(1, math.ceil(wait_ms / 1000)), refusals=refused, record=record
    )


def fetch_log_take(grant_id: object) -> list[tuple[str, int, int]]:
    """Empty a grant's fetch log: (rendition, segment index, unix ms) of every fetch not yet written."""
    client = redis_client()
    if client is None:
        return []  # without Redis the doors write SegmentFetch rows themselves
    items = _script(client, TAKE_LOG_SCRIPT)(keys=[cache.make_key(fetch_log_key(grant_id))])
    out = []
    for item in items:
        rendition, index, at = (item.decode() if isinstance(item, bytes) else str(item)).split(" ")
        out.append((rendition, int(index), int(at)))
    return out


def key_fetch_count(grant_id: object) -> int:
    return int(cache.get(key_fetch_counter(grant_id)) or 0)
