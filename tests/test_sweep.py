"""The design-space sweep: a T x lambda grid as Ray tasks on a local 2-core Ray instance."""
from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
import ray

from hwflow.errors import HwflowError
from hwflow.outputs import MANIFEST
from hwflow.sweep import parse_grid, sweep

FAST = {"train": {"epochs": 1}, "hls": {"enabled": False}, "rtl": {"enabled": False}}
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


# A Ray head as `ray start --head` starts it (token authentication on, since a token exists), in a
# network namespace of its own that has only the loopback interface: the head and everything it
# starts bind to 127.0.0.1 only, and nothing but loopback traffic is possible. The head is stopped
# by signalling its own `ray start --block` process (never `ray stop`, which stops every Ray here).
CLUSTER = r"""
set -u
ip link set lo up
ip -o link | cut -d: -f2 > links.txt
ray get-auth-token --generate > /dev/null
RAY_USAGE_STATS_ENABLED=0 ray start --head --port 6379 --num-cpus 2 --include-dashboard false \
    --temp-dir "$RAY_TMP" --block > head.log 2>&1 &
head=$!
for _ in $(seq 240); do grep -q "Ray runtime started" head.log && break; sleep 0.5; done
grep -q "Ray runtime started" head.log || { kill $head; exit 3; }
HOME="$PWD/elsewhere" hwflow sweep digits_mlp --time-steps 2 --lambda 0 --address 127.0.0.1:6379 \
    --out no_token > no_token.log 2>&1
echo $? > no_token.rc
hwflow sweep digits_mlp --time-steps 1,2 --lambda 0 --set train.epochs=1 --set hls.enabled=false \
    --set rtl.enabled=false --address 127.0.0.1:6379 --out swept > sweep.log 2>&1
echo $? > sweep.rc
kill -TERM $head
wait $head || true  # `ray start --block` exits 1 on a signal
"""


def loopback_namespace() -> list[str]:
    """The command prefix that runs in a new network namespace, or skip where none can be made."""
    if sys.platform != "linux" or shutil.which("unshare") is None or shutil.which("ip") is None:
        pytest.skip("needs Linux with unshare and ip (util-linux, iproute2) for a loopback-only namespace")
    if os.geteuid() != 0:
        pytest.skip("needs root to make a network namespace (unshare --net)")
    return ["unshare", "--net", "--fork"]


@pytest.mark.slow
def test_sweep_on_a_token_authenticated_cluster(tmp_path) -> None:
    bin_dir = Path(sys.executable).parent
    env = {**os.environ, "HOME": str(tmp_path / "home"), "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"}
    for name in ("RAY_AUTH_MODE", "RAY_AUTH_TOKEN", "RAY_AUTH_TOKEN_PATH", "RAY_ADDRESS"):
        env.pop(name, None)
    ray_tmp = Path(tempfile.mkdtemp(prefix="hwray", dir="/tmp"))  # short: Ray's socket paths <= 107 bytes
    try:
        subprocess.run([*loopback_namespace(), "bash", "-c", CLUSTER], cwd=tmp_path, env={**env, "RAY_TMP": str(ray_tmp)},
                       timeout=900, check=True)
        left = subprocess.run(["pgrep", "-f", str(ray_tmp)], capture_output=True, text=True).stdout
    finally:
        shutil.rmtree(ray_tmp, ignore_errors=True)
    assert left == "", f"Ray processes outlived their head: {left}"
    assert (tmp_path / "links.txt").read_text().split() == ["lo"]
    assert (tmp_path / "home" / ".ray" / "auth_token").is_file()
    assert "received SIGTERM" in (tmp_path / "head.log").read_text()  # stopped by its own process
    # Without the token the cluster refuses the driver, and hwflow says where a token goes.
    refused = (tmp_path / "no_token.log").read_text()
    assert (tmp_path / "no_token.rc").read_text().strip() == "2", refused
    assert "cannot start or reach Ray at 127.0.0.1:6379" in refused and "RAY_AUTH_TOKEN_PATH" in refused
    assert "Traceback" not in refused and not (tmp_path / "no_token").exists()
    # With the head's token at ~/.ray/auth_token (Ray's default place) both points run on the cluster.
    assert (tmp_path / "sweep.rc").read_text().strip() == "0", (tmp_path / "sweep.log").read_text()
    points = json.loads((tmp_path / "swept" / "sweep.json").read_text())["points"]
    assert [(p["time_steps"], p["status"]) for p in points] == [(1, "ok"), (2, "ok")]
    assert all(p["mismatches"]["snn_vs_qkeras"] == 0 for p in points)


def test_a_token_path_that_holds_no_token_is_refused(tmp_path, monkeypatch) -> None:
    monkeypatch.delenv("RAY_AUTH_TOKEN", raising=False)
    monkeypatch.delenv("RAY_AUTH_MODE", raising=False)
    monkeypatch.setenv("RAY_AUTH_TOKEN_PATH", str(tmp_path / "missing"))
    with socket.socket() as listener:  # something answers at the address, so only the token is wrong
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        address = f"127.0.0.1:{listener.getsockname()[1]}"
        with pytest.raises(HwflowError, match="RAY_AUTH_TOKEN_PATH=.*missing is not a file holding a token"):
            sweep("digits_mlp", [2], [0], tmp_path / "sweep", overrides=FAST, address=address)
    assert not ray.is_initialized() and "RAY_AUTH_MODE" not in os.environ


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
