"""report.html: one self-contained page (inline CSS, plots as base64 data URIs, no external resources)."""
from __future__ import annotations

import base64
from html import escape

from hwflow.report_page.compare import CONFIG, ESTIMATE, MEASURED, MISSING, NOT_APPLICABLE, OP_MODEL, PNR, RTL_SIM, \
    SUBTITLE, SYNTH, TOOL, fmt, known
from hwflow.report_page.plots import Plot

BADGES = {TOOL: "tool", ESTIMATE: "estimate", MEASURED: "measured", RTL_SIM: "measured", SYNTH: "synth", PNR: "synth",
          OP_MODEL: "opmodel", CONFIG: "config",
          MISSING: "missing", NOT_APPLICABLE: "na"}
LEGEND = {TOOL: "parsed from a Vivado / Vitis HLS report (file shown)",
          ESTIMATE: "hwflow's cycle model of the SNN firmware (hls_templates/CYCLES.md), not synthesis",
          MEASURED: "counted by simulating the test set (reference simulator, QKeras, C simulation)",
          RTL_SIM: "the generated Verilog run in Verilator, cycle by cycle, on the test set",
          SYNTH: "Yosys synth_xilinx cell counts of the generated Verilog (no place and route, no Vivado)",
          PNR: "the achieved clock of nextpnr's place and route on a Lattice ECP5, not a Xilinx part",
          OP_MODEL: "operation counts × 45 nm energy per operation; not a power measurement",
          CONFIG: "the run's configuration"}

