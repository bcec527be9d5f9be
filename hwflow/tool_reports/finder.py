"""Find the Vivado / Vitis HLS reports of the SNN and ANN designs in folders, and pick one per kind.

Convention for `vivado_dirs` entries (the CLI's `--vivado-dir`):

* `snn=DIR` / `ann=DIR`: every report under DIR belongs to that design;
* `DIR`: each report belongs to the design named by the nearest folder (or file name) on its path
  below DIR, DIR itself included, whose name has the word `snn` or `ann` in it (`snn/`,
  `ann_prj/`, `hls4ml_ann/`, `myproj-snn/`, ...); reports with neither are listed and ignored.

The run's own `firmware/` folder (hls4ml projects `firmware/snn` and `firmware/ann`) is always
searched. Reports are `*.rpt` and `*.xml` files recognised by content (`hwflow.tool_reports.detect_kind`),
or by their HLS name (`*_csynth.xml`, `*_cosim.rpt`, `vivado_synth.rpt`) when the content is not.
When a design has several reports of one kind, the one used is: csynth, the top function (the
most LUTs, as it contains every sub-function; XML before text on a tie); cosim, the first that
passed; Vivado reports, the latest stage (routed > placed > synthesized, from the file name and
the report's design state).

A report is used only if it is of the run's firmware (`Firmware`): its top function, FPGA part and
clock, as far as the report states them (a cosim report states its top in its file name and the
rest through the csynth report of its solution), must match; a field it does not state counts as
a mismatch. Other reports are listed with a warning naming the field, and left out unless
`trust_foreign`, which uses them and marks every number read from them.
"""
from __future__ import annotations

import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

from hwflow.errors import HwflowError
from hwflow.tool_reports import PARSERS, Report, detect_kind

DESIGNS = ("snn", "ann")
MAX_BYTES = 50_000_000  # larger files are not reports
_HLS_NAMES = [("csynth", r"(^|_)csynth\.(xml|rpt)$"), ("cosim", r"_cosim\.rpt$"),
              ("utilization", r"^vivado_synth\.rpt$")]
_STAGES = ("route", "place", "opt", "synth")


@dataclass
class Found:
    """One report file: its design ('snn', 'ann' or None when unknown), kind and parsed content."""

    path: Path
    design: str | None
    kind: str
    report: Report | None
    used: bool = False
    foreign: list[str] = field(default_factory=list)  # how it differs from the run's firmware


@dataclass(frozen=True)
class Firmware:
    """What a run's firmware is: its top function, FPGA part and clock period (ns)."""

    top: str
    part: str
    clock_ns: float


def part_key(part: str) -> str:
    """An FPGA part as Vivado and Vitis both spell it: 'xc7z020-clg400-1' and '7z020clg400-1' alike."""
    key = part.lower().replace("-", "")
    return key[2:] if key.startswith("xc") else key


def same_part(a: str, b: str) -> bool:
    """One FPGA part: a timing report names device and package without the speed grade ('7z020-clg400')."""
    a, b = part_key(a), part_key(b)
    return a == b or (min(len(a), len(b)) >= 8 and (a.startswith(b) or b.startswith(a)))


def identity(kind: str, report: Report, path: Path) -> dict:
    """{top, part, clock_ns} of a report, each None where the report does not state it."""
    if kind == "csynth":
        return {"top": report.top, "part": report.part, "clock_ns": report.target_clock_ns}
    if kind == "cosim":
        top = path.name[:-len("_cosim.rpt")] if path.name.endswith("_cosim.rpt") else None
        syn = path.parent.parent.parent / "syn" / "report" / f"{top}_csynth.xml"  # solution1/sim/report -> syn
        csynth = PARSERS["csynth"](syn) if top and syn.is_file() else None
        return {"top": top, "part": csynth.part if csynth else None,
                "clock_ns": csynth.target_clock_ns if csynth else None}
    clock = report.clock.period_ns if kind == "timing" and report.clock else None
    return {"top": report.design, "part": report.device, "clock_ns": clock if kind == "timing" else "n/a"}


