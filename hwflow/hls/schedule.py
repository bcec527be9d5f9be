"""Counting rules of the firmware schedules (pure arithmetic; hls_templates/CYCLES.md lists them).

A PIPELINE II=1 loop of n iterations and depth D takes n + D cycles (n issues, D to drain); an
unrolled arithmetic stage outside a pipeline (Horner shift-add, bias add) 1 cycle; wiring
(copies, reshapes, bit selects, register resets) 0 cycles; sequential loops add up. Every block
call written to the top function is one process (under DATAFLOW, its own stage).
"""
from __future__ import annotations

import math

STEP_DEPTH = 1  # depth of FireSteps, PoolSteps, ReadChunks, WriteChunks: one stage per iteration


def pipelined(trips: int, depth: int) -> int:
    """Cycles of a PIPELINE II=1 loop: trips issues, then depth to drain."""
    return trips + depth


def reuse_depth(n_synapses: int, reuse_factor: int, n_psum: int) -> int:
    """D of a synaptic ReuseLoop: 1 stage (spike gate or multiplier) plus the ceil(log2(k + 1))
    adder levels that add the k = n_synapses / lcm(R, n_psum) weights one iteration sends to the same
    partial sum (lane s = ir + R * ib feeds partial sum s % n_psum) into it."""
    k = n_synapses // math.lcm(reuse_factor, n_psum)
    return 1 + k.bit_length()


def pipeline_style(strategy: str, reuse_factor: int, io_type: str, spatial: bool) -> str:
    """hls4ml's PipelineStyle: one II=1 'pipeline' only where every loop is unrolled anyway (the
    latency strategy at R = 1, io_parallel, no convolution or pool: those walk their output pixels
    one after another, and hls4ml too builds convolution networks as dataflow); otherwise
    'dataflow', every block call a DATAFLOW process."""
    unrolled = strategy == "latency" and reuse_factor == 1 and io_type == "io_parallel" and not spatial
    return "pipeline" if unrolled else "dataflow"


def stream_chunks(shape: list[int]) -> int:
    """Stream elements of a variable: hls4ml packs its last dimension into one element."""
    return math.prod(shape) // shape[-1]
