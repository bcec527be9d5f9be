"""Feasibility of a firmware configuration, checked before any file is written (and by `hwflow run`
before training): what Vivado/Vitis HLS accept, and whether the estimated resources fit the part.

Tool limits (the first one a block breaks is a one-line HwflowError naming the block, the limit and
what to change):
- complete partitioning of at most MAX_PARTITION elements per array (hls4ml's `maximum_size`);
- ARRAY_RESHAPE words of at most MAX_WORD_BITS bits (the latency strategy reshapes a synaptic
  block's weights into words of n_synapses / R weights).
Buffers: the bits of activations each block keeps (`buffer_bits`): its output array (io_parallel);
with io_stream its input and output frame arrays (frame adapters), or its line buffer of
(k_h - 1) rows plus k_w pixels (rounded up to a power of two) and one output pixel (the folded and
event strategies' convolutions and pools; hls_templates/hwflow_spike_stream.h).
Resources: a per-block estimate (`estimate`, an ESTIMATE, not a tool report) against the part's
LUT / FF / DSP / BRAM18 (PARTS; a part not listed is not checked, and the report says so). The
constants are calibrated on Yosys synth_xilinx counts of the RTL twin (benchmarks/calibrate.py,
reports/BENCHMARKS.md "Feasibility estimate").
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from hwflow.errors import HwflowError
from hwflow.hls.block import grid_spec, line_buffer_slots, pool_line_slots
from hwflow.options import FirmwareOptions

MAX_PARTITION = 4096  # elements: hls4ml's maximum_size for complete partitioning
MAX_WORD_BITS = 65_536  # bits: the widest word Vivado / Vitis HLS reshape an array into
BRAM18_BITS = 18_432
LUTRAM_ROWS = 64  # ROMs up to this depth go to LUTs, deeper ones to block RAM
BRAM_WIDTH = 36  # bits per BRAM18 port at depth 512

# Least squares on the Yosys counts of 16 RTL-twin designs (benchmarks/calibrate.py, 2026-11; digits_mlp,
# mnist_mlp, mnist_cnn, event and folded, 8 lanes): LUTs per bit of a lane adder and per bit of a
# firing lane (membrane width; the fit folds the ROM read muxes, address counters and the spike
# memories' LUTRAM ports in), flip-flops per such bit and per block. Multipliers (analog input) are
# DSPs. Error on those designs: LUT mean 7 %, worst +21 %; FF mean 5 %, worst +11 %. Out of sample, on
# the 8 designs of reports/hls_strategies.json (models retrained 2026-12-02): LUT mean 5 %, worst -11 %;
# FF mean 5 %, worst -7 %.
# The latency strategy's adders are counted with the same constants: an extrapolation.
LUT_PER_BIT = 6.0
FF_PER_BIT = 0.4
FF_PER_BLOCK = 170
# hls4ml's ANN (estimate_ann): LUTs and flip-flops per accumulator bit of its multipliers (multipliers
# x accumulator width), least squares on the Yosys counts of the RTL twin's folded ANN (hwflow_if_layer.v
# with ANN=1: `lanes` multipliers per layer) of mnist_mlp and mnist_cnn at lambda 0 and 1e-4, 8 lanes
# (benchmarks/calibrate.py on reports/hls_strategies.json, 2026-12-02; FF after FF_PER_BLOCK per block).
# Error on those 4 designs (in sample): reports/BENCHMARKS.md, "HLS strategies".
ANN_LUT_PER_BIT = 6.56
ANN_FF_PER_BIT = 0.30


@dataclass(frozen=True)
class Resources:
    LUT: int = 0
    FF: int = 0
    DSP: int = 0
    BRAM: int = 0  # 18 Kb units

    def __add__(self, other: Resources) -> Resources:
        return Resources(*(getattr(self, k) + getattr(other, k) for k in KEYS))


KEYS = ("LUT", "FF", "DSP", "BRAM")

# Device resources by part-name prefix (Xilinx product tables; BRAM in 18 Kb units).
PARTS = {
    "xcu250": Resources(1_728_000, 3_456_000, 12_288, 5_376),
    "xcvu9p": Resources(1_182_240, 2_364_480, 6_840, 4_320),
    "xczu9eg": Resources(274_080, 548_160, 2_520, 1_824),
    "xczu7ev": Resources(230_400, 460_800, 1_728, 624),
    "xczu3eg": Resources(70_560, 141_120, 360, 432),
    "xc7z020": Resources(53_200, 106_400, 220, 280),
    "xc7a100t": Resources(63_400, 126_800, 240, 270),
    "xc7a35t": Resources(20_800, 41_600, 90, 100),
}


@dataclass
class Feasibility:
    """The estimate of a configuration: per block and in total, and the part's resources (if known)."""

    part: str
    device: Resources | None
    blocks: dict[str, Resources]
    total: Resources
    buffers: dict[str, int] | None  # bits of activations each block keeps (buffer_bits); None: not estimated
    source: str = "estimate (hwflow.hls.feasibility, calibrated on Yosys counts of the RTL twin)"

    def as_dict(self) -> dict:
        d = dict(part=self.part, source=self.source, total=vars(self.total),
                 device=vars(self.device) if self.device else "not in hwflow's part table: not checked",
                 blocks={k: vars(v) for k, v in self.blocks.items()})
        if self.buffers is not None:
            d.update(buffer_bits=self.buffers, buffer_bits_total=sum(self.buffers.values()))
        return d


