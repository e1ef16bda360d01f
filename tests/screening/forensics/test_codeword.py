"""The codeword (which variant each grant receives) and the trace's scoring: exact p-values, error
correction, excerpts, collusion, and the reasons a trace names nobody."""

from __future__ import annotations

import hashlib
import hmac
import itertools
import math
import uuid
from fractions import Fraction

import numpy as np
import pytest

from screening.forensics.codeword import (
    CONFIDENT_Z,
    SegmentDecision,
    binomial_tail,
    codeword,
    minimum_segments,
    score,
    variant_for,
)

SECRET = bytes(range(32))
OTHER_CUT = hashlib.sha256(b"another cut").digest()
GRANT = uuid.UUID("12345678-1234-5678-1234-567812345678")
STRONG = 5.0  # a confident reading
WEAK = 1.0  # below CONFIDENT_Z: an erasure


def grant_ids(count: int, seed: int) -> list[uuid.UUID]:
    rng = np.random.default_rng(seed)
    return [uuid.UUID(bytes=rng.bytes(16), version=4) for _ in range(count)]


def codewords(ids: list[uuid.UUID], length: int, secret: bytes = SECRET) -> dict[uuid.UUID, np.ndarray]:
    return {grant: codeword(secret, grant, length) for grant in ids}


def faithful(bits: np.ndarray, indices: range | list[int], strength: float = STRONG) -> list[SegmentDecision]:
    """Decisions that read exactly what ``bits`` says at ``indices``."""
    return [SegmentDecision(i, strength if bits[i] else -strength, 12) for i in indices]


# The codeword itself


def test_fixed_vector() -> None:
    """The codeword of a grant must never change: a trace years later scores against it."""
    bits = "".join("1" if variant_for(SECRET, GRANT, i) == "b" else "0" for i in range(32))
    assert bits == "01011111111001111111101100101001"
    assert np.packbits(codeword(SECRET, GRANT, 32)).tobytes().hex() == "5fe7fb29"
    # the definition, spelled out: block j = HMAC(secret, "codeword|" + id + "|j"), bits MSB first
    block_1 = hmac.new(SECRET, b"codeword|" + GRANT.bytes + b"|1", hashlib.sha256).digest()
    assert variant_for(SECRET, GRANT, 256) == ("b" if block_1[0] & 0x80 else "a")
    assert variant_for(SECRET, GRANT, 256 + 15) == ("b" if block_1[1] & 0x01 else "a")


def test_codeword_agrees_with_variant_for_bit_for_bit() -> None:
    for grant in [GRANT, *grant_ids(3, seed=1)]:
        bits = codeword(SECRET, grant, 700)  # three HMAC blocks, the last one partly
        assert bits.dtype == np.uint8 and bits.shape == (700,)
        assert [variant_for(SECRET, grant, i) for i in range(700)] == ["ab"[b] for b in bits]
        assert np.array_equal(codeword(SECRET, grant, 300), bits[:300])
    assert codeword(SECRET, GRANT, 0).shape == (0,)


def test_distinct_codewords() -> None:
    """Grants of one viewer (one per device or session) differ as much as anyone's: agreement near 1/2."""
    ids = grant_ids(40, seed=2)
    words = codewords(ids, 1000)
    agreements = [float(np.mean(words[a] == words[b])) for a, b in itertools.combinations(ids, 2)]
    assert min(agreements) > 0.42 and max(agreements) < 0.58  # 5 sigma either side of 1/2
    assert abs(float(np.mean(agreements)) - 0.5) < 0.01
    # the same grant in another cut has an unrelated codeword
    assert 0.42 < float(np.mean(codeword(SECRET, GRANT, 1000) == codeword(OTHER_CUT, GRANT, 1000))) < 0.58


def test_codeword_inputs_are_checked() -> None:
    with pytest.raises(ValueError, match="index"):
        variant_for(SECRET, GRANT, -1)
    with pytest.raises(ValueError, match="32 bytes"):
        variant_for(SECRET[:16], GRANT, 0)
    with pytest.raises(ValueError, match="length"):
        codeword(SECRET, GRANT, -5)


# Exact p-values


