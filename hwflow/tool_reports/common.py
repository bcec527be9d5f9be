"""Shared pieces of the report parsers: warnings, file reading, number cells, tables."""
from __future__ import annotations

import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, TypeVar

T = TypeVar("T")
UNKNOWN = {"undef", "?", "-", "NA"}  # how the tools write "no value"


class ReportWarning(UserWarning):
    """A report file, or a field in it, is missing or could not be read."""


def warn(path: Path, message: str, stacklevel: int = 4) -> None:
    """Warn about `path`; the default stacklevel points at the caller of a parse_* function."""
    warnings.warn(f"{path}: {message}", ReportWarning, stacklevel=stacklevel)


def read_report(path: str | Path) -> tuple[Path, str | None]:
    """(path, text); text is None, with a warning, when the file cannot be read."""
    path = Path(path)
    try:
        return path, path.read_text(errors="replace")
    except OSError as exc:
        warn(path, f"cannot read the file ({exc.strerror or exc})")
        return path, None


def detect_kind(text: str) -> str | None:
    """'csynth', 'cosim', 'utilization', 'timing' or 'power', from the file's content."""
    command = re.search(r"^\| Command\s*:\s*(report_\w+)", text, re.M)
    kinds = {"report_utilization": "utilization", "report_timing_summary": "timing", "report_power": "power"}
    if command and command.group(1) in kinds:
        return kinds[command.group(1)]
    markers = [
        ("csynth", r"<UserAssignments>|<PerformanceEstimates>|== (?:Vivado|Vitis) HLS Report for|"
                   r"== Synthesis Summary Report of"),
        ("cosim", r"\+\s*RTL\s*\+\s*Status\s*\+"),
        ("utilization", r"Utilization Design Information"),
        ("timing", r"\| Design Timing Summary"),
        ("power", r"Total On-Chip Power \(W\)"),
    ]
    return next((kind for kind, pattern in markers if re.search(pattern, text)), None)


@dataclass
class Fields:
    """Reads the fields of one report and warns once, at `done`, about those it could not read."""

    path: Path
    kind: str
    text: str
    missing: list[str] = field(default_factory=list)

    def get(self, name: str, raw: str | None, conv: Callable[[str], T], optional: bool = False) -> T | None:
        """conv(raw); None if raw is absent (noted unless optional) or malformed (noted)."""
        if raw is None or not raw.strip():
            if not optional:
                self.missing.append(name)
            return None
        try:
            return conv(raw.strip())
        except (ValueError, IndexError):
            self.missing.append(f"{name} (bad value {raw.strip()!r})")
            return None

    def note(self, name: str, reason: str) -> None:
        self.missing.append(f"{name} ({reason})")

    def done(self) -> None:
        if not self.missing:
            return
        hint = ""
        if not self.text.strip():
            hint = "; the file is empty"
        elif (other := detect_kind(self.text)) not in (None, self.kind):
            hint = f"; the file looks like a {other} report"
        warn(self.path, f"{self.kind} report: could not read {', '.join(self.missing)}{hint}")


def cycles(text: str) -> int | None:
    """A cycle count; None for the tools' unknown markers (`undef`, `?`, `-`, `NA`)."""
    return None if text in UNKNOWN else int(text)


def count(text: str) -> int:
    """A resource cell: '7969', '3 (~0%)', or '-' for none used."""
    return 0 if text == "-" else int(text.split("(")[0])


def number(text: str) -> float:
    """'5.00 ns', '7.5', '<0.001' -> float (units and '<' dropped); ints stay ints."""
    value = text.removeprefix("<").split()[0]
    return int(value) if value.lstrip("-").isdigit() else float(value)


def optional_number(text: str) -> float | None:
    return None if not text or text in UNKNOWN or text == "---" else number(text)


def version(text: str) -> str:
    """'2020.1 (Build 2897737 ...)' or 'Vivado v.2020.1 (lin64) ...' -> '2020.1'."""
    match = re.search(r"\d{4}\.\d+(?:\.\d+)?", text)
    if not match:
        raise ValueError(text)
    return match.group(0)


def header(text: str) -> dict[str, str]:
    """The `| Key : value` lines at the top of a Vivado report."""
    found: dict[str, str] = {}
    for m in re.finditer(r"^\| ([A-Z][\w ]*?)\s*: (.*)$", text, re.M):
        found.setdefault(m.group(1), m.group(2).strip())
    return found


def pipe_table(lines: list[str], start: int, strip: bool = True) -> tuple[list[list[str]], list[list[str]]]:
    """(header rows, body rows) of the first `+---+` / `|a|b|` table at or after line `start`.

    Rows between the first two borders are header rows; a table with one border pair has no body.
    """
    header_rows: list[list[str]] = []
    body: list[list[str]] = []
    borders = 0
    for line in lines[start:]:
        s = line.strip()
        if s.startswith("+-"):
            borders += 1
        elif s.startswith("|") and borders:
            cells = s[1:-1].split("|") if s.endswith("|") else s[1:].split("|")
            (header_rows if borders < 2 else body).append([c.strip() for c in cells] if strip else cells)
        elif borders:
            break
    return header_rows, body


def line_index(lines: list[str], marker: str, start: int = 0) -> int | None:
    """Index of the first line at or after `start` that contains `marker`."""
    return next((i for i in range(start, len(lines)) if marker in lines[i]), None)


def fixed_width_table(lines: list[str], title: str) -> list[dict[str, str]]:
    """Rows of a Vivado timing-summary table (header line, dashes line, rows) under `| title`.

    Columns are the runs of dashes; a word belongs to the column whose dashes it overlaps, so
    empty cells and left- or right-aligned values are both read correctly.
    """
    start = next((i for i, line in enumerate(lines) if line.strip() == f"| {title}"), None)
    if start is None:
        return []
    dash = next((i for i in range(start + 1, min(start + 10, len(lines)))
                 if re.fullmatch(r"\s*-+(\s+-+)+\s*", lines[i])), None)
    if dash is None:
        return []
    spans = [m.span() for m in re.finditer(r"-+", lines[dash])]
    names = [lines[dash - 1][a:b].strip() for a, b in spans]
    rows = []
    for line in lines[dash + 1:]:
        if not line.strip():
            break
        cells: dict[str, list[str]] = {}
        for word in re.finditer(r"\S+", line):
            col = next((n for n, (a, b) in zip(names, spans) if word.start() < b and word.end() > a), None)
            if col is not None:
                cells.setdefault(col, []).append(word.group(0))
        rows.append({k: " ".join(v) for k, v in cells.items()})
    return rows
