"""What dense and conv2d share: a layer of IF neurons (or the membrane readout) fed by integer synapses.

The subclasses (hwflow.ops.dense, hwflow.ops.conv2d) add their weighted sum W . s, operation
counts and firmware geometry; integration, firing, lowering and the firmware call are here.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable, ClassVar

import numpy as np

from hwflow.errors import HwflowError
from hwflow.geometry import Padding, axis_paddings, pad_before
from hwflow.hls.block import (SPIKE_SPEC, NAMESPACE, CallArgs, Chunks, Cursor, HlsBlock, check_reuse, line_buffer_slots,
                              streams_pixels)
from hwflow.hls.schedule import STEP_DEPTH, pipelined, reuse_depth
from hwflow.ir import LayerTrace, Node, Signal, level_dtype
from hwflow.numerics import FLOAT32_EXACT_BITS, FLOAT64_EXACT_BITS, signed_bits, symmetric_bits
from hwflow.ops.neuron import Neuron, fire, fired_levels
from hwflow.ops.registry import hls_block
from hwflow.options import FirmwareOptions
from hwflow.quant import to_integers
from hwflow.rtl.block import (RowCycles, RtlCursor, RtlStage, VerilogBits, clog2, event_integrate_rows,
                              lane_groups, readmemh)


@dataclass
class SynapticLayer(Node):
    """A layer of IF neurons (or the membrane readout when neuron is None) with integer synapses."""

    weight: np.ndarray  # int64 in units of 2**-weight_frac; dense [n_in, n_out], conv [kh, kw, c_in, c_out]
    weight_frac: int
    bias: np.ndarray  # int64 [n_out] in units of 2**-bias_frac (the ANN's bias, without the neuron's shift)
    bias_frac: int
    in_steps: int
    in_frac: int  # the input level k means k * 2**-in_frac
    analog_input: bool
    neuron: Neuron | None
    natural_frac: int | None = None  # the finest grid TensorFlow's float32 pass works on (set by AlignGrids)
    membrane_bound: int | None = None  # max |membrane| over all inputs (set by BoundWidths)
    tf_float32_exact: bool = True
    in_offset: int = 0  # the input levels arrive as k + in_offset (a signed activation's offset binary)
    pass_channels: int = 0  # trailing output channels that copy a skip path's levels (hwflow.ops.residual)

    synapses_per: ClassVar[str] = ""  # what `synapses` counts per, for messages (' per output pixel')

    @property
    def frac(self) -> int:
        """Membrane unit 2**-frac: after AlignGrids the weighted sum and the bias share it."""
        return self.in_frac + self.weight_frac

    @property
    def membrane_bias(self) -> int | np.ndarray:
        """Integer added to the membrane after integration: bias plus the neuron's shift (Neuron.bias_shift), less
        in_offset * sum(W) per output (the offset of offset-binary inputs)."""
        return self.offset_bias + (self.neuron.bias_shift if self.neuron else 0)

    @property
    def offset_bias(self) -> np.ndarray:
        """The bias as the synapses see their inputs: bias - in_offset * sum(W) per output."""
        if not self.in_offset:
            return self.bias
        return self.bias - self.in_offset * self.weight.reshape(-1, self.weight.shape[-1]).sum(axis=0)

    def take_pm1_input(self) -> None:
        """Read a binary() input: its plane b stands for 2 b - 1, and W (2 b - 1) = (2 W) b - sum(W), so the
        weights double and the bias loses sum(W) per output (every synapse still only adds)."""
        frac = max(self.bias_frac, self.weight_frac + self.in_frac)
        per_output = self.weight.reshape(-1, self.weight.shape[-1]).sum(axis=0)
        self.bias = (self.bias << (frac - self.bias_frac)) - (per_output << (frac - self.weight_frac - self.in_frac))
        self.weight, self.bias_frac = self.weight * 2, frac

    @property
    def is_readout(self) -> bool:
        return self.neuron is None

    @property
    def emits_planes(self) -> bool:
        return not self.is_readout

    @property
    def membrane_bits(self) -> int:
        """Two's-complement width that holds every membrane value this layer can reach."""
        return symmetric_bits(self.membrane_bound)

    @property
    def weight_bits(self) -> int:
        """Two's-complement width of the integer weights: -128..127 takes 8 bits."""
        return signed_bits(int(self.weight.min(initial=0)), int(self.weight.max(initial=0)))

    @property
    def n_out(self) -> int:
        return int(np.prod(self.out_shape))

    # ------------------------------------------------------------------ what a subclass provides

    @property
    def synapses(self) -> int:
        """Synapses per output pixel: every weight (a convolution applies all of them at each pixel)."""
        return int(self.weight.size)

    def weighted(self, planes: np.ndarray, dtype: type) -> np.ndarray:
        """W . s for a stack of planes [N, ...] -> [N, *out_shape], computed in dtype (exact there)."""
        raise NotImplementedError

    def synaptic_ops(self, spikes: np.ndarray) -> int:
        """Accumulates driven by the input spikes ([B, ...] per input value, over its planes), or
        multiply-accumulates for an analog input (spikes then gives only the shape)."""
        raise NotImplementedError

    def ann_macs(self) -> int:
        """Multiply-accumulates of the ANN layer per inference (padding taps not counted)."""
        raise NotImplementedError

    def block_geometry(self, cur: Cursor) -> dict:
        """class_name and the shape attributes of the firmware block, checked against the input cursor."""
        raise NotImplementedError

    def rtl_window(self, cur: RtlCursor) -> RtlWindow:
        """The layer as a convolution over the RTL input image (a dense layer: one window over all of it)."""
        raise NotImplementedError

    # ------------------------------------------------------------------------ reference execution

    def exact_dtype(self) -> type:
        """The fastest dtype whose matmul is exact for this layer: every partial sum is bounded by
        membrane_bound, so float32 (24-bit mantissa) or float64 (53-bit) BLAS is exact below those."""
        if self.membrane_bits <= FLOAT32_EXACT_BITS:
            return np.float32
        return np.float64 if self.membrane_bits <= FLOAT64_EXACT_BITS else np.int64

    def integrate(self, planes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Horner accumulation v <- 2 v + W . s(t) over the input planes, then + bias: the final membranes
        and the membrane after each step. The weighted inputs W . s(t) of all steps are computed in one
        batched matmul; the Horner recursion then runs step by step on the integer membranes."""
        b, steps = planes.shape[:2]
        stacked = planes.reshape((b * steps,) + planes.shape[2:])
        weighted = self.weighted(stacked, self.exact_dtype()).astype(np.int64).reshape((b, steps) + self.out_shape)
        v = np.zeros((b,) + self.out_shape, dtype=np.int64)
        trace = np.empty_like(weighted)
        for t in range(steps):
            v = 2 * v + weighted[:, t]
            trace[:, t] = v
        return v + self.membrane_bias, trace

    def accumulate(self, levels: np.ndarray) -> np.ndarray:
        """The final membranes of integrate, from the levels the planes carry: Horner's sum over steps
        is W applied once to them, sum_t 2**(S-1-t) W . s(t) = W . (sum_t 2**(S-1-t) s(t)) -- the same
        integers, held in exact_dtype (every partial sum and the membrane are within membrane_bound)."""
        v = self.weighted(levels, self.exact_dtype())
        v += np.asarray(self.membrane_bias, dtype=v.dtype)
        return v

    def execute(self, signal: Signal, trace: bool, counts: bool = True) -> tuple[Signal, LayerTrace]:
        """Integrate, then fire (or read out): step by step with `trace`, else on levels (same result)."""
        lt = LayerTrace(synaptic_ops=self.synaptic_ops(signal.spikes()) if counts else 0)
        if trace:
            v, lt.membrane_steps = self.integrate(signal.as_planes())
            lt.membrane = v
        else:
            v = self.accumulate(signal.as_levels())
        if self.is_readout:
            output = (v.astype(np.float64) * 2.0**-self.frac).astype(np.float32)
            return Signal(None, signal.grid, False, output=output), lt
        t = self.neuron.time_steps
        if trace:
            out = Signal(fire(v, self.neuron), self.neuron.grid, False)
        else:
            out = Signal(None, self.neuron.grid, False, levels=fired_levels(v, self.neuron).astype(level_dtype(t)),
                         steps=t)
        if counts:
            lt.spike_count = int(out.spikes().sum(dtype=np.int64))
        return out, lt

    # ---------------------------------------------------------------------------------- lowering

    def lower(self, cur: Cursor, options: FirmwareOptions) -> tuple[dict, Cursor]:
        """The layer dict of the IF block (integration, then the neuron or the readout): HwflowIFDense /
        HwflowIFConv2D for the latency strategy, HwflowIFLayer (the RTL twin's schedule) for folded and event."""
        if self.analog_input != (cur.kind == "analog"):
            raise HwflowError(f"layer '{self.name}' expects {'an analog' if self.analog_input else 'a spiking'} "
                              f"input but gets {cur.kind} data; the SNN IR is inconsistent")
        membrane_bits = max(self.membrane_bits, 2)
        if options.sequential:
            plan = self.folded_plan(cur.rtl, options.lanes, options.strategy)
            weight, bias = (np.asarray(a, dtype=np.int64).reshape(-1) for a in (plan.weight_rows, plan.bias_rows))
            membrane_bits = plan.params["V_BITS"]
            geometry = dict({k.lower(): v for k, v in plan.params.items() if k.lower() in LANE_GEOMETRY},
                            class_name=IF_LAYER.class_name, event=bool(plan.params["EVENT"]),
                            line_buffer=streams_pixels(cur, options))
            reuse_factor, rtl = 1, plan.out
        else:
            weight = np.asarray(self.weight, dtype=np.int64)
            bias = np.broadcast_to(np.asarray(self.membrane_bias, dtype=np.int64), (weight.shape[-1],)).copy()
            check_reuse(self.name, self.kind, self.synapses, options.reuse_factor, self.synapses_per)
            geometry, reuse_factor, rtl = self.block_geometry(cur), options.reuse_factor, None
        largest = max(int(np.abs(weight).max(initial=0)), int(np.abs(bias).max(initial=0)))
        if largest >= 2**FLOAT64_EXACT_BITS:
            raise HwflowError(f"layer '{self.name}' has a weight or bias of {largest.bit_length()} bits; hls4ml "
                              f"writes weights through float64 text, exact only below {FLOAT64_EXACT_BITS} bits")
        per_output = np.abs(self.weight).reshape(-1, self.weight.shape[-1]).sum(axis=0)
        d = dict(name=self.name, inputs=[cur.name], reuse_factor=reuse_factor, analog=bool(self.analog_input),
                 readout=bool(self.is_readout), in_steps=int(cur.steps), membrane_bits=int(membrane_bits),
                 psum_bits=width(per_output.max(initial=0)), weight_bits=max(self.weight_bits, 2),
                 bias_bits=width(np.abs(bias).max(initial=0)), level_bits=int(cur.spec[1]),
                 level_signed=bool(cur.spec[-1]), weight_data=weight, bias_data=bias,
                 **geometry, n_synapses=int(self.synapses))
        if self.is_readout:
            w = max(membrane_bits, self.frac + 1)
            spec = ("fixed", w, w - self.frac, True)
            d.update(out_steps=0, threshold_log2=0, threshold_scale=1, threshold_bits=2, readout_width=int(w),
                     out_shape=list(self.out_shape), out_precision=spec, **self.po2_attributes())
            return d, Cursor(self.name, "values", tuple(self.out_shape), 1, spec, rtl=rtl)
        t = self.neuron.time_steps
        d.update(out_steps=int(t), threshold_log2=int(self.neuron.threshold_log2),
                 threshold_scale=int(self.neuron.divisor), threshold_bits=self.threshold_bits, readout_width=0,
                 out_shape=[int(t)] + list(self.out_shape), out_precision=SPIKE_SPEC, **self.po2_attributes())
        return d, Cursor(self.name, "planes", tuple(self.out_shape), t, SPIKE_SPEC, self.neuron.grid, rtl=rtl)

    @property
    def threshold_bits(self) -> int:
        """Two's-complement width of the first step's threshold, threshold * 2**(T-1) (2 for the readout; a po2
        neuron's largest step threshold)."""
        if self.is_readout:
            return 2
        if self.neuron.po2_bounds is not None:
            return max(self.neuron.step_thresholds, default=1).bit_length() + 1
        return (self.neuron.threshold << (self.neuron.time_steps - 1)).bit_length() + 1

    def po2_attributes(self) -> dict:
        """The firmware's po2 flag and step thresholds (membrane units, steps 0..T-2; empty without a po2 neuron)."""
        po2 = self.neuron is not None and self.neuron.po2_bounds is not None
        return dict(po2=po2, step_thresholds=[int(x) for x in self.neuron.step_thresholds] if po2 else [])

    # ------------------------------------------------------------------------------- RTL twin

    def folded_plan(self, cur: RtlCursor, lanes: int, architecture: str) -> FoldedPlan:
        """The layer on the folded / event / ANN schedule of hls_templates/rtl/hwflow_if_layer.v (its
        cycle formula is documented there), shared by the RTL twin and the HLS folded and event blocks."""
        if cur.kind == "values" or self.analog_input != (cur.kind == "analog") and architecture != "ann":
            raise HwflowError(f"layer '{self.name}' gets {cur.kind} data from '{cur.name}'; the SNN IR is inconsistent")
        win = self.rtl_window(cur)
        (h, w, c), (ho, wo), (kh, kw) = cur.shape, win.out_hw, win.weight.shape[:2]
        n_out = int(win.weight.shape[3])
        analog = cur.kind == "analog"
        ann = architecture == "ann" and not self.is_readout
        t = 0 if self.is_readout else self.neuron.time_steps
        thr_log2, thr_scale = (0, 1) if self.is_readout else (self.neuron.threshold_log2, self.neuron.divisor)
        groups = -(-n_out // lanes)
        v_bits = max(self.membrane_bits, self.threshold_bits, 2)
        pad_t, pad_l = (pad_before(size, k, st, pad) for size, k, st, pad in
                        zip((h, w), (kh, kw), win.strides, axis_paddings(win.padding)))
        params = dict(C_IN=c, N_OUT=n_out, IN_H=h, IN_W=w, OUT_H=ho, OUT_W=wo, K_H=kh, K_W=kw, S_H=win.strides[0],
                      S_W=win.strides[1], PAD_T=pad_t, PAD_L=pad_l, LANES=lanes, IN_WORD=cur.word,
                      IN_STEPS=cur.steps, OUT_STEPS=t, ANALOG=int(analog), IN_BITS=cur.bits if analog else 1,
                      EVENT=int(architecture == "event" and not analog), ANN=int(ann), W_BITS=max(self.weight_bits, 2),
                      V_BITS=v_bits, THR_LOG2=thr_log2, THR_SCALE=thr_scale)
        po2 = self.po2_attributes()
        if po2["po2"]:  # the step thresholds as one packed word, step t at bits t*(V_BITS+1)
            params.update(PO2=1, PO2_THR=VerilogBits.packed(po2["step_thresholds"] + [0], v_bits + 1))
        taps = kh * kw * c * groups  # weight rows per input plane and output pixel
        if analog:
            integrate = lambda planes: np.full(ho, wo * taps)  # noqa: E731
        elif params["EVENT"]:
            integrate = lambda planes: event_integrate_rows(planes, cur, groups, (kh, kw), win.strides,  # noqa: E731
                                                            win.padding)
        else:
            integrate = lambda planes: np.full(ho, cur.steps * wo * taps)  # noqa: E731
        fire = groups if ann else t * groups
        shape = (ho, wo, n_out)
        if self.is_readout:
            out = RtlCursor(self.name, "values", shape, 0, lanes, v_bits)
        elif ann:  # levels 0..2^T-1, LANES per word, read as signed (T+1)-bit inputs by the next layer
            out = RtlCursor(self.name, "analog", shape, 1, lanes, t + 1)
        else:
            out = RtlCursor(self.name, "planes", shape, t, lanes, 1)
        bias = np.broadcast_to(np.asarray(self.membrane_bias, dtype=np.int64), (n_out,))
        return FoldedPlan(params, lane_groups(win.weight, lanes).reshape(-1, lanes), lane_groups(bias, lanes),
                          lambda planes: lane_layer_cycles(wo, groups, fire, integrate(planes)) - 1, out)

    def lower_rtl(self, cur: RtlCursor, lanes: int, architecture: str) -> tuple[RtlStage, RtlCursor]:
        """An instance of hls_templates/rtl/hwflow_if_layer.v: the folded plan, its ROMs as memory files."""
        plan = self.folded_plan(cur, lanes, architecture)
        p, out = plan.params, plan.out
        files = {f"{self.name}_weights.mem": readmemh(plan.weight_rows, p["W_BITS"]),
                 f"{self.name}_bias.mem": readmemh(plan.bias_rows, p["V_BITS"])}
        pixels, groups = p["OUT_H"] * p["OUT_W"], -(-p["N_OUT"] // lanes)
        if out.kind == "planes":  # spike planes at a power-of-two stride
            words, word_bits = out.steps * (1 << clog2(pixels * groups)), lanes
        else:  # levels or readout membranes: one word per group
            words, word_bits = pixels * groups, lanes * out.bits
        params = dict(p, WEIGHT_FILE=f"{self.name}_weights.mem", BIAS_FILE=f"{self.name}_bias.mem")
        stage = RtlStage(self.name, "hwflow_if_layer", params, row_cycles=plan.row_cycles, memories=files,
                         synaptic=True, rows=(p["OUT_H"], p["OUT_W"]),
                         port=(clog2(words + 1), word_bits))
        return stage, out


@dataclass
class FoldedPlan:
    """A synaptic layer on a lane schedule: template parameters, ROM rows and cycle formula."""

    params: dict[str, int]  # hwflow_if_layer.v parameters (hwflow_if_layer.h constants, lower-cased)
    weight_rows: np.ndarray  # [(tap * C_IN + c) * G + g, lanes] (zero-padded lanes)
    bias_rows: np.ndarray  # [G, lanes]: bias plus the half-threshold shift
    row_cycles: RowCycles  # cycles of each output row for the layer's input planes [S, n] of one sample
    out: RtlCursor

    def cycles(self, planes: np.ndarray | None) -> int:
        """Start -> done: the rows, then done (1)."""
        return int(np.sum(self.row_cycles(planes))) + 1


@dataclass
class RtlWindow:
    """A synaptic layer as a convolution of the RTL input image: weight [kh, kw, c_in, c_out]."""

    weight: np.ndarray
    strides: tuple[int, int]
    padding: Padding
    out_hw: tuple[int, int]


def width(max_abs) -> int:
    """Width of a firmware integer type holding [-max_abs, max_abs] (ap_int needs at least 2 bits here)."""
    return max(symmetric_bits(int(max_abs)), 2)


def keras_fields(layer, in_shape: tuple[int, ...], out_shape: tuple[int, ...], in_steps: int, in_frac: int,
                 analog: bool, weights: tuple[np.ndarray, np.ndarray | None] | None = None) -> dict:
    """The SynapticLayer fields of a QDense / QConv2D (-Batchnorm) layer, exact integers (no neuron yet);
    weights: its (kernel, bias) as used in inference, when not the layer's own (hwflow.fold.quantized_weights)."""
    from hwflow.fold import quantized_weights

    where = f"layer '{layer.name}' ({type(layer).__name__})"
    kernel, bias = quantized_weights(layer) if weights is None else weights
    weight, weight_frac = to_integers(kernel, where + " kernel")
    if bias is None:
        bias_int, bias_frac = np.zeros(kernel.shape[-1], np.int64), 0
    else:
        bias_int, bias_frac = to_integers(bias, where + " bias")
    return dict(name=layer.name, weight=weight, weight_frac=weight_frac, bias=bias_int, bias_frac=bias_frac,
                in_shape=in_shape, out_shape=out_shape, in_steps=in_steps, in_frac=in_frac, analog_input=analog,
                neuron=None)


# ------------------------------------------------------------------------------ firmware facets

SYNAPTIC_PARAMS: dict[str, type] = {
    "analog": bool, "readout": bool, "in_steps": int, "out_steps": int, "threshold_log2": int,
    "threshold_scale": int, "n_synapses": int, "po2": bool, "step_thresholds": list,
    "membrane_bits": int, "psum_bits": int, "weight_bits": int, "bias_bits": int, "threshold_bits": int,
    "level_bits": int, "level_signed": bool, "readout_width": int}
SYNAPTIC_TYPES = ("weight", "bias", "membrane", "psum", "level", "threshold")


def synaptic_constants(a: dict, n_psum: int) -> dict:
    """Config constants shared by the IF blocks; n_psum partial sums per output pixel."""
    r, n_syn = a["reuse_factor"], a["n_synapses"]
    return dict(in_steps=a["in_steps"], n_synapses=n_syn, reuse_factor=r, block_factor=n_syn // r,
                reuse_depth=reuse_depth(n_syn, r, n_psum), out_steps=a["out_steps"],
                out_size=math.prod(a["out_shape"]), threshold_log2=a["threshold_log2"],
                threshold_scale=a["threshold_scale"], readout_width=a["readout_width"], **po2_constants(a))


def po2_constants(a: dict) -> dict:
    """A po2 neuron's config constants: the flag and its step thresholds (hwflow_if_neuron.h step_threshold)."""
    return dict(po2=a["po2"], po2_threshold=a["step_thresholds"]) if a["po2"] else {}


LANE_GEOMETRY = ("c_in", "n_out", "in_h", "in_w", "out_h", "out_w", "k_h", "k_w", "s_h", "s_w", "pad_t", "pad_l",
                 "lanes", "in_word")


def lane_constants(a: dict) -> dict:
    """The HwflowIFLayer config (hwflow_if_layer.h): geometry, lane groups, array sizes."""
    groups, taps = -(-a["n_out"] // a["lanes"]), a["k_h"] * a["k_w"]
    in_plane, pixels = a["in_h"] * a["in_w"] * a["c_in"], a["out_h"] * a["out_w"]
    return dict({k: a[k] for k in LANE_GEOMETRY}, groups=groups, in_wpp=-(-a["c_in"] // a["in_word"]),
                in_steps=a["in_steps"], out_steps=a["out_steps"], threshold_log2=a["threshold_log2"],
                threshold_scale=a["threshold_scale"], readout_width=a["readout_width"], event=a["event"],
                **po2_constants(a),
                in_plane=in_plane,
                in_size=a["in_steps"] * in_plane, out_plane=pixels * a["n_out"],
                out_size=max(a["out_steps"], 1) * pixels * a["n_out"], weight_rows=taps * a["c_in"] * groups,
                weight_size=taps * a["c_in"] * groups * a["lanes"], bias_size=groups * a["lanes"],
                pixels=pixels, taps=taps, analog=a["analog"], in_pixels=a["in_h"] * a["in_w"],
                line_slots=line_buffer_slots(a["k_h"], a["k_w"], a["in_w"]), pixel_planes=max(a["out_steps"], 1),
                pixel_size=max(a["out_steps"], 1) * a["n_out"])


def lane_call(function: str) -> Callable[[Any, CallArgs], Chunks]:
    """One process: hwflow::`function` (if_layer on arrays, if_layer_stream through a line buffer),
    spiking or analog input, firing or reading out."""
    def call(node, a: CallArgs) -> Chunks:
        w, b = node.get_weights("weight").name, node.get_weights("bias").name
        return [([f"{NAMESPACE}::{function}<{a.in_t}, {a.out_t}, {a.config}>({a.x}, {a.y}, {w}, {b});"], "layer")]
    return call


def synaptic_call(kernel: str):
    """The IF block's call lines: integration into a local membrane array (`kernel`_spiking or
    `kernel`_analog), then the neuron (if_neuron_fire) or the readout (membrane_readout)."""
    def call(node, a: CallArgs) -> Chunks:
        membrane = f"layer{node.index}_v"
        n_membranes = math.prod(node.get_attr("out_shape")) // max(node.get_attr("out_steps"), 1)
        variant = "analog" if node.get_attr("analog") else "spiking"
        w, b = node.get_weights("weight").name, node.get_weights("bias").name
        integrate = [f"{node.get_attr('membrane_t').name} {membrane}[{n_membranes}];",
                     f"#pragma HLS ARRAY_PARTITION variable={membrane} complete dim=0",
                     f"{NAMESPACE}::{kernel}_{variant}<{a.in_t}, {a.config}>({a.x}, {membrane}, {w}, {b});"]
        if node.get_attr("readout"):
            return [(integrate, "integrate"),
                    ([f"{NAMESPACE}::membrane_readout<{a.out_t}, {a.config}>({membrane}, {a.y});"], "readout")]
        return [(integrate, "integrate"),
                ([f"{NAMESPACE}::if_neuron_fire<{a.out_t}, {a.config}>({membrane}, {a.y});"], "fire")]
    return call


def lane_layer_cycles(pixels, groups: int, fire: int, integrate):
    """Cycles of a layer on the lane schedule (hwflow_if_layer.v / .h): per output pixel, bias
    (groups), the last add (1) and firing; the integration cycles of all pixels; then done (1).
    Elementwise over arrays (per output row: `pixels` of a row, `integrate` per row, minus the 1)."""
    return pixels * (groups + 1 + fire) + integrate + 1


def lane_cycles(a: dict) -> dict[str, int]:
    """The block's cycles without a sample: folded exactly, event at its worst (every input spike 1,
    which costs what the folded sweep costs)."""
    groups = -(-a["n_out"] // a["lanes"])
    pixels, taps = a["out_h"] * a["out_w"], a["k_h"] * a["k_w"] * a["c_in"] * groups
    integrate = (1 if a["analog"] else a["in_steps"]) * pixels * taps
    return {"layer": lane_layer_cycles(pixels, groups, a["out_steps"] * groups, integrate)}


def synaptic_cycles(a: dict, pixels: int, n_psum: int) -> dict[str, int]:
    """Integration (per pixel: ReuseLoop, then Horner or bias-and-store) and the neuron (T fire steps)
    or the readout (wiring); formulas in hls_templates/CYCLES.md."""
    r = a["reuse_factor"]
    step = pipelined(r, reuse_depth(a["n_synapses"], r, n_psum)) + 1
    integrate = pixels * step if a["analog"] else a["in_steps"] * pixels * step + 1  # + 1: Bias
    if a["readout"]:
        return {"integrate": integrate, "readout": 0}
    return {"integrate": integrate, "fire": pipelined(a["out_steps"], STEP_DEPTH)}


IF_LAYER = hls_block(HlsBlock(
    class_name="HwflowIFLayer", struct="if_layer_config", headers=("hwflow_if_layer.h", "hwflow_if_neuron.h"),
    params={**SYNAPTIC_PARAMS, **dict.fromkeys(LANE_GEOMETRY, int), "event": bool, "line_buffer": bool},
    constants=lane_constants, call=lane_call("if_layer"), cycles=lane_cycles, synaptic=True,
    types=("weight", "bias", "membrane", "level", "threshold"), stream_call=lane_call("if_layer_stream")))