def test_binomial_tail_by_hand() -> None:
    assert binomial_tail(10, 8) == Fraction(45 + 10 + 1, 1024)
    assert binomial_tail(6, 3) == Fraction(20 + 15 + 6 + 1, 64)
    assert binomial_tail(20, 20) == Fraction(1, 2**20)
    assert binomial_tail(5, 0) == 1
    assert binomial_tail(5, 6) == 0


def test_score_p_values_by_hand() -> None:
    """10 confident segments; grant "eight" agrees on 8 of them: p = 56/1024, p_family = 3 p."""
    shown = np.array([1, 0, 1, 1, 0, 0, 1, 0, 1, 1], np.uint8)
    eight = shown.copy()
    eight[[2, 5]] ^= 1
    grants = {"eight": eight, "all": shown.copy(), "none": 1 - shown}
    verdict = score(faithful(shown, range(10)), grants, threshold=0.01)
    by_key = {grant.key: grant for grant in verdict.ranking}
    assert by_key["eight"].n == 10 and by_key["eight"].agreements == 8
    assert by_key["eight"].p == 56 / 1024
    assert by_key["eight"].p_family == 3 * 56 / 1024
    assert by_key["all"].p == 1 / 1024 and by_key["all"].p_family == 3 / 1024
    assert by_key["none"].p == 1.0 and by_key["none"].p_family == 1.0
    assert math.isclose(by_key["eight"].log10_p, math.log10(56 / 1024))
    assert [grant.key for grant in verdict.ranking] == ["all", "eight", "none"]
    assert [grant.key for grant in verdict.named] == ["all"]  # 3/1024 < 0.01 < 3 * 56/1024


def test_tiny_p_values_keep_their_logarithm() -> None:
    bits = codeword(SECRET, GRANT, 2000)
    verdict = score(faithful(bits, range(2000)), {GRANT: bits})
    (best,) = verdict.named
    assert best.p == 0.0  # 2**-2000 underflows a float ...
    assert math.isclose(best.log10_p, -2000 * math.log10(2))  # ... not its logarithm


def test_minimum_segments() -> None:
    assert minimum_segments(5000, 1e-6) == 33  # 5000 / 2**33 < 1e-6 <= 5000 / 2**32
    assert minimum_segments(500, 1e-6) == 29
    assert minimum_segments(1, 0.25) == 3  # strictly below: 2**-2 is not < 0.25
    assert minimum_segments(0, 1e-6) == 0
    with pytest.raises(ValueError, match="threshold"):
        minimum_segments(10, 0.0)


# Tracing


def test_error_correction() -> None:
    """120 segments (4 minutes), 30 % erased and 10 % read wrong, among 500 grants: still named alone.

    (At 60 segments the same damage leaves 42 confident decisions, 6 of them wrong: p_family = 7e-4, which
    is evidence but not conclusive at 1e-6; four minutes are.)"""
    ids = grant_ids(500, seed=3)
    grants = codewords(ids, 120)
    leaker = ids[123]
    rng = np.random.default_rng(4)
    order = rng.permutation(120)
    erased, flipped = set(order[:36].tolist()), set(order[36:48].tolist())
    decisions = []
    for i in range(120):
        sign = 1.0 if grants[leaker][i] else -1.0
        if i in flipped:
            sign = -sign
        decisions.append(SegmentDecision(i, sign * (WEAK if i in erased else STRONG), 8))
    verdict = score(decisions, grants)
    assert verdict.reason == "named"
    assert [grant.key for grant in verdict.named] == [leaker]
    assert (verdict.covered, verdict.confident) == (120, 84)
    assert verdict.named[0].agreements == 72
    assert verdict.named[0].p == float(binomial_tail(84, 72))
    assert verdict.ranking[1].p_family > 1e-3  # the best innocent is nowhere near


def test_decoding_an_excerpt() -> None:
    """A 90-second excerpt (segments 100-144) of a 30-minute cut names its grant among 500."""
    ids = grant_ids(500, seed=5)
    grants = codewords(ids, 900)
    leaker = ids[77]
    verdict = score(faithful(grants[leaker], range(100, 145)), grants)
    assert [grant.key for grant in verdict.named] == [leaker]
    assert (verdict.covered, verdict.confident, verdict.named[0].agreements) == (45, 45, 45)


