"""The firmware stage of the flow: SNN firmware and the hls4ml ANN baseline, C-simulated on a test set."""
from __future__ import annotations

import dataclasses
import time
from pathlib import Path

import numpy as np

from hwflow.flow import count_mismatches
from hwflow.snn import SNN


def hls_options(cfg: dict) -> dict:
    """to_hls / ann_to_hls keyword arguments from the config's hls section."""
    h = cfg["hls"]
    return {k: h[k] for k in ("backend", "io_type", "part", "clock_period", "reuse_factor")}


TRACE_SAMPLES = 8


def trace_options(cfg: dict) -> dict:
    return {k: cfg["hls"][k] for k in ("backend", "io_type", "reuse_factor")}


def cycle_fields(snn: SNN, cfg: dict) -> dict:
    """latency_cycles, initiation_interval and the per-block cycle model (an estimate, labelled)."""
    from hwflow.hls import cycle_model
    cm = cycle_model(snn, reuse_factor=cfg["hls"]["reuse_factor"], io_type=cfg["hls"]["io_type"])
    return {"latency_cycles": cm.latency, "initiation_interval": cm.ii,
            "cycles": {"source": "estimate (cycle model)", "style": cm.style, "note": cm.note,
                       "layers": [dataclasses.asdict(b) for b in cm.layers]}}


def snn_firmware(snn: SNN, out: Path, cfg: dict, x: np.ndarray):
    """Write and compile the SNN's hls4ml project in `out`, with a self-checking testbench holding
    the first hls.testbench_samples inputs of x and the SNN's exact outputs; (model, compile seconds)."""
    from hwflow.hls import compile as compile_hls
    from hwflow.hls import to_hls, write_testbench

    hls_model = to_hls(snn, out, **hls_options(cfg))
    seconds = compile_hls(hls_model)
    tb = x[:cfg["hls"]["testbench_samples"]]
    write_testbench(hls_model, tb, snn.predict(tb))
    return hls_model, seconds


def firmware_stage(snn: SNN, model, x: np.ndarray, y_qkeras: np.ndarray, cfg: dict, out: Path) -> dict:
    """Generate, compile and C-simulate the SNN firmware (and the hls4ml ANN of the same model) on x,
    and build and run the SNN project's self-checking testbench standalone.

    Returns the report fields: mismatches (csim_vs_qkeras, csim_vs_hls4ml_ann, ...), the testbench
    result, compile and simulation times, and the firmware folders (relative to `out`).
    """
    from hwflow.hls import compile as compile_hls
    from hwflow.hls import csim_testbench, predict, trace_compare
    from hwflow.hls.ann import ann_to_hls

    opts = hls_options(cfg)
    snn_model, compile_seconds = snn_firmware(snn, out / "firmware" / "snn", cfg, x)
    seconds = {"snn_compile": compile_seconds}
    t0 = time.perf_counter()
    y_fw = predict(snn_model, snn, x)
    seconds["snn_csim"] = time.perf_counter() - t0
    mismatches = {"csim_vs_qkeras": count_mismatches(y_fw, y_qkeras) if snn.tf_float32_exact else None}
    fields = {"firmware_dir": "firmware/snn", "hls": dict(opts)}
    if cfg["hls"]["ann_baseline"]:
        ann_model = ann_to_hls(model, out / "firmware" / "ann", **opts)
        seconds["ann_compile"] = compile_hls(ann_model)
        t0 = time.perf_counter()
        y_ann = np.asarray(ann_model.predict(np.ascontiguousarray(x, dtype=np.float64)), dtype=np.float32)
        seconds["ann_csim"] = time.perf_counter() - t0
        mismatches["csim_vs_hls4ml_ann"] = count_mismatches(y_fw, y_ann.reshape(y_fw.shape))
        mismatches["hls4ml_ann_vs_qkeras"] = count_mismatches(y_ann.reshape(y_fw.shape), y_qkeras)
        fields["ann_firmware_dir"] = "firmware/ann"
    fields.update(cycle_fields(snn, cfg))
    trace = trace_compare(snn, x[:TRACE_SAMPLES], out / "firmware" / "snn_trace", **trace_options(cfg))
    mismatches["trace"] = trace.first_difference
    fields["trace_samples"] = min(TRACE_SAMPLES, len(x))
    tb = csim_testbench(out / "firmware" / "snn")
    seconds["testbench"] = tb.seconds
    fields["testbench"] = {"samples": tb.samples, "mismatches": tb.mismatches, "returncode": tb.returncode}
    fields.update(mismatches=mismatches, firmware_seconds=seconds)
    return fields
