"""What a user meets at the command line: fast help, honest help texts and widths, exit codes, Ctrl-C."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import tensorflow as tf
from qkeras import QActivation, QDense, quantized_bits

import hwflow
from hwflow.cli import build_parser


def test_help_and_argument_errors_do_not_wait_for_tensorflow() -> None:
    code = ("import sys\nfrom hwflow.cli import main\n"
            "for argv in (['--help'], ['run', '--no-such-flag']):\n"
            "    try:\n        main(argv)\n    except SystemExit as e:\n        print(e.code)\n"
            "print(sorted(m for m in ('tensorflow', 'qkeras', 'hls4ml') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert "usage: hwflow" in out and out.splitlines()[-3:] == ["0", "2", "[]"], out[-500:]


def test_sweep_help_names_its_default_folder() -> None:
    sub = next(a for a in build_parser()._subparsers._group_actions if a.dest == "command")  # argparse's own tree
    assert "runs/NAME_sweep" in sub.choices["sweep"].format_help()
    assert "runs/NAME)" in sub.choices["run"].format_help()


def test_exponent_floats_without_a_dot_are_numbers_in_set_and_in_specs(tmp_path) -> None:
    """The --set help's own example (train.lambda=1e-6) and a spec's `lambda: 1e-7` read as floats, not strings
    (YAML 1.1 wants 1.0e-6)."""
    from hwflow.cli import parse_overrides
    from hwflow.config import load_config
    assert parse_overrides(["train.lambda=1e-6", "x=-2E+3", "y=1e5x"]) == {"train": {"lambda": 1e-6}, "x": -2000.0,
                                                                          "y": "1e5x"}
    spec = (hwflow.package_data.ZOO_DIR / "digits_mlp.yaml").read_text().replace("lambda: 0.0", "lambda: 1e-7")
    assert "lambda: 1e-7" in spec
    (tmp_path / "m.yaml").write_text(spec)
    assert load_config(tmp_path / "m.yaml")["train"]["lambda"] == 1e-7
    assert load_config("digits_mlp", parse_overrides(["train.lambda=1e-6"]))["train"]["lambda"] == 1e-6


def test_summary_counts_two_complement_weight_bits() -> None:
    model = tf.keras.Sequential([tf.keras.Input((4,)), QActivation("quantized_relu(4,0)"),
                                 QDense(2, kernel_quantizer=quantized_bits(8, 7, alpha=1),
                                        bias_quantizer=quantized_bits(8, 7, alpha=1), name="d")])
    model.layers[-1].set_weights([np.array([[-128, 127], [3, -5], [0, 1], [2, 2]], np.float32), np.zeros(2, np.float32)])
    snn = hwflow.convert(model)
    assert snn.synaptic_layers[0].weight_bits == 8  # -128..127 (the membrane grid keeps the weights as they are)
    row = next(line for line in snn.summary().splitlines() if line.startswith("d "))
    assert row.split()[4:6] == ["readout", "8"], row


@pytest.mark.slow
def test_ctrl_c_during_run_is_one_line_exit_130_and_writes_nothing(tmp_path) -> None:
    out = tmp_path / "run"
    proc = subprocess.Popen([sys.executable, "-m", "hwflow.cli", "run", "--set", "train.epochs=200", "--out", str(out)],
                            cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONUNBUFFERED": "1"},
                            # a shell starts background jobs with SIGINT ignored, and Python then keeps it ignored
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    deadline = time.monotonic() + 120
    for line in proc.stdout:  # training prints one line per epoch: interrupt it in the middle
        if line.startswith("Epoch 3/") or time.monotonic() > deadline:
            break
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err[-2000:]
    assert "Traceback" not in err and err.strip().splitlines()[-1] == (
        "hwflow: run interrupted; its outputs were not written (partial ones removed)")
    assert sorted(p.name for p in tmp_path.iterdir()) == []  # no run folder, no partial folder


@pytest.mark.firmware
@pytest.mark.slow
def test_readme_api_snippet_runs_as_written_on_float_data(tmp_path, monkeypatch) -> None:
    from pathlib import Path

    from randmodels import build, dense_arch

    readme = (Path(hwflow.__file__).resolve().parents[1] / "README.md").read_text()
    snippet = readme.split("## Python API")[1].split("```python\n")[1].split("```")[0]
    model = build(dense_arch())
    x_float = np.random.default_rng(0).uniform(-0.3, 2.5, (40, *model.input_shape[1:])).astype(np.float32)
    monkeypatch.chdir(tmp_path)  # it writes prj/ and prj_trace/ where it runs
    ns = {"qkeras_model": model, "x_float": x_float}
    exec(compile(snippet, "README.md", "exec"), ns)  # noqa: S102 - the documented example, as a user runs it
    np.testing.assert_array_equal(ns["y"], model.predict(ns["x"], verbose=0))
    np.testing.assert_array_equal(np.asarray(ns["y_fw"]).reshape(ns["y"].shape), ns["y"])
    assert (tmp_path / "prj" / "tb_data" / "tb_output_predictions.dat").is_file()


def test_bad_firmware_options_fail_before_training(tmp_path, monkeypatch, capsys) -> None:
    import hwflow.train
    from hwflow.cli import main

    def no_training(*args, **kwargs):
        raise AssertionError("training started before the options were checked")

    monkeypatch.setattr(hwflow.train, "train", no_training)
    latency = ["--set", "hls.strategy=latency"]
    assert main(["run", *latency, "--set", "hls.reuse_factor=3", "--out", str(tmp_path / "r")]) == 2
    assert "reuse_factor=3 does not divide" in capsys.readouterr().err
    # the zoo's digits part (a small Artix-7) cannot hold the fully parallel design: refused before training
    assert main(["run", *latency, "--out", str(tmp_path / "r")]) == 2
    err = capsys.readouterr().err
    assert "LUT (estimate; layer 'dense2'" in err and "part xc7a100tcsg324-1 has 63400" in err, err
    assert len(err.strip().splitlines()) == 1
    monkeypatch.setenv("PATH", str(tmp_path))  # no g++
    assert main(["run", "--out", str(tmp_path / "r")]) == 2
    assert "g++ was not found on PATH; the firmware stage" in capsys.readouterr().err
    assert not (tmp_path / "r").exists()


FAST_RUN = ["--set", "train.epochs=1", "--set", "train.float_baseline=false", "--set", "hls.enabled=false",
            "--set", "dataset.limit_test=40", "--set", "rtl.synthesize=false"]


def plant_foreign_files(folder) -> dict:
    """A user's files in an output folder: notes and a Vivado report folder."""
    files = {folder / "notes.txt": "my notes", folder / "vivado_reports" / "util.rpt": "| LUT | 5 |"}
    for path, text in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return files


