"""Vivado HLS / Vitis HLS reports: C synthesis (`*_csynth.xml`, `*csynth.rpt`) and C/RTL cosimulation."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from hwflow.tool_reports.common import Fields, count, cycles, line_index, number, optional_number, pipe_table, \
    read_report, version
from hwflow.tool_reports.hls4ml_reader import hls4ml_csynth

_RESOURCES = ("lut", "ff", "dsp", "bram_18k", "uram")
# hls4ml's CSynthesisReport keys (it renames DSP48E to DSP); "Available" + key for the device.
_HLS4ML_KEYS = {"lut": "LUT", "ff": "FF", "dsp": "DSP", "bram_18k": "BRAM_18K", "uram": "URAM"}
_XML_TAGS = {"TargetClockPeriod": "TargetClockPeriod", "EstimatedClockPeriod": "EstimatedClockPeriod",
             "BestLatency": "Best-caseLatency", "WorstLatency": "Worst-caseLatency",
             "IntervalMin": "Interval-min", "IntervalMax": "Interval-max"}
# Column names of the text reports' resource tables.
_RPT_COLUMNS = {"LUT": "lut", "FF": "ff", "DSP": "dsp", "DSP48E": "dsp", "BRAM_18K": "bram_18k",
                "BRAM": "bram_18k", "URAM": "uram"}


@dataclass
class Resources:
    """FPGA resources; URAM is None when the report has none (parts without UltraRAM)."""

    lut: int | None = None
    ff: int | None = None
    dsp: int | None = None
    bram_18k: int | None = None
    uram: int | None = None


@dataclass
class CsynthReport:
    """C-synthesis estimates. Latency/interval are None when the tool gives `undef`, `?` or `-`."""

    path: Path
    tool: str | None = None  # "Vivado HLS" or "Vitis HLS"
    version: str | None = None
    top: str | None = None
    part: str | None = None
    target_clock_ns: float | None = None
    estimated_clock_ns: float | None = None
    latency_best: int | None = None  # cycles
    latency_worst: int | None = None
    interval_min: int | None = None
    interval_max: int | None = None
    pipeline_type: str | None = None
    used: Resources = field(default_factory=Resources)
    available: Resources = field(default_factory=Resources)


@dataclass
class CosimResult:
    """One RTL language's row of the cosim table; numbers are None where the table says NA."""

    status: str  # "Pass", "Fail" or "NA"
    latency_min: int | None = None
    latency_avg: float | None = None
    latency_max: int | None = None
    interval_min: int | None = None
    interval_avg: float | None = None
    interval_max: int | None = None
    total_execution_time: int | None = None  # cycles; only in the 9-column (Vitis) table


@dataclass
class CosimReport:
    path: Path
    results: dict[str, CosimResult] = field(default_factory=dict)  # by language: "VHDL", "Verilog"

    @property
    def status(self) -> str | None:
        """Overall: Fail if any language failed, else Pass if any passed, else NA; None without rows."""
        statuses = {r.status for r in self.results.values()}
        return next((s for s in ("Fail", "Pass", "NA") if s in statuses), None)


def _tag(text: str, tag: str) -> str | None:
    match = re.search(rf"<{tag}>\s*([^<]*?)\s*</{tag}>", text)
    return match.group(1) if match else None


def _xml_values(text: str) -> dict[str, str]:
    """The dict hls4ml builds, read tag by tag so that a truncated or incomplete file still yields the rest."""
    values = {key: value for key, tag in _XML_TAGS.items() if (value := _tag(text, tag)) is not None}
    for block, prefix in (("Resources", ""), ("AvailableResources", "Available")):
        match = re.search(rf"<{block}>(.*?)(?:</{block}>|\Z)", text, re.S)
        for tag, value in re.findall(r"<(\w+)>\s*([^<]*?)\s*</\1>", match.group(1) if match else ""):
            values[prefix + ("DSP" if tag == "DSP48E" else tag)] = value
    return values


def _csynth_xml(report: CsynthReport, f: Fields) -> None:
    text = f.text
    values = hls4ml_csynth(report.path) or _xml_values(text)
    report.version = f.get("version", _tag(text, "Version"), version)
    report.top = f.get("top", _tag(text, "TopModelName"), str)
    report.part = f.get("part", _tag(text, "Part"), str)
    report.pipeline_type = f.get("pipeline_type", _tag(text, "PipelineType"), str)
    report.target_clock_ns = f.get("target_clock_ns", values.get("TargetClockPeriod"), float)
    report.estimated_clock_ns = f.get("estimated_clock_ns", values.get("EstimatedClockPeriod"), float)
    report.latency_best = f.get("latency_best", values.get("BestLatency"), cycles)
    report.latency_worst = f.get("latency_worst", values.get("WorstLatency"), cycles)
    report.interval_min = f.get("interval_min", values.get("IntervalMin"), cycles)
    report.interval_max = f.get("interval_max", values.get("IntervalMax"), cycles)
    for prefix, target in (("used", report.used), ("available", report.available)):
        key_prefix = "Available" if prefix == "available" else ""
        _resources(f, prefix, {name: values.get(key_prefix + key) for name, key in _HLS4ML_KEYS.items()}, target)


def _resources(f: Fields, prefix: str, cells: dict[str, str], target: Resources) -> None:
    """Fill `target` from {canonical resource name: cell}."""
    for name in _RESOURCES:
        setattr(target, name, f.get(f"{prefix}.{name}", cells.get(name), count, optional=name == "uram"))