def mismatches(found: dict, firmware: Firmware) -> list[str]:
    """How a report's identity differs from the firmware's ('part xc7z020-clg400-1, the run's xcu250-...')."""
    out = []
    for name, want, same in (("top function", firmware.top, lambda a, b: a == b),
                             ("part", firmware.part, same_part),
                             ("clock", firmware.clock_ns, lambda a, b: abs(float(a) - float(b)) < 1e-9)):
        got = found[{"top function": "top", "part": "part", "clock": "clock_ns"}[name]]
        if got == "n/a":
            continue
        if got is None:
            out.append(f"states no {name}")
        elif not same(got, want):
            out.append(f"{name} {got:g} ns, the run's {want:g} ns" if name == "clock" else f"{name} {got}, the run's {want}")
    return out


@dataclass
class ToolReports:
    """Every report found, with the one used per (design, kind) marked, and the warnings."""

    found: list[Found] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def get(self, design: str, kind: str) -> Report | None:
        """The report used for (design, kind), or None."""
        return next((f.report for f in self.found if f.used and f.design == design and f.kind == kind), None)


def parse_dir_spec(spec: str | Path) -> tuple[str | None, Path]:
    """'snn=DIR' -> ('snn', DIR); 'DIR' -> (None, DIR)."""
    match = re.fullmatch(r"(snn|ann)=(.+)", str(spec))
    return (match.group(1), Path(match.group(2))) if match else (None, Path(spec))


def design_of(path: Path, root: Path) -> str | None:
    """'snn' or 'ann' from the nearest name on path (below root, root included) holding either word."""
    for part in reversed((root.resolve().name, *path.relative_to(root).parts)):
        words = set(re.split(r"[^a-z0-9]+", part.lower()))
        hits = [d for d in DESIGNS if d in words]
        if len(hits) == 1:
            return hits[0]
    return None


def _kind(path: Path) -> str | None:
    try:
        if path.stat().st_size > MAX_BYTES:
            return None
        kind = detect_kind(path.read_text(errors="replace"))
    except OSError:
        kind = None
    return kind or next((k for k, pattern in _HLS_NAMES if re.search(pattern, path.name)), None)


def _stage_rank(f: Found) -> int:
    """Lower is later in the Vivado flow."""
    text = f"{f.path.name} {getattr(f.report, 'design_state', '') or ''}".lower()
    return next((i for i, stage in enumerate(_STAGES) if stage in text), len(_STAGES))


def _preference(f: Found) -> tuple:
    r = f.report
    if f.kind == "csynth":
        return (-(r.used.lut or 0) if r else 1, f.path.suffix != ".xml")
    if f.kind == "cosim":
        return (0 if r and r.status == "Pass" else 1,)
    return (_stage_rank(f),)


def find_reports(dirs: Iterable[str | Path], firmware: Firmware | None = None,
                 trust_foreign: bool = False) -> ToolReports:
    """Search each `[snn=|ann=]DIR` recursively; parse every report, mark the one used per design and kind.

    firmware: the run's; a report of another design is left out (with a warning) unless trust_foreign.
    A DIR that is not a folder is a HwflowError.
    """
    out, seen = ToolReports(), set()
    for spec in dirs:
        tag, root = parse_dir_spec(spec)
        if not root.is_dir():
            raise HwflowError(f"--vivado-dir {spec}: {root} is not a folder; give a folder of Vivado/Vitis reports")
        for path in sorted(p for p in root.rglob("*") if p.suffix in (".rpt", ".xml") and p.is_file()):
            if path.resolve() in seen or (kind := _kind(path)) is None:
                continue
            seen.add(path.resolve())
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                report = PARSERS[kind](path)
            out.warnings += [str(w.message) for w in caught]
            design = tag or design_of(path, root)
            if design is None:
                out.warnings.append(f"{path}: {kind} report of neither design: put it under a folder named "
                                    f"snn/ or ann/, or pass --vivado-dir snn=DIR / ann=DIR; ignored")
            found = Found(path, design, kind, report)
            if firmware is not None and report is not None:
                found.foreign = mismatches(identity(kind, report, path), firmware)
                if found.foreign:
                    out.warnings.append(f"{path}: {kind} report of another design ({'; '.join(found.foreign)}); "
                                        + ("used as --trust-foreign-reports asks, marked on the page" if trust_foreign
                                           else "not used (--trust-foreign-reports would use it, marked)"))
            out.found.append(found)
    for design in DESIGNS:
        for kind in PARSERS:
            group = [f for f in out.found if f.design == design and f.kind == kind and f.report is not None
                     and (trust_foreign or not f.foreign)]
            if group:
                min(group, key=_preference).used = True
    return out
