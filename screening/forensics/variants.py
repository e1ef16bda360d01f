"""What the doors and the admins' pages need of forensics, in the standard library alone: the secrets,
keys and object names derived from a cut's content key, which variant a grant receives for a segment,
and the strength a reading needs to count (docs/forensics.md).

A web process imports this and never ``mark`` (the pattern: numpy, OpenCV), ``codeword``'s scoring
(numpy) or ``detect`` (the detector): those load in the packaging and trace jobs only, and keep some
40 MB off every web process. ``mark`` and ``codeword`` use what is here and name it too.

Every secret is derived from the cut's content key (sealed at rest, ``screening.keyring``), so a cut
carries no second secret: its mark patterns, per-segment keys, object names and codewords.

**Which variant.** Grant ``g`` receives, for segment ``i`` of the cut's timeline, variant B when bit
``i`` of its codeword is 1 and variant A when it is 0. Block ``j`` of the codeword is
``HMAC(codeword_secret, b"codeword|" + g.bytes + b"|%d" % j)`` and holds segments ``256 j`` to
``256 j + 255``, read most significant bit first (``codeword`` has the full account).
"""

from __future__ import annotations

import hashlib
import hmac
import uuid

VARIANTS = ("a", "b")
SECRET_BYTES = 32
BLOCK_BITS = 256  # one HMAC-SHA256 output
# A decision weaker than this is an erasure. Why 3: an erasure is free (the segment simply does not count)
# while a coin-flip decision costs evidence (it adds 1 to n and, for the guilty grant, only 1/2 to k on
# average). A segment that carries no readable mark (a cut-away, black, a damaged passage) gives a z-score
# near N(0, 1); |z| >= 3 lets 0.27 % of those through, |z| >= 2 would let 4.6 %. A readable segment of a
# plausible leak reads far above 3 (docs/forensics.md). The threshold affects only the power of a trace,
# never its false-naming rate, which is exact whatever the decisions are.
CONFIDENT_Z = 3.0


def _derive(content_key: bytes, label: bytes) -> bytes:
    return hmac.new(content_key, b"forensics|" + label, hashlib.sha256).digest()


def mark_secret(content_key: bytes) -> bytes:
    return _derive(content_key, b"mark")


def codeword_secret(content_key: bytes) -> bytes:
    return _derive(content_key, b"codeword")


def segment_key(content_key: bytes, index: int, variant: str) -> bytes:
    """The AES-128 key of one variant of segment ``index`` (the same in every rendition). A viewer never
    holds a key that opens any other segment, nor can tell from keys which variant they received."""
    check_variant(variant)
    return _derive(content_key, b"segment-key|%d|%s" % (index, variant.encode()))[:16]


def object_name(content_key: bytes, rendition: str, index: int, variant: str) -> str:
    """The stored file name of one variant of a segment: the index for people reading the store, and a
    keyed tag that tells nobody without the key which variant it is (presigned URLs show the name)."""
    check_variant(variant)
    tag = _derive(content_key, b"name|%s|%d|%s" % (rendition.encode(), index, variant.encode()))
    return f"seg_{index:05d}_{tag[:10].hex()}.ts"


def check_variant(variant: str) -> None:
    if variant not in VARIANTS:
        raise ValueError(f"A variant is 'a' or 'b', not {variant!r}.")


def check_codeword_secret(secret: bytes) -> None:
    if not isinstance(secret, bytes) or len(secret) != SECRET_BYTES:
        raise ValueError("The codeword secret is the 32 bytes of mark.codeword_secret(content_key).")


def codeword_block(secret: bytes, grant_id: uuid.UUID, block: int) -> bytes:
    """Block ``block`` of a grant's codeword: the symbols of segments ``256 block`` to ``256 block + 255``."""
    return hmac.new(secret, b"codeword|" + grant_id.bytes + b"|%d" % block, hashlib.sha256).digest()


def variant_for(secret: bytes, grant_id: uuid.UUID, index: int) -> str:
    """ "a" or "b": the variant of segment ``index`` that grant ``grant_id`` receives (one HMAC)."""
    check_codeword_secret(secret)
    if isinstance(index, bool) or not isinstance(index, int) or index < 0:
        raise ValueError(f"A segment index is an integer >= 0, not {index!r}.")
    position = index % BLOCK_BITS
    byte = codeword_block(secret, grant_id, index // BLOCK_BITS)[position // 8]
    return "b" if (byte >> (7 - position % 8)) & 1 else "a"
