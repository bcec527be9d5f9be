"""hwflow.rtl: the RTL twin of the SNN firmware, Verilog from hls_templates/rtl/, Verilator, Yosys.

    design = hwflow.to_rtl(snn, "rtl_out", architecture="event", lanes=8)
    result = design.simulate(x)          # .output == snn.logits(x), .cycles measured per sample
    design.cycle_model(x)                # the blocks' documented formulas on the SNN's own spikes
    design.first_difference(x[:5])       # None, or the first layer/step/neuron where RTL and SNN differ
    design.synthesize(family="xcup")     # {'LUT': ..., 'FF': ..., 'DSP': ..., 'blocks': {...}, 'tool': ...}

The Verilog templates (one module per block kind) and the Verilator testbench live in
hls_templates/rtl/; each template's header gives its cycle formula. Names are imported on first
use, so the pure module `block` loads without the simulator and the ops.
"""
from __future__ import annotations

import importlib

EXPORTS = {"to_rtl": "generate", "lower_stages": "generate", "RtlDesign": "design", "RtlResult": "design",
           "rtl_stage": "stage", "ARCHITECTURES": "block"}
__all__ = list(EXPORTS)


def __getattr__(name: str):
    if name in EXPORTS:
        return getattr(importlib.import_module(f"hwflow.rtl.{EXPORTS[name]}"), name)
    raise AttributeError(f"module 'hwflow.rtl' has no attribute {name!r}")
