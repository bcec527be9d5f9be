"""The integrate-then-fire neuron: QActivation(quantized_relu) sets it; it fires T binary spikes.

Its firmware is part of every synaptic block (hwflow_if_neuron.h: if_neuron_fire, after the
integration), so it declares no block of its own.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hwflow.errors import HwflowError
from hwflow.ops.keras_layers import shape_of
from hwflow.ops.output_function import function_name, set_output_function
from hwflow.ops.registry import parses
from hwflow.quant import Grid


@dataclass
class Neuron:
    """Integrate-then-fire neuron: T output steps, threshold divisor * 2**threshold_log2 membrane units.

    Its bias already includes bias_shift = threshold / 2, so floor(v / threshold) is the ANN's
    round-half-up; at the last step (least significant plane) the comparison is strict, which
    turns a tie onto an odd level into the even level below it: round half to even, as QKeras.
    Nothing here needs a power of two: with v = u + threshold/2, the greedy MSB-first digits of
    v against threshold * 2**(T-1-t) sum to floor(v / threshold) (clipped to 2**T - 1), and the
    residual before the last step equals threshold exactly only when u / threshold is a tie k - 1/2
    whose floor k is odd: the strict compare then gives k - 1, the even neighbour.
    divisor (odd, 1 but for an average pool whose window area is not a power of two) divides the
    pre-activation: the neuron fires on u / divisor.
    offset: a signed activation (quantized_bits) has levels k in [-offset, offset - 1], offset = 2**(T-1); the
    neuron fires k + offset, an unsigned T-bit level (offset binary), by adding offset * threshold to the
    bias shift. This is exact: round half to even and clipping commute with adding an even integer,
    rhe(u / thr) + offset = rhe(u / thr + offset) (T >= 2) and clip(k, -offset, offset - 1) + offset =
    clip(k + offset, 0, 2**T - 1). The next layer adds W (k + offset) and subtracts offset * sum(W) in its
    bias (SynapticLayer.in_offset), so every synapse still only adds.
    sign (QKeras binary(), T = 1): fires iff the pre-activation u >= 0. The shift is threshold + 1, so the one
    (strict) compare v = u + threshold + 1 > threshold holds iff u > -1, i.e. u >= 0 (u is an integer). The plane
    carries b = [u >= 0]; binary()'s value 2 b - 1 is taken up by the next layer's weights and bias
    (hwflow.convert.Parser.start_linear), binary(use_01=True)'s value is b itself.
    po2_bounds (QKeras quantized_relu_po2, hwflow.ops.po2): the pre-activation thresholds B of fire steps 0..T-2 in
    units of 2**-po2_frac (a descending sequence, the boundaries of the exponents hi..lo+1); the neuron has no
    shift, fires once, at the first step t with v >= B[t] << threshold_log2, or at the last step: the level
    2**(T-1-t), one spike.
    threshold_log2 is None until hwflow.passes.AlignGrids has put the layer on its membrane grid.
    """

    time_steps: int
    integer: int  # T - frac: quantized_relu's integer bits (quantized_bits's, plus its sign bit)
    threshold_log2: int | None = None
    divisor: int = 1
    offset: int = 0
    sign: bool = False
    po2_bounds: tuple[int, ...] | None = None
    po2_frac: int = 0

    @property
    def step_thresholds(self) -> list[int]:
        """A po2 neuron's thresholds of fire steps 0..T-2 in membrane units (the last step has none)."""
        return [b << self.threshold_log2 for b in self.po2_bounds]

    @property
    def threshold(self) -> int:
        return self.divisor << self.threshold_log2

    @property
    def bias_shift(self) -> int:
        """Added to the membrane: half a threshold (rounding), and the offset's levels (offset binary)."""
        if self.sign:
            return self.threshold + 1
        if self.po2_bounds is not None:
            return 0
        return self.threshold // 2 + self.offset * self.threshold

    @property
    def grid(self) -> Grid:
        """The activation's levels (the true ones; the planes carry them plus offset)."""
        return Grid(-self.offset, 2**self.time_steps - 1 - self.offset, self.time_steps - self.integer)


