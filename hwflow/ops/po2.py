"""QKeras's quantized_relu_po2 activation: a power-of-two level is one spike.

quantized_relu_po2(bits, max_value) (negative_slope 0, no stochastic rounding or quadratic approximation)
computes y = 2**E(x) with E(x) = clip(round(log2(max(min(x, max_value), eps))), min_exp, max_exp) (or floor
for log2_rounding='floor'): zero and negative inputs give 2**min_exp, never 0. With lo = min_exp and hi the
exponent of max_value (max_exp without one) the levels are k = y * 2**-lo = 2**(E - lo), sent over
T = hi - lo + 1 planes (hwflow.quant.po2_code): the binary code of a power of two has one 1, so every unit
sends exactly one spike, at step t = hi - E (MSB first, step t weighs 2**(T-1-t)), and the next layer's
Horner integration v <- 2 v + W s(t) reads k exactly, as for any other level.

The neuron (hwflow.ops.neuron.Neuron.po2_bounds) integrates as every IF neuron, without the half-threshold
shift, then fires on the pre-activation X (an integer on the layer's grid, x = X * 2**-F): at step t < T-1
it fires iff it has not fired yet and X >= B(hi - t), where B(e) is the smallest X with E(X * 2**-F) >= e;
at the last step it fires iff it has not fired yet. E is non-decreasing, so B(hi) >= B(hi-1) >= ... and the
first step that fires is the one of E(X): exactly one spike, the level 2**(E - lo). After the spike the
firmware parks the membrane at the most negative value of its type, which no membrane reaches (its width
holds -bound..bound), so no later step fires.

B(e) is found on the exact real boundary (X**2 >= 2**(2e - 1 + 2F) for round, the log2 tie e - 1/2 being
irrational; X >= 2**(e+F) for floor) and then on TensorFlow's own float32 computation: QKeras's quantizer is
run on every integer within 8 + X / 2**18 of it (float32's log is off by far less), its first X with
E >= e taken, and a quantizer that is not monotone there (or whose boundary lies outside the window) is
refused with one line. Boundaries above 2**24 keep the real value: TensorFlow's float32 pass is not exact there
(hwflow.passes.BoundWidths marks such layers).
"""
from __future__ import annotations

import math

import numpy as np

from hwflow.errors import HwflowError
from hwflow.numerics import FLOAT32_EXACT_BITS


def real_bound(e: int, frac: int, floor: bool) -> int:
    """The smallest integer X >= 1 with exponent >= e in exact arithmetic (x = X * 2**-frac)."""
    if floor:
        return max(1, 2 ** (e + frac)) if e + frac >= 0 else 1
    m = 2 * (e + frac) - 1  # X**2 >= 2**m
    return math.isqrt(2**m - 1) + 1 if m >= 0 else 1


def exponents(q, xs: np.ndarray, frac: int) -> np.ndarray:
    """QKeras's exponent E of the integers xs on the grid 2**-frac (the quantizer run in float32)."""
    x = (xs.astype(np.float64) * 2.0**-frac).astype(np.float32)
    y = np.asarray(q(x), dtype=np.float64)
    mantissa, exponent = np.frexp(y)
    if np.any(mantissa != 0.5):
        raise ValueError("not a power of two")
    return exponent - 1


def exponent_bounds(q, lo: int, hi: int, frac: int, where: str) -> tuple[int, ...]:
    """B(e) for e = hi, hi-1, ..., lo+1 (fire steps 0..T-2) on the grid 2**-frac (module docstring)."""
    floor = getattr(q, "log2_rounding", "rnd") == "floor"
    bounds = []
    for e in range(hi, lo, -1):
        b = real_bound(e, frac, floor)
        if b + 8 + (b >> 18) < 2**FLOAT32_EXACT_BITS:
            radius = 8 + (b >> 18)
            xs = np.arange(max(0, b - radius), b + radius + 1, dtype=np.int64)
            try:
                es = exponents(q, xs, frac)
            except ValueError:
                es = None
            if es is None or np.any(np.diff(es) < 0) or es[0] >= e or es[-1] < e:
                raise HwflowError(f"{where}: TensorFlow's float32 {q!s} does not step to exponent {e} once near "
                                  f"{b} * 2**-{frac} (integers {xs[0]}..{xs[-1]}); use a coarser layer grid "
                                  "(fewer weight / bias bits) or quantized_relu")
            b = int(xs[np.argmax(es >= e)])
        bounds.append(b)
    return tuple(bounds)
