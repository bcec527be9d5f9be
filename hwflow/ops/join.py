"""Join: two tensors of spike planes side by side along the channels (firmware: HwflowSpikeJoin).

The graph form. A Concatenate whose inputs are branches of any depth from one tensor a (Inception's
1x1 -> 3x3 branches, DenseNet's [a, f(a)] with f several layers) cannot be fused into one layer
(hwflow.ops.concatenate fuses the one-layer form); its branches become nodes of their own, each reading
what its branch reads (Node.inputs names it), and a Join node puts their outputs side by side. The
nodes of an SNN are a DAG listed in a topological order (hwflow.ir.sources).

Exact by construction: Keras's Concatenate copies values, and plane t of level k is bit T-1-t of k
whichever channel it lands on, so the joined planes carry the joined levels when every input has the
same level grid and the same planes (T); anything else is refused with one line. A Concatenate of n
tensors is n - 1 Joins, each of two.

Firmware. io_parallel: the block copies the two arrays into one ([planes][pixels][C1 + C2]): wiring,
0 cycles (every loop unrolled, as a Flatten). io_stream: each input is read into its array by a frame
adapter and the joined array is streamed out; hls4ml's own clone pass (`clone_output`) copies a stream
that several blocks read. The adapter reads its first input whole before its second, so the stream of
the second input needs room for its whole frame (T * H * W words) -- the branch that makes it then
finishes without waiting for the join, and no dataflow deadlock arises. hls4ml sizes every stream so
(its depth pragma, which hwflow.hls.to_hls keeps); hwflow.hls.stream_fifos reports the depths. The RTL
twin's hls_templates/rtl/hwflow_join.v copies both memories into one on whole frames (its words of `lanes`
channels, the folded and event HLS blocks count the same schedule); hwflow.rtl.generate switches a memory
that several blocks read to the running one.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from hwflow.errors import HwflowError
from hwflow.hls.block import SPIKE_SPEC, CallArgs, Chunks, Cursor, HlsBlock, NAMESPACE
from hwflow.ir import LayerTrace, Node, Signal
from hwflow.ops.registry import hls_block, node
from hwflow.options import FirmwareOptions
from hwflow.rtl.block import RtlCursor, RtlStage, clog2, image


def join_call(node, a: CallArgs) -> Chunks:
    (in2_t, x2), = a.others
    return [([f"{NAMESPACE}::spike_join<{a.in_t}, {in2_t}, {a.out_t}, {a.config}>({a.x}, {x2}, {a.y});"], "join")]


def words(channels: int, word: int) -> int:
    """Memory words per pixel of `channels` values in words of `word`."""
    return -(-channels // word)


def join_cycles(a: dict) -> dict[str, int]:
    """0 (wiring) for the latency strategy; on the RTL twin's schedule (hls_templates/rtl/hwflow_join.v), per plane
    and pixel max(WPP1, WPP2) word reads and WPP word writes, then 1."""
    if not a["sequential"]:
        return {"join": 0}
    reads = max(words(a["n_chan1"], a["word1"]), words(a["n_chan2"], a["word2"]))
    return {"join": a["planes"] * a["pixels"] * (reads + words(a["n_chan1"] + a["n_chan2"], a["word"])) + 1}


JOIN_PARAMS = ("planes", "pixels", "n_chan1", "n_chan2", "sequential", "word1", "word2", "word")
SPIKE_JOIN = hls_block(HlsBlock(
    class_name="HwflowSpikeJoin", struct="spike_join_config", headers=("hwflow_spike_join.h",),
    params={k: int for k in JOIN_PARAMS}, constants=lambda a: {k: a[k] for k in JOIN_PARAMS}, call=join_call,
    cycles=join_cycles))


@node
@dataclass
class Join(Node):
    """The planes of inputs[0] and inputs[1] side by side along the channels (out_shape: both's, channels added)."""

    kind: ClassVar[str] = "join"

    def execute_inputs(self, signals: list[Signal], trace: bool, counts: bool = True) -> tuple[Signal, LayerTrace]:
        first, second = signals
        if first.levels is not None and second.levels is not None:
            return first.with_data(np.concatenate([first.levels, second.levels], axis=-1), True), LayerTrace()
        return Signal(np.concatenate([first.as_planes(), second.as_planes()], axis=-1), first.grid, False), LayerTrace()

    def lower_inputs(self, cursors: list[Cursor], options: FirmwareOptions) -> tuple[dict, Cursor]:
        first, second = cursors
        if any(c.kind != "planes" for c in cursors) or first.steps != second.steps:
            raise HwflowError(f"internal: join '{self.name}' gets {first.kind}/{second.kind} data of {first.steps}/"
                              f"{second.steps} planes; it joins spike planes of equal T")
        shape = tuple(self.out_shape)
        rtl = None
        if options.sequential:  # the RTL twin's schedule: the output in words of `lanes` channels
            rtl = RtlCursor(self.name, first.rtl.kind, image(shape), first.steps, options.lanes, first.rtl.bits)
        d = dict(class_name=SPIKE_JOIN.class_name, name=self.name, inputs=[first.name, second.name],
                 planes=first.steps, pixels=math.prod(shape[:-1]), n_chan1=first.shape[-1], n_chan2=second.shape[-1],
                 sequential=int(options.sequential), word1=first.rtl.word if rtl else 1,
                 word2=second.rtl.word if rtl else 1, word=rtl.word if rtl else 1,
                 out_shape=[first.steps, *shape], out_precision=SPIKE_SPEC)
        return d, Cursor(self.name, "planes", shape, first.steps, SPIKE_SPEC, first.grid, rtl=rtl)

    def lower_rtl_inputs(self, cursors: list[RtlCursor], lanes: int, architecture: str) -> tuple[RtlStage, RtlCursor]:
        """An instance of hls_templates/rtl/hwflow_join.v (its cycle formula is documented there): the output in
        words of `lanes` channels."""
        first, second = cursors
        if first.kind != second.kind or first.steps != second.steps or first.bits != second.bits \
                or first.shape[:2] != second.shape[:2] or first.kind == "values":
            raise HwflowError(f"join '{self.name}' gets {first.kind} {first.shape} and {second.kind} {second.shape} "
                              f"from '{first.name}' and '{second.name}'; the SNN IR is inconsistent")
        if first.name == second.name:
            raise HwflowError(f"join '{self.name}' reads '{first.name}' twice; the RTL twin's memories have one read "
                              "port each: use the HLS firmware (hwflow hls) for this model")
        (h, w, c1), c2 = first.shape, second.shape[2]
        out = RtlCursor(self.name, first.kind, (h, w, c1 + c2), first.steps, lanes, first.bits)
        params = dict(STEPS=first.steps, PIXELS=h * w, C1=c1, C2=c2, W1=first.word, W2=second.word, WORD=out.word,
                      BITS=first.bits, IN_ROWS=h)
        cycles = join_cycles(dict(sequential=1, planes=first.steps, pixels=h * w, n_chan1=c1, n_chan2=c2,
                                  word1=first.word, word2=second.word, word=out.word))["join"]
        rows = np.full(h, (cycles - 1) // h)  # frame buffers: the whole image, row by row in the formula
        stage = RtlStage(self.name, "hwflow_join", params, row_cycles=lambda planes: rows, rows=(h, w),
                         port=(clog2(first.steps * (1 << clog2(h * w * out.wpp)) + 1), out.word * first.bits))
        return stage, out


def join_nodes(name: str, heads: list[str], shapes: list[tuple[int, ...]]) -> list[Join]:
    """The Joins of a Concatenate of the outputs of these nodes (their shapes), left to right: n - 1 nodes of two
    inputs, the last named `name`."""
    nodes, left, shape = [], heads[0], tuple(shapes[0])
    for k, (right, right_shape) in enumerate(zip(heads[1:], shapes[1:]), start=1):
        shape = shape[:-1] + (shape[-1] + right_shape[-1],)
        nodes.append(Join(name=name if k == len(heads) - 1 else f"{name}_join{k}", in_shape=shape, out_shape=shape,
                          inputs=(left, right)))
        left = nodes[-1].name
    return nodes
