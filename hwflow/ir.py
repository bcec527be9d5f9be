"""The SNN intermediate representation: the node base class, the input encoder, what flows between nodes.

Conventions. A spiking activation with T steps carries level k in [0, 2**T - 1] as T binary
planes, most significant first: plane t has weight 2**(T-1-t). A direct (analog) input is one
plane holding the signed integer input level. A synaptic layer integrates its input planes in
Horner form, v <- 2 v + W . s(t), adds its integer bias, and (unless it is the readout) fires T
spikes against threshold * 2**(T-1-t) with subtract reset. Membranes are integers in units of
2**-frac of the ANN's pre-activation value.

Every operation is a Node subclass in its own module of hwflow.ops, which owns its reference
execution (`execute`) and its lowering to a firmware block (`lower`); see CONTRIBUTING.md.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, ClassVar

import numpy as np

from hwflow.errors import HwflowError
from hwflow.quant import Grid

if TYPE_CHECKING:
    from hwflow.hls.block import Cursor
    from hwflow.options import FirmwareOptions
    from hwflow.rtl.block import RtlCursor, RtlStage


@dataclass
class InputEncoder:
    """How samples enter the SNN: levels on `grid`, sent analog (one plane) or as bit planes.

    joins: a model of several inputs joined by a Concatenate on the channels, straight or after layers of their own
    (hwflow.ops.concatenate.input_join):
    for each slot of the concatenation, (the model input's index, its channels); the SNN and its firmware take
    the joined array, and `join` makes it from the model's list of inputs."""

    shape: tuple[int, ...]
    grid: Grid
    encoding: str  # 'direct' | 'bitplane'
    joins: tuple[tuple[int, int], ...] = ()

    @property
    def steps(self) -> int:
        return int(np.log2(self.grid.hi + 1)) if self.encoding == "bitplane" else 1

    def join(self, x) -> np.ndarray:
        """x as the SNN's one input: for joined inputs, the model's inputs (a list, as model.predict takes them)
        concatenated on the channels in the Concatenate's order; an array (or a model of one input) is taken as is."""
        if not self.joins or not isinstance(x, (list, tuple)):
            return np.asarray(x)
        if len(x) != len(self.joins):
            raise HwflowError(f"{len(x)} input arrays given; the model has {len(self.joins)} inputs")
        parts = [np.asarray(x[int(i)]) for i, _ in self.joins]
        sizes = [int(n) for _, n in self.joins]
        if any(p.shape[-1] != n or p.shape[:-1] != parts[0].shape[:-1] for p, n in zip(parts, sizes)):
            raise HwflowError(f"input arrays of shapes {[p.shape for p in parts]} do not join into "
                              f"{self.shape} (the model's inputs, in order, have {sizes} channels)")
        return np.concatenate(parts, axis=-1)


@dataclass
class LayerTrace:
    """What one node did for a batch: output planes, membranes, spike and operation counts."""

    spikes: np.ndarray | None = None  # uint8 [B, T, ...] output planes (IF layers and pools)
    membrane_steps: np.ndarray | None = None  # int64 [B, S, ...] Horner membrane after each input step
    membrane: np.ndarray | None = None  # int64 [B, ...] after integration and bias, before firing
    spike_count: int = 0
    synaptic_ops: int = 0  # accumulates (spiking input) or multiply-accumulates (analog input)


@dataclass
class Signal:
    """What flows from node to node in the reference simulator: spike planes, or (run without a trace)
    the levels they carry -- the same data, which the nodes read as they need it."""

    planes: np.ndarray | None  # [B, S, ...]: spike planes (uint8), or the one plane of analog input levels
    grid: Grid  # the level grid of the planes
    analog: bool  # True while the data is the direct (analog) input
    output: np.ndarray | None = None  # float32 [B, ...] once a readout layer has run (planes is then None)
    levels: np.ndarray | None = None  # [B, ...] the levels of `steps` planes, held instead of planes
    steps: int = 0  # the plane count when `levels` is held

    @property
    def plane_count(self) -> int:
        return self.planes.shape[1] if self.planes is not None else self.steps

    def as_levels(self) -> np.ndarray:
        """[B, ...] the level each value's planes carry (MSB first), or the analog input levels."""
        if self.levels is not None:
            return self.levels
        return self.planes[:, 0] if self.analog else from_planes(self.planes, level_dtype(self.planes.shape[1]))

    def as_planes(self) -> np.ndarray:
        """[B, S, ...] the spike planes (the one analog plane for direct input)."""
        return self.planes if self.planes is not None else to_planes(self.levels, self.steps)

    def spikes(self) -> np.ndarray:
        """[B, ...] spikes per value over all planes (for analog input: its shape only, zeros)."""
        if self.analog:
            return np.zeros(self.as_levels().shape, dtype=np.uint8)
        if self.planes is not None:
            return self.planes.sum(axis=1, dtype=np.uint8 if self.planes.shape[1] < 256 else np.int64)
        return popcount(self.levels)

    def with_data(self, data: np.ndarray, like_levels: bool) -> Signal:
        """The same kind of signal holding other data: levels if like_levels, else planes."""
        if like_levels:
            return Signal(None, self.grid, self.analog, levels=data, steps=self.steps)
        return Signal(data, self.grid, self.analog)


def level_dtype(steps: int) -> type:
    """The smallest unsigned dtype holding levels of `steps` bits."""
    return next(dt for dt in (np.uint8, np.uint16, np.uint32, np.uint64) if steps <= 8 * np.dtype(dt).itemsize)


def to_planes(levels: np.ndarray, steps: int) -> np.ndarray:
    """Unsigned levels to binary planes, most significant first: [B, ...] -> [B, steps, ...] uint8."""
    levels = np.asarray(levels).astype(level_dtype(steps), copy=False)
    out = np.empty((levels.shape[0], steps) + levels.shape[1:], dtype=np.uint8)
    for t in range(steps):
        out[:, t] = (levels >> (steps - 1 - t)) & 1
    return out


def from_planes(planes: np.ndarray, dtype: type = np.int64) -> np.ndarray:
    """Binary planes [B, T, ...] (MSB first) back to integer levels [B, ...], as dtype."""
    steps = planes.shape[1]
    acc = planes[:, 0].astype(level_dtype(steps))
    for t in range(1, steps):
        acc <<= 1
        acc |= planes[:, t]
    return acc.astype(dtype, copy=False)


POPCOUNT8 = np.array([bin(i).count("1") for i in range(256)], dtype=np.uint8)


def popcount(levels: np.ndarray) -> np.ndarray:
    """Set bits of each unsigned level (its spikes), elementwise, as uint8."""
    levels = np.asarray(levels)
    if levels.dtype == np.uint8:
        return POPCOUNT8[levels]
    as_bytes = levels.astype(level_dtype(8 * levels.dtype.itemsize), copy=False).view(np.uint8)
    return POPCOUNT8[as_bytes].reshape(levels.shape + (levels.dtype.itemsize,)).sum(axis=-1, dtype=np.uint8)


INPUT = "snn_input"  # the name a node's `inputs` give the input encoder's output


@dataclass
class Node:
    """Base of the IR nodes: a named operation from in_shape to out_shape (channels last, no batch).

    The nodes of an SNN are listed in an order where every node comes after what it reads (a topological
    order): `inputs` names them (INPUT: the input encoder); left empty, the node reads the node listed
    before it (a chain). Only a node that joins several tensors (hwflow.ops.join) reads more than one."""

    name: str
    in_shape: tuple[int, ...]
    out_shape: tuple[int, ...]
    inputs: tuple[str, ...] = field(default=(), kw_only=True)

    kind: ClassVar[str] = ""  # short name of the operation ('dense', 'maxpool', ...)
    reshapes_only: ClassVar[bool] = False  # True for a pure reshape, which may also follow the readout
    spatial: ClassVar[bool] = False  # reads its input as an image (H, W, C): a convolution or a pool

    @property
    def emits_planes(self) -> bool:
        """True if the node's output is spike planes (or the analog plane passed on), not readout values."""
        return True

    def execute(self, signal: Signal, trace: bool, counts: bool = True) -> tuple[Signal, LayerTrace]:
        """Reference execution on a batch: the output signal and what the node did (its spike and operation
        counts only if `counts`)."""
        raise NotImplementedError(f"{type(self).__name__} has no reference execution")

    def execute_inputs(self, signals: list[Signal], trace: bool, counts: bool = True) -> tuple[Signal, LayerTrace]:
        """Reference execution on what every one of `inputs` outputs (a node of one input: `execute`)."""
        return self.execute(signals[0], trace, counts)

    def lower_inputs(self, cursors: list[Cursor], options: FirmwareOptions) -> tuple[dict, Cursor]:
        """The firmware block on what every one of `inputs` hands on (a node of one input: `lower`)."""
        return self.lower(cursors[0], options)

    def lower(self, cursor: Cursor, options: FirmwareOptions) -> tuple[dict, Cursor]:
        """The hls4ml layer dict of the node's firmware block (for options' strategy) and what flows out of it."""
        raise NotImplementedError(f"{type(self).__name__} has no firmware block")

    def lower_rtl_inputs(self, cursors: list[RtlCursor], lanes: int, architecture: str) -> tuple[RtlStage, RtlCursor]:
        """The RTL stage on what every one of `inputs` hands on (a node of one input: `lower_rtl`)."""
        return self.lower_rtl(cursors[0], lanes, architecture)

    def lower_rtl(self, cursor: RtlCursor, lanes: int, architecture: str) -> tuple[RtlStage, RtlCursor]:
        """The RTL stage of the node (hwflow.rtl) and what flows out of it."""
        raise HwflowError(f"layer '{self.name}' ({self.kind or type(self).__name__}) has no RTL block yet: hwflow.to_rtl "
                          "builds QDense, QConv2D, MaxPooling2D, AveragePooling2D and Flatten; use the HLS firmware "
                          "(hwflow hls) for this model")


def sources(layers: list[Node]) -> list[tuple[str, ...]]:
    """What each node reads, by name (INPUT: the input encoder): its `inputs`, or the node listed before it."""
    return [getattr(layer, "inputs", ()) or ((layers[i - 1].name,) if i else (INPUT,))
            for i, layer in enumerate(layers)]


def is_chain(layers: list[Node]) -> bool:
    """Whether every node reads the node listed before it (no branches or joins)."""
    return all(src == ((layers[i - 1].name,) if i else (INPUT,)) for i, src in enumerate(sources(layers)))


def last_uses(layers: list[Node]) -> dict[str, int]:
    """For every name read, the index of the last node that reads it."""
    return {name: i for i, src in enumerate(sources(layers)) for name in src}
