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
from hwflow.ops.synaptic import SYNAPTIC_PARAMS, SYNAPTIC_TYPES, SynapticLayer, keras_fields, synaptic_call, \
    synaptic_constants, synaptic_cycles
from hwflow.rtl.block import RtlCursor, RtlStage, clog2, event_integrate_cycles, lane_groups, readmemh

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

    def synaptic_ops(self, planes: np.ndarray) -> int:
        if self.analog_input:
            return planes.shape[0] * self.weight.size
        return int(planes.sum(dtype=np.int64)) * self.weight.shape[1]

    def ann_macs(self) -> int:
        return int(self.weight.size)

    def block_geometry(self, cur: Cursor) -> dict:
        n_in, n_out = self.weight.shape
        if math.prod(cur.shape) != n_in:
            raise HwflowError(f"layer '{self.name}' has {n_in} inputs but gets shape {cur.shape}")
        return dict(class_name=IF_DENSE.class_name, n_in=int(n_in), n_out=int(n_out))

    def lower_rtl(self, cur: RtlCursor, lanes: int, architecture: str) -> tuple[RtlStage, RtlCursor]:
        """An instance of hls_templates/rtl/hwflow_if_dense.v (its cycle formula is documented there)."""
        n_in, n_out = self.weight.shape
        if cur.size != n_in or cur.kind == "values":
            raise HwflowError(f"layer '{self.name}' has {n_in} inputs but gets {cur.size} {cur.kind}")
        analog = cur.kind == "analog"
        ann = architecture == "ann" and not self.is_readout
        t = 0 if self.is_readout else self.neuron.time_steps
        thr_log2 = 0 if self.is_readout else self.neuron.threshold_log2
        groups = -(-n_out // lanes)
        v_bits = max(self.membrane_bits, thr_log2 + t + 1, 2)
        w_bits = max(self.weight_bits, 2)
        rows = lane_groups(self.weight, lanes).reshape(n_in * groups, lanes)
        bias = lane_groups(np.broadcast_to(np.asarray(self.membrane_bias, dtype=np.int64), (n_out,)), lanes)
        files = {f"{self.name}_weights.mem": readmemh(rows, w_bits), f"{self.name}_bias.mem": readmemh(bias, v_bits)}
        params = dict(N_IN=n_in, N_OUT=n_out, LANES=lanes, IN_WORD=cur.word, IN_STEPS=cur.steps,
                      OUT_STEPS=t, ANALOG=int(analog), IN_BITS=cur.bits if analog else 1,
                      EVENT=int(architecture == "event" and not analog), ANN=int(ann), W_BITS=w_bits, V_BITS=v_bits,
                      THR_LOG2=thr_log2, WEIGHT_FILE=f"{self.name}_weights.mem", BIAS_FILE=f"{self.name}_bias.mem")
        if analog:
            integrate = lambda planes: n_in * groups  # noqa: E731
        elif params["EVENT"]:
            integrate = lambda planes: event_integrate_cycles(planes, cur.word, groups)  # noqa: E731
        else:
            integrate = lambda planes: cur.steps * n_in * groups  # noqa: E731
        fire = groups if ann else t * groups
        if ann or not t:  # levels or readout membranes: one word per group
            words, word_bits = groups, lanes * (t + 1) if ann else lanes * v_bits
        else:  # spike planes at a power-of-two stride
            words, word_bits = t * (1 << clog2(groups)), lanes
        stage = RtlStage(self.name, "hwflow_if_dense", params, memories=files, synaptic=True,
                         cycles=lambda planes: groups + integrate(planes) + fire + 2, port=(clog2(words + 1), word_bits))
        if self.is_readout:
            return stage, RtlCursor(self.name, "values", n_out, 0, lanes, v_bits)
        if ann:  # levels 0..2^T-1, LANES per word, read as signed (T+1)-bit inputs by the next layer
            return stage, RtlCursor(self.name, "analog", n_out, 1, lanes, t + 1)
        return stage, RtlCursor(self.name, "planes", n_out, t, lanes, 1)


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
