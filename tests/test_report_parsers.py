"""Report parsers: exact numbers from real AMD/Xilinx reports, and warnings (not exceptions) for bad input."""
from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any, Callable

import pytest

from hwflow.tool_reports import (CosimReport, CsynthReport, PowerReport, ReportWarning, Resources, TimingReport, Usage,
                            UtilizationReport, parse_any, parse_cosim, parse_csynth, parse_power, parse_timing,
                            parse_utilization)
from hwflow.tool_reports.hls import _xml_values
from hwflow.tool_reports.hls4ml_reader import hls4ml_csynth

ROOT = next(p for p in Path(__file__).resolve().parents if (p / "pyproject.toml").exists())
OURS = ROOT / "tests" / "fixtures" / "reports"
SHARED = ROOT.parent / "shared" / "fixtures" / "reports"
no_shared = pytest.mark.skipif(not SHARED.is_dir(), reason=f"shared report fixtures not found at {SHARED}")

HLS4ML_XML = OURS / "fastmachinelearning__hls4ml__myproject_csynth.xml"
HLS4ML_RPT = OURS / "fastmachinelearning__hls4ml__myproject_csynth.rpt"
HLS4ML_UTIL = OURS / "fastmachinelearning__hls4ml__vivado_synth.rpt"
QR_UTIL = OURS / "msubhia__FPGA-QRCode-Reader__post_place_util.rpt"
QR_POWER = OURS / "msubhia__FPGA-QRCode-Reader__post_route_power.rpt"


