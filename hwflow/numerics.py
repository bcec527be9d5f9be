"""Integer widths and the limits within which floating point is exact (one formula, one set of constants)."""
from __future__ import annotations

FLOAT32_EXACT_BITS = 24  # float32 holds every integer of up to 24 bits (its mantissa) exactly
FLOAT64_EXACT_BITS = 53  # float64: 53 bits


def signed_bits(lo: int, hi: int) -> int:
    """Two's-complement width that holds every integer in [lo, hi] (at least 1 bit)."""
    return max(int(hi).bit_length(), int(-lo - 1).bit_length() if lo < 0 else 0) + 1


def unsigned_bits(hi: int) -> int:
    """Unsigned width that holds every integer in [0, hi] (at least 1 bit)."""
    return max(int(hi).bit_length(), 1)


def symmetric_bits(max_abs: int) -> int:
    """Two's-complement width that holds every integer in [-max_abs, max_abs]."""
    return signed_bits(-int(max_abs), int(max_abs))
