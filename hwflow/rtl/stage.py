"""The RTL stage of a run: generate, co-simulate the test set in Verilator, trace, synthesize with Yosys."""
from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

from hwflow.defaults import TRACE_SAMPLES
from hwflow.errors import HwflowError
from hwflow.metrics import count_mismatches
from hwflow.rtl import tools
from hwflow.rtl.block import NOT_SYNTHESIZED, RTL_SIM_SOURCE
from hwflow.rtl.design import RtlDesign
from hwflow.rtl.generate import lower_stages, to_rtl

RTL_DIR = "rtl"  # in a run folder
ANN_DIR = "ann"  # in RTL_DIR: the ANN of the same network (rtl.ann_baseline)


def skipped(reason: str) -> dict:
    """The report fields of an RTL stage that could not run, with the reason shown on the page."""
    return {"rtl": {"skipped": reason}, "mismatches": {"rtl_vs_qkeras": None}}


def rtl_stage(snn, x: np.ndarray, y_qkeras: np.ndarray, cfg: dict, out: Path, progress: bool = False,
              csim: dict | None = None) -> dict:
    """Report fields `rtl` and mismatches `rtl_vs_qkeras`, `rtl_trace` of the design in `out`; with
    rtl.ann_baseline, also the ANN of the same network from the same generator (`rtl.ann`, in out/ann,
    mismatches `rtl_ann_vs_qkeras`).

    csim: the firmware's measured C-simulation cycles of the first samples (firmware_stage's
    `csim_cycles`); when the firmware has the RTL's architecture and lanes and the RTL frame
    buffers (the blocks one after another, as in the firmware), mismatches `csim_cycles_vs_rtl` counts the samples where they differ from the RTL's (interface stages and
    io_stream adapters accounted for: hwflow.rtl.design.RtlDesign.interface_cycles).

    rtl.samples limits the simulation to the first test samples (Verilator runs 1-4 s per sample of
    mnist_resnet). A network the generator does not cover, or a missing Verilator, gives `rtl.skipped` with the
    reason (the page shows it); a missing Yosys skips only the synthesis, saying so.
    """
    rc = cfg["rtl"]
    x, y_qkeras = x[:rc["samples"]], y_qkeras[:rc["samples"]]  # rtl.samples: the first test samples (None: all)
    try:
        lower_stages(snn, rc["lanes"], rc["architecture"], rc["buffers"])
        verilator_cmd = tools.verilator()
    except HwflowError as exc:
        if progress:
            print(f"[hwflow] RTL stage skipped: {exc}", file=sys.stderr, flush=True)
        return skipped(str(exc))
    fields = dict(architecture=rc["architecture"], lanes=rc["lanes"], buffers=rc["buffers"], dir=RTL_DIR,
                  samples=int(len(x)),
                  tools={"verilator": tools.version(tuple(verilator_cmd))})
    design, measured, cycles = measure(snn, x, y_qkeras, rc, rc["architecture"], out, progress)
    vs_qkeras = measured.pop("vs_qkeras")
    fields.update(measured)
    mismatches = {"rtl_vs_qkeras": vs_qkeras, "rtl_trace": design.first_difference(x[:TRACE_SAMPLES])}
    if csim and (csim["strategy"], csim["lanes"], rc["buffers"]) == (rc["architecture"], rc["lanes"], "frame"):
        counted = np.asarray(csim["per_sample"], dtype=np.int64) - csim["stream_cycles"] + design.interface_cycles
        n = min(len(counted), len(cycles))  # the samples both simulated
        mismatches["csim_cycles_vs_rtl"] = int((counted[:n] != cycles[:n]).sum())
    if "tool" in fields["resources"]:
        fields["tools"]["yosys"] = fields["resources"]["tool"]
    fields["fmax"] = NOT_SYNTHESIZED
    if rc["synthesize"]:
        try:
            if progress:
                print("[hwflow] nextpnr-ecp5: place and route for an ECP5 fmax ...", file=sys.stderr, flush=True)
            t0 = time.perf_counter()
            fields["fmax"] = design.place_and_route()
            fields["seconds"]["place_and_route"] = time.perf_counter() - t0
        except HwflowError as exc:
            fields["fmax"] = {"skipped": str(exc)}
    if rc["ann_baseline"] and rc["architecture"] != "ann":
        _, fields["ann"], _ = measure(snn, x, y_qkeras, rc, "ann", out / ANN_DIR, progress)
        fields["ann"]["dir"] = f"{RTL_DIR}/{ANN_DIR}"
        mismatches["rtl_ann_vs_qkeras"] = fields["ann"].pop("vs_qkeras")
    return {"rtl": fields, "mismatches": mismatches}


def measure(snn, x: np.ndarray, y_qkeras: np.ndarray, rc: dict, architecture: str, out: Path,
            progress: bool) -> tuple[RtlDesign, dict, np.ndarray]:
    """One design of the network in `out`: Verilator outputs against QKeras, measured cycles and their
    formula, and (rtl.synthesize) Yosys's counts; and the measured cycles per sample."""
    if progress:
        print(f"[hwflow] Verilator: building the RTL twin ({architecture}, {rc['lanes']} lanes) and "
              f"simulating {len(x)} samples ...", file=sys.stderr, flush=True)
    design = to_rtl(snn, out, architecture, rc["lanes"], force=True, buffers=rc["buffers"])
    t0 = time.perf_counter()
    result = design.simulate(x, progress=progress)
    seconds = {"simulate": time.perf_counter() - t0}
    c = result.cycles
    fields = dict(architecture=architecture,
                  cycles={"min": int(c.min()), "mean": float(c.mean()), "max": int(c.max()), "source": RTL_SIM_SOURCE},
                  cycles_vs_formula=int((c != design.cycle_model(x)).sum()), resources=NOT_SYNTHESIZED,
                  vs_qkeras=count_mismatches(result.output, y_qkeras) if snn.tf_float32_exact else None)
    if rc["synthesize"]:
        try:
            if progress:
                print(f"[hwflow] Yosys: synth_xilinx -family {rc['family']} ({architecture}) ...", file=sys.stderr,
                      flush=True)
            t0 = time.perf_counter()
            fields["resources"] = design.synthesize(rc["family"])
            seconds["synthesize"] = time.perf_counter() - t0
        except HwflowError as exc:
            fields["resources"] = {"skipped": str(exc)}
    fields["seconds"] = seconds
    return design, fields, c
