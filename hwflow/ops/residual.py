"""Residual Add of a layer and its own input: Add()([layer(a), a]) fused into the layer's neuron.

layer(a) + a = W . a + b + a = (W + I) . a + b, where I is the identity synapse: input value j of a
reaches output j with weight 1 (a dense layer's diagonal; a convolution's tap that reads the output
pixel's own position, for each channel c -> c). The Add before the activation therefore becomes one
more integer weight per output, 2**weight_frac (the value 1 on the layer's weight grid), and the one
neuron integrates the synapses and the identity path together: no branch, no buffer of a, and every
firmware block, the RTL twin and their cycle formulas apply unchanged (the identity taps are weights
like any other; an event-driven block pays for them only when a spikes). TensorFlow computes the Add
in float32 on the same integers: BoundWidths bounds the sum with the identity weights included.

Only this form is fused: the layer is a QDense, QConv2D, QConv1D or depthwise/separable convolution (or a
batch-norm folding QDenseBatchnorm, QConv2DBatchnorm, QDepthwiseConv2DBatchnorm: its folded weights)
without an activation of its own, stride 1, output shape = input shape, and the Add's other input is
the layer's own input tensor (hwflow.convert.layer_chain checks the graph). A residual over two layers
(conv, activation, conv, Add) needs a graph IR: refused with one line.
"""
from __future__ import annotations

import numpy as np

from hwflow.errors import HwflowError
from hwflow.geometry import axis_paddings, pad_before
from hwflow.ops.conv2d import Conv2D
from hwflow.ops.dense import Dense
from hwflow.ops import ternary
from hwflow.ops.registry import parses
from hwflow.ops.synaptic import SynapticLayer
from hwflow.rtl.block import image

FUSES = ("QDense", "QDenseBatchnorm", "QConv2D", "QConv2DBatchnorm", "QConv1D", "QDepthwiseConv2D",
         "QDepthwiseConv2DBatchnorm", "QSeparableConv2D")


def identity_index(layer: SynapticLayer, where: str) -> tuple:
    """The weight index of output j's identity synapse from input j (index arrays), or a HwflowError."""
    if tuple(layer.in_shape) != tuple(layer.out_shape):
        raise HwflowError(f"{where} adds '{layer.name}' (shape {layer.out_shape}) to its input (shape "
                          f"{layer.in_shape}); a residual Add needs the same shape")
    if isinstance(layer, Dense):
        n = np.arange(layer.weight.shape[0])
        return n, n
    if not isinstance(layer, Conv2D) or tuple(layer.strides) != (1, 1):
        raise HwflowError(f"{where}: '{layer.name}' has strides {getattr(layer, 'strides', '?')}; a residual Add "
                          "is fused into a stride-1 convolution or a dense layer")
    (h, w, c), (kh, kw) = image(layer.in_shape), layer.weight.shape[:2]
    taps = tuple(pad_before(n, k, 1, pad) for n, k, pad in zip((h, w), (kh, kw), axis_paddings(layer.padding)))
    channels = np.arange(c)
    return taps[0], taps[1], channels, channels


@parses("Add", note="Add()([layer(a), a]) of a QDense/QConv2D/QConv1D/depthwise and its own input, before its "
                    "activation: fused into that layer's neuron (one more weight per output)")
def parse_add(parser, layer) -> None:
    """Fold the identity path into the pending linear layer's weights."""
    node = parser.pending
    where = f"Add '{layer.name}'"
    if node is None or parser.deferred or parser.divisor != 1:
        raise HwflowError(f"{where} does not directly follow a QDense/QConv2D without activation; hwflow fuses "
                          "Add()([layer(a), a]) only")
    if parser.pair:
        raise ternary.refuse_pair("Add", layer.name)
    if parser.pm1:
        raise HwflowError(f"{where} adds a binary() activation to '{node.name}'; put a quantized_relu or "
                          "quantized_bits activation before the residual block")
    node.weight = node.weight.copy()
    node.weight[identity_index(node, where)] += 1 << node.weight_frac
