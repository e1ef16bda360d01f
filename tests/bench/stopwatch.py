"""Wall and CPU time around a piece of work, for the packaging benchmarks.

CPU time is ``getrusage(RUSAGE_CHILDREN)`` (children that were waited for: ffmpeg) plus ``RUSAGE_SELF``
(this process's own Python), as deltas around the work. Machines are shared and noisy, so benchmarks
compare CPU seconds against a floor measured in the same run rather than against a fixed figure.
"""

from __future__ import annotations

import resource
import time
from dataclasses import dataclass


@dataclass(frozen=True)
class Measure:
    wall_s: float
    children_cpu_s: float
    self_cpu_s: float

    @property
    def cpu_s(self) -> float:
        return self.children_cpu_s + self.self_cpu_s


def cpu(who: int) -> float:
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


class Stopwatch:
    """``with Stopwatch() as watch: ...`` then ``watch.measure``."""

    measure: Measure

    def __enter__(self) -> Stopwatch:
        self.wall, self.children, self.own = (
            time.perf_counter(),
            cpu(resource.RUSAGE_CHILDREN),
            cpu(resource.RUSAGE_SELF),
        )
        return self

    def elapsed(self) -> Measure:
        """The time spent since the ``with`` began (usable inside it)."""
        return Measure(
            wall_s=time.perf_counter() - self.wall,
            children_cpu_s=cpu(resource.RUSAGE_CHILDREN) - self.children,
            self_cpu_s=cpu(resource.RUSAGE_SELF) - self.own,
        )

    def __exit__(self, *_: object) -> None:
        self.measure = self.elapsed()