def _csynth_rpt(report: CsynthReport, f: Fields) -> None:
    """Full layout (Vivado HLS, Vitis HLS `<top>_csynth.rpt`)."""
    lines = f.text.splitlines()
    timing = _first_body_row(lines, "+ Timing")  # |ap_clk | 5.00 ns | 4.049 ns | 0.62 ns |
    report.target_clock_ns = f.get("target_clock_ns", timing[1] if len(timing) > 2 else None, number)
    report.estimated_clock_ns = f.get("estimated_clock_ns", timing[2] if len(timing) > 2 else None, number)
    # | min | max | [abs min | abs max |] II min | II max | type |
    latency = _first_body_row(lines, "+ Latency")
    ok = len(latency) >= 5
    report.latency_best = f.get("latency_best", latency[0] if ok else None, cycles)
    report.latency_worst = f.get("latency_worst", latency[1] if ok else None, cycles)
    report.interval_min = f.get("interval_min", latency[-3] if ok else None, cycles)
    report.interval_max = f.get("interval_max", latency[-2] if ok else None, cycles)
    report.pipeline_type = f.get("pipeline_type", latency[-1] if ok else None, str)
    start = line_index(lines, "== Utilization Estimates")
    head, body = pipe_table(lines, start) if start is not None else ([], [])
    columns = [_RPT_COLUMNS.get(c) for c in head[-1][1:]] if head else []
    rows = {row[0]: dict(zip(columns, row[1:])) for row in body}
    _resources(f, "used", rows.get("Total", {}), report.used)
    _resources(f, "available", rows.get("Available", {}), report.available)


def _csynth_summary(report: CsynthReport, f: Fields) -> None:
    """Vitis short `csynth.rpt` "Synthesis Summary": one latency and one interval, no clocks or device totals."""
    lines = f.text.splitlines()
    start = line_index(lines, "+ Performance & Resource Estimates")
    head, body = pipe_table(lines, start) if start is not None else ([], [])
    names = [" ".join(filter(None, parts)) for parts in zip(*head)]
    top = dict(zip(names, body[0])) if body else {}
    report.latency_worst = f.get("latency_worst", top.get("Latency (cycles)"), cycles)
    report.interval_max = f.get("interval_max", top.get("Interval"), cycles)
    report.pipeline_type = f.get("pipeline_type", top.get("Pipelined"), str)
    for absent in ("target_clock_ns", "estimated_clock_ns", "latency_best", "interval_min", "available"):
        f.note(absent, "not in the Synthesis Summary layout")
    _resources(f, "used", {_RPT_COLUMNS[k]: v for k, v in top.items() if k in _RPT_COLUMNS}, report.used)


def _first_body_row(lines: list[str], marker: str) -> list[str]:
    start = line_index(lines, marker)
    body = pipe_table(lines, start)[1] if start is not None else []
    return body[0] if body else []


def parse_csynth(path: str | Path) -> CsynthReport | None:
    """Read a Vivado/Vitis HLS C-synthesis report, XML or text; None (with a warning) if unreadable."""
    path, text = read_report(path)
    if text is None:
        return None
    report, f = CsynthReport(path), Fields(path, "csynth", text)
    report.tool = f.get("tool", _tool(text), str)
    if text.lstrip().startswith("<"):
        _csynth_xml(report, f)
    else:
        title = re.search(r"(?:Report for|Summary Report of) '([^']+)'", text)
        report.top = f.get("top", title.group(1) if title else None, str)
        report.version = f.get("version", _line_value(text, "Version"), version)
        report.part = f.get("part", _line_value(text, "Target device"), str)
        (_csynth_summary if "Synthesis Summary Report" in text else _csynth_rpt)(report, f)
    f.done()
    return report


def _tool(text: str) -> str | None:
    """Vitis HLS writes `<FlowTarget>`, `<DSP>` and "(... Flow Target)"; Vivado HLS writes `<DSP48E>`."""
    if re.search(r"<FlowTarget>|<DSP>|== Vitis HLS Report|== Synthesis Summary Report|Flow Target\)", text):
        return "Vitis HLS"
    return "Vivado HLS" if re.search(r"<DSP48E>|== Vivado HLS Report", text) else None


def _line_value(text: str, key: str) -> str | None:
    match = re.search(rf"^\s*\* {key}:\s*(.+)$", text, re.M)
    return match.group(1) if match else None


def parse_cosim(path: str | Path) -> CosimReport | None:
    """Read `<top>_cosim.rpt` (8-column Vivado HLS or 9-column Vitis HLS table)."""
    path, text = read_report(path)
    if text is None:
        return None
    report, f = CosimReport(path), Fields(path, "cosim", text)
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) < 8 or cells[0] not in ("VHDL", "Verilog", "SystemC"):
            continue
        lang = cells[0]
        values = [f.get(f"{lang}.{name}", cell, conv) for name, cell, conv in zip(
            ("latency_min", "latency_avg", "latency_max", "interval_min", "interval_avg", "interval_max"),
            cells[2:8], (cycles, optional_number, cycles) * 2)]
        total = f.get(f"{lang}.total_execution_time", cells[8] if len(cells) > 8 else None, cycles, optional=True)
        report.results[lang] = CosimResult(cells[1], *values, total_execution_time=total)
    if not report.results:
        f.note("results", "no VHDL/Verilog row")
    f.done()
    return report