CSS = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1d232a;margin:0;background:#f4f6f8}
main{max-width:1180px;margin:0 auto;padding:24px 32px 48px;background:#fff}
h1{font-size:24px;margin:0 0 4px}h2{font-size:18px;margin:32px 0 8px;border-bottom:2px solid #dde3ea;padding-bottom:4px}
.sub{color:#5b6672;margin:0 0 16px}
table{border-collapse:collapse;margin:8px 0;width:100%}
th,td{border:1px solid #dde3ea;padding:5px 8px;vertical-align:top;text-align:left}
th{background:#eef2f6;font-weight:600}
td.v{text-align:right;font-variant-numeric:tabular-nums}td.text{font-size:13px;color:#37414b}
table.facts td:first-child{width:230px;color:#5b6672}
.num{font-weight:600;font-size:15px}.num.none{font-weight:400;color:#8a949e;font-style:italic}
.badge{display:inline-block;font-size:11px;line-height:1;padding:3px 6px;border-radius:9px;margin-left:6px;
white-space:nowrap;vertical-align:1px}
.b-tool{background:#d8f3dc;color:#1b5e20}.b-estimate{background:#ffe8c2;color:#8a4b00}
.b-measured{background:#dbeafe;color:#1e3a8a}.b-opmodel{background:#ede4fb;color:#4c1d95}
.b-config{background:#e9ecef;color:#37414b}.b-synth{background:#cff4f0;color:#0f5e56}.b-missing{background:#fde2e1;color:#9b1c1c}.b-na{display:none}
.b-foreign{background:#9b1c1c;color:#fff}
.note{font-size:12px;color:#5b6672;margin-top:2px}
.path{font:11px ui-monospace,Menlo,Consolas,monospace;color:#37414b;word-break:break-all;margin-top:2px}
.tnote{font-size:12.5px;color:#5b6672;margin:4px 0 0}
.warn{background:#fff4d6;border:1px solid #e8c766;border-left:5px solid #d39e00;padding:8px 14px;margin:12px 0}
.warn h2{border:0;margin:4px 0;font-size:16px}.warn li{font-size:13px;word-break:break-word}
.legend span.badge{margin:0 6px 0 0}.legend li{list-style:none;margin:2px 0}.legend ul{padding:0}
figure{margin:16px 0;border:1px solid #dde3ea;padding:10px;border-radius:4px}
figure img{max-width:100%;height:auto;display:block;margin:0 auto}
figcaption{font-size:13px;color:#37414b;margin-top:6px}figcaption b{color:#1d232a}
figure.skipped{background:#f8f9fa;color:#5b6672}
tr.unused td{color:#8a949e}
"""


def _badge(source: str) -> str:
    return f'<span class="badge b-{BADGES.get(source, "config")}">{escape(source)}</span>'


def cell(v: dict) -> str:
    """A value cell: the number, its source badge, the note and the tool report's path."""
    attrs = f' data-key="{escape(v["key"])}" data-unit="{escape(v["unit"])}"' if v["key"] else ""
    num = f'<span class="num{"" if known(v) else " none"}">{escape(fmt(v))}</span>'
    badge = _badge(v["source"]) if known(v) else ""
    if v.get("foreign"):
        badge += '<span class="badge b-foreign">foreign report</span>'
    note = f'<div class="note">{escape(v["note"])}</div>' if v["note"] else ""
    path = f'<div class="path">{escape(v["path"])}</div>' if v["path"] else ""
    return f'<td class="v" data-source="{escape(v["source"])}"{attrs}>{num}{badge}{note}{path}</td>'


def _compact_cell(v: dict) -> str:
    """A value cell of a table whose sources are given once, in its note."""
    attrs = f' data-key="{escape(v["key"])}" data-unit="{escape(v["unit"])}"' if v["key"] else ""
    title = f' title="{escape(v["note"])}"' if v["note"] else ""
    return (f'<td class="v" data-source="{escape(v["source"])}"{attrs}{title}>'
            f'<span class="num{"" if known(v) else " none"}">{escape(fmt(v))}</span></td>')


def table(t: dict) -> str:
    render = cell if t["sources"] else _compact_cell
    head = "".join(f"<th>{escape(c)}</th>" for c in t["columns"])
    body = "".join(f"<tr><th>{escape(row[0])}</th>" + "".join(
        render(c) if isinstance(c, dict) else f'<td class="text">{escape(c)}</td>' for c in row[1:]) + "</tr>\n"
        for row in t["rows"])
    note = f'<p class="tnote">{escape(t["note"])}</p>' if t.get("note") else ""
    grid = f'<table id="t-{t["id"]}"><thead><tr>{head}</tr></thead><tbody>\n{body}</tbody></table>' if t["rows"] else ""
    return f'<section id="{t["id"]}"><h2>{escape(t["title"])}</h2>{grid}{note}</section>'


def figure(p: Plot) -> str:
    if p.file is None:
        return (f'<figure id="plot-{p.id}" class="skipped"><figcaption><b>{escape(p.title)}</b>: not shown — '
                f'{escape(p.note)}</figcaption></figure>')
    data = base64.b64encode(p.file.read_bytes()).decode("ascii")
    return (f'<figure id="plot-{p.id}"><img alt="{escape(p.title)}" src="data:image/png;base64,{data}">'
            f'<figcaption><b>{escape(p.title)}</b>. {escape(p.note)}</figcaption></figure>')


def _reports(comp: dict) -> str:
    if not comp["reports"]:
        return ('<p class="tnote">No tool reports found. Give the folders holding the Vivado / Vitis HLS reports '
                'with <code>--vivado-dir snn=DIR</code>, <code>--vivado-dir ann=DIR</code>, or '
                '<code>--vivado-dir DIR</code> with the reports under folders named snn/ and ann/.</p>')
    rows = "".join(f'<tr class="{"used" if r["used"] else "unused"}"><td>{escape(r["design"])}</td>'
                   f'<td>{escape(r["kind"])}</td><td>{"used" if r["used"] else "not used"}</td>'
                   f'<td class="path">{escape(r["path"])}</td></tr>' for r in comp["reports"])
    return ('<table id="t-reports"><thead><tr><th>design</th><th>kind</th><th>status</th><th>file</th></tr></thead>'
            f'<tbody>{rows}</tbody></table><p class="tnote">Per design and kind one report is used: csynth, the top '
            'function (most LUTs); cosim, the first that passed; Vivado reports, the latest stage.</p>')


def render(comp: dict, plots: list[Plot], generated: str) -> str:
    """The whole page."""
    warnings = ""
    if comp["warnings"]:
        items = "".join(f"<li>{escape(w)}</li>" for w in comp["warnings"])
        warnings = (f'<section id="warnings" class="warn"><h2>Warnings ({len(comp["warnings"])})</h2>'
                    f"<ul>{items}</ul></section>")
    facts = "".join(f"<tr><td>{escape(k)}</td><td>{escape(v)}</td></tr>" for k, v in comp["run"])
    legend = "".join(f"<li>{_badge(s)}{escape(text)}</li>" for s, text in LEGEND.items()) + (
        f'<li><span class="num none">{MISSING}</span>: no source; the reason is given below it</li>')
    tables = "\n".join(table(t) for t in comp["tables"])
    figures = "\n".join(figure(p) for p in plots)
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(comp["title"])}</title><style>{CSS}</style></head>
<body><main>
<h1>{escape(comp["title"])}</h1>
<p class="sub">{SUBTITLE} {escape(generated)}</p>
{warnings}
<section id="run"><table class="facts"><tbody>{facts}</tbody></table></section>
<section class="legend"><h2>Where each number comes from</h2><ul>{legend}</ul></section>
{tables}
<section id="plots"><h2>Figures</h2>
{figures}
</section>
<section id="reports"><h2>Tool reports</h2>{_reports(comp)}</section>
</main></body></html>
"""
