"""hwflow.hls.build runs hls4ml's build_prj.tcl with hls4ml's own command, and reads the reports.

No Vivado/Vitis here: fake tools first on PATH record their argv, cwd and build_opt.tcl and write
a real csynth report fixture where Vivado/Vitis HLS put it. hls4ml's backend build() is run
against the same fakes, so the commands are compared with hls4ml's code, not a copy of it.
"""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

import hwflow
import hwflow.hls
from hwflow.errors import HwflowError
from randmodels import Arch, build

FIXTURES = Path(__file__).parent / "fixtures" / "reports"
FAKE_TOOL = """#!{python}
import json, os, shutil, sys
from pathlib import Path
opts = Path("build_opt.tcl")
with open({record!r}, "a") as f:
    f.write(json.dumps(dict(argv=sys.argv[1:], cwd=os.getcwd(), opts=opts.read_text() if opts.exists() else None))
            + "\\n")
report = Path("myproject_prj/solution1/syn/report")
report.mkdir(parents=True, exist_ok=True)
shutil.copyfile({fixture!r}, report / "myproject_csynth.xml")
Path("myproject_prj/hls.app").write_text('<project><solutions><solution name="solution1"/></solutions></project>')
sys.exit({status})
"""


def written_project(path: Path, backend: str) -> Path:
    arch = Arch(seed=5, hw=4, channels=1, input_bits=4, input_integer=1, convs=[], denses=[(8, 4, 1)],
                weight_bits=4, weight_integer=1, bias_bits=5, bias_integer=2, out_units=6, readout=False)
    hwflow.hls.to_hls(hwflow.convert(build(arch)), path, backend=backend).write()
    return path


@pytest.fixture
def fake_tools(tmp_path, monkeypatch):
    """Put fake tools on PATH; returns a function reading what each recorded call saw."""
    bin_dir, record = tmp_path / "bin", tmp_path / "calls.jsonl"
    bin_dir.mkdir()
    fixture = str(FIXTURES / "fastmachinelearning__hls4ml__myproject_csynth.xml")
    for tool, status in [("vivado_hls", 0), ("vitis-run", 0)]:
        script = bin_dir / tool
        script.write_text(FAKE_TOOL.format(python=sys.executable, record=str(record), fixture=fixture, status=status))
        script.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    return lambda: [json.loads(line) for line in record.read_text().splitlines()]


def hls4ml_build(project: Path, backend: str, **flags) -> None:
    """hls4ml's own backend build() on the written project: it only reads the output dir and name."""
    import hls4ml

    config = SimpleNamespace(get_output_dir=lambda: str(project), get_project_name=lambda: "myproject")
    hls4ml.backends.get_backend(backend).build(SimpleNamespace(config=config), **flags)


@pytest.mark.parametrize("backend,tool", [("Vivado", "vivado_hls"), ("Vitis", "vitis-run")])
def test_build_runs_hls4ml_command_and_parses_csynth(tmp_path, fake_tools, backend, tool) -> None:
    prj = written_project(tmp_path / "prj", backend)
    flags = dict(csim=True, synth=True, cosim=False, export=True)
    result = hwflow.hls.build(prj, **flags)
    hls4ml_build(prj, backend, vsynth=False, **flags)
    ours, theirs = fake_tools()
    assert ours == theirs  # argv, working directory and build_opt.tcl as hls4ml's build()
    assert ours["cwd"] == str(prj.resolve()) and result.command[0] == tool
    if backend == "Vivado":
        assert ours["argv"] == ["-f", "build_prj.tcl", "reset=False csim=True synth=True cosim=False "
                                "validation=False export=True vsynth=False fifo_opt=False"]
    else:
        assert ours["argv"] == ["--tcl", "build_prj.tcl", "--mode", "hls"]
        assert "    csim       1\n    synth      1\n    cosim      0\n" in ours["opts"]
    csynth = result.reports.csynth
    assert (csynth.latency_best, csynth.latency_worst, csynth.interval_min) == (10, 10, 8)
    assert result.reports.cosim is None and result.reports.utilization is None
    assert result.log == prj.resolve() / "hwflow_build.log"


def test_missing_tools_are_named(tmp_path, monkeypatch) -> None:
    vitis, vivado = written_project(tmp_path / "vitis", "Vitis"), written_project(tmp_path / "vivado", "Vivado")
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    with pytest.raises(HwflowError, match=r"^vitis-run not found on PATH: source <Vitis>/settings64.sh") as err:
        hwflow.hls.build(vitis)
    assert "\n" not in str(err.value)
    with pytest.raises(HwflowError, match=r"^vivado_hls not found on PATH.*; vivado not found on PATH"):
        hwflow.hls.build(vivado, vsynth=True)
    with pytest.raises(HwflowError, match=r"write the hls4ml project first"):
        hwflow.hls.build(tmp_path / "nothing")


def test_failed_tool_run_is_an_error_naming_the_log(tmp_path, fake_tools) -> None:
    prj = written_project(tmp_path / "prj", "Vivado")
    failing = Path(os.environ["PATH"].split(os.pathsep)[0]) / "vivado_hls"
    failing.write_text(failing.read_text().replace("sys.exit(0)", "sys.exit(1)"))
    with pytest.raises(HwflowError, match=r"vivado_hls -f build_prj.tcl exited with status 1 .*hwflow_build.log"):
        hwflow.hls.build(prj, csim=True)
    assert hwflow.hls.read_reports(prj).csynth.interval_max == 8  # what the run produced is still readable
