"""Reading QKeras quantizers as exact fixed-point grids."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from hwflow.defaults import MAX_TIME_STEPS
from hwflow.errors import HwflowError

MAX_FRAC_BITS = 32


@dataclass(frozen=True)
class Grid:
    """Signed or unsigned integer levels k in [lo, hi]; the value of level k is k * 2**-frac."""

    lo: int
    hi: int
    frac: int

    @property
    def signed(self) -> bool:
        return self.lo < 0

    @property
    def max_abs(self) -> int:
        return max(abs(self.lo), abs(self.hi))

    def levels(self, values: np.ndarray) -> np.ndarray:
        """Integer levels of values that lie exactly on this grid (no rounding, no clipping)."""
        return np.asarray(values, dtype=np.float64) * 2.0**self.frac

    def values(self, levels: np.ndarray) -> np.ndarray:
        """float32 values of integer levels (exact while |level| < 2**24)."""
        return (np.asarray(levels, dtype=np.float64) * 2.0**-self.frac).astype(np.float32)

    def quantize(self, x: np.ndarray) -> np.ndarray:
        """Round to nearest level, ties to even, and clip, as QKeras does; returns float32 values."""
        k = np.clip(np.round(np.asarray(x, dtype=np.float32).astype(np.float64) * 2.0**self.frac),
                    self.lo, self.hi)
        return self.values(k)


@dataclass(frozen=True)
class ReluGrid:
    """quantized_relu(bits, integer): T = bits time steps, levels 0 .. 2**T - 1."""

    bits: int
    integer: int

    @property
    def grid(self) -> Grid:
        return Grid(0, 2**self.bits - 1, self.bits - self.integer)


def quantizer_name(q: object) -> str:
    return type(q).__name__


def relu_grid(q: object, where: str) -> ReluGrid:
    """The exact grid of a QKeras quantized_relu, or a HwflowError saying why it is unsupported."""
    name = quantizer_name(q)
    if name != "quantized_relu":
        raise HwflowError(
            f"{where}: activation {q!s} is not supported; hwflow converts only "
            f"quantized_relu(bits, integer) activations (use QActivation('quantized_relu(4,0)'))")
    problems = []
    if getattr(q, "negative_slope", 0) != 0:
        problems.append("negative_slope must be 0")
    if getattr(q, "use_sigmoid", 0):
        problems.append("use_sigmoid must be 0")
    if getattr(q, "use_stochastic_rounding", False):
        problems.append("use_stochastic_rounding must be False")
    if getattr(q, "relu_upper_bound", None) is not None:
        problems.append("relu_upper_bound must be None")
    if float(getattr(q, "qnoise_factor", 1.0)) != 1.0:
        problems.append("qnoise_factor must be 1.0")
    if problems:
        raise HwflowError(f"{where}: {q!s} is not an exact binary-coded activation: "
                          + "; ".join(problems))
    bits, integer = int(q.bits), int(q.integer)
    if not 1 <= bits <= MAX_TIME_STEPS:
        raise HwflowError(f"{where}: {q!s} has {bits} bits; hwflow supports 1 to {MAX_TIME_STEPS} time steps")
    return ReluGrid(bits, integer)


@dataclass(frozen=True)
class ActivationCode:
    """A hidden activation's levels as T = bits binary planes: levels lo..hi = -offset .. 2**T - 1 - offset on a
    grid of frac fractional bits, each sent as k + offset (offset binary; offset 0 for quantized_relu)."""

    bits: int
    frac: int
    offset: int = 0
    sign: bool = False  # QKeras binary(): one plane b = [x >= 0] (Neuron.sign)
    pm1: bool = False  # with sign: the value is 2 b - 1 (binary()), not b (binary(use_01=True))
    pair_threshold: float | None = None  # ternary(): two sign planes p, n per unit, value p - n (hwflow.ops.ternary)
    po2: object | None = field(default=None, compare=False)  # quantized_relu_po2: the quantizer (hwflow.ops.po2)

    @property
    def grid(self) -> Grid:
        return Grid(-self.offset, 2**self.bits - 1 - self.offset, self.frac)


def binary_code(q: object, where: str) -> ActivationCode:
    """QKeras's binary() activation: sign(x) with sign(0) = +1, i.e. +1 iff x >= 0 (or 1 / 0 with use_01).
    With alpha=None QKeras returns tanh(x) + (-tanh(x) + s), which float32 rounds to s exactly (|tanh x| < 1:
    the inner difference is off by at most 2**-25, and the sum rounds back to s = +-1 or 0); an explicit alpha
    skips the tanh and the same sum is inexact for large |x|."""
    problems = []
    if getattr(q, "alpha", None) is not None:
        problems.append(f"alpha={q.alpha!r} must be None (QKeras then computes +-1 exactly)")
    if getattr(q, "use_stochastic_rounding", False):
        problems.append("use_stochastic_rounding must be False")
    if problems:
        raise HwflowError(f"{where}: {q!s} is not an exact binary activation: " + "; ".join(problems))
    return ActivationCode(1, 0, sign=True, pm1=not q.use_01)


def activation_code(q: object, where: str) -> ActivationCode:
    """The code of a hidden activation: quantized_relu, or quantized_bits (signed: offset binary, half the levels
    below zero), or binary (one sign plane), or ternary (a pair of sign planes), or a HwflowError saying why it
    is unsupported."""
    if quantizer_name(q) == "binary":
        return binary_code(q, where)
    if quantizer_name(q) == "ternary":
        return ternary_code(q, where)
    if quantizer_name(q) == "quantized_relu_po2":
        return po2_code(q, where)
    if quantizer_name(q) != "quantized_bits":
        rg = relu_grid(q, where)
        return ActivationCode(rg.bits, rg.bits - rg.integer)
    problems = []
    if getattr(q, "use_stochastic_rounding", False):
        problems.append("use_stochastic_rounding must be False")
    if float(getattr(q, "qnoise_factor", 1.0)) != 1.0:
        problems.append("qnoise_factor must be 1.0")
    if getattr(q, "symmetric", 0) and q.keep_negative:
        problems.append("symmetric must be 0 (2**bits levels, half of them below zero)")
    if problems:
        raise HwflowError(f"{where}: {q!s} is not an exact binary-coded activation: " + "; ".join(problems))
    grid = input_grid(q, where)  # alpha=1, at least 2 bits when signed
    bits = int(q.bits)
    if not 1 <= bits <= MAX_TIME_STEPS:
        raise HwflowError(f"{where}: {q!s} has {bits} bits; hwflow supports 1 to {MAX_TIME_STEPS} time steps")
    return ActivationCode(bits, grid.frac, -grid.lo)


def ternary_code(q: object, where: str) -> ActivationCode:
    """QKeras's ternary() activation: sign(x) * [|x| >= float32(threshold)], as two sign planes per unit
    (hwflow.ops.ternary). alpha=None is needed for the exact +-1 (QKeras's tanh path, as binary_code)."""
    threshold = q.default_threshold if getattr(q, "threshold", None) is None else q.threshold
    problems = []
    if getattr(q, "alpha", None) is not None:
        problems.append(f"alpha={q.alpha!r} must be None (QKeras then computes -1, 0, +1 exactly)")
    if getattr(q, "use_stochastic_rounding", False):
        problems.append("use_stochastic_rounding must be False")
    number = isinstance(threshold, (int, float, np.integer, np.floating)) and not isinstance(threshold, bool)
    if not number or not float(np.float32(threshold)) > 0:
        problems.append(f"threshold={threshold!r} must be a number > 0")
    if problems:
        raise HwflowError(f"{where}: {q!s} is not an exact ternary activation: " + "; ".join(problems))
    return ActivationCode(1, 0, sign=True, pair_threshold=float(threshold))


def po2_code(q: object, where: str) -> ActivationCode:
    """QKeras's quantized_relu_po2: levels 2**e for e in [min_exp, max_exp] (zero and negative inputs give
    2**min_exp), sent as the binary code of 2**(e - min_exp) over T = max_exp - min_exp + 1 planes: one spike,
    at the step of its exponent (hwflow.ops.po2 finds the neuron's thresholds)."""
    problems = []
    if getattr(q, "negative_slope", 0) != 0:
        problems.append("negative_slope must be 0")
    if getattr(q, "use_stochastic_rounding", False):
        problems.append("use_stochastic_rounding must be False")
    if getattr(q, "quadratic_approximation", False):
        problems.append("quadratic_approximation must be False")
    if getattr(q, "log2_rounding", "rnd") not in ("rnd", "floor"):
        problems.append(f"log2_rounding={q.log2_rounding!r} must be 'rnd' or 'floor'")
    if float(getattr(q, "qnoise_factor", 1.0)) != 1.0:
        problems.append("qnoise_factor must be 1.0")
    if problems:
        raise HwflowError(f"{where}: {q!s} is not an exact binary-coded activation: " + "; ".join(problems))
    lo, hi = int(q._min_exp), int(q._max_exp)
    if q.max_value is not None:  # inputs are clipped to max_value before the logarithm: its level is the top
        hi = int(np.log2(float(np.asarray(q(np.array([q.max_value], dtype=np.float32)))[0])))
    steps = hi - lo + 1
    if not 1 <= steps <= MAX_TIME_STEPS or -lo > MAX_FRAC_BITS:
        raise HwflowError(f"{where}: {q!s} has exponents {lo}..{hi}, {steps} time steps; hwflow supports 1 to "
                          f"{MAX_TIME_STEPS} (use fewer bits, or a max_value above 1)")
    return ActivationCode(steps, -lo, po2=q)


def input_grid(q: object, where: str) -> Grid:
    """The grid of an input quantizer: quantized_relu or quantized_bits(alpha=1)."""
    name = quantizer_name(q)
    if name == "quantized_relu":
        return relu_grid(q, where).grid
    if name == "quantized_bits":
        check_alpha(q, where)
        keep_negative = int(bool(q.keep_negative))
        unsigned_bits = int(q.bits) - keep_negative
        if unsigned_bits <= 0:
            raise HwflowError(f"{where}: {q!s} is a binary/sign quantizer; use at least 2 bits")
        m = 2**unsigned_bits
        lo = -keep_negative * (m - int(bool(getattr(q, "symmetric", 0))))
        return Grid(lo, m - 1, unsigned_bits - int(q.integer))
    raise HwflowError(f"{where}: input quantizer {q!s} is not supported; use "
                      "QActivation('quantized_relu(bits, integer)') or quantized_bits(bits, integer, alpha=1)")


def check_alpha(q: object, where: str, weights: bool = False) -> None:
    """Reject quantizers whose scale is not a power-of-two grid (alpha='auto' and friends).

    weights: a kernel or bias quantizer, whose alpha='auto_po2' is allowed. QKeras sets it on every
    kernel quantizer left at alpha=None inside QDense / QConv2D; its per-channel scales are powers of
    two, computed from the trained weights alone, so the quantized weights lie on one fixed-point grid
    (the finest channel's) and become exact integers there. On an activation the scale would follow
    each batch: refused."""
    alpha = getattr(q, "alpha", None)
    if weights and alpha == "auto_po2":
        return
    if isinstance(alpha, str) or (alpha is not None and float(alpha) != 1.0):
        raise HwflowError(
            f"{where}: {q!s} has alpha={alpha!r}, a per-channel float scale that is not a fixed-point "
            "grid; use quantized_bits(bits, integer, alpha=1)" + (" or alpha='auto_po2'" if weights else ""))


def to_integers(values: np.ndarray, where: str) -> tuple[np.ndarray, int]:
    """Exact integers I and the smallest frac f >= 0 with values == I * 2**-f."""
    v = np.asarray(values, dtype=np.float64)
    for frac in range(MAX_FRAC_BITS + 1):
        scaled = v * 2.0**frac
        if np.all(scaled == np.round(scaled)):
            return scaled.astype(np.int64), frac
    raise HwflowError(
        f"{where}: values are not on a fixed-point grid with at most {MAX_FRAC_BITS} fractional bits; "
        "quantize them with a quantized_bits(bits, integer, alpha=1) quantizer")