@dataclass(frozen=True)
class MacLayer:
    """A multiply-accumulate layer as estimate_ann sees it: `multipliers` products per cycle, its weights
    in a ROM of `rom_words` words of multipliers weights (hls4ml at reuse factor R: n_in * n_out / R
    multipliers, R words)."""

    name: str
    multipliers: int
    rom_words: int
    acc_bits: int  # its accumulator (the SNN layer's membrane width: the same integer sum)
    weight_bits: int


def device_of(part: str) -> Resources | None:
    return next((r for prefix, r in PARTS.items() if part.lower().startswith(prefix)), None)


def rom_brams(rows: int, bits: int) -> int:
    """BRAM18s of a ROM of `rows` words of `bits` (shallow ROMs go to LUTs)."""
    if rows <= LUTRAM_ROWS:
        return 0
    return math.ceil(bits / BRAM_WIDTH) * math.ceil(rows / 512)


def memory_brams(bits: int) -> int:
    """BRAM18s of a spike or value memory of `bits` between blocks (small ones go to registers)."""
    return 0 if bits <= BRAM18_BITS // 4 else math.ceil(bits / BRAM18_BITS)


def fail(d: dict, what: str, fix: str) -> HwflowError:
    return HwflowError(f"layer '{d['name']}' ({d['class_name']}): {what}; {fix}")


