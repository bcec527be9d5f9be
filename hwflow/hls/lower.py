"""SNN IR -> hls4ml ModelGraph of hwflow's integrate-and-fire blocks.

The IR is lowered to a list of hls4ml layer dicts (the form hls4ml's own converters produce) and
handed to ``hls4ml.model.graph.ModelGraph.from_layer_list`` with a config dict made by
``hls4ml.utils.config.create_config``; hls4ml's flows then apply our registered templates and its
writer produces the project. Every precision is explicit (see blocks.py).
"""
from __future__ import annotations

import math
import shutil
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from hwflow.errors import HwflowError
from hwflow.geometry import pad_before
from hwflow.ir import Flatten, MaxPool, SynapticLayer
from hwflow.quant import Grid
from hwflow.snn import SNN

INPUT_NAME = "snn_input"
ENCODE_NAME = "snn_encode"
DECODE_NAME = "snn_decode"
IO_TYPES = ("io_parallel", "io_stream")
# A precision no hwflow type uses: if it ever shows up in a generated type, a block fell back on
# hls4ml's model default, which to_hls treats as a bug (see check_explicit_types).
UNUSED_DEFAULT = "ap_fixed<3,1>"
EXACT_FLOAT_BITS = 53  # hls4ml writes weights as decimal text through float formatting


def bits(max_abs: int) -> int:
    """Two's-complement width holding every integer in [-max_abs, max_abs]."""
    return max(int(max_abs).bit_length() + 1, 2)


def grid_spec(grid: Grid) -> tuple:
    """The ap_fixed / ap_ufixed type whose raw bits are the grid's integer level."""
    if grid.signed:
        width = max(int(grid.hi).bit_length(), int(-grid.lo - 1).bit_length()) + 1
    else:
        width = max(int(grid.hi).bit_length(), 1)
    return ("fixed", width, width - grid.frac, grid.signed)


def spec_cpp(spec: tuple) -> str:
    if spec[0] == "int":
        return f"ap_{'' if spec[2] else 'u'}int<{spec[1]}>"
    return f"ap_{'' if spec[3] else 'u'}fixed<{spec[1]},{spec[2]}>"


SPIKE_SPEC = ("int", 1, False)


@dataclass
class Cursor:
    """What flows out of the last lowered layer."""

    name: str
    kind: str  # 'analog' (input values) | 'planes' (spikes [steps][...]) | 'values' (readout)
    shape: tuple[int, ...]  # per plane, channels last
    steps: int
    spec: tuple
    grid: Grid | None = None  # level grid of the planes (spiking output)


def divisors(n: int) -> list[int]:
    return [d for d in range(1, n + 1) if n % d == 0]


def check_reuse(layer: SynapticLayer, n_synapses: int, reuse_factor: int) -> None:
    if n_synapses % reuse_factor:
        divs = divisors(n_synapses)
        hint = ", ".join(str(d) for d in divs[:8]) + (", ..." if len(divs) > 8 else "")
        per = " per output pixel" if layer.op == "conv2d" else ""
        raise HwflowError(f"reuse_factor={reuse_factor} does not divide the {n_synapses} synapses{per} of layer "
                          f"'{layer.name}' ({layer.op}); use a divisor of {n_synapses} ({hint})")


