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
from hwflow.rtl.block import RTL_SIM_SOURCE
from hwflow.rtl.generate import lower_stages, to_rtl

RTL_DIR = "rtl"  # in a run folder


def skipped(reason: str) -> dict:
    """The report fields of an RTL stage that could not run, with the reason shown on the page."""
    return {"rtl": {"skipped": reason}, "mismatches": {"rtl_vs_qkeras": None}}


NOT_SYNTHESIZED = {"skipped": "not synthesized (rtl.synthesize: false); run hwflow synth RUN_DIR"}


def rtl_stage(snn, x: np.ndarray, y_qkeras: np.ndarray, cfg: dict, out: Path, progress: bool = False) -> dict:
    """Report fields `rtl` and mismatches `rtl_vs_qkeras`, `rtl_trace` of the design in `out`.

    A network the generator does not cover, or a missing Verilator, gives `rtl.skipped` with the
    reason (the page shows it); a missing Yosys skips only the synthesis, saying so.
    """
    rc = cfg["rtl"]
    try:
        lower_stages(snn, rc["lanes"], rc["architecture"])
        verilator_cmd = tools.verilator()
    except HwflowError as exc:
        if progress:
            print(f"[hwflow] RTL stage skipped: {exc}", file=sys.stderr, flush=True)
        return skipped(str(exc))
    if progress:
        print(f"[hwflow] Verilator: building the RTL twin ({rc['architecture']}, {rc['lanes']} lanes) and "
              f"simulating {len(x)} samples ...", file=sys.stderr, flush=True)
    design = to_rtl(snn, out, rc["architecture"], rc["lanes"])
    t0 = time.perf_counter()
    result = design.simulate(x)
    seconds = {"simulate": time.perf_counter() - t0}
    formula = design.cycle_model(x)
    c = result.cycles
    fields = dict(architecture=rc["architecture"], lanes=rc["lanes"], dir=RTL_DIR, samples=int(len(x)),
                  cycles={"min": int(c.min()), "mean": float(c.mean()), "max": int(c.max()), "source": RTL_SIM_SOURCE},
                  cycles_vs_formula=int((c != formula).sum()),
                  tools={"verilator": tools.version(tuple(verilator_cmd))})
    trace = design.first_difference(x[:TRACE_SAMPLES])
    fields["resources"] = NOT_SYNTHESIZED
    fields["fmax"] = NOT_SYNTHESIZED
    if rc["synthesize"]:
        try:
            if progress:
                print(f"[hwflow] Yosys: synth_xilinx -family {rc['family']} ...", file=sys.stderr, flush=True)
            t0 = time.perf_counter()
            fields["resources"] = design.synthesize(rc["family"])
            seconds["synthesize"] = time.perf_counter() - t0
            fields["tools"]["yosys"] = fields["resources"]["tool"]
        except HwflowError as exc:
            fields["resources"] = {"skipped": str(exc)}
        try:
            if progress:
                print("[hwflow] nextpnr-ecp5: place and route for an ECP5 fmax ...", file=sys.stderr, flush=True)
            t0 = time.perf_counter()
            fields["fmax"] = design.place_and_route()
            seconds["place_and_route"] = time.perf_counter() - t0
        except HwflowError as exc:
            fields["fmax"] = {"skipped": str(exc)}
    fields["seconds"] = seconds
    vs_qkeras = count_mismatches(result.output, y_qkeras) if snn.tf_float32_exact else None
    return {"rtl": fields, "mismatches": {"rtl_vs_qkeras": vs_qkeras, "rtl_trace": trace}}
