"""What an operation declares about its RTL block (pure Python): an instance of a Verilog template.

An op lowers its IR node to an RtlStage (hwflow.ir.Node.lower_rtl): the template module, its
parameters, the memory files its ROMs are initialised from, and its cycle formula, row by row. Stages
run in order: each reads the memory of its source (the stage before it in a chain; a join reads two)
through an asynchronous read port (`in_addr`/`in_data` to the source's `out_addr`/`out_data`); they hand
over with start/done (whole frames) or row by row (line buffers, chains only; hwflow.rtl.generate).
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from hwflow.errors import HwflowError
from hwflow.geometry import Padding, patches

ARCHITECTURES = ("event", "folded", "ann")  # SNN, SNN, and the ANN of the same integer network
BUFFERS = ("frame", "line")  # memories between blocks: whole images, or rings of line buffers
TOP = "hwflow_top"  # the generated top module
FAMILIES = ("xcup", "xc7")  # Yosys synth_xilinx families: UltraScale+, 7-series
MAX_STREAM_BITS = 64  # widest AXI-Stream value the Verilator testbench passes (one 64-bit word)
RTL_SIM_SOURCE = "measured (Verilator RTL simulation)"  # what RTL cycles and outputs are labelled
SYNTH_SOURCE = "open-source synthesis (Yosys synth_xilinx, before place and route)"  # RTL resources
FMAX_SOURCE = "nextpnr-ecp5 place and route (a Lattice ECP5 figure, not a Xilinx one)"  # RTL fmax
NOT_SYNTHESIZED = {"skipped": "not synthesized (rtl.synthesize: false); run hwflow synth RUN_DIR"}
Cycles = Callable[[np.ndarray | None], int]  # the stage's input planes [S, n] of one sample -> cycles
RowCycles = Callable[[np.ndarray | None], np.ndarray]  # the same -> cycles of each output row [rows]


@dataclass
class RtlCursor:
    """What the last stage hands on: analog levels, spike planes, or readout membranes, in words.

    Its memory holds plane t, pixel q, word j (`word` channels) at t * stride + q * wpp + j, channels
    last as Keras (a vector is one pixel of n channels).
    """

    name: str
    kind: str  # 'analog' | 'planes' | 'values'
    shape: tuple[int, int, int]  # (height, width, channels)
    steps: int  # planes (1 for analog, 0 for values)
    word: int  # channels per memory word
    bits: int  # bits of one value (analog level, membrane); 1 for planes

    @property
    def size(self) -> int:
        return math.prod(self.shape)

    @property
    def wpp(self) -> int:
        """Memory words per pixel."""
        return -(-self.shape[2] // self.word)

    @property
    def flat(self) -> bool:
        """Whether word j holds values j*word.. of the flattened (channels-last) tensor."""
        return self.shape[:2] == (1, 1) or self.shape[2] % self.word == 0


def image(shape: tuple[int, ...]) -> tuple[int, int, int]:
    """A node's shape as (height, width, channels): a vector is one pixel, a sequence (L, C) one row."""
    if len(shape) == 1:
        return (1, 1, int(shape[0]))
    if len(shape) == 2:
        return (1, int(shape[0]), int(shape[1]))
    if len(shape) == 3:
        return tuple(int(v) for v in shape)
    raise HwflowError(f"the RTL generator handles vectors and images (H, W, C), not shape {shape}")


@dataclass
class RtlStage:
    """One instance of a Verilog template module in the top.

    A block that works row by row (the encoder, layers, pools) gives `row_cycles`, the cycles of each
    of its output rows; its start -> done is their sum plus 1 (done). The output stage gives `cycles`."""

    name: str
    module: str  # hls_templates/rtl/<module>.v
    params: dict[str, int | str]
    row_cycles: RowCycles | None = None
    memories: dict[str, str] = field(default_factory=dict)  # file name -> $readmemh text
    synaptic: bool = False  # reads the previous stage and may be traced (V and S lines)
    port: tuple[int, int] = (1, 1)  # (address bits, data bits) of its read port (the next stage reads it)
    rows: tuple[int, int] = (1, 1)  # (rows, row width) of its output image
    output_cycles: Cycles | None = None  # the output stage's start -> done
    sources: tuple[str, ...] = ()  # the stages whose memories it reads, in its input order (hwflow.rtl.generate)

    def cycles(self, planes: np.ndarray | None) -> int:
        """Start -> done, given the stage's input planes of the sample (frame buffers: no waits)."""
        if self.row_cycles is None:
            return self.output_cycles(planes)
        return int(np.sum(self.row_cycles(planes))) + 1

    def verilog_params(self) -> str:
        items = [f".{k}({v})" if isinstance(v, VerilogBits) else f'.{k}("{v}")' if isinstance(v, str)
                 else f".{k}({int(v)})" for k, v in self.params.items()]
        return ", ".join(items)


class VerilogBits(str):
    """A sized Verilog literal, written into a parameter as it is (a packed table)."""

    @classmethod
    def packed(cls, values: list[int], bits: int) -> VerilogBits:
        """values[i] (two's complement, `bits` each) at bits i*bits.. of one word, as hex."""
        word = sum((int(v) & ((1 << bits) - 1)) << (i * bits) for i, v in enumerate(values))
        return cls(f"{max(len(values), 1) * bits}'h{word:x}")


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


def word_spikes(planes: np.ndarray, cur: RtlCursor) -> np.ndarray:
    """Spikes per memory word of a sample's planes [S, n] (flat, channels last): [S, H, W, wpp]."""
    h, w, c = cur.shape
    padded = np.zeros((len(planes), h, w, cur.wpp * cur.word), dtype=np.int64)
    padded[..., :c] = planes.reshape(len(planes), h, w, c)
    return padded.reshape(len(planes), h, w, cur.wpp, cur.word).sum(axis=4)


def event_integrate_rows(planes: np.ndarray, cur: RtlCursor, groups: int, kernel: tuple[int, int],
                         strides: tuple[int, int], padding: Padding) -> np.ndarray:
    """Event integration of each output row's windows: per plane, tap and input word, 1 cycle
    without spikes (also for a padded tap), spikes * groups with. int64 [Ho]."""
    cost = np.maximum(1, word_spikes(planes, cur) * groups) - 1  # padding reads as 0 extra
    win = patches(cost, kernel, strides, padding)  # [S, Ho, Wo, kh, kw, wpp]
    return win.sum(axis=(0, 2, 3, 4, 5)) + win[:, 0].size


def vid(stage: RtlStage) -> str:
    """The stage's name as a Verilog identifier."""
    return re.sub(r"\W", "_", stage.name)


def design_sources(modules: set[str]) -> list[str]:
    """The Verilog files of a design: the generated top, then the templates its blocks instantiate."""
    return [f"{TOP}.v"] + sorted(f"{m}.v" for m in modules)


def block_module(stage: RtlStage) -> str:
    """The generated module that wraps the stage's template instance (one per block, for per-block counts)."""
    return f"hwflow_blk_{vid(stage)}"
