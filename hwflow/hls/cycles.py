"""Cycle model of hwflow's HLS blocks: latency and initiation interval (II) in clock cycles.

Each block's formula is declared by its op (HlsBlock.cycles, hwflow.ops) from the counting rules
of hwflow.hls.schedule; hls_templates/CYCLES.md lists them. The headers' HWFLOW_CYCLES counters
count the same cycles in C simulation, loop iteration by loop iteration, process by process (read
by hwflow.hls.trace_compare): a check of the C++ loops against these formulas, not of the
hardware (which no tool here synthesizes).
"""
from __future__ import annotations

from dataclasses import dataclass

from hwflow.hls.lower import layer_list, style_of
from hwflow.hls.schedule import STEP_DEPTH, pipelined, stream_chunks
from hwflow.ops import HLS_BLOCKS
from hwflow.ops.encoder import INPUT_NAME
from hwflow.options import FirmwareOptions
from hwflow.snn import SNN

SEQUENTIAL_NOTE = ("{strategy} ({lanes} lanes): the blocks follow the RTL twin's schedule; a block's latency here is "
                   "{what}; hwflow.hls.measure_cycles counts the cycles of each sample in C simulation")
NOTES = {
    "dataflow": "dataflow: every block call is a DATAFLOW process; latency = sum of the process latencies (an upper "
                "bound where branches run side by side), II = the largest process latency (successive samples "
                "overlap across processes)",
    "pipeline": "pipeline (R = 1, io_parallel): the network is one II = 1 pipeline; the latency is an ESTIMATE, "
                "the cycle count of the same loop schedule at R = 1 (one cycle per adder-tree level, Horner "
                "step and fire step); HLS chains the unrolled logic by delay at the clock period, so "
                "synthesis may report fewer cycles",
}


@dataclass
class BlockCycles:
    """One firmware block (hls4ml layer): its processes in call order with their cycles."""

    name: str
    kind: str  # hls4ml class, e.g. HwflowIFDense
    processes: dict[str, int]
    latency: int
    ii: int


@dataclass
class CycleReport:
    """Per block and network latency / II in clock cycles; `note` says what they mean in this style."""

    style: str  # 'dataflow' | 'pipeline' (see NOTES)
    strategy: str
    lanes: int
    reuse_factor: int
    io_type: str
    layers: list[BlockCycles]
    latency: int  # cycles from input to output of one sample
    ii: int  # cycles between successive samples

    @property
    def note(self) -> str:
        if self.strategy == "latency":
            return NOTES[self.style]
        what = "exact" if self.strategy == "folded" else "its worst case (every input spike 1; it follows the spikes)"
        return NOTES[self.style] + "; " + SEQUENTIAL_NOTE.format(strategy=self.strategy, lanes=self.lanes, what=what)

    @property
    def stream_cycles(self) -> int:
        """Cycles of the io_stream adapters (read and write of every block): what the C simulation
        counts besides the blocks' own schedule."""
        return sum(c for b in self.layers for p, c in b.processes.items() if p in ("read", "write"))

    def summary(self) -> str:
        knob = f"{self.lanes} lanes" if self.strategy != "latency" else f"R={self.reuse_factor}"
        rows = [f"cycle model ({self.strategy}, {self.style}, {knob}, {self.io_type}): latency {self.latency} cycles, "
                f"II {self.ii} cycles",
                f"{'block':<14}{'kind':<24}{'latency':>8}{'II':>7}  processes"]
        rows += [f"{b.name:<14}{b.kind:<24}{b.latency:>8}{b.ii:>7}  "
                 + ", ".join(f"{p} {c}" for p, c in b.processes.items()) for b in self.layers]
        return "\n".join(rows + [self.note])


def cycle_model(snn: SNN, options: FirmwareOptions | None = None, **settings) -> CycleReport:
    """Latency and II of every block of the firmware hwflow.hls.to_hls builds with these options, and of
    the network (settings: any FirmwareOptions field by keyword, e.g. reuse_factor=4, io_type='io_stream')."""
    opts = FirmwareOptions.of(options, **settings)
    style = style_of(snn, opts)
    dicts, _ = layer_list(snn, opts)
    shapes = {INPUT_NAME: list(dicts[0]["input_shape"])}
    blocks = []
    for d in dicts[1:]:
        processes = HLS_BLOCKS[d["class_name"]].cycles(d)
        if opts.io_type == "io_stream":
            read = sum(pipelined(stream_chunks(shapes[name]), STEP_DEPTH) for name in d["inputs"])  # a join: both
            processes = {"read": read, **processes,
                         "write": pipelined(stream_chunks(d["out_shape"]), STEP_DEPTH)}
        shapes[d["name"]] = list(d["out_shape"])
        ii = 1 if style == "pipeline" else max(1, *processes.values())
        blocks.append(BlockCycles(d["name"], d["class_name"], processes, sum(processes.values()), ii))
    return CycleReport(style, opts.strategy, opts.lanes, opts.reuse_factor, opts.io_type, blocks,
                       sum(b.latency for b in blocks),
                       max(b.ii for b in blocks))
