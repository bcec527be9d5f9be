"""Parsers for the reports of AMD/Xilinx tools: Vivado/Vitis HLS csynth and cosim, Vivado utilization,
timing and power.

Every parser takes a path and returns a dataclass. A field that is missing or unreadable is None and
named in one `ReportWarning` per file; a file that cannot be read gives None and a warning.
"""
from __future__ import annotations

from pathlib import Path
from typing import Union

from hwflow.tool_reports.common import ReportWarning, detect_kind, read_report, warn
from hwflow.tool_reports.hls import CosimReport, CosimResult, CsynthReport, Resources, parse_cosim, parse_csynth
from hwflow.tool_reports.vivado import ClockTiming, PowerReport, PowerRow, TimingReport, Usage, UtilizationReport, \
    parse_power, parse_timing, parse_utilization

Report = Union[CsynthReport, CosimReport, UtilizationReport, TimingReport, PowerReport]
PARSERS = {"csynth": parse_csynth, "cosim": parse_cosim, "utilization": parse_utilization,
           "timing": parse_timing, "power": parse_power}


def parse_any(path: str | Path) -> Report | None:
    """Detect the kind of report from its content and parse it; None (with a warning) if unknown."""
    path, text = read_report(path)
    if text is None:
        return None
    kind = detect_kind(text)
    if kind is None:
        warn(path, "not a recognised csynth, cosim, utilization, timing or power report", stacklevel=3)
        return None
    return PARSERS[kind](path)


__all__ = ["ReportWarning", "parse_any", "parse_csynth", "parse_cosim", "parse_utilization", "parse_timing",
           "parse_power", "detect_kind", "CsynthReport", "Resources", "CosimReport", "CosimResult",
           "UtilizationReport", "Usage", "TimingReport", "ClockTiming", "PowerReport", "PowerRow", "Report",
           "PARSERS"]
