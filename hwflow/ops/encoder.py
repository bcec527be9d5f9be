"""The input encoder and the output decoder: levels <-> MSB-first spike planes (firmware: HwflowSpikeEncode, HwflowSpikeDecode).

The encoder (hwflow.ir.InputEncoder) is set by the model's input quantizer (see hwflow.ops.neuron):
'direct' sends the input levels as one analog plane, 'bitplane' as S binary planes. The decoder
is a firmware block only: a network whose last layer spikes outputs the levels of its planes.
"""
from __future__ import annotations

import math

import numpy as np

from hwflow.errors import HwflowError
from hwflow.hls.block import SPIKE_SPEC, Cursor, HlsBlock, grid_spec, simple_call
from hwflow.ir import INPUT, InputEncoder, Signal, level_dtype, to_planes
from hwflow.numerics import signed_bits
from hwflow.ops.registry import hls_block
from hwflow.options import FirmwareOptions
from hwflow.rtl.block import MAX_STREAM_BITS, RtlCursor, RtlStage, clog2, image, tdata_bits

INPUT_NAME = INPUT  # the hls4ml InputLayer: the IR name of the input
ENCODE_NAME = "snn_encode"
DECODE_NAME = "snn_decode"


def code_constants(a: dict) -> dict:
    return dict(n_in=a["n_in"], steps=a["steps"], size=a["n_in"] * a["steps"])


SPIKE_ENCODE = hls_block(HlsBlock(
    class_name="HwflowSpikeEncode", struct="spike_code_config", headers=("hwflow_spike_encode.h",),
    params={"n_in": int, "steps": int}, constants=code_constants, call=simple_call("spike_encode", "encode"),
    cycles=lambda a: {"encode": 0}))
SPIKE_DECODE = hls_block(HlsBlock(
    class_name="HwflowSpikeDecode", struct="spike_code_config", headers=("hwflow_spike_encode.h",),
    params={"n_in": int, "steps": int}, constants=code_constants, call=simple_call("spike_decode", "decode"),
    cycles=lambda a: {"decode": 0}))


def encode(encoder: InputEncoder, levels: np.ndarray, as_levels: bool = False) -> Signal:
    """Input levels [B, ...] as the first signal: one analog plane or MSB-first bit planes (held as
    their levels if as_levels)."""
    if encoder.encoding == "direct":
        return Signal(levels[:, None], encoder.grid, True)
    if as_levels:
        return Signal(None, encoder.grid, False, levels=levels.astype(level_dtype(encoder.steps)), steps=encoder.steps)
    return Signal(to_planes(levels, encoder.steps), encoder.grid, False)


def lower_input(encoder: InputEncoder, options: FirmwareOptions, spatial: bool) -> tuple[list[dict], Cursor]:
    """The hls4ml InputLayer (its precision: the input grid) and, for bit-plane input, the HwflowSpikeEncode block.

    For the folded and event strategies the cursor also says how the RTL twin's encoder hands the
    input on (spatial: the first block reads an image; see lower_input_rtl)."""
    in_spec = grid_spec(encoder.grid)
    rtl = lower_input_rtl(encoder, options.lanes, options.strategy, spatial)[1] if options.sequential else None
    layers = [dict(class_name="InputLayer", name=INPUT_NAME, input_shape=list(encoder.shape))]
    cur = Cursor(INPUT_NAME, "analog", tuple(encoder.shape), 1, in_spec, encoder.grid, rtl=rtl)
    if encoder.encoding == "bitplane":
        s = encoder.steps
        if in_spec != ("fixed", s, s - encoder.grid.frac, False):
            raise HwflowError(f"bit-plane input needs levels 0..2**{s}-1 on an unsigned grid, got {encoder.grid}")
        layers.append(dict(class_name=SPIKE_ENCODE.class_name, name=ENCODE_NAME, inputs=[INPUT_NAME],
                           n_in=math.prod(encoder.shape), steps=s, out_shape=[s] + list(encoder.shape),
                           out_precision=SPIKE_SPEC))
        cur = Cursor(ENCODE_NAME, "planes", tuple(encoder.shape), s, SPIKE_SPEC, encoder.grid, rtl=rtl)
    return layers, cur


