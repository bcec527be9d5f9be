"""Conv1D: QConv1D as the 2-D convolution of a one-row image (firmware: HwflowIFConv2D / HwflowIFLayer).

A sequence (L, C) is the image (1, L, C) (hwflow.rtl.block.image): the kernel [k, C, F] is [1, k, C, F],
the strides (1, s), 'causal' padding is k - 1 zero columns before the data. The node keeps Keras's 2-D
shapes; its execution reshapes to the image, and the conv2d op's firmware geometry and RTL window read
every shape as an image, so every strategy, io type and the RTL twin run it as a convolution.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from hwflow.ops.conv2d import Conv2D
from hwflow.ops.keras_layers import shape_of, unsupported
from hwflow.ops.registry import node, parses
from hwflow.ops.synaptic import keras_fields


@node
@dataclass
class Conv1D(Conv2D):
    """1-D convolution of IF neurons: in_shape (L, C), out_shape (L', F), weight [1, k, C, F]."""

    kind: ClassVar[str] = "conv1d"

    def weighted(self, planes: np.ndarray, dtype: type) -> np.ndarray:
        rows = planes.reshape((planes.shape[0], 1) + planes.shape[1:])
        return super().weighted(rows, dtype).reshape((planes.shape[0],) + tuple(self.out_shape))

    def synaptic_ops(self, spikes: np.ndarray) -> int:
        return super().synaptic_ops(spikes.reshape((spikes.shape[0], 1) + spikes.shape[1:]))


@parses("QConv1D", note="as a Conv2D over a one-row image; padding 'valid', 'same' or 'causal'")
def parse_conv1d(parser, layer) -> None:
    """A 1-D convolution waiting for its activation."""
    if layer.data_format != "channels_last" or tuple(layer.dilation_rate) != (1,) or getattr(layer, "groups", 1) != 1:
        raise unsupported(layer, " with data_format/dilation/groups other than channels_last/1/1")
    (k,), (s,) = layer.kernel_size, layer.strides
    length = shape_of(layer.input_shape)[0]
    padding = ((0, 0), (k - 1, 0)) if layer.padding == "causal" else layer.padding
    in_shape, padding = parser.padded_input(layer, (1, k), (1, s), padding, hw=(1, length))
    fields = keras_fields(layer, in_shape, shape_of(layer.output_shape), parser.steps, parser.grid.frac,
                          parser.analog())
    fields["weight"] = fields["weight"].reshape((1,) + fields["weight"].shape)
    parser.start_linear(Conv1D(strides=(1, s), padding=padding, **fields), layer)
