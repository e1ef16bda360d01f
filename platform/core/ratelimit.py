"""Rate limits per user, shared by every socket and every process (Redis), and by the REST API.

A token bucket per key (``rate`` tokens a second, at most ``burst``) kept in Redis and updated by one Lua
script, so that ten sockets, two servers and the REST API all draw from the same budget. Without Redis
(the embedded default's in-memory cache) the bucket lives in the process.

A socket does not ask Redis for every frame: ``SocketBudget`` takes a few tokens at once and spends them
locally within a second (tokens it did not spend are gone, which only makes the limit stricter).
"""

from __future__ import annotations

import asyncio
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import redis.asyncio as aioredis
from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache
from rest_framework import status

from core.errors import DomainError


class RateLimited(DomainError):
    """Over the per-user budget: 429 over REST, an error frame over a socket."""

    status_code = status.HTTP_429_TOO_MANY_REQUESTS
    default_code = "rate_limited"


_TAKE = """
local now = redis.call('TIME')
now = tonumber(now[1]) + tonumber(now[2]) / 1000000
local rate, burst, want = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local state = redis.call('HMGET', KEYS[1], 't', 's')
local tokens = tonumber(state[1]) or burst
local stamp = tonumber(state[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - stamp) * rate)
local got = math.min(want, math.floor(tokens))
tokens = tokens - got
redis.call('HSET', KEYS[1], 't', tostring(tokens), 's', tostring(now))
redis.call('EXPIRE', KEYS[1], math.ceil(burst / rate) + 1)
return got
"""


@dataclass
class _LocalBucket:
    tokens: float
    stamp: float = field(default_factory=time.monotonic)


_local: dict[str, _LocalBucket] = {}
_local_lock = threading.Lock()


def _take_locally(key: str, rate: float, burst: float, want: int) -> int:
    with _local_lock:
        bucket = _local.setdefault(key, _LocalBucket(tokens=burst))
        now = time.monotonic()
        bucket.tokens = min(burst, bucket.tokens + (now - bucket.stamp) * rate)
        bucket.stamp = now
        got = min(want, int(bucket.tokens))
        bucket.tokens -= got
        return got


def rate_take(*, key: str, rate: float, burst: float, tokens: int = 1) -> int:
    """Take up to ``tokens`` from ``key``'s bucket; returns how many were granted (0: over the limit)."""
    backend = caches["default"]
    full_key = backend.make_key(f"ratelimit:{key}")
    if isinstance(backend, RedisCache):
        client = backend._cache.get_client(full_key, write=True)  # type: ignore[attr-defined]
        return int(client.eval(_TAKE, 1, full_key, rate, burst, tokens))
    return _take_locally(full_key, rate, burst, tokens)


# One async client per event loop (a server has one; each async test has its own): a socket's frames take
# their tokens on the loop itself. Through a worker thread and Django's cache client, the same call cost
# more than half of a thread server's CPU under `make bench` (a new Redis connection per thread, the GIL).
_async_scripts: dict[asyncio.AbstractEventLoop, Any] = {}


def _async_script(backend: RedisCache) -> Any:
    loop = asyncio.get_running_loop()
    script = _async_scripts.get(loop)
    if script is None:
        for old in [known for known in _async_scripts if known.is_closed()]:
            del _async_scripts[old]
        client = aioredis.Redis.from_url(backend._servers[0])  # type: ignore[attr-defined]
        script = _async_scripts[loop] = client.register_script(_TAKE)
    return script


async def rate_take_async(*, key: str, rate: float, burst: float, tokens: int = 1) -> int:
    """``rate_take`` on the event loop, from the same bucket."""
    backend = caches["default"]
    full_key = backend.make_key(f"ratelimit:{key}")
    if isinstance(backend, RedisCache):
        return int(await _async_script(backend)(keys=[full_key], args=[rate, burst, tokens]))
    return _take_locally(full_key, rate, burst, tokens)


def thread_rate() -> tuple[float, float]:
    """Frames and REST actions of one user in negotiation threads: sustained rate per second, burst."""
    return (
        float(settings.THREAD_RATE_PER_SECOND),
        float(settings.THREAD_RATE_BURST),
    )


def thread_key(user_id: int) -> str:
    return f"thread:{user_id}"


class SocketBudget:
    """One socket's share of its user's bucket, taken a few tokens at a time (one Redis call per
    ``LEASE`` frames instead of one per frame).

    Leased tokens stay the socket's until it spends them: they were taken from the user's bucket, so a
    socket can be at most ``LEASE - 1`` frames ahead of it. They used to lapse after a second, which
    charged a person typing a message every second or two four tokens a message: ten quick messages
    emptied a burst of twenty.
    """

    LEASE = 4

    def __init__(self, key: str, rate: float, burst: float) -> None:
        self.key, self.rate, self.burst = key, rate, burst
        self.left = 0

    async def take(self) -> bool:
        if self.left > 0:
            self.left -= 1
            return True
        want = max(1, min(self.LEASE, int(self.burst)))
        granted = await rate_take_async(key=self.key, rate=self.rate, burst=self.burst, tokens=want)
        if granted == 0:
            return False
        self.left = granted - 1
        return True
