"""report.md: the same tables as report.html, with the plots as PNG files beside it (plots/)."""
from __future__ import annotations

import os
from pathlib import Path

from hwflow.report_page.compare import NOT_APPLICABLE, SUBTITLE, fmt, known
from hwflow.report_page.plots import Plot


def _escape(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def table(t: dict) -> str:
    """A Markdown table; with per-cell sources, each cell's note and file go to numbered notes below it."""
    notes: list[str] = []

    def cell(c: str | dict) -> str:
        if not isinstance(c, dict):
            return _escape(c)
        text = fmt(c)
        if not t["sources"] or c["source"] == NOT_APPLICABLE:
            return text
        detail = "; ".join(filter(None, [c["note"], c["path"] and f"`{c['path']}`"]))
        if detail and detail not in notes:
            notes.append(detail)
        mark = f" [{notes.index(detail) + 1}]" if detail else ""
        source = f"{c['source']}, FOREIGN report" if c.get("foreign") else c["source"]
        return f"{text} <sub>{source}{mark}</sub>" if known(c) else f"{text}{mark}"

    lines = [f"## {t['title']}", ""]
    if t["rows"]:
        lines += ["| " + " | ".join(_escape(c) or " " for c in t["columns"]) + " |",
                  "|" + "---|" * len(t["columns"])]
        lines += ["| " + " | ".join(cell(c) for c in row) + " |" for row in t["rows"]]
        lines.append("")
    lines += [f"[{i}] {_escape(n)}  " for i, n in enumerate(notes, 1)]
    if t.get("note"):
        lines += ([] if lines[-1] == "" else [""]) + [t["note"]]
    return "\n".join(lines) + "\n"


def render(comp: dict, plots: list[Plot], md_dir: Path, generated: str) -> str:
    """The whole document; images are linked relative to md_dir."""
    out = [f"# {comp['title']}", "", f"{SUBTITLE} {generated}", ""]
    if comp["warnings"]:
        out += [f"> **Warnings ({len(comp['warnings'])})**", ">"] + [f"> - {_escape(w)}" for w in comp["warnings"]]
        out.append("")
    out += ["| | |", "|---|---|"] + [f"| {_escape(k)} | {_escape(v)} |" for k, v in comp["run"]] + [""]
    out += [table(t) for t in comp["tables"]]
    out += ["## Figures", ""]
    for p in plots:
        if p.file is None:
            out += [f"*{p.title}: not shown — {p.note}*", ""]
        else:
            link = Path(os.path.relpath(p.file, md_dir)).as_posix()
            out += [f"![{p.title}]({link})", "", f"*{p.title}.* {p.note}", ""]
    out += ["## Tool reports", ""]
    if comp["reports"]:
        out += ["| design | kind | status | file |", "|---|---|---|---|"]
        out += [f"| {r['design']} | {r['kind']} | {'used' if r['used'] else 'not used'} | `{r['path']}` |"
                for r in comp["reports"]]
    else:
        out.append("No tool reports found (--vivado-dir snn=DIR / ann=DIR, or DIR with snn/ and ann/ folders).")
    return "\n".join(out) + "\n"