def lower_output(cur: Cursor) -> list[dict]:
    """A HwflowSpikeDecode block when the last layer spikes: its levels on the neuron's grid; nothing otherwise."""
    if cur.kind != "planes":
        return []
    t = cur.steps
    return [dict(class_name=SPIKE_DECODE.class_name, name=DECODE_NAME, inputs=[cur.name], n_in=math.prod(cur.shape),
                 steps=t, out_shape=list(cur.shape), out_precision=("fixed", t, t - cur.grid.frac, False))]


def reads_image(layers: list) -> bool:
    """Whether the lane schedules lay the input out as an image (lower_input_rtl's `spatial`): the first block is
    a convolution or a pool, or a Reshape to an image comes before it (the blocks after it read that memory
    relabelled as the new image, which holds only where the input was laid out as one)."""
    for layer in layers:
        if not getattr(layer, "reshapes_only", False):
            return getattr(layer, "spatial", False)
        if len(layer.out_shape) > 1:
            return True
    return False


def lower_input_rtl(encoder: InputEncoder, lanes: int, architecture: str,
                    spatial: bool) -> tuple[RtlStage, RtlCursor]:
    """hls_templates/rtl/hwflow_encode.v: one input level per beat; N + 1 cycles (the ANN takes levels).

    spatial: the first block reads an image (a convolution or pool): bit-plane words per pixel, else
    one vector of `lanes` inputs per word, whatever the input's shape."""
    shape = image(encoder.shape) if spatial else (1, 1, math.prod(encoder.shape))
    n, c = math.prod(shape), shape[2]
    bitplane = encoder.encoding == "bitplane" and architecture != "ann"
    bits = encoder.steps if bitplane else signed_bits(encoder.grid.lo, encoder.grid.hi)
    word = min(lanes, c) if bitplane else 1
    params = dict(N=n, STEPS=encoder.steps, BITPLANE=int(bitplane), LEVEL_BITS=bits, WORD=word, C=c,
                  W=shape[1], TDATA_BITS=tdata_bits(bits))
    stage = RtlStage("encode", "hwflow_encode", params, row_cycles=lambda planes: np.full(shape[0], shape[1] * c),
                     rows=shape[:2])
    if bitplane:
        cur = RtlCursor("encode", "planes", shape, encoder.steps, word, 1)
        stage.port = (clog2(encoder.steps * (1 << clog2(n // c * cur.wpp)) + 1), word)
    else:
        cur = RtlCursor("encode", "analog", shape, 1, 1, bits)
        stage.port = (clog2(n + 1), bits)
    return stage, cur


def lower_output_rtl(cur: RtlCursor) -> RtlStage:
    """hls_templates/rtl/hwflow_output.v: one output per beat, the readout's membranes or the last levels."""
    if cur.name == "encode":
        raise HwflowError("the network has no layer after its input; hwflow.to_rtl needs at least one QDense")
    if not cur.flat:
        raise HwflowError(f"the last layer '{cur.name}' has {cur.shape[2]} channels, not a multiple of lanes="
                          f"{cur.word}; the RTL output stage streams whole words: end with a Flatten and a QDense, "
                          "or choose lanes dividing the channels")
    steps = cur.steps if cur.kind == "planes" else 0  # values: readout membranes or the ANN's levels
    bits = steps + 1 if steps else cur.bits  # levels of T planes go out zero-extended: T + 1 signed bits
    if bits > MAX_STREAM_BITS:
        raise HwflowError(f"layer '{cur.name}' outputs {bits}-bit membranes; the RTL testbench streams values of at "
                          f"most {MAX_STREAM_BITS} bits: use fewer weight or bias bits")
    params = dict(N=cur.size, LANES=cur.word, STEPS=steps, V_BITS=max(bits, 1), TDATA_BITS=tdata_bits(bits))
    return RtlStage("output", "hwflow_output", params, output_cycles=lambda planes: cur.size * (steps + 1) + 1)
