"""What an operation declares about its RTL block (pure Python): an instance of a Verilog template.

An op lowers its IR node to an RtlStage (hwflow.ir.Node.lower_rtl): the template module, its
parameters, the memory files its ROMs are initialised from, and its cycle formula. Stages are
chained in order: each reads the memory of the one before it through an asynchronous read port
(`in_addr`/`in_data` to the previous stage's `out_addr`/`out_data`), and hands over with
start/done (a stage starts in the cycle the one before it is done).
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

ARCHITECTURES = ("event", "folded", "ann")  # SNN, SNN, and the ANN of the same integer network
TOP = "hwflow_top"  # the generated top module
FAMILIES = ("xcup", "xc7")  # Yosys synth_xilinx families: UltraScale+, 7-series
MAX_LANES = 64  # wider lane groups make the per-lane memories and muxes larger than the design
MAX_STREAM_BITS = 64  # widest AXI-Stream value the Verilator testbench passes (one 64-bit word)
RTL_SIM_SOURCE = "measured (Verilator RTL simulation)"  # what RTL cycles and outputs are labelled
SYNTH_SOURCE = "open-source synthesis (Yosys synth_xilinx, before place and route)"  # RTL resources
FMAX_SOURCE = "nextpnr-ecp5 place and route (a Lattice ECP5 figure, not a Xilinx one)"  # RTL fmax
Cycles = Callable[[np.ndarray | None], int]  # the stage's input planes [S, n] of one sample -> cycles


@dataclass
class RtlCursor:
    """What the last stage hands on: analog levels, spike planes in words, or readout membranes."""

    name: str
    kind: str  # 'analog' | 'planes' | 'values'
    size: int  # values per plane
    steps: int  # planes (1 for analog, 0 for values)
    word: int  # bits per memory word (planes); values per word (values)
    bits: int  # bits of one value (analog level, membrane); 1 for planes


@dataclass
class RtlStage:
    """One instance of a Verilog template module in the top."""

    name: str
    module: str  # hls_templates/rtl/<module>.v
    params: dict[str, int | str]
    cycles: Cycles  # start -> done, given the stage's input planes of the sample
    memories: dict[str, str] = field(default_factory=dict)  # file name -> $readmemh text
    synaptic: bool = False  # reads the previous stage and may be traced (V and S lines)
    port: tuple[int, int] = (1, 1)  # (address bits, data bits) of its read port (the next stage reads it)

    def verilog_params(self) -> str:
        items = [f".{k}({v!r})" if isinstance(v, str) else f".{k}({int(v)})" for k, v in self.params.items()]
        return ", ".join(items).replace("'", '"')


def clog2(n: int) -> int:
    """Verilog's $clog2: ceil(log2(n)), 0 for n <= 1."""
    return max(int(n) - 1, 0).bit_length()


def tdata_bits(bits: int) -> int:
    """AXI-Stream tdata is a whole number of bytes."""
    return 8 * math.ceil(max(bits, 1) / 8)


def readmemh(rows: np.ndarray, bits: int) -> str:
    """Rows [R, lanes] of signed integers as $readmemh text: one word per row, lane 0 least significant."""
    rows = np.asarray(rows, dtype=object)
    mask = (1 << bits) - 1
    digits = math.ceil(rows.shape[1] * bits / 4)
    lines = []
    for row in rows:
        word = 0
        for lane, value in enumerate(row):
            word |= (int(value) & mask) << (lane * bits)
        lines.append(f"{word:0{digits}x}")
    return "\n".join(lines) + "\n"


def lane_groups(values: np.ndarray, lanes: int) -> np.ndarray:
    """[..., n] -> [..., G, lanes], zero-padded to G = ceil(n / lanes) groups."""
    n = values.shape[-1]
    groups = math.ceil(n / lanes)
    padded = np.zeros(values.shape[:-1] + (groups * lanes,), dtype=object)
    padded[..., :n] = values
    return padded.reshape(values.shape[:-1] + (groups, lanes))


def event_integrate_cycles(planes: np.ndarray, word: int, groups: int) -> int:
    """Event integration: per plane and input word, 1 cycle without spikes, spikes * groups with."""
    s, n = planes.shape
    padded = np.zeros((s, math.ceil(n / word) * word), dtype=np.int64)
    padded[:, :n] = planes
    counts = padded.reshape(s, -1, word).sum(axis=2)
    return int(np.maximum(1, counts * groups).sum())


def vid(stage: RtlStage) -> str:
    """The stage's name as a Verilog identifier."""
    return re.sub(r"\W", "_", stage.name)


def design_sources(modules: set[str]) -> list[str]:
    """The Verilog files of a design: the generated top, then the templates its blocks instantiate."""
    return [f"{TOP}.v"] + sorted(f"{m}.v" for m in modules)


def block_module(stage: RtlStage) -> str:
    """The generated module that wraps the stage's template instance (one per block, for per-block counts)."""
    return f"hwflow_blk_{vid(stage)}"
