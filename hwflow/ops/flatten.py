"""Flatten and Reshape: the same channels-last order under a new shape (firmware: HwflowSpikeFlatten, an element copy).

Every array and memory holds its values in Keras's channels-last order (planes first), so a reshape
moves nothing. A Reshape is converted to a vector (a Flatten) or keeping the channel count (a
sequence <-> image, the pixels regrouped): the RTL twin's memories hold words of channels per pixel,
which such a reshape only relabels; one that regroups channels is refused.
"""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import ClassVar

from hwflow.hls.block import Cursor, HlsBlock, simple_call
from hwflow.ir import LayerTrace, Node, Signal
from hwflow.ops import ternary
from hwflow.ops.keras_layers import shape_of, unsupported
from hwflow.ops.registry import hls_block, node, parses
from hwflow.options import FirmwareOptions
from hwflow.rtl.block import RtlCursor, image

SPIKE_FLATTEN = hls_block(HlsBlock(
    class_name="HwflowSpikeFlatten", struct="spike_flatten_config", headers=("hwflow_spike_encode.h",),
    params={"size": int}, constants=lambda a: {"size": a["size"]}, call=simple_call("spike_flatten", "flatten"),
    cycles=lambda a: {"flatten": 0}))


@node
@dataclass
class Flatten(Node):
    """Reshape to out_shape (one dimension for a Flatten), channels-last order as Keras."""

    kind: ClassVar[str] = "flatten"
    reshapes_only: ClassVar[bool] = True  # may follow the readout layer

    def execute(self, signal: Signal, trace: bool, counts: bool = True) -> tuple[Signal, LayerTrace]:
        shape = tuple(self.out_shape)
        if signal.output is not None:  # after the readout
            return Signal(None, signal.grid, False, signal.output.reshape((len(signal.output),) + shape)), LayerTrace()
        if signal.levels is not None:
            return signal.with_data(signal.levels.reshape((len(signal.levels),) + shape), True), LayerTrace()
        return signal.with_data(signal.planes.reshape(signal.planes.shape[:2] + shape), False), LayerTrace()

    def lower(self, cur: Cursor, options: FirmwareOptions) -> tuple[dict, Cursor]:
        n, shape = math.prod(cur.shape), list(self.out_shape)
        planes = cur.kind == "planes"
        d = dict(class_name=SPIKE_FLATTEN.class_name, name=self.name, inputs=[cur.name],
                 size=cur.steps * n if planes else n, out_shape=[cur.steps] + shape if planes else shape,
                 out_precision=cur.spec)
        rtl = self.relabel_rtl(cur.rtl) if cur.rtl is not None else None
        return d, Cursor(self.name, cur.kind, tuple(shape), cur.steps, cur.spec, cur.grid, rtl=rtl)

    def relabel_rtl(self, cur: RtlCursor) -> RtlCursor:
        """The RTL twin has no reshape block: a layer after a Flatten reads the image before it as one
        vector; after a Reshape that keeps the channels, the same memory is the new image."""
        return cur if len(self.out_shape) == 1 else dataclasses.replace(cur, shape=image(self.out_shape))


def emit_reshape(parser, layer, in_shape: tuple[int, ...], out_shape: tuple[int, ...]) -> None:
    """Emit the Flatten node; after a ternary pair (hwflow.ops.ternary), with both channel dimensions doubled."""
    if parser.pair and parser.pending is None:
        in_shape, out_shape = ternary.paired_shape(in_shape), ternary.paired_shape(out_shape)
    parser.emit(Flatten(name=layer.name, in_shape=in_shape, out_shape=out_shape))


@parses("Flatten")
def parse_flatten(parser, layer) -> None:
    emit_reshape(parser, layer, shape_of(layer.input_shape), shape_of(layer.output_shape))


@parses("Reshape", note="to a vector, or keeping the channel count")
def parse_reshape(parser, layer) -> None:
    """A Flatten node to the Reshape's shape; HwflowError if it regroups channels."""
    in_shape, out_shape = shape_of(layer.input_shape), shape_of(layer.output_shape)
    if len(out_shape) != 1 and (len(in_shape) < 2 or len(out_shape) > 3 or in_shape[-1] != out_shape[-1]):
        raise unsupported(layer, f" from {in_shape} to {out_shape}: it regroups channels (hwflow converts a Reshape "
                                 "to a vector, or one that keeps the last dimension)")
    emit_reshape(parser, layer, in_shape, out_shape)
