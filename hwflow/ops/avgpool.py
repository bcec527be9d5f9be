"""Average pooling (AveragePooling2D, GlobalAveragePooling2D and their QKeras forms) as an identity-kernel Conv2D.

The pool has no node or block of its own: it parses into a Conv2D whose kernel connects each channel to
itself, so the conv2d op executes and lowers it (SNN, every HLS strategy, the RTL twin, its cycle
formula), and the neuron of the QActivation after it does the division:
- a plain average over A = 2**a * d pixels (d odd): weight 1 with weight_frac a, and the neuron's
  threshold d times larger (Neuron.divisor = d): thresholds are integers, not only powers of two;
- QAveragePooling2D / QGlobalAveragePooling2D with an average_quantizer: QKeras multiplies the sum by the
  quantized 1/A, an integer weight on its grid; divisor 1.
TensorFlow computes the average in float32 (the sum, exact on the grid, then a division, for QKeras's
forms also the multiplications). Every step is monotone in the input sum, and so is the exact level,
so the two agree on every input when they agree on both sides of each rounding boundary of the
activation: hwflow runs the pool there at conversion and refuses the model if one differs.
A window the pool itself pads is refused (Keras divides it by its count of real pixels); a
ZeroPadding2D before the pool pads real zeros, which count, and is folded in.
"""
from __future__ import annotations

import math
from fractions import Fraction

import numpy as np

from hwflow.errors import HwflowError
from hwflow.geometry import axis_paddings, out_size
from hwflow.ops.conv2d import Conv2D
from hwflow.ops.flatten import Flatten
from hwflow.ops import ternary
from hwflow.ops.keras_layers import shape_of, unsupported
from hwflow.ops.registry import parses
from hwflow.quant import activation_code, to_integers

GLOBAL = ("GlobalAveragePooling2D", "QGlobalAveragePooling2D")


@parses("AveragePooling2D", "QAveragePooling2D", "GlobalAveragePooling2D", "QGlobalAveragePooling2D",
        note="any window and stride, no window padded by the pool, followed by a QActivation")
def parse_avgpool(parser, layer) -> None:
    """The pool as an identity-kernel Conv2D waiting for its QActivation (the neuron divides)."""
    kind = type(layer).__name__
    if parser.pending is not None or parser.analog():
        raise unsupported(layer, " directly after a linear layer or on the analog input (put it after a QActivation)")
    if parser.pair:
        raise ternary.refuse_pair(kind, layer.name)
    if parser.pm1:
        raise unsupported(layer, " after a binary() activation (average its +-1 values with a QConv2D instead)")
    if getattr(layer, "data_format", "channels_last") != "channels_last":
        raise unsupported(layer, " with data_format other than channels_last")
    padded_hw = shape_of(layer.input_shape)[:2]
    if kind in GLOBAL:
        kernel, strides, own_padding = tuple(padded_hw), (1, 1), "valid"
    else:
        kernel, strides, own_padding = tuple(layer.pool_size), tuple(layer.strides), layer.padding
        if own_padding == "same" and any((out_size(n, k, s, "same") - 1) * s + k > n
                                         for n, k, s in zip(padded_hw, kernel, strides)):
            raise unsupported(layer, " with a window padded by the pool ('same' divides it by its count of real "
                                     "pixels); use padding='valid' or a ZeroPadding2D before it")
    in_shape, padding = parser.padded_input(layer, kernel, strides, "valid")
    area, c = math.prod(kernel), in_shape[2]
    average_quantizer = getattr(layer, "average_quantizer_internal", None) if getattr(
        layer, "average_quantizer", None) else None
    if average_quantizer is not None:
        factor, weight_frac = to_integers(np.asarray(average_quantizer(1.0 / area), np.float32).reshape(1),
                                          f"layer '{layer.name}' average_quantizer(1/{area})")
        factor, divisor = int(factor[0]), 1
    else:
        weight_frac = (area & -area).bit_length() - 1
        factor, divisor = 1, area >> weight_frac
    weight = np.zeros(kernel + (c, c), np.int64)
    weight[:, :, np.arange(c), np.arange(c)] = factor
    out_hw = tuple(out_size(n, k, s, p) for n, k, s, p in zip(in_shape[:2], kernel, strides, axis_paddings(padding)))
    pool = Conv2D(name=layer.name, weight=weight, weight_frac=weight_frac, bias=np.zeros(c, np.int64), bias_frac=0,
                  in_shape=in_shape, out_shape=out_hw + (c,), in_steps=parser.steps, in_frac=parser.grid.frac,
                  analog_input=False, neuron=None, strides=kernel if kind in GLOBAL else strides, padding=padding)
    in_grid = parser.grid
    check = lambda q: check_float_average(layer, kernel, in_grid, q, factor, weight_frac, divisor)  # noqa: E731
    parser.start_linear(pool, layer, divisor=divisor, neuron_check=check)
    if kind in GLOBAL and not getattr(layer, "keepdims", False):
        parser.emit(Flatten(name=f"{layer.name}_flatten", in_shape=out_hw + (c,), out_shape=(c,)))