def test_no_innocent_is_named_on_noise() -> None:
    """2,000 copies read as pure noise, each against 200 fresh grants: nobody is ever named at 1e-6, and
    at a loose threshold of 0.05 somebody is named in at most about 5 % of copies (Bonferroni's promise),
    which also shows the p-values are not vacuously large."""
    rng = np.random.default_rng(6)
    length = 100
    loose = 0.05
    strictly_named = loosely_named = 0
    for _ in range(2000):
        ids = [uuid.UUID(bytes=rng.bytes(16), version=4) for _ in range(200)]
        grants = codewords(ids, length)
        strengths = rng.normal(0.0, CONFIDENT_Z, length)  # about a third confident, all meaningless
        decisions = [SegmentDecision(i, float(z), 5) for i, z in enumerate(strengths)]
        verdict = score(decisions, grants, threshold=loose)
        strictly_named += verdict.ranking[0].p_family < 1e-6
        loosely_named += bool(verdict.named)
    assert strictly_named == 0
    assert 10 <= loosely_named <= 130  # at most 100 expected; its standard deviation is about 10


def test_averaging_collusion_names_both() -> None:
    """Two viewers average their copies: segments where their variants differ read as erasures, the rest
    as their common variant. Both are named, nobody else."""
    ids = grant_ids(300, seed=7)
    grants = codewords(ids, 600)
    first, second = ids[10], ids[200]
    decisions = [
        SegmentDecision(i, (STRONG if grants[first][i] else -STRONG) if same else 0.2, 10)
        for i, same in enumerate(grants[first] == grants[second])
    ]
    verdict = score(decisions, grants)
    assert verdict.reason == "named"
    assert {grant.key for grant in verdict.named} == {first, second}
    assert verdict.named[0].agreements == verdict.named[1].agreements == verdict.confident


@pytest.mark.parametrize(
    ("case", "reason"),
    [
        ("perfect", "named"),
        ("short", "too_short"),
        ("damaged", "too_damaged"),
        ("other cut", "no_match"),
        ("unmarked", "no_match"),
        ("no grants", "no_grants"),
    ],
)
def test_every_reason(case: str, reason: str) -> None:
    ids = grant_ids(500, seed=8)
    grants = codewords(ids, 300)
    leaker = grants[ids[0]]
    needed = minimum_segments(500)
    decisions = {
        "perfect": faithful(leaker, range(needed)),
        "short": faithful(leaker, range(needed - 1)),  # perfect, one segment short
        "damaged": faithful(leaker, range(300), strength=CONFIDENT_Z * 0.9),
        "other cut": faithful(codeword(OTHER_CUT, ids[0], 300), range(300)),
        "unmarked": [
            SegmentDecision(i, float(z), 9) for i, z in enumerate(np.random.default_rng(9).normal(0, 6, 300))
        ],
        "no grants": faithful(leaker, range(300)),
    }[case]
    verdict = score(decisions, {} if case == "no grants" else grants)
    assert verdict.reason == reason
    assert bool(verdict.named) == (reason == "named")
    assert verdict.needed == (needed if case != "no grants" else 0)
    if case == "damaged":
        assert (verdict.covered, verdict.confident) == (300, 0)


def test_a_repeated_segment_counts_once() -> None:
    bits = np.array([1, 0, 1], np.uint8)
    twice_weak = [SegmentDecision(0, 2.5, 4), SegmentDecision(0, 2.5, 4)]  # 5 / sqrt(2): confident
    contradicting = [SegmentDecision(1, 4.0, 4), SegmentDecision(1, -4.0, 4)]  # cancel: an erasure
    verdict = score([*twice_weak, *contradicting], {"g": bits}, threshold=0.5)
    assert (verdict.covered, verdict.confident) == (2, 1)
    assert verdict.ranking[0].agreements == 1


def test_score_inputs_are_checked() -> None:
    bits = np.zeros(10, np.uint8)
    with pytest.raises(ValueError, match="does not reach segment 10"):
        score([SegmentDecision(10, 4.0, 1)], {"g": bits})
    with pytest.raises(ValueError, match="finite"):
        score([SegmentDecision(1, math.nan, 1)], {"g": bits})
    with pytest.raises(ValueError, match="index"):
        score([SegmentDecision(-1, 4.0, 1)], {"g": bits})
    with pytest.raises(ValueError, match="threshold"):
        score([], {"g": bits}, threshold=1.5)
