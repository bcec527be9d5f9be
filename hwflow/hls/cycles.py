"""Cycle model of hwflow's HLS blocks: latency and initiation interval (II) in clock cycles.

The single source of truth for the schedules that the headers in hls_templates/ document (and
hls_templates/CYCLES.md lists). The headers' HWFLOW_CYCLES counters reproduce it in C simulation,
loop iteration by loop iteration, process by process (read by hwflow.hls.trace_compare).

Rules: a PIPELINE II=1 loop of n iterations and depth D takes n + D cycles (n issues, D to
drain); an unrolled arithmetic stage outside a pipeline (Horner shift-add, bias add) 1 cycle;
wiring (copies, reshapes, bit selects, register resets) 0 cycles; sequential loops add up.
Every block call written to the top function is one process (under DATAFLOW, its own stage).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from hwflow.hls.lower import INPUT_NAME, check_options, layer_list, pipeline_style
from hwflow.snn import SNN

STEP_DEPTH = 1  # depth of FireSteps, PoolSteps, ReadChunks, WriteChunks: one stage per iteration

NOTES = {
    "dataflow": "dataflow: every block call is a DATAFLOW process; latency = sum of the process latencies, "
                "II = the largest process latency (successive samples overlap across processes)",
    "pipeline": "pipeline (R = 1, io_parallel): the network is one II = 1 pipeline; the latency is an ESTIMATE, "
                "the cycle count of the same loop schedule at R = 1 (one cycle per adder-tree level, Horner "
                "step and fire step); HLS chains the unrolled logic by delay at the clock period, so "
                "synthesis may report fewer cycles",
}


def pipelined(trips: int, depth: int) -> int:
    """Cycles of a PIPELINE II=1 loop: trips issues, then depth to drain."""
    return trips + depth


def reuse_depth(n_synapses: int, reuse_factor: int, n_psum: int) -> int:
    """D of a synaptic ReuseLoop: 1 stage (spike gate or multiplier) plus the ceil(log2(k + 1))
    adder levels that add the k = n_synapses / lcm(R, n_psum) weights one iteration sends to the same
    partial sum (lane s = ir + R * ib feeds partial sum s % n_psum) into it."""
    k = n_synapses // math.lcm(reuse_factor, n_psum)
    return 1 + k.bit_length()


def synaptic_processes(d: dict) -> dict[str, int]:
    """IFDense / IFConv2D: integration (per pixel: ReuseLoop, then Horner or bias-and-store) and the
    neuron (T fire steps) or the readout (wiring)."""
    conv = d["class_name"] == "IFConv2D"
    r = d["reuse_factor"]
    step = pipelined(r, reuse_depth(d["n_synapses"], r, d["n_filt"] if conv else d["n_out"])) + 1
    pixels = d["out_height"] * d["out_width"] if conv else 1
    integrate = pixels * step if d["analog"] else d["in_steps"] * pixels * step + 1  # + 1: Bias
    if d["readout"]:
        return {"integrate": integrate, "readout": 0}
    return {"integrate": integrate, "fire": pipelined(d["out_steps"], STEP_DEPTH)}


def kernel_processes(d: dict) -> dict[str, int]:
    """The io_parallel processes of one block, in call order, and their cycles."""
    kind = d["class_name"]
    if kind in ("IFDense", "IFConv2D"):
        return synaptic_processes(d)
    if kind == "BitSerialMaxPool":
        return {"pool": pipelined(d["steps"], STEP_DEPTH)}
    return {{"SpikeEncode": "encode", "SpikeDecode": "decode", "SpikeFlatten": "flatten"}[kind]: 0}


def chunks(shape: list[int]) -> int:
    """Stream elements of a variable: hls4ml packs its last dimension into one element."""
    return math.prod(shape) // shape[-1]


@dataclass
class BlockCycles:
    """One firmware block (hls4ml layer): its processes in call order with their cycles."""

    name: str
    kind: str  # hls4ml class: IFDense, IFConv2D, BitSerialMaxPool, SpikeEncode, SpikeDecode, SpikeFlatten
    processes: dict[str, int]
    latency: int
    ii: int


@dataclass
class CycleReport:
    """Per block and network latency / II in clock cycles; `note` says what they mean in this style."""

    style: str  # 'dataflow' | 'pipeline' (see NOTES)
    reuse_factor: int
    io_type: str
    layers: list[BlockCycles]
    latency: int  # cycles from input to output of one sample
    ii: int  # cycles between successive samples

    @property
    def note(self) -> str:
        return NOTES[self.style]

    def summary(self) -> str:
        rows = [f"cycle model ({self.style}, R={self.reuse_factor}, {self.io_type}): latency {self.latency} cycles, "
                f"II {self.ii} cycles",
                f"{'block':<14}{'kind':<18}{'latency':>8}{'II':>7}  processes"]
        rows += [f"{b.name:<14}{b.kind:<18}{b.latency:>8}{b.ii:>7}  "
                 + ", ".join(f"{p} {c}" for p, c in b.processes.items()) for b in self.layers]
        return "\n".join(rows + [self.note])


def cycle_model(snn: SNN, reuse_factor: int = 1, io_type: str = "io_parallel") -> CycleReport:
    """Latency and II of every block of the firmware hwflow.hls.to_hls builds, and of the network."""
    reuse_factor = check_options(io_type, reuse_factor)
    style = pipeline_style(reuse_factor, io_type)
    dicts, _ = layer_list(snn, reuse_factor)
    shapes = {INPUT_NAME: list(dicts[0]["input_shape"])}
    blocks = []
    for d in dicts[1:]:
        processes = kernel_processes(d)
        if io_type == "io_stream":
            processes = {"read": pipelined(chunks(shapes[d["inputs"][0]]), STEP_DEPTH), **processes,
                         "write": pipelined(chunks(d["out_shape"]), STEP_DEPTH)}
        shapes[d["name"]] = list(d["out_shape"])
        ii = 1 if style == "pipeline" else max(1, *processes.values())
        blocks.append(BlockCycles(d["name"], d["class_name"], processes, sum(processes.values()), ii))
    return CycleReport(style, reuse_factor, io_type, blocks, sum(b.latency for b in blocks),
                       max(b.ii for b in blocks))
