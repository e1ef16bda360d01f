"""Which variant each playback grant receives for each segment, and how a trace scores grants.

**The codeword.** Grant ``g`` receives, for segment ``i`` of the cut's timeline, variant B when bit ``i``
of its codeword is 1 and variant A when it is 0. The codeword is HMAC-SHA256 in counter mode, keyed by
the cut's codeword secret (``variants.codeword_secret``): block ``j`` is
``HMAC(secret, b"codeword|" + g.bytes + b"|%d" % j)`` and holds segments ``256 j`` to ``256 j + 255``.
Bits are read **most significant first** (``numpy.unpackbits`` order, and the big-endian bit addressing of
ETSI TS 104 002): segment ``i`` is bit ``7 - i % 8`` of byte ``(i % 256) // 8`` of block ``i // 256``.
So the codeword packed MSB first is the concatenated HMAC blocks themselves, which is also the WM pattern
an edge would hold (``etsi_token``). One HMAC per segment request; nothing is stored per grant.

**Scoring, and why its p-value is exact.** A trace reads, from the segments a suspect copy covers, a
signed strength per segment (> 0: B). Only confident decisions (``|strength| >= CONFIDENT_Z``) count;
the others are erasures. For each grant, ``n`` = confident segments and ``k`` = those where the grant's
codeword says the same. An innocent grant's codeword is a keyed pseudo-random function of its id, drawn
independently of the leaked copy: whatever the decisions are (right, wrong, or read from an unmarked
film), its ``n`` bits at the confident segments are ``n`` independent fair coins, so its ``k`` is
Binomial(n, 1/2). ``p = P(Binomial(n, 1/2) >= k)`` is therefore exact (under the HMAC being a PRF, the
secret staying secret, and the decisions being read from the copy alone, never steered by a candidate's
codeword), not a model of the detector's noise; a noisy detector only costs the guilty
grant agreements, never makes an innocent look guilty. ``p_family = min(1, N p)`` over the cut's ``N``
grants bounds (Bonferroni; no independence needed) the chance that *any* innocent grant scores as well. A
grant is named only when ``p_family < threshold`` (default 1e-6).

Each segment counts once: a codeword bit counted twice would no longer be a fresh coin. Decisions
naming the same segment twice (a copy that loops or repeats a passage) are merged (Stouffer: the sum of
strengths over the square root of their number), so contradicting readings cancel into an erasure.

**Collusion.** Two viewers who average their copies blur the segments where their codewords differ
(those read as erasures, or as either variant) and leave their common variant where they agree: every
confident decision then agrees with both, so both are named, and several grants in ``Verdict.named`` is
the expected outcome. Innocents still agree at chance. ``c`` viewers choosing segment by segment whose
copy to show leave each member ``1/2 + 1/(2c)`` agreement (75 % for a pair): named given enough segments,
but this plain random code is not a Tardos code and makes no promise against large coalitions.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Generic, Literal, TypeVar

import numpy as np

from screening.forensics.variants import (
    BLOCK_BITS,
    CONFIDENT_Z,
    check_codeword_secret,
    codeword_block,
)
from screening.forensics.variants import variant_for as variant_for  # one of this module's names too

DEFAULT_THRESHOLD = 1e-6

K = TypeVar("K", bound=Hashable)
Reason = Literal["named", "too_short", "too_damaged", "no_match", "no_grants"]


def codeword(secret: bytes, grant_id: uuid.UUID, length: int) -> np.ndarray:
    """The first ``length`` bits of ``grant_id``'s codeword, uint8 0 (A) / 1 (B); ``variant_for`` bit for
    bit. A 3,600-segment codeword is 15 HMACs."""
    check_codeword_secret(secret)
    if isinstance(length, bool) or not isinstance(length, int) or length < 0:
        raise ValueError(f"A codeword length is an integer >= 0, not {length!r}.")
    stream = b"".join(codeword_block(secret, grant_id, block) for block in range(-(-length // BLOCK_BITS)))
    return np.unpackbits(np.frombuffer(stream, np.uint8))[:length]


@dataclass(frozen=True)
class SegmentDecision:
    index: int  # segment of the cut's timeline
    strength: float  # signed z-score: > 0 means B, < 0 means A; |strength| is the confidence
    frames: int  # suspect frames that contributed


@dataclass(frozen=True)
class GrantScore(Generic[K]):
    key: K
    n: int  # confident segments (the same for every grant of a verdict)
    agreements: int  # of those, where this grant's codeword says what the copy shows
    p: float  # P(Binomial(n, 1/2) >= agreements), exact, rounded to float (0.0 below 1e-308)
    p_family: float  # min(1, N p): the chance that any of the N grants scores as well by chance
    log10_p: float  # log10 of the exact p, for display when p underflows a float


@dataclass(frozen=True)
class Verdict(Generic[K]):
    named: list[GrantScore[K]]  # grants with p_family < threshold, best first
    ranking: list[GrantScore[K]]  # every grant, best first
    confident: int  # segments with a confident decision
    covered: int  # segments with any decision
    needed: int  # confident segments a perfect match needs to be named (minimum_segments)
    threshold: float
    reason: Reason


def binomial_tail(n: int, k: int) -> Fraction:
    """P(Binomial(n, 1/2) >= k), exactly."""
    if n < 0:
        raise ValueError("n must be >= 0.")
    if k <= 0:
        return Fraction(1)
    if k > n:
        return Fraction(0)
    return Fraction(sum(math.comb(n, j) for j in range(k, n + 1)), 1 << n)


def _tails(n: int) -> list[int]:
    """``tails[k] = sum(C(n, j) for j >= k)`` for k = 0..n+1, in O(n) big-integer steps."""
    tails = [0] * (n + 2)
    comb = 1  # C(n, n)
    for j in range(n, -1, -1):
        tails[j] = tails[j + 1] + comb
        comb = comb * j // (n - j + 1)
    return tails


def _check_threshold(threshold: float) -> Fraction:
    if not (isinstance(threshold, int | float) and 0 < threshold < 1):
        raise ValueError(f"The threshold is a probability strictly between 0 and 1, not {threshold!r}.")
    return Fraction(threshold)


def minimum_segments(grant_count: int, threshold: float = DEFAULT_THRESHOLD) -> int:
    """Confident segments a perfect match needs among ``grant_count`` grants: the least ``n`` with
    ``grant_count * 2**-n < threshold`` (33 for 5,000 grants at 1e-6, i.e. 66 s of 2-second segments,
    before any damage)."""
    limit = _check_threshold(threshold)
    if grant_count < 0:
        raise ValueError("grant_count must be >= 0.")
    n = 0
    while grant_count * limit.denominator >= limit.numerator << n:
        n += 1
    return n


def _merge(decisions: Sequence[SegmentDecision]) -> dict[int, float]:
    """One strength per segment (Stouffer over repeated readings; see the module docstring)."""
    readings: dict[int, list[float]] = {}
    for decision in decisions:
        index, strength = decision.index, decision.strength
        if isinstance(index, bool) or not isinstance(index, int) or index < 0:
            raise ValueError(f"A decision's segment index is an integer >= 0, not {index!r}.")
        if not math.isfinite(strength):
            raise ValueError(f"Segment {index}'s strength is not a finite number: {strength!r}.")
        readings.setdefault(index, []).append(float(strength))
    return {index: sum(values) / math.sqrt(len(values)) for index, values in readings.items()}


def score(
    decisions: Sequence[SegmentDecision],
    grants: Mapping[K, np.ndarray],
    *,
    threshold: float = DEFAULT_THRESHOLD,
) -> Verdict[K]:
    """Score every grant of a cut against a suspect copy's decisions; see the module docstring.

    ``grants`` maps a key (the grant's id) to its codeword, which must reach past every decided segment.
    ``reason`` says why nobody is named: ``too_short`` when even the covered segments, all confident and
    all matching, could not reach the threshold (a longer excerpt is needed); ``too_damaged`` when they
    could (covered >= needed) but fewer than ``needed`` decisions are confident (a better copy, or a
    closer look at it, is needed); ``no_match`` when a perfect match over the confident segments would have
    been named and no grant comes close enough: an unmarked copy, a copy of another cut, or damage that
    leaves the guilty grant among the noise (``ranking`` still shows the best candidates).
    """
    limit = _check_threshold(threshold)
    merged = _merge(decisions)
    confident = sorted(index for index, strength in merged.items() if abs(strength) >= CONFIDENT_Z)
    indices = np.array(confident, dtype=np.intp)
    shown = np.array([merged[index] > 0 for index in confident], dtype=np.uint8)
    reach = max(merged, default=-1)
    count = len(grants)
    needed = minimum_segments(count, threshold)
    n = len(confident)

    tails = _tails(n)
    whole = 1 << n
    log10_whole = n * math.log10(2)
    by_agreements: dict[int, tuple[float, float, float, bool]] = {}

    def judged(agreements: int) -> tuple[float, float, float, bool]:
        if agreements not in by_agreements:
            tail = tails[agreements]
            p = Fraction(tail, whole)
            family = min(Fraction(1), count * p)
            by_agreements[agreements] = (
                float(p),
                float(family),
                math.log10(tail) - log10_whole,
                family < limit,
            )
        return by_agreements[agreements]

    scored: list[tuple[GrantScore[K], bool]] = []
    for key, bits in grants.items():
        array = np.asarray(bits)
        if array.ndim != 1 or array.shape[0] <= reach:
            raise ValueError(f"Grant {key!r}'s codeword does not reach segment {reach}.")
        agreements = int(np.count_nonzero(array[indices] == shown))
        p, family, log10_p, named = judged(agreements)
        scored.append((GrantScore(key, n, agreements, p, family, log10_p), named))
    scored.sort(key=lambda item: -item[0].agreements)  # stable: ties keep the caller's order

    named_scores = [grant for grant, named in scored if named]
    reason: Reason
    if not count:
        reason = "no_grants"
    elif named_scores:
        reason = "named"
    elif n >= needed:
        reason = "no_match"
    elif len(merged) >= needed:
        reason = "too_damaged"
    else:
        reason = "too_short"
    return Verdict(
        named=named_scores,
        ranking=[grant for grant, _ in scored],
        confident=n,
        covered=len(merged),
        needed=needed,
        threshold=threshold,
        reason=reason,
    )