def fired_levels(v: np.ndarray, neuron: Neuron) -> np.ndarray:
    """The level fire's T spikes carry, in closed form: min(2 q + [r > thr], 2**T - 1), at least 0, where
    v = 2 thr q + r, 0 <= r < 2 thr. The first T-1 steps (>= against thr * 2**(T-1-t), subtract reset)
    are the greedy digits of min(q, 2**(T-1) - 1) and leave r (>= 2 thr when clipped); the last step fires
    iff r > thr. A negative v fires nothing, and then 2 q + 1 < 0.
    v may hold its integers in float32 / float64 (below the mantissa); with a power-of-two threshold they are
    used as they are: y = v / (2 thr) is exact (a power-of-two scale), q = floor(y), and r > thr iff y - q > 1/2
    (y - q, y's fraction bits, is exact too). With thr >= 2 that is one rounding, z = v / thr:
    2 q + [r > thr] = rint(z - 1/2), numpy's round half to even (z - 1/2 is a tie exactly when r = thr, which goes
    to the even 2 q; otherwise the nearest integer to z - 1/2 is floor(z)); z - 1/2 is exact, |z| < 2**23.
    A po2 neuron fires once, at the first step whose threshold v reaches (they descend): the level 2**c, c the
    number of steps t < T-1 with v >= threshold[t]."""
    if neuron.po2_bounds is not None:
        count = np.zeros(v.shape, dtype=np.int64)
        for thr in neuron.step_thresholds:
            count += v >= thr
        return np.left_shift(1, count)
    if v.dtype.kind == "f" and neuron.divisor == 1:
        if neuron.threshold >= 2:
            z = v * v.dtype.type(1.0 / neuron.threshold)
            z -= v.dtype.type(0.5)
            np.rint(z, out=z)
            return np.clip(z, 0, 2**neuron.time_steps - 1, out=z)
        y = v * v.dtype.type(0.5 / neuron.threshold)
        q = np.floor(y)
        above = (y - q) > 0.5
        q *= 2
        q += above
        return np.clip(q, 0, 2**neuron.time_steps - 1, out=q)
    v = v.astype(np.int64, copy=False)
    if neuron.divisor == 1:  # thr = 2**threshold_log2: shifts and masks
        q = v >> (neuron.threshold_log2 + 1)
        above = (v & (2 * neuron.threshold - 1)) > neuron.threshold
    else:
        q, r = np.divmod(v, 2 * neuron.threshold)
        above = r > neuron.threshold
    q <<= 1
    q += above
    return np.clip(q, 0, 2**neuron.time_steps - 1, out=q)


def fire(v: np.ndarray, neuron: Neuron) -> np.ndarray:
    """Emit T binary spikes MSB first, subtract reset; strict comparison at the last step (ties to even).
    A po2 neuron fires once (Neuron.po2_bounds)."""
    steps = neuron.time_steps
    spikes = np.empty((v.shape[0], steps) + v.shape[1:], dtype=np.uint8)
    if neuron.po2_bounds is not None:  # one spike: the first step whose threshold v reaches, else the last
        fired = np.zeros(v.shape, dtype=bool)
        for t, thr in enumerate(neuron.step_thresholds + [None]):
            s = ~fired if thr is None else ~fired & (v >= thr)
            fired |= s
            spikes[:, t] = s
        return spikes
    v = v.copy()
    for t in range(steps):
        threshold = neuron.threshold << (steps - 1 - t)
        s = v > threshold if t == steps - 1 else v >= threshold
        v -= s * threshold
        spikes[:, t] = s
    return spikes


@parses("QActivation", note="quantized_relu, or quantized_bits (signed, in offset binary), binary(), ternary() (two "
                              "sign neurons per unit), quantized_relu_po2 (one spike per unit): sets the spike code, "
                              "T = log2(levels) steps; 'softmax' or 'sigmoid' as the model's last layer",
         opens_input=True)
def parse_qactivation(parser, layer) -> None:
    """The first QActivation is the input quantizer; every later one is the neuron of the linear layer before
    it, or the model's final softmax / sigmoid (hwflow.ops.output_function)."""
    name = function_name(layer.quantizer) if parser.encoder is not None else None
    if name is not None:
        set_output_function(parser, layer, name)
    elif parser.encoder is None:
        parser.set_input(layer.quantizer, shape_of(layer.input_shape), f"input quantizer '{layer.name}'")
    elif parser.pending is None:
        raise HwflowError(f"QActivation '{layer.name}' follows no linear layer (re-quantizing spikes "
                          "is not supported); remove it or put a QDense/QConv2D before it")
    else:
        parser.add_neuron(layer.quantizer, f"QActivation '{layer.name}'")
