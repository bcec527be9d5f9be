"""FirmwareOptions: the one object that carries the firmware settings (CLI, config, flow, sweep, hls)."""
from __future__ import annotations

import dataclasses
import numbers
from dataclasses import dataclass

import numpy as np

from hwflow.defaults import BACKENDS, DEFAULT_BACKEND, DEFAULT_CLOCK_NS, DEFAULT_IO_TYPE, DEFAULT_LANES, \
    DEFAULT_PART, DEFAULT_REUSE_FACTOR, DEFAULT_STRATEGY, IO_TYPES, MAX_LANES, STRATEGIES
from hwflow.errors import HwflowError

# hls4ml's Strategy for each of hwflow's (it configures hls4ml's own layers, e.g. of the ANN baseline):
# 'latency' is hls4ml's fully pipelined style, every loop unrolled at reuse factor 1; the folded and
# event schedules reuse their adders, as hls4ml's 'Resource' strategy reuses its multipliers.
HLS4ML_STRATEGIES = {"latency": "Latency", "folded": "Resource", "event": "Resource"}
SEQUENTIAL = ("folded", "event")  # strategies whose blocks process output pixels and lane groups one after another


@dataclass(frozen=True)
class FirmwareOptions:
    """How the firmware is built: hls4ml backend, io_type, FPGA part, clock (ns), reuse factor, strategy, lanes.

    strategy 'latency' uses the reuse factor R (every synaptic block adds its synapses in R cycles
    per input plane); 'folded' and 'event' use `lanes` (output neurons per cycle, as the RTL twin).

    Checked when made: a bad value is a one-line HwflowError naming the allowed ones. The backend
    is matched case-insensitively and stored as hls4ml spells it ('Vitis', 'Vivado').
    """

    backend: str = DEFAULT_BACKEND
    io_type: str = DEFAULT_IO_TYPE
    part: str = DEFAULT_PART
    clock_period: float = DEFAULT_CLOCK_NS
    reuse_factor: int = DEFAULT_REUSE_FACTOR
    strategy: str = DEFAULT_STRATEGY
    lanes: int = DEFAULT_LANES

    def __post_init__(self) -> None:
        names = {b.lower(): b for b in BACKENDS}
        if str(self.backend).lower() not in names:
            raise HwflowError(f"backend={self.backend!r} is not supported; hwflow.hls targets {', '.join(BACKENDS)}")
        object.__setattr__(self, "backend", names[str(self.backend).lower()])
        if self.io_type not in IO_TYPES:
            raise HwflowError(f"io_type={self.io_type!r} is not supported; use {' or '.join(map(repr, IO_TYPES))}")
        r = self.reuse_factor
        if isinstance(r, bool) or not isinstance(r, (int, np.integer)) or r < 1:
            raise HwflowError(f"reuse_factor={r!r} must be a positive integer")
        object.__setattr__(self, "reuse_factor", int(r))
        if self.strategy not in STRATEGIES:
            raise HwflowError(f"strategy={self.strategy!r} is not supported; use {', '.join(STRATEGIES)}")
        n = self.lanes
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or not 1 <= n <= MAX_LANES:
            raise HwflowError(f"lanes={n!r} must be an integer 1..{MAX_LANES}")
        object.__setattr__(self, "lanes", int(n))
        c = self.clock_period
        if isinstance(c, bool) or not isinstance(c, numbers.Real) or not c > 0:
            raise HwflowError(f"clock_period={c!r} must be a positive number of nanoseconds")
        object.__setattr__(self, "clock_period", float(c))
        if not isinstance(self.part, str) or not self.part:
            raise HwflowError(f"part={self.part!r} must be an FPGA part name such as {DEFAULT_PART}")

    @classmethod
    def fields(cls) -> tuple[str, ...]:
        return tuple(f.name for f in dataclasses.fields(cls))

    @classmethod
    def of(cls, options: FirmwareOptions | None = None, **settings) -> FirmwareOptions:
        """options (or the defaults) with the given settings replaced; unknown names are an error."""
        if options is not None and not isinstance(options, FirmwareOptions):
            raise HwflowError(f"got {options!r} where a FirmwareOptions goes; pass firmware settings by keyword, "
                              "e.g. reuse_factor=4 or backend='Vivado'")
        unknown = sorted(set(settings) - set(cls.fields()))
        if unknown:
            raise HwflowError(f"unknown firmware setting {', '.join(unknown)}; the settings are {', '.join(cls.fields())}")
        return dataclasses.replace(options or cls(), **settings)

    @classmethod
    def from_config(cls, cfg: dict) -> FirmwareOptions:
        """The options of a validated config's hls section."""
        return cls(**{k: cfg["hls"][k] for k in cls.fields()})

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)

    @property
    def sequential(self) -> bool:
        """Whether the blocks follow the RTL twin's folded / event schedule (lanes) rather than R."""
        return self.strategy in SEQUENTIAL

    @property
    def hls4ml_strategy(self) -> str:
        """hls4ml's Strategy setting for this strategy."""
        return HLS4ML_STRATEGIES[self.strategy]
