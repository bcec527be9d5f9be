"""Every default and limit of the flow, in one place (the config, the CLI and the APIs read them here)."""
from __future__ import annotations

MAX_TIME_STEPS = 16  # T: bits of a quantized_relu, time steps of the SNN
DEFAULT_TIME_STEPS = 4

BACKENDS = ("Vitis", "Vivado")  # hls4ml backends hwflow's blocks are registered with
IO_TYPES = ("io_parallel", "io_stream")
# firmware schedules: 'latency' (every synapse in space, reuse factor R), and the RTL twin's 'folded'
# (lanes gated adders sweep every synapse) and 'event' (the sweep follows the input spikes)
STRATEGIES = ("latency", "folded", "event")
MAX_LANES = 64  # wider lane groups make the per-lane memories and muxes larger than the design
DEFAULT_BACKEND = "Vitis"
DEFAULT_IO_TYPE = "io_parallel"
DEFAULT_PART = "xcu250-figd2104-2L-e"
DEFAULT_CLOCK_NS = 5.0
DEFAULT_REUSE_FACTOR = 1
DEFAULT_STRATEGY = "latency"
DEFAULT_LANES = 8  # output neurons per cycle of the folded and event schedules (HLS and RTL)
DEFAULT_PROJECT_NAME = "myproject"  # hls4ml project and top function name of hwflow's firmware
TESTBENCH_SAMPLES = 100  # samples in the self-checking testbench of a run
TRACE_SAMPLES = 8  # samples the firmware trace of a run compares step by step
RTL_ARCHITECTURE = "event"  # the RTL twin of a run (hwflow.rtl): integration follows the spikes
RTL_LANES = DEFAULT_LANES  # output neurons per cycle in every RTL block
RTL_BUFFERS = "frame"  # memories between RTL blocks: whole images (blocks one after another)
RTL_FAMILY = "xcup"  # Yosys synth_xilinx family of a run's synthesis (UltraScale+)

# 45 nm energy per operation (Horowitz, ISSCC 2014; hwflow.energy): the width-aware integer model
# scales the 32-bit integer add and multiply; the paper's float model uses the 32-bit float MAC and add
DEFAULT_ENERGY_MODEL = "int45"
E_ADD32_PJ = 0.1
E_MUL32_PJ = 3.1
E_MAC_PJ = 4.6
E_AC_PJ = 0.9
