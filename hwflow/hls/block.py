"""What an operation declares about its firmware block (pure Python: no hls4ml import).

An op module (hwflow.ops.*) lowers its IR node to an hls4ml layer dict and declares one HlsBlock
per firmware block: the hls4ml layer class, its attribute table (the layer-dict keys that become
hls4ml attributes *and* constants of the C++ config struct), the config struct's other constants,
the call lines written to the top function, and the cycle formula of its processes.
hwflow.hls.blocks turns every declared HlsBlock into an hls4ml layer class and templates.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

from hwflow.errors import HwflowError
from hwflow.numerics import signed_bits, unsigned_bits
from hwflow.options import FirmwareOptions
from hwflow.quant import Grid
from hwflow.rtl.block import RtlCursor, clog2

SPIKE_SPEC = ("int", 1, False)  # one bit of one spike plane: ap_uint<1>
NAMESPACE = "hwflow"  # C++ namespace of hwflow's blocks and config structs (hls4ml's is nnet)


def grid_spec(grid: Grid) -> tuple:
    """The ap_fixed / ap_ufixed type whose raw bits are the grid's integer level."""
    width = signed_bits(grid.lo, grid.hi) if grid.signed else unsigned_bits(grid.hi)
    return ("fixed", width, width - grid.frac, grid.signed)


def spec_cpp(spec: tuple) -> str:
    """('int', width, signed) | ('fixed', width, integer, signed) as the C++ type."""
    if spec[0] == "int":
        return f"ap_{'' if spec[2] else 'u'}int<{spec[1]}>"
    return f"ap_{'' if spec[3] else 'u'}fixed<{spec[1]},{spec[2]}>"


@dataclass
class Cursor:
    """What flows out of the last lowered block."""

    name: str
    kind: str  # 'analog' (input values) | 'planes' (spikes [steps][...]) | 'values' (readout)
    shape: tuple[int, ...]  # per plane, channels last
    steps: int
    spec: tuple
    grid: Grid | None = None  # level grid of the planes (spiking output)
    rtl: RtlCursor | None = None  # folded / event strategies: the same data as the RTL twin sees it


@dataclass
class CallArgs:
    """The names a block's call lines use: its config struct, input and output types and arrays."""

    config: str
    in_t: str
    x: str
    out_t: str
    y: str
    others: tuple[tuple[str, str], ...] = ()  # a block of several inputs (a join): the further inputs' (type, array)


Chunks = list[tuple[list[str], str]]  # call lines, each group followed by the process it completes


@dataclass(frozen=True)
class HlsBlock:
    """One firmware block as hls4ml sees it (see the module docstring)."""

    class_name: str  # hls4ml layer class, registered by hwflow.hls.blocks
    struct: str  # the C++ config struct its configN derives from, in namespace hwflow
    headers: tuple[str, ...]  # hls_templates/ headers its call needs
    params: dict[str, type]  # attribute table: layer-dict key -> value type (int or bool)
    constants: Callable[[dict], dict[str, int]]  # the config struct's constants, from the attributes
    call: Callable[[Any, CallArgs], Chunks]  # (hls4ml node, names) -> call lines per process
    cycles: Callable[[dict], dict[str, int]]  # io_parallel processes in call order -> cycles
    synaptic: bool = False  # carries weights, bias and the membrane / neuron types
    types: tuple[str, ...] = field(default=())  # named types typedef'd in the config struct
    # io_stream through a line buffer (a dict with `line_buffer` set): the call on the streams themselves
    stream_call: Callable[[Any, CallArgs], Chunks] | None = None


def simple_call(function: str, process: str) -> Callable[[Any, CallArgs], Chunks]:
    """The call of a block that is one function hwflow::function<in_t, out_t, config>(x, y)."""
    def call(node, a: CallArgs) -> Chunks:
        return [([f"{NAMESPACE}::{function}<{a.in_t}, {a.out_t}, {a.config}>({a.x}, {a.y});"], process)]
    return call


def line_buffer_slots(k_h: int, k_w: int, in_w: int) -> int:
    """Pixels a line buffer holds (hwflow_spike_stream.h): (k_h - 1) rows of in_w plus k_w, rounded up
    to a power of two (a pixel's slot is then the low bits of its raster index)."""
    return 1 << clog2((k_h - 1) * in_w + k_w)


def pool_line_slots(d: dict) -> int:
    """The line buffer of a pool block (layer dict d): its window's rows, one more when it upsamples rows
    (output rows up_height apart re-read the same input rows), hwflow_bitserial_pool.h."""
    return line_buffer_slots(d["pool_height"] + (d.get("up_height", 1) > 1), d["pool_width"], d["in_width"])


def streams_pixels(cur: Cursor, options: FirmwareOptions) -> bool:
    """Whether a window block (convolution, pool) of the folded / event strategies reads its input
    through a line buffer: io_stream, and the input is an image or a sequence (not a vector after a Flatten)."""
    return options.io_type == "io_stream" and len(cur.shape) in (2, 3)


def divisors(n: int) -> list[int]:
    return [d for d in range(1, n + 1) if n % d == 0]


def check_reuse(name: str, kind: str, n_synapses: int, reuse_factor: int, per: str = "") -> None:
    """HwflowError unless the reuse factor divides the synapses (`per`: ' per output pixel' for conv)."""
    if n_synapses % reuse_factor:
        divs = divisors(n_synapses)
        hint = ", ".join(str(d) for d in divs[:8]) + (", ..." if len(divs) > 8 else "")
        raise HwflowError(f"reuse_factor={reuse_factor} does not divide the {n_synapses} synapses{per} of layer "
                          f"'{name}' ({kind}); use a divisor of {n_synapses} ({hint})")
