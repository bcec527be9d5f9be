"""The command line: train -> convert -> simulate, and run's report.json."""
from __future__ import annotations

import pytest

import json

from hwflow.cli import main
from hwflow.serialize import load_snn
from htmlpage import assert_numbers_equal

pytestmark = [pytest.mark.firmware, pytest.mark.slow]

REQUIRED_KEYS = {"model", "dataset", "time_steps", "samples", "ann_accuracy", "snn_accuracy", "mismatches",
                 "spikes_per_neuron", "energy_pj"}


def test_train_convert_simulate(tmp_path, capsys, monkeypatch) -> None:
    run_dir = tmp_path / "digits"
    assert main(["train", "digits_mlp", "--set", "train.epochs=2", "--set", "dataset.limit_test=150",
                 "--out", str(run_dir)]) == 0
    assert (run_dir / "model.h5").is_file() and (run_dir / "config.yaml").is_file()
    assert main(["convert", str(run_dir), "--encoding", "bitplane"]) == 0
    snn = load_snn(run_dir / "snn.json")
    assert snn.encoder.encoding == "bitplane" and snn.time_steps == [4]
    assert main(["simulate", str(run_dir)]) == 0  # the saved dataset.limit_test holds
    assert json.loads((run_dir / "report.json").read_text())["samples"] == 150
    capsys.readouterr()
    assert main(["simulate", str(run_dir), "--samples", "100"]) == 0
    out = capsys.readouterr().out
    assert "100 test samples" in out and "mismatches SNN vs QKeras: 0" in out
    report = json.loads((run_dir / "report.json").read_text())  # simulate used convert's bit-plane snn.json
    assert report["encoding"] == "bitplane" and report["input_spikes_per_sample"] > 0
    assert report["samples"] == 100 and report["mismatches"] == {"snn_vs_qkeras": 0}

    project = tmp_path / "fw"
    assert main(["hls", str(run_dir), "--out", str(project), "--reuse-factor", "2", "--backend", "Vivado"]) == 0
    assert (project / "build_prj.tcl").is_file() and (project / "tb_data" / "tb_output_predictions.dat").is_file()
    capsys.readouterr()
    assert main(["csim", "--testbench", str(project)]) == 0
    assert "100 samples, 0 mismatches" in capsys.readouterr().out
    (run_dir / "firmware").mkdir()
    (run_dir / "firmware" / "notes.txt").write_text("mine")
    capsys.readouterr()
    assert main(["csim", str(run_dir), "--samples", "60"]) == 2  # a file hwflow did not write: refused at once
    assert "holds 1 file(s) hwflow did not write (notes.txt)" in capsys.readouterr().err
    assert main(["csim", str(run_dir), "--samples", "60", "--force"]) == 0  # RUN_DIR/firmware, into report.json
    out = capsys.readouterr().out
    assert "C simulation of 60 samples: firmware vs QKeras 0, vs hls4ml ANN 0 mismatches" in out and "{" not in out
    assert (run_dir / "firmware" / "notes.txt").read_text() == "mine"  # written around it
    report = json.loads((run_dir / "report.json").read_text())
    assert report["samples"] == 100 and report["mismatches"]["snn_vs_qkeras"] == 0  # simulate's fields stay
    assert report["csim_samples"] == 60
    assert {k: report["mismatches"][k] for k in ("csim_vs_qkeras", "csim_vs_hls4ml_ann", "trace")} == {
        "csim_vs_qkeras": 0, "csim_vs_hls4ml_ann": 0, "trace": None}
    assert report["testbench"]["mismatches"] == 0 and (run_dir / "firmware" / "ann" / "build_prj.tcl").is_file()
    assert main(["report", str(run_dir)]) == 0  # the page after the step-by-step verbs, without 'hwflow run'
    html = (run_dir / "report.html").read_text()
    assert "hwflow report: digits_mlp" in html and assert_numbers_equal(html, report) >= 10
    assert "SNN firmware C-sim vs QKeras (60 samples)" in html
    (run_dir / "firmware" / "snn" / "myproject_prj").mkdir()  # as a Vivado/Vitis build leaves it
    capsys.readouterr()
    assert main(["hls", str(run_dir)]) == 2 and main(["csim", str(run_dir), "--force"]) == 0
    assert "holds 1 file(s) hwflow did not write (myproject_prj)" in capsys.readouterr().err
    assert (run_dir / "firmware" / "snn" / "myproject_prj").is_dir() and (run_dir / "firmware" / "notes.txt").is_file()
    monkeypatch.setenv("PATH", "/usr/bin:/bin")  # no Vivado HLS here
    assert main(["build", str(project), "--synth"]) == 2
    assert "vivado_hls not found on PATH" in capsys.readouterr().err


