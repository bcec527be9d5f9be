"""hls4ml's own reader for `*_csynth.xml`, applied to a single file."""
from __future__ import annotations

import contextlib
import io
import shutil
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path

_APP = '<project><solutions><solution name="solution1"/></solutions></project>'


def hls4ml_csynth(path: Path) -> dict[str, str] | None:
    """hls4ml's `CSynthesisReport` dict for one csynth XML file; None if hls4ml cannot read it.

    `hls4ml.report.parse_vivado_report` only reads a whole hls4ml project directory, so the file is
    staged into a minimal one. hls4ml raises on malformed XML or on any missing element.
    """
    from hls4ml.report import parse_vivado_report

    with tempfile.TemporaryDirectory() as tmp:
        project = Path(tmp)
        (project / "project.tcl").write_text('set project_name "top"\nset backend "vivado"\n')
        report_dir = project / "top_prj" / "solution1" / "syn" / "report"
        report_dir.mkdir(parents=True)
        (project / "top_prj" / "vivado_hls.app").write_text(_APP)
        shutil.copyfile(path, report_dir / "top_csynth.xml")
        try:
            with contextlib.redirect_stdout(io.StringIO()):  # hls4ml prints what it cannot find
                report = parse_vivado_report(tmp)
        except (ET.ParseError, AttributeError, TypeError, ValueError):
            return None
    return (report or {}).get("CSynthesisReport")
