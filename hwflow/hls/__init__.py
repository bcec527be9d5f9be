"""hwflow.hls: SNN -> hls4ml project of integrate-and-fire HLS blocks (hls4ml extension API).

    hls_model = hwflow.hls.to_hls(snn, "hls_projects/net", backend="Vitis")
    seconds = hwflow.hls.compile(hls_model)       # g++ C simulation library
    y = hwflow.hls.predict(hls_model, snn, x)     # == snn.predict(x), bit for bit
    hwflow.hls.write_testbench(hls_model, x, snn.predict(x))   # self-checking <project>_test.cpp
    hwflow.hls.csim_testbench(prj_dir)            # g++ build + run: TestbenchResult(mismatches=0, ...)
    hwflow.hls.build(prj_dir, synth=True)         # hls4ml's build_prj.tcl in Vivado/Vitis HLS + reports

The C++ blocks live in hls_templates/ at the repository root (TEMPLATE_DIR); their header
comments give the loop structure and the latency / II formulas.
"""
from hwflow.hls.blocks import TEMPLATE_DIR, register
from hwflow.hls.lower import compile, layer_list, predict, to_hls
from hwflow.hls.build import BuildReports, BuildResult, build, read_reports
from hwflow.hls.testbench import TestbenchResult, csim_testbench, write_testbench
from hwflow.hls.cycles import BlockCycles, CycleReport, cycle_model
from hwflow.hls.trace import TraceResult, first_difference, trace_compare

__all__ = ["to_hls", "compile", "predict", "layer_list", "register", "TEMPLATE_DIR"]
__all__ += ["write_testbench", "csim_testbench", "TestbenchResult", "build", "read_reports", "BuildResult",
            "BuildReports"]
__all__ += ["trace_compare", "first_difference", "TraceResult", "cycle_model", "CycleReport", "BlockCycles"]
