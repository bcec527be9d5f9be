"""One page comparing a run's spiking design with the hls4ml ANN of the same network.

    html_path, md_path = write_report("runs/default", vivado_dirs=["snn=vivado/snn", "ann=vivado/ann"])

`comparison` gathers the numbers, each with its source (tool report, cycle-model estimate,
simulation, 45 nm op model); `plots` draws the figures; `html` and `markdown` render them.
See hwflow.tool_reports.finder for the `--vivado-dir` convention.
"""
from __future__ import annotations

import datetime
from pathlib import Path
from typing import Iterable

from hwflow.outputs import record, write_file
from hwflow.report_page import html, markdown
from hwflow.report_page.compare import comparison
from hwflow.report_page.plots import make_plots


def write_report(run_dir: str | Path, vivado_dirs: Iterable[str | Path] = (),
                 sweep: str | Path | dict | None = None, final_dir: str | Path | None = None,
                 trust_foreign: bool = False) -> tuple[Path, Path]:
    """Write run_dir/report.html (self-contained) and run_dir/report.md (+ run_dir/plots/*.png).

    vivado_dirs: `DIR`, `snn=DIR` or `ann=DIR` folders searched for tool reports; sweep: a sweep JSON
    (path or dict) for the accuracy-vs-T and regularizer plots, default run_dir/sweep.json if present;
    final_dir: where run_dir is about to be moved (the page names that folder); trust_foreign: use tool
    reports of another design too, marked (see comparison).
    """
    run_dir = Path(run_dir)
    comp = comparison(run_dir, vivado_dirs, final_dir, trust_foreign)
    plots = make_plots(run_dir, comp, sweep, run_dir / "plots")
    record(run_dir, *(Path(p.file).resolve().relative_to(run_dir.resolve()).as_posix() for p in plots if p.file))
    generated = f"Generated {datetime.datetime.now().isoformat(timespec='seconds')} by hwflow report."
    html_path = write_file(run_dir, "report.html", html.render(comp, plots, generated))
    md_path = write_file(run_dir, "report.md", markdown.render(comp, plots, run_dir, generated))
    return html_path, md_path


__all__ = ["comparison", "write_report"]