def synaptic_dict(layer: SynapticLayer, cur: Cursor, reuse_factor: int) -> tuple[dict, Cursor]:
    """The layer dict of an IFDense / IFConv2D block, and what it outputs."""
    if layer.analog_input != (cur.kind == "analog"):
        raise HwflowError(f"layer '{layer.name}' expects {'an analog' if layer.analog_input else 'a spiking'} "
                          f"input but gets {cur.kind} data; the SNN IR is inconsistent")
    weight = np.asarray(layer.weight, dtype=np.int64)
    bias = np.broadcast_to(np.asarray(layer.membrane_bias, dtype=np.int64), (weight.shape[-1],)).copy()
    largest = max(int(np.abs(weight).max(initial=0)), int(np.abs(bias).max(initial=0)))
    if largest >= 2**EXACT_FLOAT_BITS:
        raise HwflowError(f"layer '{layer.name}' has a weight or bias of {largest.bit_length()} bits; hls4ml writes "
                          f"weights through float64 text, exact only below {EXACT_FLOAT_BITS} bits")
    per_output = np.abs(weight).reshape(-1, weight.shape[-1]).sum(axis=0)
    membrane_bits = max(layer.membrane_bits, 2)
    d = dict(name=layer.name, inputs=[cur.name], reuse_factor=reuse_factor,
             analog=bool(layer.analog_input), readout=bool(layer.is_readout),
             in_steps=int(cur.steps),
             membrane_bits=int(membrane_bits), psum_bits=int(bits(per_output.max(initial=0))),
             weight_bits=int(bits(np.abs(weight).max(initial=0))), bias_bits=int(bits(np.abs(bias).max(initial=0))),
             level_bits=int(cur.spec[1]), level_signed=bool(cur.spec[-1]),
             weight_data=weight, bias_data=bias)
    if layer.op == "dense":
        n_in, n_out = weight.shape
        if math.prod(cur.shape) != n_in:
            raise HwflowError(f"layer '{layer.name}' has {n_in} inputs but gets shape {cur.shape}")
        d.update(class_name="IFDense", n_in=int(n_in), n_out=int(n_out))
        synapses = n_in * n_out
    elif layer.op == "conv2d":
        kh, kw, c_in, c_out = weight.shape
        (h, w, c), (ho, wo, _) = cur.shape, layer.out_shape
        sh, sw = layer.strides
        d.update(class_name="IFConv2D", in_height=h, in_width=w, n_chan=c, out_height=ho, out_width=wo,
                 n_filt=int(c_out), filt_height=int(kh), filt_width=int(kw), stride_height=int(sh),
                 stride_width=int(sw), pad_top=pad_before(h, kh, sh, layer.padding),
                 pad_left=pad_before(w, kw, sw, layer.padding))
        synapses = kh * kw * c_in * c_out
    else:
        raise HwflowError(f"layer '{layer.name}' is a synaptic layer of op '{layer.op}', which has no HLS block; "
                          "hwflow.hls lowers dense and conv2d")
    d["n_synapses"] = int(synapses)
    check_reuse(layer, int(synapses), reuse_factor)
    if layer.is_readout:
        width = max(membrane_bits, layer.frac + 1)
        spec = ("fixed", width, width - layer.frac, True)
        d.update(out_steps=0, threshold_log2=0, threshold_bits=2, readout_width=int(width),
                 out_shape=list(layer.out_shape), out_precision=spec)
        return d, Cursor(layer.name, "values", tuple(layer.out_shape), 1, spec)
    t = layer.neuron.time_steps
    d.update(out_steps=int(t), threshold_log2=int(layer.neuron.threshold_log2),
             threshold_bits=int(layer.neuron.threshold_log2 + t + 1), readout_width=0,
             out_shape=[int(t)] + list(layer.out_shape), out_precision=SPIKE_SPEC)
    return d, Cursor(layer.name, "planes", tuple(layer.out_shape), t, SPIKE_SPEC, layer.neuron.grid)


def pool_dict(layer: MaxPool, cur: Cursor) -> tuple[dict, Cursor]:
    if cur.kind != "planes":
        raise HwflowError(f"max pool '{layer.name}' gets {cur.kind} data; bit-serial pooling needs spike planes")
    (h, w, c), (ho, wo, _) = cur.shape, layer.out_shape
    (ph, pw), (sh, sw) = layer.pool, layer.strides
    d = dict(class_name="BitSerialMaxPool", name=layer.name, inputs=[cur.name], in_height=h, in_width=w,
             n_chan=c, out_height=ho, out_width=wo, pool_height=ph, pool_width=pw, stride_height=sh,
             stride_width=sw, pad_top=pad_before(h, ph, sh, layer.padding),
             pad_left=pad_before(w, pw, sw, layer.padding), steps=cur.steps,
             out_shape=[cur.steps] + list(layer.out_shape), out_precision=SPIKE_SPEC)
    return d, Cursor(layer.name, "planes", tuple(layer.out_shape), cur.steps, SPIKE_SPEC, cur.grid)


