"""The firmware stage of the flow: SNN firmware and the hls4ml ANN baseline, C-simulated on a test set."""
from __future__ import annotations

import dataclasses
import sys
import time
from pathlib import Path

import numpy as np

from hwflow.defaults import TRACE_SAMPLES
from hwflow.metrics import count_mismatches
from hwflow.options import FirmwareOptions
from hwflow.snn import SNN

CSIM_SOURCE = "measured (C simulation counters of the trace samples)"  # what csim_cycles are labelled
FIRMWARE_DIR = "firmware"  # in a run folder: snn/ (the SNN project), ann/ (hls4ml's ANN), snn_trace/


def cycle_fields(snn: SNN, opts: FirmwareOptions) -> dict:
    """latency_cycles, initiation_interval and the per-block cycle model (an estimate, labelled)."""
    from hwflow.hls import cycle_model
    cm = cycle_model(snn, opts)
    return {"latency_cycles": cm.latency, "initiation_interval": cm.ii,
            "cycles": {"source": "estimate (cycle model)", "style": cm.style, "note": cm.note,
                       "layers": [dataclasses.asdict(b) for b in cm.layers]}}


def compiled(hls_model, what: str, progress: bool) -> float:
    """Compile an hls4ml project with g++ (5 to 60 s), saying so when progress is on; the seconds taken."""
    from hwflow.hls import compile as compile_hls

    if progress:
        print(f"[hwflow] g++: compiling {what} ...", file=sys.stderr, flush=True)
    seconds = compile_hls(hls_model)
    if progress:
        print(f"[hwflow] g++: {what} compiled in {seconds:.1f} s", file=sys.stderr, flush=True)
    return seconds


def snn_firmware(snn: SNN, out: Path, opts: FirmwareOptions, x: np.ndarray, testbench_samples: int,
                 progress: bool = False):
    """Write and compile the SNN's hls4ml project in `out`, with a self-checking testbench holding
    the first testbench_samples inputs of x and the SNN's exact outputs; (model, compile seconds)."""
    from hwflow.hls import to_hls, write_testbench

    hls_model = to_hls(snn, out, opts)
    seconds = compiled(hls_model, "the SNN firmware", progress)
    tb = x[:testbench_samples]
    write_testbench(hls_model, tb, snn.logits(tb))
    return hls_model, seconds


def firmware_stage(snn: SNN, model, x: np.ndarray, y_qkeras: np.ndarray, cfg: dict, out: Path,
                   progress: bool = False) -> dict:
    """Generate, compile and C-simulate the SNN firmware (and the hls4ml ANN of the same model) on x
    in `out` (a run's firmware/ folder), and build and run the SNN project's self-checking testbench.
    progress: say what is compiled and show the C simulations' progress (on stderr).

    Returns the report fields: mismatches (csim_vs_qkeras, csim_vs_hls4ml_ann, ...), the testbench
    result, compile and simulation times, and the firmware folders (relative to the run folder).
    """
    from hwflow.hls import csim_testbench, cycle_model, predict, trace_compare
    from hwflow.hls.trace import counted_cycles
    from hwflow.hls.ann import ann_to_hls
    from hwflow.hls.lower import csim_batches, feasible
    from hwflow.ops.output_function import logits_model

    opts = FirmwareOptions.from_config(cfg)
    snn_model, compile_seconds = snn_firmware(snn, out / "snn", opts, x, cfg["hls"]["testbench_samples"], progress)
    seconds = {"snn_compile": compile_seconds}
    t0 = time.perf_counter()
    y_fw = predict(snn_model, snn, x, progress="C-simulating the SNN firmware" if progress else None)
    seconds["snn_csim"] = time.perf_counter() - t0
    mismatches = {"csim_vs_qkeras": count_mismatches(y_fw, y_qkeras) if snn.tf_float32_exact else None}
    fields = {"firmware_dir": f"{FIRMWARE_DIR}/snn", "hls": opts.as_dict()}
    if cfg["hls"]["ann_baseline"]:
        ann_model = ann_to_hls(logits_model(model), out / "ann", opts)  # hls4ml's softmax is a table: the logits
        seconds["ann_compile"] = compiled(ann_model, "hls4ml's ANN firmware", progress)
        t0 = time.perf_counter()
        y_ann = csim_batches(ann_model, x, "C-simulating hls4ml's ANN firmware" if progress else None).astype(np.float32)
        seconds["ann_csim"] = time.perf_counter() - t0
        mismatches["csim_vs_hls4ml_ann"] = count_mismatches(y_fw, y_ann.reshape(y_fw.shape))
        mismatches["hls4ml_ann_vs_qkeras"] = count_mismatches(y_ann.reshape(y_fw.shape), y_qkeras)
        fields["ann_firmware_dir"] = f"{FIRMWARE_DIR}/ann"
        fields["hls_ann"] = ann_model.hwflow_settings.as_dict()
    fields.update(cycle_fields(snn, opts))
    fields["feasibility"] = feasible(snn, opts).as_dict()
    if progress:
        print("[hwflow] g++: compiling and running the firmware trace build ...", file=sys.stderr, flush=True)
    trace = trace_compare(snn, x[:TRACE_SAMPLES], out / "snn_trace", opts)
    mismatches["trace"] = trace.first_difference
    per_sample = counted_cycles(trace.firmware)
    fields["csim_cycles"] = dict(per_sample=per_sample.tolist(), min=int(per_sample.min()),
                                 mean=float(per_sample.mean()), max=int(per_sample.max()),
                                 strategy=opts.strategy, lanes=opts.lanes,
                                 stream_cycles=cycle_model(snn, opts).stream_cycles, source=CSIM_SOURCE)
    fields["trace_samples"] = min(TRACE_SAMPLES, len(x))
    fields["csim_samples"] = int(len(x))
    tb = csim_testbench(out / "snn")
    seconds["testbench"] = tb.seconds
    fields["testbench"] = {"samples": tb.samples, "mismatches": tb.mismatches, "returncode": tb.returncode}
    fields.update(mismatches=mismatches, firmware_seconds=seconds)
    return fields