def parse(parser: Callable[[Path], Any], path: Path) -> tuple[Any, list[str]]:
    """The parser's result and the ReportWarning messages it gave."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        report = parser(path)
    return report, [str(w.message) for w in caught if issubclass(w.category, ReportWarning)]


def attr(obj: Any, dotted: str) -> Any:
    """obj.a.b, where a part can also be a dict key (results.Verilog) or a list index (on_chip.1)."""
    for part in dotted.split("."):
        obj = obj[int(part)] if part.isdigit() else obj[part] if isinstance(obj, dict) else getattr(obj, part)
    return obj


# ---------------------------------------------------------------- (a) the fixtures copied into this repository

@pytest.mark.parametrize("path", [HLS4ML_XML, HLS4ML_RPT], ids=["xml", "rpt"])
def test_hls4ml_csynth_numbers(path: Path) -> None:
    report, warned = parse(parse_csynth, path)
    assert warned == []
    assert (report.tool, report.version, report.top, report.part) == ("Vivado HLS", "2020.1", "myproject",
                                                                      "xc7z020-clg400-1")
    assert (report.target_clock_ns, report.estimated_clock_ns) == (5.0, 4.049)
    assert (report.latency_best, report.latency_worst, report.interval_min, report.interval_max) == (10, 10, 8, 8)
    assert report.pipeline_type == "dataflow"
    assert report.used == Resources(lut=2532, ff=7969, dsp=73, bram_18k=0, uram=0)
    assert report.available == Resources(lut=53200, ff=106400, dsp=220, bram_18k=280, uram=0)


def test_csynth_xml_goes_through_hls4ml_and_the_lenient_reader_agrees() -> None:
    values = hls4ml_csynth(HLS4ML_XML)
    assert values is not None and values["DSP"] == "73" and values["WorstLatency"] == "10"
    assert _xml_values(HLS4ML_XML.read_text()) == values


def test_hls4ml_vivado_synth_numbers() -> None:
    report, warned = parse(parse_utilization, HLS4ML_UTIL)
    assert warned == []
    assert (report.tool_version, report.device, report.design_state) == ("2020.1", "7z020clg400-1", "Synthesized")
    assert report.lut == Usage(1526, 53200, 2.87)
    assert report.ff == Usage(2428, 106400, 2.28)
    assert report.bram_tiles == Usage(0, 140, 0.0)
    assert report.dsp == Usage(66, 220, 30.0)
    assert report.uram is None  # Zynq-7000 has no UltraRAM


def test_qrcode_placed_utilization_with_prohibited_column() -> None:
    report, warned = parse(parse_utilization, QR_UTIL)
    assert warned == []
    assert (report.tool_version, report.device, report.design_state) == ("2023.1", "xc7s50csga324-1", "Fully Placed")
    assert report.lut == Usage(12857, 32600, 39.44)
    assert report.ff == Usage(5002, 65200, 7.67)
    assert report.bram_tiles == Usage(16, 75, 21.33)  # section 3 in placed reports: hls4ml misses it
    assert report.dsp == Usage(25, 120, 20.83)


def test_qrcode_power() -> None:
    report, warned = parse(parse_power, QR_POWER)
    assert warned == []
    assert (report.tool_version, report.device, report.design_state) == ("2023.1", "xc7s50csga324-1", "routed")
    assert (report.total_w, report.dynamic_w, report.static_w, report.confidence) == (0.464, 0.390, 0.073, "Low")
    top = [row.name for row in report.on_chip if row.level == 0]
    assert top == ["Clocks", "Slice Logic", "Signals", "Block RAM", "MMCM", "DSPs", "I/O", "Static Power", "Total"]
    rows = {row.name: row for row in report.on_chip}
    assert (rows["LUT as Logic"].level, rows["LUT as Logic"].power_w, rows["LUT as Logic"].used,
            rows["LUT as Logic"].available, rows["LUT as Logic"].util_pct) == (1, 0.037, 12852, 32600, 39.42)
    assert (rows["Register"].power_w, rows["Register"].less_than) == (0.001, True)
    assert (rows["Clocks"].used, rows["Clocks"].available) == (6, None)  # "---"
    dynamic = sum(r.power_w for r in report.on_chip if r.level == 0 and r.name not in ("Static Power", "Total"))
    assert dynamic == pytest.approx(report.dynamic_w, abs=1e-9)
    assert rows["Total"].power_w == report.total_w


@pytest.mark.parametrize("path, kind", [(HLS4ML_XML, CsynthReport), (HLS4ML_RPT, CsynthReport),
                                        (HLS4ML_UTIL, UtilizationReport), (QR_UTIL, UtilizationReport),
                                        (QR_POWER, PowerReport)])
def test_parse_any_detects_the_kind(path: Path, kind: type) -> None:
    assert isinstance(parse(parse_any, path)[0], kind)


# ---------------------------------------------------------------- (b) every shared fixture, numbers from its SOURCES.md

CSYNTH_HLS4ML = {"tool": "Vivado HLS", "version": "2020.1", "part": "xc7z020-clg400-1", "target_clock_ns": 5.0,
                 "estimated_clock_ns": 4.049, "latency_worst": 10, "interval_max": 8, "pipeline_type": "dataflow",
                 "used": Resources(2532, 7969, 73, 0, 0)}
CSYNTH_TAUS = {"tool": "Vivado HLS", "version": "2018.2", "part": "xc7vx690tffg1927-2", "target_clock_ns": 4.12,
               "estimated_clock_ns": 3.582, "latency_best": 21, "latency_worst": 21, "interval_min": 1,
               "interval_max": 1, "pipeline_type": "function", "used": Resources(2070828, 1105961, 1, 0, None),
               "available.uram": None}
CSYNTH_SEAN = {"tool": "Vitis HLS", "version": "2024.1", "part": "xcu250-figd2104-2L-e", "target_clock_ns": 5.0,
               "estimated_clock_ns": 3.530, "latency_worst": 395, "interval_max": 390, "pipeline_type": "dataflow",
               "used": Resources(17966, 7123, 467, 29, 0)}
CSYNTH_DIV = {"tool": "Vitis HLS", "version": "2022.1", "top": "division_hls", "part": "xc7z020-clg484-1",
              "target_clock_ns": 10.0, "latency_best": 15, "latency_worst": 15, "interval_max": 16, "used.ff": 16,
              "used.lut": 81}

# file -> (expected attribute values, fields the ReportWarning must name; no warning when empty)
EXPECTED: dict[str, tuple[dict[str, Any], tuple[str, ...]]] = {
    "vivado_hls_csynth/fastmachinelearning__hls4ml__myproject_csynth.xml": (CSYNTH_HLS4ML, ()),
    "vivado_hls_csynth/fastmachinelearning__hls4ml__myproject_csynth.rpt": (CSYNTH_HLS4ML, ()),
    "vivado_hls_csynth/skkwan__hls_taus__myproject_csynth.xml": (CSYNTH_TAUS, ()),
    "vivado_hls_csynth/skkwan__hls_taus__myproject_csynth.rpt": (CSYNTH_TAUS, ()),
    "vivado_hls_csynth/YanLunHuang__conv2d_test__myproject_csynth.xml": (
        {"version": "2019.2", "part": "xczu9eg-ffvb1156-2-e", "target_clock_ns": 5.0, "estimated_clock_ns": 3.770,
         "latency_best": 243, "latency_worst": 2293, "interval_min": 227, "interval_max": 2277,
         "used": Resources(8722, 4187, 8, 4, 0)}, ()),
    "vivado_hls_csynth/ChiRuiChen__AutoEncoder_hls4ml__myproject_csynth.xml": (
        {"version": "2019.2.1", "target_clock_ns": 5.0, "estimated_clock_ns": 4.429, "latency_worst": 96165,
         "interval_max": 95949, "used": Resources(33365, 51414, 118, 285, 0), "available.bram_18k": 280}, ()),
    "vivado_hls_csynth/tony2278__Xilinx-Vivado-HLS__hls_sobel_csynth.xml": (
        {"tool": "Vivado HLS", "version": "2018.3", "part": "xa7a12tcsg325-1q", "target_clock_ns": 10.0,
         "estimated_clock_ns": 8.144, "latency_worst": 2089114, "interval_max": 2089113, "pipeline_type": "dataflow",
         "used": Resources(4546, 1680, 0, 9, None)}, ()),
    "vitis_hls_csynth/hashi0203__Vitis_HLS_Gaussian__gaussian_csynth.xml": (
        {"tool": "Vitis HLS", "version": "2020.2", "part": "xczu7ev-ffvc1156-2-e", "target_clock_ns": 10.0,
         "estimated_clock_ns": 6.427, "latency_worst": 262673, "interval_max": 262674, "pipeline_type": "none",
         "used": Resources(1870, 973, 0, 3, 0)}, ()),
    "vitis_hls_csynth/hashi0203__Vitis_HLS_Gaussian__csynth.rpt": (
        {"tool": "Vitis HLS", "version": "2020.2", "top": "gaussian", "part": "xczu7ev-ffvc1156-2-e",
         "latency_worst": 262673, "interval_max": 262674, "target_clock_ns": None,
         "used": Resources(1870, 973, 0, 3, 0)},
        ("target_clock_ns", "estimated_clock_ns", "latency_best", "interval_min", "available")),
    "vitis_hls_csynth/agustinsilva447__hls_div__csynth.xml": (CSYNTH_DIV, ()),
    "vitis_hls_csynth/agustinsilva447__hls_div__division_hls_csynth.xml": (CSYNTH_DIV, ()),
    "vitis_hls_csynth/SpAllen0726__HG-DREAM-Pulse-Detection-Project__myproject_csynth.xml": (
        {"version": "2023.1", "part": "xczu49dr-ffvf1760-2-e", "target_clock_ns": 5.0, "estimated_clock_ns": 3.649,
         "latency_worst": 695, "interval_max": 578, "used": Resources(339116, 65881, 29, 332, 0)}, ()),
    "vitis_hls_csynth/xiongxiongz__hls_cluster_nms__nms_csynth.xml": (
        {"version": "2023.2", "target_clock_ns": 10.0, "estimated_clock_ns": 7.300, "latency_best": None,
         "latency_worst": None, "interval_min": None, "interval_max": None,
         "used": Resources(19329, 8709, 27, 38, 0)}, ()),
    "vitis_hls_csynth/seanlipps__ECE226_CoDesign__myproject_csynth.xml": (CSYNTH_SEAN, ()),
    "vitis_hls_csynth/seanlipps__ECE226_CoDesign__myproject_csynth.rpt": (CSYNTH_SEAN, ()),
    "cosim/YanLunHuang__conv2d_test__myproject_cosim.rpt": (
        {"status": "Pass", "results.VHDL.status": "NA", "results.Verilog.status": "Pass",
         "results.Verilog.latency_min": 965, "results.Verilog.latency_avg": 965, "results.Verilog.latency_max": 965,
         "results.Verilog.interval_min": None, "results.Verilog.total_execution_time": None}, ()),
    "cosim/SpAllen0726__HG-DREAM-Pulse-Detection-Project__myproject_cosim.rpt": (
        {"status": "Fail", "results.Verilog.status": "Fail", "results.Verilog.latency_max": None,
         "results.VHDL.status": "NA"}, ()),
    "cosim/xiongxiongz__hls_cluster_nms__nms_cosim.rpt": (
        {"status": "Pass", "results.Verilog.latency_min": 66215, "results.Verilog.latency_avg": 66215,
         "results.Verilog.latency_max": 66215, "results.Verilog.interval_max": None,
         "results.Verilog.total_execution_time": 66215}, ()),
    "vivado_utilization/fastmachinelearning__hls4ml__vivado_synth.rpt": (
        {"tool_version": "2020.1", "device": "7z020clg400-1", "design_state": "Synthesized", "lut.used": 1526,
         "ff.used": 2428, "bram_tiles.used": 0, "dsp.used": 66, "uram": None}, ()),
    "vivado_utilization/fastmachinelearning__hls4ml-tutorial__pruned_cnn_vivado_synth.rpt": (
        {"tool_version": "2020.1", "device": "xcu250figd2104-2L", "design_state": "Synthesized",
         "lut.used": 123948, "ff.used": 43435, "bram_tiles.used": 42, "uram.used": 0, "dsp.used": 5386}, ()),
    "vivado_utilization/seanlipps__ECE226_CoDesign__vivado_synth.rpt": (
        {"tool_version": "2024.1", "device": "xcu250-figd2104-2L-e", "design_state": "Optimized", "lut.used": 8565,
         "ff.used": 4864, "bram_tiles.used": 12, "uram.used": 0, "dsp.used": 467}, ()),
    "vivado_utilization/nycu-pcs-lab__LFADs-model-template__vivado_synth.rpt": (
        {"tool_version": "2022.2", "device": "xcu50-fsvh2104-2L-e", "lut.used": 179437, "ff.used": 227971,
         "bram_tiles.used": 251, "uram.used": 0, "dsp.used": 2058}, ()),
    "vivado_utilization/qxynju2017__Zedboard-OV7725-HDMI__design_1_wrapper_utilization_placed.rpt": (
        {"tool_version": "2018.2", "device": "7z020clg484-1", "design_state": "Fully Placed", "lut.used": 5544,
         "ff.used": 8333, "bram_tiles.used": 7.5, "dsp.used": 6}, ()),
    "vivado_utilization/Azther0z__basys3-ov7670__top_utilization_synth.rpt": (
        {"tool_version": "2025.2", "device": "xc7a35tcpg236-1", "lut.used": 211, "ff.used": 193,
         "bram_tiles": Usage(36, 50, 72.0), "dsp.used": 0}, ()),
    "vivado_utilization/msubhia__FPGA-QRCode-Reader__post_place_util.rpt": (
        {"lut": Usage(12857, 32600, 39.44), "ff.used": 5002, "bram_tiles.used": 16, "dsp.used": 25}, ()),
    "vivado_timing/MKChou__pynq_test__design_1_wrapper_timing_summary_routed.rpt": (
        {"tool_version": "2020.2", "device": "7z020-clg400", "wns_ns": 13.199, "tns_ns": 0.0,
         "failing_endpoints": 0, "total_endpoints": 1446, "whs_ns": 0.040, "met": True, "clock_period_ns": 20.0,
         "achieved_period_ns": 6.801, "fmax_mhz": 1000 / 6.801}, ()),
    "vivado_timing/pepeseus__Bit-Blender__post_route_timing_summary_failing.rpt": (
        {"tool_version": "2024.1", "device": "7s50-csga324", "wns_ns": -6.604, "tns_ns": -74.900,
         "failing_endpoints": 14, "total_endpoints": 1885, "whs_ns": 0.116, "met": False, "clock": None},
        ("clock",)),  # the worst path crosses clock domains: no single achieved clock
    "vivado_power/seanlipps__ECE226_CoDesign__vivado_power.rpt": (
        {"total_w": 3.566, "dynamic_w": 0.610, "static_w": 2.956, "confidence": "Low", "on_chip.1.name": "CLB Logic"},
        ()),
    "vivado_power/qxynju2017__Zedboard-OV7725-HDMI__design_1_wrapper_power_routed.rpt": (
        {"total_w": 1.864, "dynamic_w": 1.717, "static_w": 0.147, "on_chip.15.name": "PS7"}, ()),
    "vivado_power/msubhia__FPGA-QRCode-Reader__post_route_power.rpt": (
        {"total_w": 0.464, "dynamic_w": 0.390, "static_w": 0.073, "device": "xc7s50csga324-1"}, ()),
}
KINDS = {"vivado_hls_csynth": CsynthReport, "vitis_hls_csynth": CsynthReport, "cosim": CosimReport,
         "vivado_utilization": UtilizationReport, "vivado_timing": TimingReport, "vivado_power": PowerReport}


@no_shared
@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_shared_fixture(name: str) -> None:
    expected, missing = EXPECTED[name]
    report, warned = parse(parse_any, SHARED / name)
    assert isinstance(report, KINDS[name.split("/")[0]])
    for key, value in expected.items():
        got = attr(report, key)
        assert got == (pytest.approx(value) if isinstance(value, float) else value), key
    if missing:
        assert len(warned) == 1 and name.split("/")[1] in warned[0]
        assert all(field in warned[0] for field in missing), warned
    else:
        assert warned == []


@no_shared
def test_every_shared_fixture_is_checked() -> None:
    on_disk = {str(p.relative_to(SHARED)) for p in SHARED.glob("*/*")}
    assert on_disk == set(EXPECTED)


@no_shared
@pytest.mark.parametrize("name", sorted(n for n in EXPECTED if n.endswith(".xml")))
def test_lenient_xml_reader_agrees_with_hls4ml(name: str) -> None:
    path = SHARED / name
    assert _xml_values(path.read_text()) == hls4ml_csynth(path)


# ---------------------------------------------------------------- (c) malformed input: warnings, never exceptions

def test_truncated_xml_keeps_what_is_there(tmp_path: Path) -> None:
    text = HLS4ML_XML.read_text()
    path = tmp_path / "myproject_csynth.xml"
    path.write_text(text[: text.index("<AvailableResources>") + 40])
    assert hls4ml_csynth(path) is None  # hls4ml raises on it; hwflow reads on
    report, warned = parse(parse_csynth, path)
    assert isinstance(report, CsynthReport)
    assert (report.latency_worst, report.interval_max, report.used.dsp) == (10, 8, 73)
    assert report.available.lut is None
    assert len(warned) == 1 and str(path) in warned[0] and "available.lut" in warned[0]


def test_missing_and_bad_xml_elements(tmp_path: Path) -> None:
    text = HLS4ML_XML.read_text().replace("<Worst-caseLatency>10</Worst-caseLatency>", "")
    path = tmp_path / "bad_csynth.xml"
    path.write_text(text.replace("<LUT>2532</LUT>", "<LUT>lots</LUT>"))
    report, warned = parse(parse_csynth, path)
    assert (report.latency_best, report.latency_worst, report.used.lut, report.used.ff) == (10, None, None, 7969)
    assert "latency_worst" in warned[0] and "used.lut (bad value 'lots')" in warned[0]


@pytest.mark.parametrize("parser, kind", [(parse_csynth, CsynthReport), (parse_cosim, CosimReport),
                                          (parse_utilization, UtilizationReport), (parse_timing, TimingReport),
                                          (parse_power, PowerReport)])
def test_empty_file(tmp_path: Path, parser: Callable[[Path], Any], kind: type) -> None:
    path = tmp_path / "empty.rpt"
    path.write_text("")
    report, warned = parse(parser, path)
    assert isinstance(report, kind)
    assert len(warned) == 1 and str(path) in warned[0] and "the file is empty" in warned[0]


@pytest.mark.parametrize("parser, path, field, other", [
    (parse_csynth, HLS4ML_UTIL, "latency_best", "utilization"),
    (parse_utilization, QR_POWER, "lut", "power"),
    (parse_power, HLS4ML_RPT, "total_w", "csynth"),
    (parse_timing, QR_UTIL, "wns_ns", "utilization"),
    (parse_cosim, HLS4ML_XML, "results", "csynth"),
])
def test_report_of_another_kind(parser: Callable[[Path], Any], path: Path, field: str, other: str) -> None:
    report, warned = parse(parser, path)
    assert report is not None
    assert len(warned) == 1 and str(path) in warned[0] and field in warned[0]
    assert f"looks like a {other} report" in warned[0]


def test_truncated_cosim(tmp_path: Path) -> None:
    path = tmp_path / "top_cosim.rpt"
    path.write_text("Report time       : Wed Jul  6 19:05:29 CST 2022.\n+----------+\n|          |\n")
    report, warned = parse(parse_cosim, path)
    assert report.results == {} and report.status is None
    assert "results" in warned[0]


@pytest.mark.parametrize("parser", [parse_csynth, parse_cosim, parse_utilization, parse_timing, parse_power,
                                    parse_any])
def test_missing_file(tmp_path: Path, parser: Callable[[Path], Any]) -> None:
    path = tmp_path / "nope.rpt"
    report, warned = parse(parser, path)
    assert report is None and len(warned) == 1 and str(path) in warned[0]


def test_parse_any_unknown_content(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("hello\n")
    report, warned = parse(parse_any, path)
    assert report is None and "not a recognised" in warned[0]
