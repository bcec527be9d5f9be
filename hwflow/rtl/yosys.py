"""Yosys `synth_xilinx` on a design: integer resource totals and per-block counts (before place and route)."""
from __future__ import annotations

import json
import re
import subprocess
import tempfile
from pathlib import Path

from hwflow.errors import HwflowError
from hwflow.rtl import tools
from hwflow.rtl.block import FAMILIES, SYNTH_SOURCE

# distributed RAM and shift-register primitives, in LUTs (a RAM64M is 4 LUTs of one slice)
LUTRAM_LUTS = {"RAM16X1S": 1, "RAM32X1S": 1, "RAM64X1S": 1, "RAM128X1S": 2, "RAM256X1S": 4, "RAM512X1S": 8,
               "RAM16X1D": 2, "RAM32X1D": 2, "RAM64X1D": 2, "RAM128X1D": 4, "RAM256X1D": 8, "RAM32M": 4,
               "RAM32M16": 8, "RAM64M": 4, "RAM64M8": 8, "SRL16E": 1, "SRLC16E": 1, "SRLC32E": 1}
BRAM18 = {"RAMB18E1": 1, "RAMB18E2": 1, "RAMB36E1": 2, "RAMB36E2": 2}  # in 18 Kb units


def totals(cells: dict[str, int]) -> dict[str, int]:
    """Cell counts by type -> LUT, FF, CARRY, DSP, BRAM (18 Kb), LUTRAM (LUTs as RAM or shift register)."""
    out = dict.fromkeys(("LUT", "FF", "CARRY", "DSP", "BRAM", "LUTRAM"), 0)
    for cell, n in cells.items():
        cell = cell.lstrip("\\$")
        if re.fullmatch(r"LUT[1-6]", cell):
            out["LUT"] += n
        elif re.fullmatch(r"FD[A-Z]*", cell):
            out["FF"] += n
        elif cell in ("CARRY4", "CARRY8"):
            out["CARRY"] += n
        elif cell.startswith("DSP48"):
            out["DSP"] += n
        elif cell in BRAM18:
            out["BRAM"] += n * BRAM18[cell]
        elif cell in LUTRAM_LUTS:
            out["LUTRAM"] += n * LUTRAM_LUTS[cell]
    return out


ABC9_ABORT = "abc::"  # in the backtrace of the YoWASP build when ABC9 aborts (an assertion inside ABC)


def synthesize(design_dir: Path, sources: list[str], top: str, family: str = "xcup",
               blocks: dict[str, str] | None = None, dsp: bool = True, flat: bool = False) -> dict:
    """Run synth_xilinx; {LUT, FF, CARRY, DSP, BRAM, LUTRAM, blocks: {instance: counts}, tool, family}.

    blocks: instance name -> module name in the top, for the per-block counts (the hierarchy is kept).
    dsp=False: multipliers in LUTs (`-nodsp`), to compare designs on LUTs alone; flat: optimize
    across the hierarchy (`-flatten`; no per-block counts then).
    """
    if family not in FAMILIES:
        raise HwflowError(f"family {family!r} is not one of {', '.join(FAMILIES)}")
    cmd = tools.yosys()
    synth = f"synth_xilinx -top {top} -family {family}{'' if dsp else ' -nodsp'}{' -flatten' if flat else ''}"
    mapper, report = "default", run_synth(cmd, design_dir, sources, synth)
    if isinstance(report, str) and ABC9_ABORT in report:
        # Yosys 0.70's abc9 (its only LUT mapper in synth_xilinx) aborts on some designs: its map_luts
        # step again with the classic abc, as Yosys 0.23 maps by default
        mapper = "abc (abc9 aborted)"
        report = run_synth(cmd, design_dir, sources, f"{synth} -run :map_luts; opt_expr -mux_undef -noclkinv; "
                           "abc -luts 2:2,3,6:5,10,20; clean; xilinx_srl -fixed -minlen 3; techmap -map "
                           "+/xilinx/lut_map.v -map +/xilinx/cells_map.v -D LUT_WIDTH=6; xilinx_dffopt; "
                           f"opt_lut_ins -tech xilinx; {synth} -run finalize:")
    if isinstance(report, str):
        raise HwflowError(f"Yosys synth_xilinx failed on {design_dir}: {tools.first_errors(report)}")
    modules = report["modules"]
    counts = {name.lstrip("\\"): m.get("num_cells_by_type", {}) for name, m in modules.items()}
    instances = dict(blocks or {})
    per_block = {}
    for inst, module in instances.items():
        per_block[inst] = totals(flatten(counts, module))
    result = totals(flatten(counts, top))
    result.update(blocks=per_block, tool=tools.version(tuple(cmd), "-V"), family=family, dsp=dsp, mapper=mapper,
                  source=SYNTH_SOURCE)
    return result


def run_synth(cmd: list[str], design_dir: Path, sources: list[str], synth: str) -> dict | str:
    """One synthesis script: its `stat -json` report, or the tool's output if it failed."""
    # `setattr -mod -unset top`: no design-hierarchy section in the statistics (this module adds the
    # blocks up itself, `flatten`), which Yosys 0.23 writes into its JSON as plain text
    script = f"read_verilog -defer {' '.join(sources)}; {synth}; setattr -mod -unset top; tee -q -o stat.json stat -json"
    with tempfile.TemporaryDirectory(dir=design_dir, prefix=".synth-") as tmp:
        run = subprocess.run([*cmd, "-q", "-p", script.replace("stat.json", f"{Path(tmp).name}/stat.json")],
                             cwd=design_dir, capture_output=True, text=True)
        stat = Path(tmp) / "stat.json"
        if run.returncode != 0 or not stat.is_file():
            return run.stdout + run.stderr
        return json.loads(re.sub(r",\s*}", "}", stat.read_text()))  # Yosys 0.23 leaves a trailing comma


def flatten(counts: dict[str, dict[str, int]], module: str) -> dict[str, int]:
    """Primitive cell counts of a module and everything below it (submodules expanded)."""
    out: dict[str, int] = {}
    for cell, n in counts.get(module, {}).items():
        name = cell.lstrip("\\")
        if name in counts:
            for sub, m in flatten(counts, name).items():
                out[sub] = out.get(sub, 0) + m * n
        else:
            out[cell] = out.get(cell, 0) + n
    return out
