"""The design-space sweep: a T x lambda grid as Ray tasks on a local 2-core Ray instance."""
from __future__ import annotations

import json
import socket

import pytest
import ray

from hwflow.errors import HwflowError
from hwflow.outputs import MANIFEST
from hwflow.sweep import parse_grid, sweep

FAST = {"train": {"epochs": 1}, "hls": {"enabled": False}}
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.mark.slow
def test_sweep_grid(tmp_path, capsys) -> None:
    out = tmp_path / "sweep"
    result = sweep("digits_mlp", [2, 1], [0, 1e-3], out, overrides=FAST, num_cpus=2)
    assert not ray.is_initialized()  # the local instance it started is shut down
    assert json.loads((out / "sweep.json").read_text()) == result
    assert result["time_steps"] == [1, 2] and result["lambdas"] == [0.0, 1e-3]
    points = result["points"]
    assert [(p["time_steps"], p["lambda"]) for p in points] == [(1, 0.0), (1, 1e-3), (2, 0.0), (2, 1e-3)]
    for p in points:
        assert p["status"] == "ok" and p["error"] is None
        assert p["mismatches"]["snn_vs_qkeras"] == 0
        assert p["snn_accuracy"] == p["ann_accuracy"] > 0.3
        assert set(p["spikes_per_neuron"]) == {"dense1"} and p["energy_pj"]["snn"] > 0
        report = json.loads((out / p["run_dir"] / "report.json").read_text())
        assert (report["time_steps"], report["lambda"]) == (p["time_steps"], p["lambda"])
        assert (out / p["run_dir"] / "model.h5").is_file()
    assert [p["run_dir"] for p in points] == ["T1_lam0", "T1_lam0.001", "T2_lam0", "T2_lam0.001"]
    for png in ("accuracy_vs_T.png", "sparsity.png"):
        assert (out / png).read_bytes()[:8] == PNG_MAGIC
    table = (out / "sweep.md").read_text()
    assert table.count("\n| ") == 5 and "failed" not in table  # header + 4 points
    printed = capsys.readouterr().out
    assert "T=2 lambda=0.001: accuracy" in printed and "4 ok, 0 failed" in printed
    assert [p.name for p in tmp_path.iterdir()] == ["sweep"]  # no partial folders left behind


@pytest.mark.slow
def test_failed_point_is_reported(tmp_path) -> None:
    # activation_integer must be <= time_steps: the point T=1 fails its validation in the task.
    out = tmp_path / "sweep"
    result = sweep("digits_mlp", [1, 2], [0], out, overrides={**FAST, "activation_integer": 2}, num_cpus=2)
    failed, ok = result["points"]
    assert failed["status"] == "failed" and failed["run_dir"] is None and failed["snn_accuracy"] is None
    assert failed["error"].startswith("HwflowError: activation_integer of digits_mlp at T=1")
    assert "\n" not in failed["error"]
    assert ok["status"] == "ok" and ok["mismatches"]["snn_vs_qkeras"] == 0
    assert failed["error"] in (out / "sweep.md").read_text()
    assert json.loads((out / "sweep.json").read_text())["points"][0]["error"] == failed["error"]
    assert sorted(p.name for p in out.iterdir()) == [MANIFEST, "T2_lam0", "accuracy_vs_T.png", "sparsity.png",
                                                     "sweep.json", "sweep.md"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize("grid, kwargs, message", [
    (([], [0]), {}, "grid is empty"),
    (([1], []), {}, "grid is empty"),
    (([0, 2], [0]), {}, "integers 1..16, got 0"),
    (([17], [0]), {}, "integers 1..16, got 17"),
    (([2], [-1e-6]), {}, "lambda must be a number >= 0"),
    (([2], [0]), {"address": f"127.0.0.1:{free_port()}"}, "no Ray cluster reachable at 127.0.0.1:"),
    (([2], [0]), {"address": "auto", "num_cpus": 2}, "drop it when giving an address"),
])
def test_bad_input(tmp_path, grid, kwargs, message) -> None:
    with pytest.raises(HwflowError, match=message) as err:
        sweep("digits_mlp", *grid, tmp_path / "sweep", overrides=FAST, **kwargs)
    assert "\n" not in str(err.value)
    assert not ray.is_initialized() and list(tmp_path.iterdir()) == []


def test_parse_grid() -> None:
    assert parse_grid("1,2, 4", int) == [1, 2, 4]
    assert parse_grid("0,1e-6", float) == [0.0, 1e-6]
    assert parse_grid("", int) == []
    with pytest.raises(HwflowError, match="'x' is not an integer"):
        parse_grid("1,x", int)
