"""IR passes, each a small callable (encoder, nodes) -> nodes (QONNX/FINN style).

hwflow.SNN runs them whenever it is built (RUN_ON_BUILD): an SNN's widths and thresholds are
always set. Both are safe to re-run: AlignGrids leaves an aligned layer as it is, BoundWidths
recomputes the same bounds.
"""
from __future__ import annotations

import dataclasses

import numpy as np

from hwflow.ir import INPUT, InputEncoder, Node, sources
from hwflow.numerics import FLOAT32_EXACT_BITS
from hwflow.ops.synaptic import SynapticLayer
from hwflow.quant import Grid


def input_levels(encoder: InputEncoder, layers: list[Node]) -> dict[str, tuple[Grid, int]]:
    """Per node: the level grid of what it reads and the largest level its planes carry (|level|, for analog
    input); a node that joins several tensors reads one grid (hwflow.ops.join checks it)."""
    made: dict[str, tuple[Grid, int]] = {INPUT: (encoder.grid, encoder.grid.max_abs)}
    read = {}
    for layer, src in zip(layers, sources(layers)):
        grid, max_abs = read[layer.name] = max((made[name] for name in src), key=lambda g: g[1])
        neuron = getattr(layer, "neuron", None)
        made[layer.name] = (neuron.grid, neuron.grid.hi + neuron.offset) if neuron is not None else (grid, max_abs)
    return read


def replace_synaptic(layers: list[Node], fn) -> list[Node]:
    """A copy of the node list with fn applied to every SynapticLayer."""
    return [fn(layer) if isinstance(layer, SynapticLayer) else layer for layer in layers]


class AlignGrids:
    """Put weighted sum, bias and threshold on one integer membrane grid.

    The pre-activation is sum(W k) 2**-(in_frac + weight_frac) + B 2**-bias_frac. Choose the
    membrane unit 2**-F with F = max(in_frac + weight_frac, bias_frac, T - i + 1), so that both
    terms are integers and the threshold (one output level, 2**(F - (T - i)) units) is even and
    its half, the bias shift, an integer (a po2 neuron: F at least its thresholds' grid). Weights and bias
    are shifted left; nothing is rounded.
    A layer is aligned once: its natural_frac is then set.
    """

    def __call__(self, encoder: InputEncoder, layers: list[Node]) -> list[Node]:
        return replace_synaptic(layers, lambda layer: layer if layer.natural_frac is not None else self.align(layer))

    @staticmethod
    def align(layer: SynapticLayer) -> SynapticLayer:
        natural = max(layer.in_frac + layer.weight_frac, layer.bias_frac)
        frac = natural
        neuron = layer.neuron
        if neuron is not None and neuron.po2_bounds is not None:  # thresholds B on the grid 2**-po2_frac
            frac = max(frac, neuron.po2_frac)
            neuron = dataclasses.replace(neuron, threshold_log2=frac - neuron.po2_frac)
        elif neuron is not None:
            level_frac = neuron.time_steps - neuron.integer
            frac = max(frac, level_frac + 1)
            neuron = dataclasses.replace(neuron, threshold_log2=frac - level_frac)
        weight_frac = frac - layer.in_frac
        return dataclasses.replace(
            layer, weight=layer.weight << (weight_frac - layer.weight_frac), weight_frac=weight_frac,
            bias=layer.bias << (frac - layer.bias_frac), bias_frac=frac, neuron=neuron, natural_frac=natural)


class BoundWidths:
    """Bound every membrane value, size the membrane, and check TensorFlow's float32 exactness.

    For output neuron n, |v_t| <= sum_j |W[j, n]| * max|k_in| * (2**(t+1) - 1) / (2**S - 1) during
    Horner integration over S input planes, so the final |sum W k| + |bias + shift| bounds every
    membrane state, including the subtract-reset phase (which only lowers non-negative values).
    TensorFlow computes the same sums in float32; they are exact when every partial sum and the
    quantizer's internal difference fit in 24 mantissa bits on the finest grid it uses.
    """

    def __call__(self, encoder: InputEncoder, layers: list[Node]) -> list[Node]:
        read = input_levels(encoder, layers)
        return replace_synaptic(layers, lambda layer: self.bound(layer, read[layer.name][1]))

    @staticmethod
    def bound(layer: SynapticLayer, in_max_abs: int) -> SynapticLayer:
        per_output = np.abs(layer.weight).reshape(-1, layer.weight.shape[-1]).sum(axis=0).astype(object)
        total = per_output * in_max_abs + np.abs(layer.offset_bias).astype(object)
        shift = layer.neuron.bias_shift if layer.neuron else 0
        bound = int(max(total, default=0)) + shift
        tf_frac = layer.natural_frac
        top = 0
        if layer.neuron is not None:
            level_frac = layer.neuron.time_steps - layer.neuron.integer
            tf_frac = max(tf_frac, level_frac)
            top = layer.neuron.grid.hi * 2.0 ** (tf_frac - level_frac)
        tf_bound = int(max(total, default=0)) * 2.0 ** (tf_frac - layer.frac) + top
        return dataclasses.replace(layer, membrane_bound=bound, tf_float32_exact=tf_bound < 2**FLOAT32_EXACT_BITS)


RUN_ON_BUILD = (AlignGrids(), BoundWidths())


def run_passes(encoder: InputEncoder, layers: list[Node]) -> list[Node]:
    """Every pass of RUN_ON_BUILD, in order."""
    for p in RUN_ON_BUILD:
        layers = p(encoder, layers)
    return layers