def level_rate(in_frac: int, out_grid, factor: int, weight_frac: int, divisor: int) -> Fraction:
    """Output levels per unit of the input sum: factor * 2**(out_frac - in_frac - weight_frac) / divisor."""
    return factor * Fraction(2) ** (out_grid.frac - in_frac - weight_frac) / divisor


def exact_levels(sums: np.ndarray, in_frac: int, out_grid, factor: int, weight_frac: int, divisor: int) -> np.ndarray:
    """The activation's levels of the exact average: round half to even of sum * factor / (2**(in_frac +
    weight_frac) * divisor) on the output grid, clipped."""
    rate = level_rate(in_frac, out_grid, factor, weight_frac, divisor)
    levels = []
    for n in sums.tolist():
        y = n * rate
        k = math.floor(y)
        k += (y - k > Fraction(1, 2)) or (y - k == Fraction(1, 2) and k % 2 == 1)
        levels.append(min(max(k, out_grid.lo), out_grid.hi))
    return np.asarray(levels, np.int64)


def boundary_sums(n_min: int, n_max: int, in_frac: int, out_grid, factor: int, weight_frac: int,
                  divisor: int) -> np.ndarray:
    """Input sums on both sides of every rounding boundary of the output levels, within n_min..n_max."""
    rate = level_rate(in_frac, out_grid, factor, weight_frac, divisor)
    sums = {n_min, 0, n_max}
    for m in range(out_grid.lo, out_grid.hi) if rate else ():  # a factor quantized to 0: level 0 throughout
        edge = (m + Fraction(1, 2)) / rate
        sums.update(n for n in range(math.floor(edge) - 1, math.ceil(edge) + 2) if n_min <= n <= n_max)
    return np.asarray(sorted(sums), np.int64)


def check_float_average(layer, kernel: tuple[int, int], in_grid, quantizer, factor: int, weight_frac: int,
                        divisor: int) -> None:
    """HwflowError unless TensorFlow's float32 pool, then `quantizer`, gives the exact average's level at every
    rounding boundary (see the module docstring)."""
    code = activation_code(quantizer, f"the QActivation after '{layer.name}'")
    if code.sign:
        raise HwflowError(f"layer '{layer.name}' is followed by {quantizer!s}; hwflow's average pools round onto a "
                          "quantized_relu or quantized_bits grid: put a QConv2D between them")
    out_grid = code.grid
    area = math.prod(kernel)
    sums = boundary_sums(area * in_grid.lo, area * in_grid.hi, in_grid.frac, out_grid, factor, weight_frac, divisor)
    # each window holds its sum as full pixels of level hi (lo, for a negative sum), one partial pixel, then zeros
    filled = np.arange(area)[None, :]
    fill = np.where(sums[:, None] >= 0, np.clip(sums[:, None] - in_grid.hi * filled, 0, in_grid.hi),
                    np.clip(sums[:, None] - in_grid.lo * filled, in_grid.lo, 0))
    x = (fill * 2.0**-in_grid.frac).astype(np.float32).reshape((len(sums),) + kernel + (1,))
    pooled = np.asarray(probe(layer, kernel)(x)).reshape(-1)
    got = np.asarray(quantizer(pooled)).astype(np.float64) * 2.0**out_grid.frac
    want = exact_levels(sums, in_grid.frac, out_grid, factor, weight_frac, divisor)
    bad = np.flatnonzero(got != want)
    if len(bad):
        i = bad[0]
        raise HwflowError(f"layer '{layer.name}' ({type(layer).__name__}): TensorFlow's float32 average of a window "
                          f"summing to {sums[i]} * 2**-{in_grid.frac} gives level {got[i]:g} where the exact average "
                          f"gives {want[i]}; hwflow cannot reproduce it (use a pool whose area is a power of two)")


def probe(layer, kernel: tuple[int, int]):
    """A layer computing what `layer` computes on one window of `kernel` pixels, without its activation."""
    import tensorflow as tf
    from qkeras import QAveragePooling2D, QGlobalAveragePooling2D

    kind = type(layer).__name__
    if kind == "QGlobalAveragePooling2D":
        return QGlobalAveragePooling2D(average_quantizer=layer.average_quantizer)
    if kind == "GlobalAveragePooling2D":
        return tf.keras.layers.GlobalAveragePooling2D()
    if kind == "QAveragePooling2D":
        return QAveragePooling2D(kernel, strides=kernel, padding="valid", average_quantizer=layer.average_quantizer)
    return tf.keras.layers.AveragePooling2D(kernel, strides=kernel, padding="valid")
