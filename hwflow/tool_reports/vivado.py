"""Vivado reports: report_utilization, report_timing_summary, report_power."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from hwflow.tool_reports.common import Fields, fixed_width_table, header, line_index, number, optional_number, \
    pipe_table, read_report, version

# report_utilization row labels (7-series "Slice ...", UltraScale+ "CLB ..."; "*" marks synthesis estimates).
_UTIL_ROWS = {"Slice LUTs": "lut", "CLB LUTs": "lut", "Slice Registers": "ff", "CLB Registers": "ff",
              "Block RAM Tile": "bram_tiles", "URAM": "uram", "DSPs": "dsp"}


@dataclass
class Usage:
    used: float  # an int except for half Block RAM tiles (7.5)
    available: float | None = None
    util_pct: float | None = None


@dataclass
class UtilizationReport:
    """report_utilization after synthesis or placement; `uram` is None on parts without UltraRAM."""

    path: Path
    tool_version: str | None = None
    device: str | None = None
    design_state: str | None = None  # "Synthesized", "Optimized", "Fully Placed", ...
    lut: Usage | None = None
    ff: Usage | None = None
    bram_tiles: Usage | None = None  # 36 Kb tiles
    uram: Usage | None = None
    dsp: Usage | None = None
    design: str | None = None  # the top module ("| Design : ..."), when the header names it


@dataclass
class ClockTiming:
    """A clock of the Clock Summary with its intra-clock setup slack (None if it has no setup paths)."""

    name: str
    period_ns: float
    wns_ns: float | None = None

    @property
    def achieved_period_ns(self) -> float | None:
        return None if self.wns_ns is None else self.period_ns - self.wns_ns

    @property
    def fmax_mhz(self) -> float | None:
        achieved = self.achieved_period_ns
        return 1000.0 / achieved if achieved and achieved > 0 else None


@dataclass
class TimingReport:
    """report_timing_summary. `clock` is the clock whose own paths set the design WNS."""

    path: Path
    tool_version: str | None = None
    device: str | None = None
    wns_ns: float | None = None
    tns_ns: float | None = None
    failing_endpoints: int | None = None  # setup (TNS) failing endpoints
    total_endpoints: int | None = None
    whs_ns: float | None = None
    met: bool | None = None
    clocks: list[ClockTiming] = field(default_factory=list)
    clock: ClockTiming | None = None
    design: str | None = None

    @property
    def clock_period_ns(self) -> float | None:
        return self.clock.period_ns if self.clock else None

    @property
    def achieved_period_ns(self) -> float | None:
        """Clock period minus WNS: the period the design would meet."""
        return self.clock.achieved_period_ns if self.clock else None

    @property
    def fmax_mhz(self) -> float | None:
        return self.clock.fmax_mhz if self.clock else None


@dataclass
class PowerRow:
    """A row of "On-Chip Components"; `level` 1 rows break down the level-0 row above them."""

    name: str
    level: int
    power_w: float | None
    less_than: bool = False  # the file shows "<0.001": power_w is an upper bound
    used: float | None = None
    available: float | None = None
    util_pct: float | None = None


@dataclass
class PowerReport:
    path: Path
    tool_version: str | None = None
    device: str | None = None
    design_state: str | None = None
    total_w: float | None = None
    dynamic_w: float | None = None
    static_w: float | None = None
    confidence: str | None = None  # "Low", "Medium", "High"
    on_chip: list[PowerRow] = field(default_factory=list)
    design: str | None = None


def _open(path: str | Path, kind: str) -> Fields | None:
    path, text = read_report(path)
    return None if text is None else Fields(path, kind, text)


def _identity(f: Fields, design_state: bool = True) -> tuple[str | None, ...]:
    """(tool_version, device[, design_state]) from the `| Key : value` header."""
    head = header(f.text)
    found = (f.get("tool_version", head.get("Tool Version"), version), f.get("device", head.get("Device"), str))
    return found + (f.get("design_state", head.get("Design State"), str),) if design_state else found


def _row_value(text: str, label: str) -> str | None:
    """The second cell of the `| label | value |` row."""
    match = re.search(rf"^\|\s*{re.escape(label)}\s*\|\s*([^|]*?)\s*\|", text, re.M)
    return match.group(1) if match else None


def parse_utilization(path: str | Path) -> UtilizationReport | None:
    """Read a Vivado report_utilization file (7-series or UltraScale+, with or without "Prohibited")."""
    f = _open(path, "utilization")
    if f is None:
        return None
    report = UtilizationReport(f.path, *_identity(f), design=header(f.text).get("Design"))
    lines, start, rows = f.text.splitlines(), 0, {}
    while (start := line_index(lines, "Site Type", start)) is not None:  # every Used/Available table
        head_rows, body = pipe_table(lines, max(start - 1, 0))
        start += 1
        columns = head_rows[-1] if head_rows else []
        for row in body if "Used" in columns else []:
            name = _UTIL_ROWS.get(row[0].rstrip("*").strip())
            if name and name not in rows:
                rows[name] = dict(zip(columns, row))
    for name in ("lut", "ff", "bram_tiles", "uram", "dsp"):
        cells = rows.get(name, {})
        used = f.get(name, cells.get("Used"), number, optional=name == "uram")
        if used is not None:
            available = f.get(f"{name}.available", cells.get("Available"), number, optional=True)
            setattr(report, name, Usage(used, available, f.get(f"{name}.util_pct", cells.get("Util%"), number,
                                                               optional=True)))
    f.done()
    return report


def parse_timing(path: str | Path) -> TimingReport | None:
    """Read a Vivado report_timing_summary file."""
    f = _open(path, "timing")
    if f is None:
        return None
    lines = f.text.splitlines()
    report = TimingReport(f.path, *_identity(f, design_state=False), design=header(f.text).get("Design"))
    design = (fixed_width_table(lines, "Design Timing Summary") or [{}])[0]
    report.wns_ns = f.get("wns_ns", design.get("WNS(ns)"), float)
    report.tns_ns = f.get("tns_ns", design.get("TNS(ns)"), float)
    report.failing_endpoints = f.get("failing_endpoints", design.get("TNS Failing Endpoints"), int)
    report.total_endpoints = f.get("total_endpoints", design.get("TNS Total Endpoints"), int)
    report.whs_ns = f.get("whs_ns", design.get("WHS(ns)"), float)
    if "Timing constraints are not met" in f.text:
        report.met = False
    elif "All user specified timing constraints are met" in f.text:
        report.met = True
    elif report.wns_ns is not None and report.whs_ns is not None:
        report.met = report.wns_ns >= 0 and report.whs_ns >= 0
    else:
        f.note("met", "no verdict line and no WNS/WHS")
    intra = {row.get("Clock"): row.get("WNS(ns)") for row in fixed_width_table(lines, "Intra Clock Table")}
    for row in fixed_width_table(lines, "Clock Summary"):
        name = row.get("Clock", "?")
        period = f.get(f"clock {name} period", row.get("Period(ns)"), float)
        if period is not None:
            wns = f.get(f"clock {name} WNS", intra.get(name), float, optional=True)
            report.clocks.append(ClockTiming(name, period, wns))
    worst = [c for c in report.clocks if c.wns_ns is not None and c.wns_ns == report.wns_ns]
    if worst:
        report.clock = worst[0]
    elif not report.clocks:
        f.note("clock", "no Clock Summary")
    elif report.wns_ns is not None:
        f.note("clock", "the worst setup path runs between clocks; see `clocks` for each clock")
    f.done()
    return report


def parse_power(path: str | Path) -> PowerReport | None:
    """Read a Vivado report_power file."""
    f = _open(path, "power")
    if f is None:
        return None
    lines = f.text.splitlines()
    report = PowerReport(f.path, *_identity(f), design=header(f.text).get("Design"))
    report.total_w = f.get("total_w", _row_value(f.text, "Total On-Chip Power (W)"), number)
    report.dynamic_w = f.get("dynamic_w", _row_value(f.text, "Dynamic (W)"), number)
    report.static_w = f.get("static_w", _row_value(f.text, "Device Static (W)"), number)
    report.confidence = f.get("confidence", _row_value(f.text, "Confidence Level"), str)
    start = line_index(lines, "| On-Chip ")
    for row in pipe_table(lines, max(start - 1, 0), strip=False)[1] if start is not None else []:
        name, power, *rest = row + [""] * (5 - len(row))
        label = name.strip()
        value = f.get(f"on_chip {label}", power, number)
        used, available, util = (f.get(f"on_chip {label}", c, optional_number, optional=True) for c in rest[:3])
        level = (len(name) - len(name.lstrip()) - 1) // 2
        report.on_chip.append(PowerRow(label, level, value, power.strip().startswith("<"), used, available, util))
    if not report.on_chip:
        f.note("on_chip", "no On-Chip Components table")
    f.done()
    return report