def check_limits(d: dict, options: FirmwareOptions, fixes: str) -> None:
    """The HLS tool limits of one block's arrays (see the module docstring)."""
    size = math.prod(d["out_shape"])
    complete = not d.get("partition_factor")
    if complete and size > MAX_PARTITION:
        where = "stream buffer" if options.io_type == "io_stream" else "output array"
        raise fail(d, f"its {where} of {size} elements would be partitioned completely, over the "
                      f"{MAX_PARTITION} Vivado/Vitis HLS accept", fixes)
    if "weight_data" in d and complete:
        block = d["n_synapses"] // d["reuse_factor"]
        bits = block * d["weight_bits"]
        if bits > MAX_WORD_BITS:
            need = next(r for r in range(d["reuse_factor"], d["n_synapses"] + 1)
                        if d["n_synapses"] % r == 0 and d["n_synapses"] // r * d["weight_bits"] <= MAX_WORD_BITS)
            raise fail(d, f"at reuse_factor={d['reuse_factor']} its weights are reshaped into {bits}-bit words, over "
                          f"the {MAX_WORD_BITS} Vivado/Vitis HLS accept",
                       f"use reuse_factor >= {need} (a divisor of {d['n_synapses']}), or {fixes[4:]}")


def value_bits(d: dict) -> int:
    """Bits of the activation a block dict outputs."""
    return math.prod(d["out_shape"]) * d["out_precision"][1]


def buffer_bits(d: dict, in_bits: int, options: FirmwareOptions) -> int:
    """Bits of activations the block keeps (see the module docstring); in_bits: its inputs' bits (a join's: both)."""
    if options.io_type != "io_stream":
        return value_bits(d)
    if not d.get("line_buffer"):
        return in_bits + value_bits(d)
    if "weight_data" in d:  # HwflowIFLayer: S planes (or one of levels) of c_in per pixel; T planes or values out
        line = line_buffer_slots(d["k_h"], d["k_w"], d["in_w"]) * d["in_steps"] * d["c_in"]
        line *= d["level_bits"] if d["analog"] else 1
        return line + d["n_out"] * (d["out_steps"] or d["readout_width"])
    line = pool_line_slots(d) * d["steps"] * d["n_chan"]
    return line + d["steps"] * d["n_chan"]


def estimate(d: dict, options: FirmwareOptions, pipeline: bool, buffer: int) -> Resources:
    """The block's resources (an estimate; see the module docstring and its constants); buffer: its
    buffer_bits."""
    if "weight_data" not in d:  # encode, flatten, decode, pools: gates, counters and memories
        return Resources(FF=FF_PER_BLOCK, BRAM=memory_brams(buffer) if d.get("partition_factor") else 0)
    v, firing = d["membrane_bits"], bool(d["out_steps"])
    if d.get("partition_factor"):  # lane schedule: `lanes` adders (or multipliers) of the membrane width
        lanes = d["lanes"]
        bits = lanes * v * (1 + firing)
        rows = len(d["weight_data"]) // lanes
        return Resources(LUT=round(bits * LUT_PER_BIT), FF=round(bits * FF_PER_BIT + FF_PER_BLOCK),
                         DSP=lanes if d["analog"] else 0,
                         BRAM=rom_brams(rows, lanes * d["weight_bits"]) + memory_brams(buffer))
    # latency: n_synapses / R gated adders (multipliers for analog input) per output pixel, the
    # membranes' Horner adders, and T (pipeline style) or 1 compare-subtract per membrane
    block = d["n_synapses"] // d["reuse_factor"]
    membranes = math.prod(d["out_shape"]) // max(d["out_steps"], 1)
    copies = max(d["out_steps"], 1) if pipeline else 1
    bits = (0 if d["analog"] else block * d["psum_bits"]) + membranes * v * (1 + copies * firing)
    rom = rom_brams(d["reuse_factor"], block * d["weight_bits"]) if d["reuse_factor"] > 1 else 0
    return Resources(LUT=round(bits * LUT_PER_BIT), FF=round(membranes * v * (copies + 1) * FF_PER_BIT + FF_PER_BLOCK),
                     DSP=block if d["analog"] else 0, BRAM=rom)


def check(snn, options: FirmwareOptions, dicts: list[dict], style: str) -> Feasibility:
    """Check the firmware of `snn` with these options (its layer dicts, hwflow.hls.lower.layer_list,
    and PipelineStyle) against the HLS tool limits and the part: a one-line HwflowError on the first
    thing that cannot be built; returns the estimate (hwflow.hls.lower.feasible does it all)."""
    in_bits = math.prod(snn.encoder.shape) * grid_spec(snn.encoder.grid)[1]
    if options.io_type == "io_parallel" and math.prod(snn.encoder.shape) > MAX_PARTITION:
        raise HwflowError(f"the input port of {math.prod(snn.encoder.shape)} values would be partitioned completely, "
                          f"over the {MAX_PARTITION} Vivado/Vitis HLS accept; use io_type io_stream")
    if options.io_type == "io_parallel" and in_bits > MAX_WORD_BITS:
        raise HwflowError(f"the input port ({math.prod(snn.encoder.shape)} values) is reshaped into one {in_bits}-bit "
                          f"word, over the {MAX_WORD_BITS} Vivado/Vitis HLS accept; use io_type io_stream")
    pipeline = style == "pipeline"
    fixes = ("use strategy 'folded' or 'event' (lane-wide memories, nothing partitioned completely)"
             if not options.sequential else "use fewer lanes")
    blocks, buffers, bits = {}, {}, {dicts[0]["name"]: in_bits}
    for d in dicts[1:]:
        check_limits(d, options, fixes)
        buffers[d["name"]] = buffer_bits(d, sum(bits[name] for name in d["inputs"]), options)
        bits[d["name"]] = value_bits(d)
        blocks[d["name"]] = estimate(d, options, pipeline, buffers[d["name"]])
    hint = "use strategy 'event' or 'folded'" if not options.sequential else "use fewer lanes"
    return fit_part(blocks, options.part, "the firmware", f"{hint}, a larger reuse_factor, or a bigger part", buffers)


def estimate_ann(layers: list[MacLayer], part: str, other_blocks: tuple[str, ...] = ()) -> Feasibility:
    """An ANN of these multiply-accumulate layers (hls4ml's at its reuse factors, or the RTL twin's
    folded ANN it is calibrated on) against the part (a one-line HwflowError if it does not fit): per
    layer its multipliers (DSPs) with their accumulators (LUT, FF, FF_PER_BLOCK per layer) and its
    weight ROM; FF_PER_BLOCK for each of `other_blocks` (pools, flatten). Activation buffers are not
    estimated."""
    blocks = {name: Resources(FF=FF_PER_BLOCK) for name in other_blocks}
    for m in layers:
        bits = m.multipliers * m.acc_bits
        blocks[m.name] = Resources(LUT=round(bits * ANN_LUT_PER_BIT), FF=round(bits * ANN_FF_PER_BIT + FF_PER_BLOCK),
                                   DSP=m.multipliers, BRAM=rom_brams(m.rom_words, m.multipliers * m.weight_bits))
    return fit_part(blocks, part, "hls4ml's ANN", "use fewer lanes, a larger reuse_factor, or a bigger part", None,
                    "estimate (hwflow.hls.feasibility.estimate_ann, calibrated on Yosys counts of the RTL "
                    "twin's folded ANN)")


def fit_part(blocks: dict[str, Resources], part: str, what: str, fix: str, buffers: dict[str, int] | None,
             source: str = Feasibility.source) -> Feasibility:
    """The estimate of these blocks, or a one-line HwflowError naming the first resource the part lacks."""
    total = sum(blocks.values(), Resources())
    device = device_of(part)
    if device:
        for k in KEYS:
            need, have = getattr(total, k), getattr(device, k)
            if need > have:
                worst = max(blocks, key=lambda b: getattr(blocks[b], k))
                raise HwflowError(f"{what} needs about {need} {k} (estimate; layer '{worst}' "
                                  f"{getattr(blocks[worst], k)}) but part {part} has {have}; {fix}")
    return Feasibility(part, device, blocks, total, buffers, source)
