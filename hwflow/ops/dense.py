"""Dense: QDense / QDenseBatchnorm as a fully connected layer of IF neurons (firmware: HwflowIFDense)."""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from hwflow.errors import HwflowError
from hwflow.hls.block import Cursor, HlsBlock
from hwflow.ops.keras_layers import shape_of
from hwflow.ops.registry import hls_block, node, parses
from hwflow.ops.synaptic import SYNAPTIC_PARAMS, SYNAPTIC_TYPES, RtlWindow, SynapticLayer, keras_fields, \
    synaptic_call, synaptic_constants, synaptic_cycles
from hwflow.rtl.block import RtlCursor

IF_DENSE = hls_block(HlsBlock(
    class_name="HwflowIFDense", struct="if_dense_config", headers=("hwflow_if_dense.h", "hwflow_if_neuron.h"),
    params={**SYNAPTIC_PARAMS, "n_in": int, "n_out": int},
    constants=lambda a: dict(n_in=a["n_in"], n_out=a["n_out"], in_size=a["in_steps"] * a["n_in"],
                             **synaptic_constants(a, a["n_out"])),
    call=synaptic_call("if_dense"),
    cycles=lambda a: synaptic_cycles(a, pixels=1, n_psum=a["n_out"]),
    synaptic=True, types=SYNAPTIC_TYPES))


@node
@dataclass
class Dense(SynapticLayer):
    """Fully connected IF layer: weight [n_in, n_out]."""

    kind: ClassVar[str] = "dense"

    def weighted(self, planes: np.ndarray, dtype: type) -> np.ndarray:
        return planes.reshape(planes.shape[0], -1).astype(dtype) @ self.weight.astype(dtype)

    def synaptic_ops(self, spikes: np.ndarray) -> int:
        if self.analog_input:
            return spikes.shape[0] * self.weight.size
        return int(spikes.sum(dtype=np.int64)) * self.weight.shape[1]

    def ann_macs(self) -> int:
        return int(self.weight.size)

    def block_geometry(self, cur: Cursor) -> dict:
        n_in, n_out = self.weight.shape
        if math.prod(cur.shape) != n_in:
            raise HwflowError(f"layer '{self.name}' has {n_in} inputs but gets shape {cur.shape}")
        return dict(class_name=IF_DENSE.class_name, n_in=int(n_in), n_out=int(n_out))

    def rtl_window(self, cur: RtlCursor) -> RtlWindow:
        """One window over the whole input image (after a Flatten: its pixels in Keras's order)."""
        n_in, n_out = self.weight.shape
        if cur.size != n_in:
            raise HwflowError(f"layer '{self.name}' has {n_in} inputs but gets {cur.size} from '{cur.name}'")
        return RtlWindow(self.weight.reshape(cur.shape + (n_out,)), (1, 1), "valid", (1, 1))


@parses("QDense", "QDenseBatchnorm")
def parse_dense(parser, layer) -> None:
    """A dense layer waiting for its activation (the next QActivation, or its own activation)."""
    in_shape = shape_of(layer.input_shape)
    if len(in_shape) != 1:
        raise HwflowError(f"layer '{layer.name}' ({type(layer).__name__}) gets a {len(in_shape)}-D input "
                          f"{in_shape}; put a Flatten before it")
    fields = keras_fields(layer, in_shape, shape_of(layer.output_shape), parser.steps, parser.grid.frac,
                          parser.analog())
    parser.start_linear(Dense(**fields), layer)