def flatten_dict(layer: Flatten, cur: Cursor) -> tuple[dict, Cursor]:
    n = math.prod(cur.shape)
    shape = [cur.steps, n] if cur.kind == "planes" else [n]
    d = dict(class_name="SpikeFlatten", name=layer.name, inputs=[cur.name], size=cur.steps * n if cur.kind == "planes"
             else n, out_shape=shape, out_precision=cur.spec)
    return d, Cursor(layer.name, cur.kind, (n,), cur.steps, cur.spec, cur.grid)


def layer_list(snn: SNN, reuse_factor: int) -> tuple[list[dict], str]:
    """hls4ml layer dicts for the SNN, and the input precision (its grid as ap_[u]fixed)."""
    enc = snn.encoder
    in_spec = grid_spec(enc.grid)
    layers = [dict(class_name="InputLayer", name=INPUT_NAME, input_shape=list(enc.shape))]
    cur = Cursor(INPUT_NAME, "analog", tuple(enc.shape), 1, in_spec, enc.grid)
    if enc.encoding == "bitplane":
        s = enc.steps
        if in_spec != ("fixed", s, s - enc.grid.frac, False):
            raise HwflowError(f"bit-plane input needs levels 0..2**{s}-1 on an unsigned grid, got {enc.grid}")
        n = math.prod(enc.shape)
        layers.append(dict(class_name="SpikeEncode", name=ENCODE_NAME, inputs=[INPUT_NAME], n_in=n, steps=s,
                           out_shape=[s] + list(enc.shape), out_precision=SPIKE_SPEC))
        cur = Cursor(ENCODE_NAME, "planes", tuple(enc.shape), s, SPIKE_SPEC, enc.grid)
    for layer in snn.layers:
        if cur.kind == "values" and not isinstance(layer, Flatten):
            raise HwflowError(f"layer '{layer.name}' follows the readout; only a Flatten may follow it")
        if isinstance(layer, SynapticLayer):
            d, cur = synaptic_dict(layer, cur, reuse_factor)
        elif isinstance(layer, MaxPool):
            d, cur = pool_dict(layer, cur)
        elif isinstance(layer, Flatten):
            d, cur = flatten_dict(layer, cur)
        else:
            raise HwflowError(f"layer '{getattr(layer, 'name', '?')}' of kind {type(layer).__name__} has no HLS "
                              "block; hwflow.hls lowers SynapticLayer (dense, conv2d), MaxPool and Flatten")
        layers.append(d)
    if cur.kind == "planes":  # the last layer spikes: output its levels on the neuron's grid
        t = cur.steps
        layers.append(dict(class_name="SpikeDecode", name=DECODE_NAME, inputs=[cur.name], n_in=math.prod(cur.shape),
                           steps=t, out_shape=list(cur.shape), out_precision=("fixed", t, t - cur.grid.frac, False)))
    return layers, spec_cpp(in_spec)


def check_options(io_type: str, reuse_factor) -> int:
    """The reuse factor as an int, after checking it and the io_type."""
    if io_type not in IO_TYPES:
        raise HwflowError(f"io_type={io_type!r} is not supported; use 'io_parallel' or 'io_stream'")
    if isinstance(reuse_factor, bool) or not isinstance(reuse_factor, (int, np.integer)) or reuse_factor < 1:
        raise HwflowError(f"reuse_factor={reuse_factor!r} must be a positive integer")
    return int(reuse_factor)


def pipeline_style(reuse_factor: int, io_type: str) -> str:
    """hls4ml's PipelineStyle: one II=1 'pipeline' when everything is unrolled anyway (R = 1,
    io_parallel); otherwise 'dataflow', every block call a DATAFLOW process."""
    return "pipeline" if reuse_factor == 1 and io_type == "io_parallel" else "dataflow"


def check_explicit_types(model) -> None:
    for layer in model.get_layers():
        for t in layer.types.values():
            if "default_t" in t.name:
                raise HwflowError(f"internal: layer '{layer.name}' type {t.name} fell back on hls4ml's default "
                                  "precision; every hwflow type must be explicit")


