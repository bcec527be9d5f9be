"""Run the build_prj.tcl that hls4ml wrote into a project with Vivado HLS or Vitis HLS; read its reports.

    result = hwflow.hls.build("hls_projects/net", synth=True, cosim=True)
    result.reports.csynth.latency_worst, result.reports.cosim.status

The command replicates hls4ml 1.3.0's backend ``build()`` exactly (its tool, arguments, working
directory and, for Vitis, build_opt.tcl). hls4ml's own build() needs the ModelGraph and ignores
the Vivado HLS exit status; this one needs only the written project and fails loudly.
"""
from __future__ import annotations

import re
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from hwflow.errors import HwflowError
from hwflow.tool_reports import CosimReport, CsynthReport, UtilizationReport, parse_cosim, parse_csynth, \
    parse_utilization

TOOLS = {"vivado": "vivado_hls", "vitis": "vitis-run"}  # as hls4ml 1.3.0's VivadoBackend / VitisBackend
INSTALL = {
    "vivado_hls": "source <Vivado>/settings64.sh of Vivado HLS (2020.1 or older) or run on a machine with it",
    "vitis-run": "source <Vitis>/settings64.sh of Vitis 2023.2 or newer (hls4ml 1.3.0's Vitis backend runs "
                 "vitis-run --mode hls) or run on a machine with it",
    "vivado": "source <Vivado>/settings64.sh (build_prj.tcl runs Vivado for vsynth) or run on a machine with it",
}
LOG = "hwflow_build.log"


@dataclass
class BuildReports:
    """Parsed reports from their standard places in the project; None where a report is absent."""

    csynth: CsynthReport | None = None  # <project>_prj/solution1/syn/report/<project>_csynth.xml
    cosim: CosimReport | None = None  # <project>_prj/solution1/sim/report/<project>_cosim.rpt
    utilization: UtilizationReport | None = None  # vivado_synth.rpt (vsynth)


@dataclass
class BuildResult:
    backend: str  # "vivado" | "vitis", from project.tcl
    command: list[str]
    seconds: float
    log: Path  # the tool's stdout and stderr
    reports: BuildReports


def project_settings(project_dir: Path) -> dict[str, str]:
    """The `set name value` lines of the project.tcl that hls4ml wrote (build_prj.tcl sources it)."""
    tcl = project_dir / "project.tcl"
    if not (tcl.is_file() and (project_dir / "build_prj.tcl").is_file()):
        raise HwflowError(f"{project_dir} has no project.tcl and build_prj.tcl; write the hls4ml project first "
                          "(hls_model.write())")
    return dict(re.findall(r'^set (\w+) "?([^"\n]*)"?$', tcl.read_text(), re.M))


def report_paths(project_dir: Path, project: str) -> dict[str, Path]:
    solution = project_dir / f"{project}_prj" / "solution1"
    return {"csynth": solution / "syn" / "report" / f"{project}_csynth.xml",
            "cosim": solution / "sim" / "report" / f"{project}_cosim.rpt",
            "utilization": project_dir / "vivado_synth.rpt"}


def read_reports(project_dir: str | Path, kinds: tuple[str, ...] = ("csynth", "cosim", "utilization")) -> BuildReports:
    """Parse the reports of the given kinds that exist in the project (e.g. after a failed build)."""
    project_dir = Path(project_dir)
    paths = report_paths(project_dir, project_settings(project_dir)["project_name"])
    parsers = {"csynth": parse_csynth, "cosim": parse_cosim, "utilization": parse_utilization}
    return BuildReports(**{k: parsers[k](paths[k]) for k in kinds if paths[k].is_file()})


def build(project_dir: str | Path, *, synth: bool = True, csim: bool = False, cosim: bool = False,
          vsynth: bool = False, export: bool = False, reset: bool = False, validation: bool = False,
          fifo_opt: bool = False) -> BuildResult:
    """Run the project's build_prj.tcl as hls4ml's backend build() does, then parse its reports.

    The backend comes from project.tcl. Vivado: `vivado_hls -f build_prj.tcl "reset=False csim=..."`;
    Vitis: the flags go to build_opt.tcl and `vitis-run --tcl build_prj.tcl --mode hls` runs; both
    in the project directory, output to hwflow_build.log. A missing tool or a non-zero exit (e.g. the
    self-checking testbench failing in csim or cosim) is a HwflowError; read_reports(project_dir)
    still parses whatever the run produced. Only the reports of the stages run are returned.
    """
    project_dir = Path(project_dir).resolve()
    settings = project_settings(project_dir)
    backend = settings.get("backend", "")
    if backend not in TOOLS:
        raise HwflowError(f"{project_dir} is an hls4ml '{backend}' project; hwflow.hls.build runs Vivado and Vitis "
                          "projects")
    flags = dict(reset=reset, csim=csim, synth=synth, cosim=cosim, validation=validation, export=export,
                 vsynth=vsynth, fifo_opt=fifo_opt)
    needed = [TOOLS[backend]] + (["vivado"] if vsynth else [])
    missing = [tool for tool in needed if shutil.which(tool) is None]
    if missing:
        raise HwflowError("; ".join(f"{tool} not found on PATH: {INSTALL[tool]}" for tool in missing))
    if backend == "vivado":
        command = ["vivado_hls", "-f", "build_prj.tcl", " ".join(f"{k}={v}" for k, v in flags.items())]
    else:
        options = "".join(f"    {k:<10} {int(v)}\n" for k, v in flags.items())
        (project_dir / "build_opt.tcl").write_text(f"array set opt {{\n{options}}}\n")
        command = ["vitis-run", "--tcl", "build_prj.tcl", "--mode", "hls"]
    log = project_dir / LOG
    start = time.perf_counter()
    with log.open("w") as out:
        returncode = subprocess.run(command, cwd=project_dir, stdout=out, stderr=subprocess.STDOUT).returncode
    seconds = time.perf_counter() - start
    if returncode:
        raise HwflowError(f"{' '.join(command[:3])} exited with status {returncode} in {project_dir} (a failing "
                          f"testbench stops csim/cosim); see {log}")
    kinds = tuple(k for k, run in (("csynth", synth), ("cosim", cosim), ("utilization", vsynth)) if run)
    return BuildResult(backend, command, seconds, log, read_reports(project_dir, kinds))
