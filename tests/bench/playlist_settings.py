"""The playlist benchmark's settings: the embedded base, with the doors' pace buckets so large that they
never refuse. The benchmark hammers each viewer's media playlist and key back to back, far faster than a
player does; every request still runs the pace script (its cost is measured), none is refused."""

from config.settings.base import *  # noqa: F403

SCREENING_KEY_PACE_BURST = 10**9
SCREENING_KEY_PACE_PER_MINUTE = 10**9
SCREENING_PACE_BURST_SECONDS = 10**9
SCREENING_PACE_REALTIME_FACTOR = 10**9
