"""SNN IR -> hls4ml ModelGraph of hwflow's integrate-and-fire blocks.

Every IR node lowers itself (Node.lower) to an hls4ml layer dict (the form hls4ml's own converters
produce); the list is handed to ``hls4ml.model.graph.ModelGraph.from_layer_list`` with a config dict
made by ``hls4ml.utils.config.create_config``; hls4ml's flows then apply our registered templates
(hwflow.hls.blocks) and its writer produces the project. Every precision is explicit.
"""
from __future__ import annotations

import math
import time
import warnings
from pathlib import Path

import numpy as np

from hwflow.defaults import DEFAULT_PROJECT_NAME
from hwflow.errors import HwflowError
from hwflow.hls import feasibility
from hwflow.hls.block import grid_spec, spec_cpp
from hwflow.hls.schedule import pipeline_style
from hwflow.hls.toolchain import require_gxx
from hwflow.ir import INPUT, Node, sources
from hwflow.numerics import FLOAT64_EXACT_BITS
from hwflow.ops.encoder import INPUT_NAME, lower_input, lower_output, reads_image
from hwflow.options import FirmwareOptions
from hwflow.snn import SNN

# A precision no hwflow type uses: if it ever shows up in a generated type, a block fell back on
# hls4ml's model default, which to_hls treats as a bug (see check_explicit_types).
UNUSED_DEFAULT = "ap_fixed<3,1>"


def layer_list(snn: SNN, options: FirmwareOptions) -> tuple[list[dict], str]:
    """hls4ml layer dicts for the SNN (blocks of options' strategy), and the input precision (its grid
    as ap_[u]fixed). Every block dict carries `partition_factor`: 0 (its arrays partitioned completely,
    the latency strategy) or the lanes (cyclically: the folded and event strategies)."""
    if options.sequential:
        from hwflow.rtl.generate import check_options
        check_options(snn, options.lanes, options.strategy)
    layers, cur = lower_input(snn.encoder, options, spatial=reads_image(snn.layers))
    cursors = {INPUT: cur}  # what each node hands on (a DAG: the nodes its branches read)
    for layer, src in zip(snn.layers, sources(snn.layers)):
        if not isinstance(layer, Node):
            raise HwflowError(f"layer '{getattr(layer, 'name', '?')}' of kind {type(layer).__name__} has no HLS "
                              "block; hwflow.hls lowers the nodes of hwflow.ops")
        inputs = [cursors[name] for name in src]
        if any(c.kind == "values" for c in inputs) and not layer.reshapes_only:
            raise HwflowError(f"layer '{layer.name}' follows the readout; only a Flatten may follow it")
        d, cur = layer.lower_inputs(inputs, options)
        layers.append(d)
        cursors[layer.name] = cur
    layers += lower_output(cur)
    for d in layers[1:]:
        d["partition_factor"] = options.lanes if options.sequential else 0
    return layers, spec_cpp(grid_spec(snn.encoder.grid))


def feasible(snn: SNN, options: FirmwareOptions) -> feasibility.Feasibility:
    """hwflow.hls.feasibility.check of the SNN's firmware with these options (nothing is written)."""
    return feasibility.check(snn, options, layer_list(snn, options)[0], style_of(snn, options))


def style_of(snn: SNN, options: FirmwareOptions) -> str:
    """The PipelineStyle of the SNN's firmware with these options (hwflow.hls.schedule.pipeline_style)."""
    spatial = any(getattr(layer, "spatial", False) for layer in snn.layers)
    return pipeline_style(options.strategy, options.reuse_factor, options.io_type, spatial)


def check_explicit_types(model) -> None:
    for layer in model.get_layers():
        for t in layer.types.values():
            if "default_t" in t.name:
                raise HwflowError(f"internal: layer '{layer.name}' type {t.name} fell back on hls4ml's default "
                                  "precision; every hwflow type must be explicit")


