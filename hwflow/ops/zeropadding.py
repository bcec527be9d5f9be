"""ZeroPadding2D / ZeroPadding1D: folded into the convolution or average pool right after it, as explicit padding
(a sequence's padding is on the width of its one-row image).

A padded pixel is level 0, no spikes in any plane: the same zeros a convolution's own padding
reads (hwflow.geometry's explicit ((top, bottom), (left, right)) padding; the firmware blocks and
the RTL twin read every tap outside the image as zero, before and after it alike).
"""
from __future__ import annotations

from hwflow.ops.keras_layers import unsupported
from hwflow.ops.registry import parses


@parses("ZeroPadding2D", "ZeroPadding1D",
        note="folded into the QConv2D / QConv1D / depthwise / separable convolution or average pool after it")
def parse_zero_padding(parser, layer) -> None:
    """Hold the padding for the next layer (Parser.padded_input); two in a row add up."""
    if parser.pending is not None:
        raise unsupported(layer, " between a linear layer and its activation (the zeros would pass its bias "
                                 "and neuron); put it after the QActivation")
    if getattr(layer, "data_format", "channels_last") != "channels_last":
        raise unsupported(layer, " with data_format other than channels_last")
    if type(layer).__name__ == "ZeroPadding1D":
        pads = ((0, 0), tuple(int(p) for p in layer.padding))
    else:
        pads = tuple(tuple(int(p) for p in axis) for axis in layer.padding)
    if parser.zero_padding is not None:
        first, before = parser.zero_padding
        parser.zero_padding = (first, tuple((a + c, b + d) for (a, b), (c, d) in zip(before, pads)))
    else:
        parser.zero_padding = (layer, pads)
