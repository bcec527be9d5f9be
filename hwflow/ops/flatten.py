"""Flatten: reshape to one dimension, channels-last order as Keras (firmware: HwflowSpikeFlatten, an element copy)."""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

from hwflow.hls.block import Cursor, HlsBlock, simple_call
from hwflow.ir import LayerTrace, Node, Signal
from hwflow.ops.keras_layers import shape_of
from hwflow.ops.registry import hls_block, node, parses
from hwflow.options import FirmwareOptions

SPIKE_FLATTEN = hls_block(HlsBlock(
    class_name="HwflowSpikeFlatten", struct="spike_flatten_config", headers=("hwflow_spike_encode.h",),
    params={"size": int}, constants=lambda a: {"size": a["size"]}, call=simple_call("spike_flatten", "flatten"),
    cycles=lambda a: {"flatten": 0}))


@node
@dataclass
class Flatten(Node):
    """Reshape to one dimension (channels-last order, as Keras)."""

    kind: ClassVar[str] = "flatten"
    reshapes_only: ClassVar[bool] = True  # may follow the readout layer

    def execute(self, signal: Signal, trace: bool) -> tuple[Signal, LayerTrace]:
        if signal.planes is None:  # after the readout
            return Signal(None, signal.grid, False, signal.output.reshape(len(signal.output), -1)), LayerTrace()
        return Signal(signal.planes.reshape(signal.planes.shape[:2] + (-1,)), signal.grid, signal.analog), LayerTrace()

    def lower(self, cur: Cursor, options: FirmwareOptions) -> tuple[dict, Cursor]:
        n = math.prod(cur.shape)
        planes = cur.kind == "planes"
        d = dict(class_name=SPIKE_FLATTEN.class_name, name=self.name, inputs=[cur.name],
                 size=cur.steps * n if planes else n, out_shape=[cur.steps, n] if planes else [n],
                 out_precision=cur.spec)
        # the RTL twin has no flatten block: it reads the image before it
        return d, Cursor(self.name, cur.kind, (n,), cur.steps, cur.spec, cur.grid, rtl=cur.rtl)


@parses("Flatten")
def parse_flatten(parser, layer) -> None:
    parser.emit(Flatten(name=layer.name, in_shape=shape_of(layer.input_shape), out_shape=shape_of(layer.output_shape)))
