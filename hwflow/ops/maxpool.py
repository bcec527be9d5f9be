"""MaxPooling2D on binary-coded spikes, bit-serially, most significant plane first (firmware: HwflowBitSerialMaxPool)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from hwflow.errors import HwflowError
from hwflow.geometry import pad_before, padded, patches, tap
from hwflow.hls.block import SPIKE_SPEC, Cursor, HlsBlock, pool_line_slots, simple_call, streams_pixels
from hwflow.hls.schedule import STEP_DEPTH, pipelined
from hwflow.ir import LayerTrace, Node, Signal
from hwflow.ops import ternary
from hwflow.ops.keras_layers import shape_of, unsupported
from hwflow.ops.registry import hls_block, node, parses
from hwflow.options import FirmwareOptions
from hwflow.rtl.block import RtlCursor, RtlStage, clog2, image

PARAMS = ("in_height", "in_width", "n_chan", "out_height", "out_width", "pool_height", "pool_width",
          "stride_height", "stride_width", "pad_top", "pad_left", "steps", "up_height", "up_width")


def constants(a: dict) -> dict:
    in_plane = a["in_height"] * a["in_width"] * a["n_chan"]
    out_plane = a["out_height"] * a["out_width"] * a["n_chan"]
    return dict({k: a[k] for k in PARAMS}, in_plane=in_plane, out_plane=out_plane, in_size=a["steps"] * in_plane,
                out_size=a["steps"] * out_plane, pool_size=a["pool_height"] * a["pool_width"])


BITSERIAL_MAX_POOL = hls_block(HlsBlock(
    class_name="HwflowBitSerialMaxPool", struct="bitserial_pool_config", headers=("hwflow_bitserial_pool.h",),
    params=dict.fromkeys(PARAMS, int), constants=constants, call=simple_call("bitserial_max_pool", "pool"),
    cycles=lambda a: {"pool": pipelined(a["steps"], STEP_DEPTH)}))

LANE_POOL = hls_block(HlsBlock(
    class_name="HwflowLanePool", struct="lane_pool_config", headers=("hwflow_bitserial_pool.h",),
    params={**dict.fromkeys(PARAMS + ("word", "wpp"), int), "line_buffer": bool},
    constants=lambda a: dict(constants(a), word=a["word"], wpp=a["wpp"], in_pixels=a["in_height"] * a["in_width"],
                             line_slots=pool_line_slots(a),
                             pixel_size=a["steps"] * a["n_chan"]),
    call=simple_call("bitserial_max_pool_lanes", "pool"), stream_call=simple_call("bitserial_max_pool_lanes_stream", "pool"),
    cycles=lambda a: {"pool": lane_pool_cycles(a["out_height"] * a["out_width"], a["wpp"], a["steps"],
                                               a["pool_height"] * a["pool_width"])}))


def lane_pool_cycles(pixels: int, wpp: int, steps: int, taps: int) -> int:
    """Cycles of the pool on the lane schedule (hwflow_maxpool.v, bitserial_max_pool_lanes): per output
    pixel, word and plane, `taps` reads and 1 write; then done."""
    return pixels * wpp * steps * (taps + 1) + 1


@node
@dataclass
class MaxPool(Node):
    """Max pooling on binary-coded spikes, computed bit-serially, most significant plane first; then, with
    `up`, each pooled pixel copied to an up[0] x up[1] block (nearest upsampling: hwflow.ops.upsample)."""

    pool: tuple[int, int]
    strides: tuple[int, int]
    padding: str
    up: tuple[int, int] = (1, 1)

    kind: ClassVar[str] = "maxpool"
    spatial: ClassVar[bool] = True

    def execute(self, signal: Signal, trace: bool, counts: bool = True) -> tuple[Signal, LayerTrace]:
        """Bit-serial max: a window's output bit is the OR over inputs still tied for the maximum.

        Without `trace` the same planes come from the window maximum of the levels the planes carry
        (MSB first, the bit-serial OR over inputs still tied is that maximum's next bit)."""
        if not trace:
            xp, ho, wo = padded(signal.as_levels(), self.pool, self.strides, self.padding)
            top = np.maximum.reduce([tap(xp, i, j, ho, wo, self.strides)
                                     for i in range(self.pool[0]) for j in range(self.pool[1])])
            return signal.with_data(top, True), LayerTrace()
        planes = signal.as_planes()
        b, steps = planes.shape[:2]
        flat = planes.reshape((b * steps,) + planes.shape[2:])
        win = patches(flat, self.pool, self.strides, self.padding)  # [B*T, Ho, Wo, ph, pw, C]
        win = win.reshape((b, steps) + win.shape[1:3] + (-1, win.shape[-1])).astype(bool)
        alive = np.ones((b,) + win.shape[2:], dtype=bool)
        out = np.empty((b, steps) + self.out_shape, dtype=np.uint8)
        for t in range(steps):
            bit = win[:, t]
            o = np.any(alive & bit, axis=3)
            alive &= bit | ~o[:, :, :, None, :]
            out[:, t] = o
        return Signal(out, signal.grid, False), LayerTrace()

    def lower(self, cur: Cursor, options: FirmwareOptions) -> tuple[dict, Cursor]:
        """HwflowBitSerialMaxPool (every window at once), or HwflowLanePool on the RTL twin's schedule."""
        if cur.kind != "planes":
            raise HwflowError(f"{self.kind} '{self.name}' gets {cur.kind} data; its bit-serial block needs spike planes")
        (h, w, c), (ho, wo, _) = image(cur.shape), image(self.out_shape)
        (ph, pw), (sh, sw), (uh, uw) = self.pool, self.strides, self.up
        d = dict(class_name=BITSERIAL_MAX_POOL.class_name, name=self.name, inputs=[cur.name], in_height=h,
                 in_width=w, n_chan=c, out_height=ho, out_width=wo, pool_height=ph, pool_width=pw, stride_height=sh,
                 stride_width=sw, pad_top=pad_before(h, ph, sh, self.padding),
                 pad_left=pad_before(w, pw, sw, self.padding), steps=cur.steps, up_height=uh, up_width=uw,
                 out_shape=[cur.steps] + list(self.out_shape), out_precision=SPIKE_SPEC)
        rtl = None
        if options.sequential:
            _, rtl = self.lower_rtl(cur.rtl, options.lanes, options.strategy)
            d.update(class_name=LANE_POOL.class_name, word=rtl.word, wpp=rtl.wpp,
                     line_buffer=streams_pixels(cur, options))
        return d, Cursor(self.name, "planes", tuple(self.out_shape), cur.steps, SPIKE_SPEC, cur.grid, rtl=rtl)

    def lower_rtl(self, cur: RtlCursor, lanes: int, architecture: str) -> tuple[RtlStage, RtlCursor]:
        """An instance of hls_templates/rtl/hwflow_maxpool.v (its cycle formula is documented there)."""
        if cur.kind == "values" or cur.shape != image(self.in_shape):
            raise HwflowError(f"{self.kind} '{self.name}' takes {self.in_shape} planes but gets {cur.kind} "
                              f"{cur.shape} from '{cur.name}'")
        (h, w, c), (ho, wo, _) = cur.shape, image(self.out_shape)
        (ph, pw), (sh, sw), (uh, uw) = self.pool, self.strides, self.up
        analog = cur.kind == "analog"  # the ANN's levels
        params = dict(C=c, IN_H=h, IN_W=w, OUT_H=ho, OUT_W=wo, P_H=ph, P_W=pw, S_H=sh, S_W=sw,
                      PAD_T=pad_before(h, ph, sh, self.padding), PAD_L=pad_before(w, pw, sw, self.padding),
                      U_H=uh, U_W=uw, STEPS=cur.steps, WORD=cur.word, ANALOG=int(analog), BITS=cur.bits)
        out = RtlCursor(self.name, cur.kind, (ho, wo, c), cur.steps, cur.word, cur.bits)
        words = cur.steps * (1 << clog2(ho * wo * out.wpp))
        row = lane_pool_cycles(wo, out.wpp, cur.steps, ph * pw) - 1
        stage = RtlStage(self.name, "hwflow_maxpool", params, row_cycles=lambda planes: np.full(ho, row), rows=(ho, wo),
                         port=(clog2(words + 1), cur.word * (cur.bits if analog else 1)))
        return stage, out


@parses("MaxPooling2D")
def parse_maxpool(parser, layer) -> None:
    """A bit-serial max pool (after the neuron of a pending linear layer, which it commutes with)."""
    if parser.analog():
        raise unsupported(layer, " on the analog input (use encoding='bitplane' or pool after a layer)")
    if parser.pair and parser.pending is None:
        raise ternary.refuse_pair("MaxPooling2D", layer.name)
    parser.emit(MaxPool(name=layer.name, in_shape=shape_of(layer.input_shape), out_shape=shape_of(layer.output_shape),
                        pool=tuple(layer.pool_size), strides=tuple(layer.strides), padding=layer.padding))
