"""hwflow.hls: SNN -> hls4ml project of integrate-and-fire HLS blocks (hls4ml extension API).

    hls_model = hwflow.hls.to_hls(snn, "hls_projects/net", backend="Vitis")
    seconds = hwflow.hls.compile(hls_model)       # g++ C simulation library
    y = hwflow.hls.predict(hls_model, snn, x)     # == snn.logits(x) (== snn.predict(x) without a final softmax)
    hwflow.hls.write_testbench(hls_model, x, snn.logits(x))    # self-checking <project>_test.cpp
    hwflow.hls.csim_testbench(prj_dir)            # g++ build + run: TestbenchResult(mismatches=0, ...)
    hwflow.hls.build(prj_dir, synth=True)         # hls4ml's build_prj.tcl in Vivado/Vitis HLS + reports
    hwflow.hls.cycle_model(snn).summary()         # latency / II per block (hls_templates/CYCLES.md)
    hwflow.hls.stream_fifos(hls_model)            # io_stream: the FIFOs between blocks, their depths and bits
    hwflow.hls.trace_compare(snn, x, prj_dir)     # firmware trace vs snn.trace, step by step
    hwflow.hls.measure_cycles(trace_model, x)     # cycles per sample counted in C simulation (a trace build)

The C++ blocks live in hls_templates/ (hwflow.package_data.TEMPLATE_DIR); their header comments
give the loop structure and the latency / II formulas. Names are imported on first use, so the
pure modules of this package (block, schedule) load without hls4ml.
"""
from __future__ import annotations

import importlib

EXPORTS = {
    "to_hls": "lower", "compile": "lower", "predict": "lower", "layer_list": "lower", "stream_fifos": "lower",
    "register": "blocks",
    "write_testbench": "testbench", "csim_testbench": "testbench", "TestbenchResult": "testbench",
    "build": "vivado_build", "read_reports": "vivado_build", "BuildResult": "vivado_build",
    "BuildReports": "vivado_build",
    "trace_compare": "trace", "first_difference": "trace", "TraceResult": "trace", "measure_cycles": "trace",
    "cycle_model": "cycles", "CycleReport": "cycles", "BlockCycles": "cycles",
}
__all__ = list(EXPORTS)


def __getattr__(name: str):
    if name in EXPORTS:
        return getattr(importlib.import_module(f"hwflow.hls.{EXPORTS[name]}"), name)
    raise AttributeError(f"module 'hwflow.hls' has no attribute {name!r}")