def to_hls(snn: SNN, output_dir: str | Path, options: FirmwareOptions | None = None, *,
           project_name: str = DEFAULT_PROJECT_NAME, trace: bool = False, **settings):
    """Lower an SNN to an hls4ml ModelGraph made of hwflow's integrate-and-fire HLS blocks.

    options / settings: a FirmwareOptions and any of its fields by keyword (backend 'Vitis' or
    'Vivado', io_type, part, clock_period, reuse_factor, strategy, lanes). io_type 'io_stream' streams
    activations pixel by pixel (per pixel its planes): the folded and event convolutions and pools
    read them through a line buffer of (k_h - 1) rows plus k_w pixels; every other block reads its
    whole input into an array, runs its io_parallel kernel and streams its output (frame adapters,
    hls_templates/hwflow_spike_stream.h). Strategy 'latency', reuse factor R: every synaptic block processes
    its synapses (per output pixel for conv) in R cycles per input plane; R must divide that count.
    Strategies 'folded' and 'event': the RTL twin's schedules at `lanes` output neurons per cycle
    (hls_templates/hwflow_if_layer.h). The configuration is first checked against the HLS tools'
    limits and the part (hwflow.hls.feasibility): an infeasible one is a one-line HwflowError. The returned model
    is not written or compiled: call model.write(), or hwflow.hls.compile(model) for C simulation,
    then hwflow.hls.predict(model, snn, x) (or model.predict on inputs exactly on the input grid).
    Its predict and trace reject inputs off the input grid (HwflowError: use snn.quantize_input).
    The input type is the input grid as ap_[u]fixed; the output is the readout membrane as
    ap_fixed<W, W - frac> (W = max(membrane_bits, frac + 1)), exactly v * 2**-frac, or for a
    spiking last layer its level grid ap_ufixed<T, integer>.
    trace=True makes a trace build: hls4ml's Trace on for every block, plus hwflow's C-simulation
    probes (membranes, cycle counts) after every block call; see hwflow.hls.trace.
    """
    from hls4ml.model.graph import ModelGraph
    from hls4ml.utils.config import create_config

    from hwflow.hls.blocks import register

    opts = FirmwareOptions.of(options, **settings)
    layers, input_precision = layer_list(snn, opts)
    feasibility.check(snn, opts, layers, style_of(snn, opts))  # before anything is written
    register()
    config = create_config(output_dir=str(output_dir), project_name=project_name, backend=opts.backend,
                           part=opts.part, clock_period=opts.clock_period, io_type=opts.io_type)
    config["HLSConfig"] = {
        "Model": {"Precision": UNUSED_DEFAULT, "ReuseFactor": opts.reuse_factor, "Strategy": opts.hls4ml_strategy,
                  "BitExact": False, "PipelineStyle": style_of(snn, opts)},
        "LayerName": {INPUT_NAME: {"Precision": {"result": input_precision}}},
    }
    if trace:
        config["HLSConfig"]["LayerName"].update({d["name"]: {"Trace": True} for d in layers[1:]})
    model = ModelGraph.from_layer_list(config, layers, inputs=[INPUT_NAME], outputs=[layers[-1]["name"]])
    for layer in model.get_layers():  # folded / event: arrays between blocks in lane-wide banks, not registers
        if layer.get_attr("partition_factor") and opts.io_type == "io_parallel":  # (a stream keeps its FIFO depth)
            layer.get_output_variable().pragma = ("partition", "cyclic", layer.get_attr("partition_factor"))
    check_explicit_types(model)
    guard_inputs(model, snn)
    out_bits = layers[-1]["out_precision"][1]
    if out_bits > FLOAT64_EXACT_BITS:
        warnings.warn(f"the output type has {out_bits} bits: the firmware is exact, but hls4ml's predict returns "
                      f"it through float64, exact only up to {FLOAT64_EXACT_BITS} bits", stacklevel=2)
    return model


def stream_fifos(hls_model) -> list[dict]:
    """The FIFOs between the blocks of an io_stream project (none for io_parallel): per stream, its depth in words
    (hls4ml sizes each to its whole frame, T * H * W words, which lets a branch finish before the join that reads
    it second), the bits of a word and of the FIFO, and the block that writes it."""
    if hls_model.config.get_config_value("IOType") != "io_stream":
        return []
    fifos = []
    for layer in hls_model.get_layers():
        for name in layer.outputs:
            var = layer.get_output_variable(name)
            if var.pragma is None or var.pragma[0] != "stream" or name in (*hls_model.inputs, *hls_model.outputs):
                continue
            word = int(var.shape[-1]) * var.type.precision.width
            fifos.append(dict(stream=var.name, writer=layer.name, depth=int(var.pragma[1]), word_bits=word,
                              bits=int(var.pragma[1]) * word, source="hls4ml stream pragma of the generated project"))
    return fifos


def guard_inputs(hls_model, snn: SNN) -> None:
    """Make hls_model.predict and hls_model.trace check first that x lies on the SNN's input grid (the
    firmware would silently truncate it): a HwflowError that says to use snn.quantize_input."""
    shape = tuple(snn.encoder.shape)
    for name in ("predict", "trace"):
        method = getattr(hls_model, name)

        def checked(x, *args, _method=method, **kwargs):
            values = np.asarray(x)
            if values.shape[1:] != shape and values.size % max(math.prod(shape), 1) == 0:
                values = values.reshape((-1,) + shape)  # hls4ml also takes flat rows or one sample
            snn.input_levels(values)
            return _method(x, *args, **kwargs)

        setattr(hls_model, name, checked)


def compile(hls_model) -> float:  # noqa: A001 - the verb users expect, as hls4ml's ModelGraph.compile
    """Write the project and build its C-simulation library with g++; returns the seconds taken."""
    require_gxx("C simulation of the HLS project")
    start = time.perf_counter()
    hls_model.compile()
    return time.perf_counter() - start


def predict(hls_model, snn: SNN, x: np.ndarray, progress: str | None = None) -> np.ndarray:
    """The compiled firmware's outputs for x (checked to lie on the input grid), shaped as snn.logits
    (the logits, before a final softmax / sigmoid).

    progress: a label to show a progress bar under (C simulation runs one sample at a time). A model of several
    inputs: x is their list (or the joined array), and the firmware's one input port takes them joined."""
    x = snn.encoder.join(x)
    snn.input_levels(x)  # HwflowError if x is off the grid: the firmware would silently truncate it
    y = csim_batches(hls_model, x, progress)
    return y.reshape((len(x),) + tuple(snn.output_shape)).astype(np.float32)


def csim_batches(hls_model, x: np.ndarray, progress: str | None = None, batch: int = 500) -> np.ndarray:
    """hls_model.predict(x) as float64 [N, outputs], in batches under a progress bar when progress names one (a
    model of several outputs, such as hls4ml's ANN of readout heads: side by side, as snn.logits gives them)."""
    x = np.ascontiguousarray(np.asarray(x, dtype=np.float64))
    starts = range(0, len(x), batch)
    if progress:
        from tqdm import tqdm
        starts = tqdm(starts, desc=progress, unit="batch", total=len(starts))

    def flat(out, n: int) -> np.ndarray:
        outs = out if isinstance(out, list) else [out]
        return np.concatenate([np.asarray(o, dtype=np.float64).reshape(n, -1) for o in outs], axis=1)

    parts = [flat(hls_model.predict(x[i:i + batch]), len(x[i:i + batch])) for i in starts]
    return np.concatenate(parts) if parts else np.empty((0, 0))