def to_hls(snn: SNN, output_dir: str | Path, backend: str = "Vitis", io_type: str = "io_parallel",
           part: str = "xcu250-figd2104-2L-e", clock_period: float = 5, reuse_factor: int = 1,
           project_name: str = "myproject", trace: bool = False):
    """Lower an SNN to an hls4ml ModelGraph made of hwflow's integrate-and-fire HLS blocks.

    backend: 'Vitis' or 'Vivado'. io_type: 'io_parallel', or 'io_stream' (frame-buffered: each block
    reads its whole input stream into an array, runs the io_parallel kernel and streams its output).
    reuse_factor R: every synaptic block processes its synapses (per output pixel for conv) in R
    cycles per input plane; R must divide that count. The returned model is not written or
    compiled: call model.write(), or hwflow.hls.compile(model) for C simulation, then
    hwflow.hls.predict(model, snn, x) (or model.predict on inputs exactly on the input grid).
    The input type is the input grid as ap_[u]fixed; the output is the readout membrane as
    ap_fixed<W, W - frac> (W = max(membrane_bits, frac + 1)), exactly v * 2**-frac, or for a
    spiking last layer its level grid ap_ufixed<T, integer>.
    trace=True makes a trace build: hls4ml's Trace on for every block, plus hwflow's C-simulation
    probes (membranes, cycle counts) after every block call; see hwflow.hls.trace.
    """
    from hls4ml.model.graph import ModelGraph
    from hls4ml.utils.config import create_config

    from hwflow.hls.blocks import BACKENDS, register

    names = {b.lower(): b for b in BACKENDS}
    if str(backend).lower() not in names:
        raise HwflowError(f"backend={backend!r} is not supported; hwflow.hls targets {', '.join(BACKENDS)}")
    backend = names[str(backend).lower()]
    reuse_factor = check_options(io_type, reuse_factor)
    layers, input_precision = layer_list(snn, reuse_factor)
    register()
    config = create_config(output_dir=str(output_dir), project_name=project_name, backend=backend, part=part,
                           clock_period=clock_period, io_type=io_type)
    config["HLSConfig"] = {
        "Model": {"Precision": UNUSED_DEFAULT, "ReuseFactor": reuse_factor, "Strategy": "Latency",
                  "BitExact": False, "PipelineStyle": pipeline_style(reuse_factor, io_type)},
        "LayerName": {INPUT_NAME: {"Precision": {"result": input_precision}}},
    }
    if trace:
        config["HLSConfig"]["LayerName"].update({d["name"]: {"Trace": True} for d in layers[1:]})
    model = ModelGraph.from_layer_list(config, layers, inputs=[INPUT_NAME], outputs=[layers[-1]["name"]])
    check_explicit_types(model)
    out_bits = layers[-1]["out_precision"][1]
    if out_bits > EXACT_FLOAT_BITS:
        warnings.warn(f"the output type has {out_bits} bits: the firmware is exact, but hls4ml's predict returns "
                      f"it through float64, exact only up to {EXACT_FLOAT_BITS} bits", stacklevel=2)
    return model


def require_gxx() -> None:
    if shutil.which("g++") is None:
        raise HwflowError("g++ was not found on PATH; C simulation of the HLS project needs it "
                          "(install it, e.g. apt-get install g++)")


def compile(hls_model) -> float:  # noqa: A001 - the verb users expect, as hls4ml's ModelGraph.compile
    """Write the project and build its C-simulation library with g++; returns the seconds taken."""
    require_gxx()
    start = time.perf_counter()
    hls_model.compile()
    return time.perf_counter() - start


def predict(hls_model, snn: SNN, x: np.ndarray) -> np.ndarray:
    """The compiled firmware's outputs for x (checked to lie on the input grid), shaped as snn.predict."""
    snn.input_levels(x)  # HwflowError if x is off the grid: the firmware would silently truncate it
    x = np.ascontiguousarray(np.asarray(x, dtype=np.float64))
    y = np.asarray(hls_model.predict(x), dtype=np.float64)
    return y.reshape((len(x),) + tuple(snn.output_shape)).astype(np.float32)
