"""UpSampling2D / UpSampling1D, nearest: every pixel's spike planes copied to a size[0] x size[1] block
(firmware: the max-pool blocks with a 1x1 window and up factors, HwflowBitSerialMaxPool / HwflowLanePool
and hls_templates/rtl/hwflow_maxpool.v).

Nearest upsampling copies levels, so it copies their planes, and it commutes with every elementwise
step: the neuron (it may sit between a linear layer and its activation), offset binary, a ternary
unit's plane pair. The max-pool blocks read output pixel (oh, ow) from the window of pooled pixel
(oh // up_height, ow // up_width); through a 1x1 window, whose bit-serial OR has one tap that is always
still tied, that is input pixel (oh // up_height, ow // up_width): the upsampling, exactly. A sequence
(L, C) is the one-row image (1, L, C) (UpSampling1D: up (1, size)). Cycles on the lane schedule:
the pool's with one tap, Ho * Wo * ceil(C / word) * T * 2 + 1.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from hwflow.ir import LayerTrace, Signal
from hwflow.ops import ternary
from hwflow.ops.keras_layers import shape_of, unsupported
from hwflow.ops.maxpool import MaxPool
from hwflow.ops.registry import node, parses
from hwflow.rtl.block import image


@node
@dataclass
class UpSample(MaxPool):
    """Nearest upsampling by `up` (rows, columns): a max pool of a 1x1 window that upsamples."""

    kind: ClassVar[str] = "upsample"

    def execute(self, signal: Signal, trace: bool, counts: bool = True) -> tuple[Signal, LayerTrace]:
        """The input's levels (or planes) repeated up[0] times along the rows and up[1] along the columns."""
        like_levels = signal.levels is not None or not trace
        data = signal.as_levels() if like_levels else signal.as_planes()
        lead = data.shape[:1] if like_levels else data.shape[:2]
        grown = data.reshape(lead + image(self.in_shape))
        axis = len(lead)
        grown = np.repeat(np.repeat(grown, self.up[0], axis=axis), self.up[1], axis=axis + 1)
        return signal.with_data(grown.reshape(lead + tuple(self.out_shape)), like_levels), LayerTrace()


@parses("UpSampling2D", "UpSampling1D", note="interpolation 'nearest'; a max pool of 1x1 windows in firmware")
def parse_upsample(parser, layer) -> None:
    """An UpSample node (after the neuron of a pending linear layer, which it commutes with)."""
    if getattr(layer, "interpolation", "nearest") != "nearest":
        raise unsupported(layer, f" with interpolation {layer.interpolation!r} (hwflow converts 'nearest', "
                                 "which copies levels; bilinear would leave the level grid)")
    if getattr(layer, "data_format", "channels_last") != "channels_last":
        raise unsupported(layer, " with data_format other than channels_last")
    if parser.analog():
        raise unsupported(layer, " on the analog input (use encoding='bitplane' or upsample after a layer)")
    in_shape, out_shape = shape_of(layer.input_shape), shape_of(layer.output_shape)
    if parser.pair and parser.pending is None:
        in_shape, out_shape = ternary.paired_shape(in_shape), ternary.paired_shape(out_shape)
    up = (1, int(layer.size)) if type(layer).__name__ == "UpSampling1D" else tuple(int(s) for s in layer.size)
    parser.emit(UpSample(name=layer.name, in_shape=in_shape, out_shape=out_shape, pool=(1, 1), strides=(1, 1),
                         padding="valid", up=up))
