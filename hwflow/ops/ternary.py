"""QKeras's ternary() activation as a pair of sign neurons per unit: one spike for +-1, none for 0.

ternary() (alpha=None, no stochastic rounding) computes q = sign(x) * [|x| >= t] with t = float32(threshold)
(0.33 by default) and returns tanh(x) + (q - tanh(x)), which float32 rounds to q exactly (the argument of
hwflow.quant.binary_code). On the layer's exact grid x = X * 2**-F (X an integer, F the finer of the bias
grid and the synapses' W . s grid), with a = ceil(t * 2**F) >= 1 (t > 0; t * 2**F is exact in float64):

    q = +1  iff  X >= a,        q = -1  iff  -X >= a,        q = p - n,  p = [X - a >= 0],  n = [-X - a >= 0].

So the layer's N outputs become 2N sign neurons (hwflow.ops.neuron.Neuron.sign, which fires iff its integer
pre-activation is >= 0): the first N with weights W and bias b - a, the next N with -W and -b - a
(`pair_outputs`). p and n are never both 1 (a >= 1), so a unit sends one spike for q = +-1 and none for 0,
the count SpikeRegularizer takes for ternary (|q|). A layer reading the pair gets W' q = W' p + (-W') n:
its weights repeat, negated, for the n half of each pixel's channels (`take_pair_input`), and every synapse
still only adds. Channels-last order is kept: an image pixel's 2C channels are p_0..p_(C-1), n_0..n_(C-1),
and a Flatten or Reshape after the pair doubles the channel dimension (`paired_shape`). A zero padding reads
p = n = 0, the value 0, as it should. The firmware, the RTL twin and their cycle formulas are those of the
sign neurons and synapses: nothing new is built. A max pool (max q is max p - min n), an average pool or a
residual Add of the pair, and a pair as the model's last activation, are refused with one line.
"""
from __future__ import annotations

import math
from fractions import Fraction

import numpy as np

from hwflow.errors import HwflowError
from hwflow.ops.synaptic import SynapticLayer


def threshold_units(threshold: float, frac: int) -> int:
    """a = ceil(t * 2**frac) for the float32 threshold t: X * 2**-frac >= t iff X >= a (X an integer)."""
    return math.ceil(Fraction(float(np.float32(threshold))) * 2**frac)


def pair_outputs(node: SynapticLayer, threshold: float) -> None:
    """Double `node`'s outputs into the (p, n) sign-neuron pair of a ternary activation with threshold t:
    weights [W, -W] and biases [b - a, -b - a] on the grid of the pre-activation (the module docstring)."""
    frac = max(node.bias_frac, node.weight_frac + node.in_frac)
    a = threshold_units(threshold, frac)
    bias = node.bias << (frac - node.bias_frac)
    node.weight = np.concatenate([node.weight, -node.weight], axis=-1)
    node.bias, node.bias_frac = np.concatenate([bias - a, -bias - a]), frac
    node.out_shape = paired_shape(node.out_shape)


def take_pair_input(node: SynapticLayer, channels: int) -> None:
    """Read a ternary pair of `channels` units per pixel: the weights of each pixel's channels repeat, negated,
    for its n half (W' q = W' p - W' n)."""
    weight = node.weight.reshape(node.weight.shape[:-2] + (-1, channels, node.weight.shape[-1]))
    node.weight = np.concatenate([weight, -weight], axis=-2).reshape(
        node.weight.shape[:-2] + (2 * node.weight.shape[-2], node.weight.shape[-1]))
    node.in_shape = paired_shape(node.in_shape)


def paired_shape(shape: tuple[int, ...]) -> tuple[int, ...]:
    """A shape with its channel (last) dimension doubled: the pair's p and n halves."""
    return tuple(shape[:-1]) + (2 * shape[-1],)


def refuse_pair(what: str, name: str) -> HwflowError:
    """The one-line error for an operation that cannot take a ternary pair."""
    return HwflowError(f"{what} '{name}' follows a ternary() activation, whose +-1 travels as two sign spikes; "
                       "hwflow feeds a ternary activation only to a QDense/QConv2D (or a Flatten/Reshape/UpSampling before one): "
                       "put a QDense/QConv2D first, or use quantized_bits(2, 1, alpha=1)")