def survive(files: dict) -> bool:
    return all(path.read_text() == text for path, text in files.items())


@pytest.mark.slow
def test_run_and_train_never_remove_a_file_hwflow_did_not_write(tmp_path, capsys, monkeypatch) -> None:
    from hwflow import flow
    from hwflow.cli import main

    for verb in ("run", "train"):
        out = tmp_path / verb
        files = plant_foreign_files(out)
        assert main([verb, "digits_mlp", *FAST_RUN, "--out", str(out)]) == 2  # refused before any work
        err = capsys.readouterr().err
        assert "holds 2 file(s) hwflow did not write (notes.txt, vivado_reports/util.rpt)" in err and "--force" in err
        assert survive(files) and sorted(p.name for p in out.iterdir()) == ["notes.txt", "vivado_reports"]
        assert main([verb, "digits_mlp", *FAST_RUN, "--out", str(out), "--force"]) == 0  # written around them
        assert survive(files) and (out / "model.h5").is_file() and (out / "config.yaml").is_file()
        assert main([verb, "digits_mlp", *FAST_RUN, "--out", str(out), "--force"]) == 0  # again: its own replaced
        assert survive(files)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run", "train"]  # no partial folders left
    before = (tmp_path / "run" / "report.json").read_text()

    def broken(*args, **kwargs):
        raise RuntimeError("the simulator broke")

    monkeypatch.setattr(flow, "evaluate", broken)  # a run that fails after training
    with pytest.raises(RuntimeError):
        main(["run", "digits_mlp", *FAST_RUN, "--out", str(tmp_path / "run"), "--force"])
    assert (tmp_path / "run" / "report.json").read_text() == before and survive(files)  # the previous results
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run", "train"]


@pytest.mark.firmware
@pytest.mark.slow
def test_hls_never_removes_a_file_hwflow_did_not_write(tmp_path, capsys) -> None:
    from hwflow.cli import main

    run_dir = tmp_path / "run"
    assert main(["train", "digits_mlp", *FAST_RUN, "--out", str(run_dir)]) == 0
    project = tmp_path / "prj"
    files = plant_foreign_files(project)
    assert main(["hls", str(run_dir), "--out", str(project)]) == 2 and survive(files)
    assert "hwflow did not write" in capsys.readouterr().err
    assert main(["hls", str(run_dir), "--out", str(project), "--force"]) == 0
    assert survive(files) and (project / "build_prj.tcl").is_file()


def test_a_run_folder_of_an_older_hwflow_is_refused_before_any_work(tmp_path, capsys) -> None:
    from hwflow.cli import main

    old = tmp_path / "old"
    old.mkdir()
    (old / "model.h5").write_text("a model an older hwflow (no manifest) wrote")
    assert main(["run", "--out", str(old), "--force"]) == 2  # --force never overwrites it
    err = capsys.readouterr().err
    assert "holds model.h5, which hwflow did not write" in err and "move or delete them yourself" in err
    assert (old / "model.h5").read_text().startswith("a model")



def test_an_output_replaces_a_nested_output_it_owns_through_the_run_folder(tmp_path) -> None:
    """`hwflow hls` writes RUN/firmware/snn, then `hwflow csim` writes all of RUN/firmware: the old snn files are
    hwflow's (the run folder's manifest lists snn's), so they go and the new ones take their place; a user's file
    in the old firmware folder is kept."""
    from hwflow.outputs import foreign, output_dir, record

    run = tmp_path / "run"
    run.mkdir()
    record(run, "model.h5")
    with output_dir(run / "firmware" / "snn") as tmp:
        (tmp / "old.cpp").write_text("old")
    (run / "firmware" / "notes.txt").write_text("mine")
    with output_dir(run / "firmware", force=True) as tmp:
        (tmp / "snn").mkdir()
        (tmp / "snn" / "new.cpp").write_text("new")
    assert sorted(p.name for p in (run / "firmware" / "snn").iterdir() if p.name != ".hwflow-outputs.json") == \
        ["new.cpp"]
    assert (run / "firmware" / "notes.txt").read_text() == "mine" and foreign(run / "firmware") == ["notes.txt"]
    assert not [p for p in run.iterdir() if p.name.startswith(".firmware")]