def test_run_writes_report(tmp_path, capsys) -> None:
    out = tmp_path / "run"
    assert main(["run", "--set", "train.epochs=3", "--set", "time_steps=2", "--set", "hls.testbench_samples=50",
                 "--set", "rtl.samples=100", "--out", str(out)]) == 0
    report = json.loads((out / "report.json").read_text())
    assert REQUIRED_KEYS <= set(report)
    assert report["model"] == "digits_mlp" and report["time_steps"] == 2 and report["samples"] == 360
    assert report["mismatches"]["snn_vs_qkeras"] == 0
    assert report["snn_accuracy"] == report["ann_accuracy"] > 0.5
    assert 0.5 < report["float_accuracy"] <= 1  # the float twin of the same architecture
    assert set(report["spikes_per_neuron"]) == {"dense1"}
    assert report["energy_pj"]["ann"] > 0 and report["energy_pj"]["snn"] > 0
    fw = report["mismatches"]
    assert (fw["csim_vs_qkeras"], fw["csim_vs_hls4ml_ann"], fw["hls4ml_ann_vs_qkeras"]) == (0, 0, 0)
    assert report["testbench"] == {"samples": 50, "mismatches": 0, "returncode": 0}
    assert fw["trace"] is None and report["trace_samples"] == 8
    assert report["latency_cycles"] == sum(b["latency"] for b in report["cycles"]["layers"]) > 0
    assert report["initiation_interval"] >= 1 and report["cycles"]["source"] == "estimate (cycle model)"
    assert (out / report["firmware_dir"] / "firmware" / "myproject.cpp").is_file()
    rtl = report["rtl"]  # the default run includes the RTL twin, simulated and synthesized
    assert (fw["rtl_vs_qkeras"], fw["rtl_trace"], rtl["cycles_vs_formula"]) == (0, None, 0)
    assert rtl["samples"] == 100  # rtl.samples: the first 100 of the 360 test samples
    assert fw["csim_cycles_vs_rtl"] == 0  # the C-simulation counters against Verilator, sample by sample
    assert report["csim_cycles"]["strategy"] == rtl["architecture"] and report["csim_cycles"]["lanes"] == rtl["lanes"]
    ann_estimate = report["hls_ann"]["feasibility"]  # hls4ml's ANN, estimated and checked on the part
    assert ann_estimate["part"] == report["feasibility"]["part"] and 0 < ann_estimate["total"]["DSP"] <= 8 * 2
    assert rtl["cycles"]["source"] == "measured (Verilator RTL simulation)" and rtl["resources"]["LUT"] > 0
    assert rtl["fmax"]["fmax_mhz"] > 0 and rtl["fmax"]["device"].startswith("LFE5U")  # an ECP5 figure
    ann = rtl["ann"]  # and the ANN of the same network from the same generator, beside it
    assert (fw["rtl_ann_vs_qkeras"], ann["cycles_vs_formula"], ann["architecture"]) == (0, 0, "ann")
    assert ann["resources"]["LUT"] > 0 and (out / "rtl" / "ann" / "hwflow_top.v").is_file()
    printed = capsys.readouterr().out
    assert "mismatches SNN vs QKeras: 0" in printed and "RTL ANN of the same network" in printed
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]
    html = (out / "report.html").read_text()
    assert "hwflow report: digits_mlp" in html and "data:image/png;base64," in html
    assert str(out) in html  # the final run folder, not the temporary one it was built in
    assert assert_numbers_equal(html, report) >= 20  # the default run's page shows report.json's numbers
    (out / "report.html").unlink()
    assert main(["report", str(out)]) == 0 and (out / "report.html").is_file() and (out / "report.md").is_file()  # no partial folders left behind
