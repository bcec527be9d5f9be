"""The SNN design against the hls4ml ANN design of the same network, every number with its source.

`comparison(run_dir, vivado_dirs)` returns plain data (JSON-serialisable) that the HTML and
Markdown writers render: header facts, tables whose cells are *values*, the tool reports found
and the warnings. A value is a dict:

    {"value": 1234 | None, "unit": "cycles", "source": TOOL, "path": "…/myproject_csynth.xml",
     "tool": "csynth", "key": None, "note": "csynth, worst case", "text": None}

`source` is one of SOURCES; `path` and `tool` are the file and kind ('csynth', 'cosim',
'utilization', 'timing', 'power') of the tool report a number was read from; `key` the dotted
report.json path a number was copied from (the page test checks those); `note` the reason a value
is missing, or a detail; `text` a result that is not a number ('identical'). Units and their
display precision are in UNITS.
"""
from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any, Iterable

import yaml

from hwflow.defaults import DEFAULT_CLOCK_NS, DEFAULT_PART, DEFAULT_PROJECT_NAME, E_AC_PJ, E_MAC_PJ
from hwflow.config import load_yaml
from hwflow.errors import HwflowError
from hwflow.rtl.block import FMAX_SOURCE, RTL_SIM_SOURCE, SYNTH_SOURCE
from hwflow.tool_reports.finder import Firmware, ToolReports, find_reports
from hwflow.tool_reports import Report

TOOL = "tool report"
ESTIMATE = "estimate (cycle model)"
MEASURED = "measured (simulation)"
RTL_SIM = RTL_SIM_SOURCE
SYNTH = SYNTH_SOURCE
PNR = FMAX_SOURCE
OP_MODEL = "estimate (45 nm op model)"
CSIM_CYCLES = "measured (C simulation counters)"
FEASIBILITY = "estimate (feasibility model, calibrated on Yosys)"
CONFIG = "configuration"
MISSING = "not available"
NOT_APPLICABLE = "not applicable"
SOURCES = (TOOL, ESTIMATE, MEASURED, RTL_SIM, SYNTH, PNR, OP_MODEL, CSIM_CYCLES, FEASIBILITY, CONFIG, MISSING,
           NOT_APPLICABLE)

# unit: (factor from the stored value to the shown one, decimals shown)
UNITS = {"%": (100, 2), "MHz": (1, 1), "nJ": (1e-3, 3), "us": (1, 3), "ns": (1, 2), "W": (1, 3), "spikes": (1, 3),
         "ops": (1, 1), "cycles": (1, 0), "count": (1, 0), "": (1, 0)}
RATIO_UNITS = ("nJ", "ops", "cycles", "us", "count", "W")
RESOURCES = (("LUT", "lut"), ("FF", "ff"), ("DSP", "dsp"), ("BRAM (18 Kb)", "bram_18k"), ("URAM", "uram"))
DESIGN_NAMES = {"snn": "SNN (hwflow)", "ann": "ANN (hls4ml)"}
SUBTITLE = "Binary-coded spiking network (hwflow) against the hls4ml ANN of the same quantized network."


def is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def value(v: float | None, unit: str, source: str, *, key: str | None = None, path: Path | str | None = None,
          tool: str | None = None, note: str | None = None, text: str | None = None) -> dict:
    return {"value": v, "unit": unit, "source": source, "key": key, "path": None if path is None else str(path),
            "tool": tool, "note": note, "text": text}


def missing(reason: str, unit: str = "", source: str = MISSING) -> dict:
    return value(None, unit, source, note=reason)


def known(v: dict) -> bool:
    """Whether a value has a number or a text to show."""
    return v["value"] is not None or bool(v["text"])


def fmt(v: dict) -> str:
    """The number of a value at its unit's precision ('97.78', '1,234'), its text, or why it has none."""
    if v["text"]:
        return v["text"]
    if v["value"] is None:
        return "—" if v["source"] == NOT_APPLICABLE else MISSING
    factor, decimals = UNITS[v["unit"]]
    return f"{v['value'] * factor:,.{decimals}f}"


def _json(data: dict, key: str, unit: str, source: str, reason: str, note: str | None = None) -> dict:
    """report.json's value at dotted `key`, or missing(reason)."""
    v = _at(data, key)
    if v is None:
        return missing(reason, unit)
    if not is_number(v):
        return missing(f"not a number in report.json: {key} = {v!r}", unit)
    return value(v, unit, source, key=key, note=note)


def _tool(v: float | None, unit: str, report: Report, detail: str) -> dict | None:
    """A number read from a tool report; `tool` is its kind ('csynth', 'cosim', 'utilization', ...)."""
    kind = type(report).__name__.removesuffix("Report").lower()
    return None if v is None else value(v, unit, TOOL, path=report.path, tool=kind, note=detail)


def load_run(run_dir: Path) -> tuple[dict, dict]:
    """(report.json, config.yaml or {}) of a run folder; a HwflowError if report.json is missing or bad."""
    path = run_dir / "report.json"
    try:
        report = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise HwflowError(f"{path}: cannot read the run's report ({exc}); write it with 'hwflow run'") from exc
    try:
        config = load_yaml((run_dir / "config.yaml").read_text()) or {}
    except (OSError, yaml.YAMLError):
        config = {}
    return report, config


def _latency(design: str, r: dict, tools: ToolReports) -> tuple[dict, dict, float | None, str]:
    """(latency, interval) in cycles, the clock period they run at (ns) and its description.

    Sources by preference: cosim (passed), csynth, then for the SNN the cycle-model estimate, which
    a tool-report value also names in its note, side by side.
    """
    cosim, csynth = tools.get(design, "cosim"), tools.get(design, "csynth")
    clock, clock_text = (csynth.target_clock_ns, "the csynth target clock") if csynth and csynth.target_clock_ns \
        else (_at(r, "hls.clock_period"), "the configured clock")
    passed = [res for res in (cosim.results.values() if cosim else ()) if res.status == "Pass"]
    out = []
    for key, cosim_field, csynth_field, what in (("latency_cycles", "latency_max", "latency_worst", "worst case"),
                                                 ("initiation_interval", "interval_max", "interval_max", "max")):
        found = []
        if passed:
            found.append(_tool(getattr(passed[0], cosim_field), "cycles", cosim, "C/RTL cosimulation, max"))
        if csynth:
            found.append(_tool(getattr(csynth, csynth_field), "cycles", csynth, f"csynth, {what}"))
        found = [v for v in found if v is not None]
        if design == "snn" and (estimate := _json(r, key, "cycles", ESTIMATE, ""))["value"] is not None:
            style = _at(r, "cycles.style")
            estimate["note"] = f"{style} schedule" if style else None
            for v in found:
                v["note"] += f"; cycle-model estimate {estimate['value']:,} cycles"
            found.append(estimate)
        out.append(found[0] if found else missing(_no_latency(design, r), "cycles"))
    return out[0], out[1], clock, clock_text


def _at(data: Any, key: str) -> Any:
    """report.json's value at dotted `key` ('energy_pj.layers.0.name'), or None."""
    try:
        for part in key.split("."):
            data = data[int(part)] if isinstance(data, list) else data[part]
    except (KeyError, IndexError, TypeError, ValueError):
        return None
    return data


def _no_latency(design: str, r: dict) -> str:
    if design == "ann":
        return "no csynth / cosim report of the ANN"
    return "no csynth / cosim report; no cycle-model estimate in report.json " + (
        "(written before the cycle model: re-run hwflow run)" if "firmware_dir" in r
        else "(no firmware built: hls.enabled=false)")


def _microseconds(cycles: dict, clock_ns: float | None, clock_text: str) -> dict:
    if cycles["value"] is None:
        return missing("no cycle count", "us")
    if not clock_ns:
        return missing("no clock period (report.json has no hls.clock_period)", "us")
    detail = f"{cycles['note'] + '; ' if cycles['note'] else ''}at {clock_text}, {clock_ns:g} ns"
    return value(cycles["value"] * clock_ns / 1000, "us", cycles["source"], path=cycles["path"], tool=cycles["tool"],
                 note=detail)


def _clocks(design: str, r: dict, tools: ToolReports) -> tuple[dict, dict]:
    """(target, achieved) clock period in ns."""
    csynth, timing = tools.get(design, "csynth"), tools.get(design, "timing")
    target = _tool(csynth.target_clock_ns, "ns", csynth, "csynth target") if csynth else None
    if target is None:
        target = _json(r, "hls.clock_period", "ns", CONFIG, "no csynth report and no hls section in report.json")
    achieved = None
    if timing and timing.achieved_period_ns is not None:
        verdict = {True: "timing met", False: "timing NOT met", None: "timing verdict unknown"}[timing.met]
        achieved = _tool(timing.achieved_period_ns, "ns", timing,
                         f"Vivado timing: period − WNS ({timing.wns_ns:g} ns), {verdict}")
    elif csynth and csynth.estimated_clock_ns is not None:
        achieved = _tool(csynth.estimated_clock_ns, "ns", csynth, "csynth estimate (before Vivado)")
    return target, achieved or missing("no timing or csynth report", "ns")


def _resources(design: str, tools: ToolReports) -> list[dict]:
    util, csynth = tools.get(design, "utilization"), tools.get(design, "csynth")
    cells = []
    for label, name in RESOURCES:
        cell = None
        if util is not None:
            usage = getattr(util, "bram_tiles" if name == "bram_18k" else name)
            if usage is not None:
                factor = 2 if name == "bram_18k" else 1  # one 36 Kb tile = two 18 Kb blocks
                share = f"; {usage.util_pct:g} % of {usage.available * factor:g}" if usage.available and \
                    usage.util_pct is not None else ""
                cell = _tool(usage.used * factor, "count", util,
                             f"Vivado utilization ({util.design_state or 'stage unknown'}){share}")
        if cell is None and csynth is not None:
            used, available = getattr(csynth.used, name), getattr(csynth.available, name)
            share = f"; {100 * used / available:.1f} % of {available}" if used is not None and available else ""
            cell = _tool(used, "count", csynth, f"csynth (HLS estimate){share}")
        reason = f"not in {(util or csynth).path.name}" if util or csynth else "no utilization / csynth report"
        cells.append(cell or missing(reason, "count"))
    return cells


def _power(design: str, tools: ToolReports) -> dict:
    power = tools.get(design, "power")
    cell = _tool(power.total_w, "W", power, f"Vivado power, total on-chip, confidence {power.confidence or '?'}") \
        if power else None
    return cell or missing("no Vivado power report", "W")


def _energy_note(r: dict, config: dict) -> str:
    """The energy model's name and what it assumes (report.json; a run without them used fp32_45)."""
    model, assumption = _at(r, "energy_pj.model"), _at(r, "energy_pj.assumption")
    if model and assumption:
        return f"energy model {model}: {assumption}"
    e = config.get("energy") or {}
    return (f"energy model fp32_45: 45 nm 32-bit floating point (Horowitz, ISSCC 2014): "
            f"{e.get('e_mac_pj', E_MAC_PJ):g} pJ per MAC, {e.get('e_ac_pj', E_AC_PJ):g} pJ per accumulate")


def _summary_table(r: dict, config: dict, tools: ToolReports) -> dict:
    mm = _at(r, "mismatches") or {}
    rows = [["Test accuracy (%)",
             _json(r, "snn_accuracy", "%", MEASURED, "report.json has no snn_accuracy",
                   f"reference simulator; {_mismatch_text('firmware C-sim', mm.get('csim_vs_qkeras'))}"),
             _json(r, "ann_accuracy", "%", MEASURED, "report.json has no ann_accuracy",
                   f"QKeras model; {_mismatch_text('hls4ml C-sim', mm.get('hls4ml_ann_vs_qkeras'))}")],
            ["Time steps T", _json(r, "time_steps", "", CONFIG, "report.json has no time_steps"),
             missing("one pass per inference", source=NOT_APPLICABLE)],
            ["Spikes per inference",
             _json(r, "spikes_per_sample", "spikes", MEASURED, "report.json has no spikes_per_sample"),
             missing("multi-bit activations", source=NOT_APPLICABLE)]]
    note = _energy_note(r, config)
    rows.append(["Energy per inference (nJ)",
                 _json(r, "energy_pj.snn", "nJ", OP_MODEL, "report.json has no energy_pj", note),
                 _json(r, "energy_pj.ann", "nJ", OP_MODEL, "report.json has no energy_pj", note)])
    layers = _at(r, "energy_pj.layers") or []
    for label, snn_key, ann_key in (("Multiply-accumulates per inference", "snn_macs", "ann_macs"),
                                    ("Accumulates per inference", "snn_acs", None)):
        snn = sum(layer.get(snn_key, 0) for layer in layers)
        ann = sum(layer.get(ann_key, 0) for layer in layers) if ann_key else 0
        rows.append([label] + ([value(snn, "ops", OP_MODEL), value(ann, "ops", OP_MODEL)] if layers else
                               [missing("report.json has no energy_pj.layers", "ops")] * 2))
    timing = {d: _latency(d, r, tools) for d in ("snn", "ann")}
    clocks = {d: _clocks(d, r, tools) for d in ("snn", "ann")}
    rows += [["Latency (cycles)", timing["snn"][0], timing["ann"][0]],
             ["Latency (µs)", *(_microseconds(timing[d][0], *timing[d][2:]) for d in ("snn", "ann"))],
             ["Initiation interval (cycles)", timing["snn"][1], timing["ann"][1]],
             ["Initiation interval (µs)", *(_microseconds(timing[d][1], *timing[d][2:]) for d in ("snn", "ann"))],
             ["Clock period, target (ns)", clocks["snn"][0], clocks["ann"][0]],
             ["Clock period, achieved (ns)", clocks["snn"][1], clocks["ann"][1]]]
    resources = {d: _resources(d, tools) for d in ("snn", "ann")}
    rows += [[label, resources["snn"][i], resources["ann"][i]] for i, (label, _) in enumerate(RESOURCES)]
    rows.append(["On-chip power (W)", _power("snn", tools), _power("ann", tools)])
    rows += _rtl_summary_rows(r)
    return {"id": "summary", "title": "SNN design vs ANN design, per inference",
            "columns": ["", DESIGN_NAMES["snn"], DESIGN_NAMES["ann"], "SNN / ANN"],
            "rows": [row + [_ratio(*row[1:])] for row in rows], "sources": True,
            "note": "Latency, clocks, resources and power come from tool reports when given (run Vivado / Vitis "
                    "HLS on firmware/snn and firmware/ann, then --vivado-dir); the SNN's latency and interval "
                    "fall back to hwflow's cycle model. µs = cycles × the clock period shown in the note. The RTL "
                    "twin rows are the Verilog of hwflow.to_rtl (the SNN's configured architecture, and the ANN "
                    "of the same integer network from the same generator), measured in Verilator and "
                    "synthesized by Yosys: see the RTL table."}


def _rtl_summary_rows(r: dict) -> list[list]:
    """Latency and resources of the RTL twin, the SNN against the ANN of the same generator (the rtl table)."""
    rtl = r.get("rtl") if isinstance(r.get("rtl"), dict) else {}
    why = rtl.get("skipped", "report.json has no rtl (rtl.enabled=false)")
    if "skipped" in rtl or not rtl:
        return [["RTL twin: latency and resources", missing(why), missing(why)]]
    ann = isinstance(rtl.get("ann"), dict)
    rows = []
    for label, key, unit, source in (("mean latency (cycles)", "cycles.mean", "cycles", RTL_SIM),
                                     ("worst latency (cycles)", "cycles.max", "cycles", RTL_SIM),
                                     *((name, f"resources.{name}", "count", SYNTH) for name in ("LUT", "FF", "DSP",
                                                                                                   "BRAM"))):
        design = {d: _at(r, f"rtl{d}.resources") or {} for d in ("", ".ann")}
        reason = {d: design[d].get("skipped", "not synthesized") if source == SYNTH else f"no {key}" for d in design}
        rows.append([f"RTL twin, {label}", _json(r, f"rtl.{key}", unit, source, reason[""]),
                     _json(r, f"rtl.ann.{key}", unit, source, reason[".ann"]) if ann
                     else missing("not built (rtl.ann_baseline=false)")])
    return rows


def run_firmware(r: dict, config: dict) -> Firmware:
    """The firmware a run's tool reports must be of: hwflow's top function, the run's part and clock."""
    hls = r.get("hls") or config.get("hls") or {}
    return Firmware(DEFAULT_PROJECT_NAME, str(hls.get("part", DEFAULT_PART)),
                    float(hls.get("clock_period", DEFAULT_CLOCK_NS)))


def mark_foreign(tables: list[dict], foreign: dict[str, list[str]]) -> None:
    """Note on every value read from a foreign report (used by --trust-foreign-reports) how it differs."""
    for table in tables:
        for row in table["rows"]:
            for v in row:
                if isinstance(v, dict) and v.get("path") in foreign:
                    v["foreign"] = True
                    v["note"] = f"{v['note'] + '; ' if v['note'] else ''}FOREIGN report, trusted: " \
                                + "; ".join(foreign[v["path"]])


def _mismatch_text(what: str, count: Any) -> str:
    return f"{what} differs from QKeras on {count} samples" if is_number(count) else f"{what} not compared"


def _ratio(snn: dict, ann: dict) -> str:
    """SNN / ANN for cost rows, only between two numbers of the same source kind (a tool report of
    the same kind, or the same estimate); otherwise a text saying why there is none."""
    if snn["unit"] not in RATIO_UNITS or snn["value"] is None or ann["value"] is None or ann["value"] == 0:
        return ""
    origin = {d: v["tool"] or v["source"] for d, v in (("snn", snn), ("ann", ann))}
    if origin["snn"] != origin["ann"]:
        return f"not compared ({origin['snn']} vs {origin['ann']})"
    return f"{snn['value'] / ann['value']:.3g}×"


def _feasibility_table(r: dict) -> dict:
    """The feasibility check's resource estimates of the SNN firmware and of hls4ml's ANN against the part."""
    f = r.get("feasibility") if isinstance(r.get("feasibility"), dict) else {}
    device = f.get("device") if isinstance(f.get("device"), dict) else {}
    why_device = f.get("device") if isinstance(f.get("device"), str) else "report.json has no feasibility"
    no_ann = "report.json has no hls_ann.feasibility (hls.ann_baseline: false, or an older run)"
    rows = [[name, _json(r, f"feasibility.total.{name}", "count", FEASIBILITY, "report.json has no feasibility"),
             _json(r, f"hls_ann.feasibility.total.{name}", "count", FEASIBILITY, no_ann),
             value(device[name], "count", CONFIG) if name in device else missing(why_device)]
            for name in ("LUT", "FF", "DSP", "BRAM")]
    rows.append(["activation buffers (bits)", _json(r, "feasibility.buffer_bits_total", "count", FEASIBILITY,
                                                   "report.json has no feasibility"),
                 missing("not estimated for hls4ml's ANN"),
                 missing("not a part resource: in the BRAM estimate above")])
    return {"id": "feasibility", "title": f"Firmware: feasibility estimate on {f.get('part', 'the part')}",
            "columns": ["resource", "SNN firmware estimate", "hls4ml ANN estimate", "part has"], "rows": rows,
            "sources": True,
            "note": "Checked before any file is written (hwflow.hls.feasibility): HLS array limits and these totals. "
                    "Estimates calibrated on Yosys counts of the RTL twin (the SNN's; for hls4ml's ANN, the twin's "
                    "folded ANN at `lanes` multipliers per layer, applied to hls4ml's multipliers at its reuse factors; "
                    "reports/BENCHMARKS.md), not tool reports."}


def _accuracy_table(r: dict) -> dict:
    rows = [["Float Keras model (%)", _json(r, "float_accuracy", "%", MEASURED, "report.json has no float_accuracy")],
            ["Quantized QKeras model = the hls4ml ANN's function (%)",
             _json(r, "ann_accuracy", "%", MEASURED, "report.json has no ann_accuracy")],
            ["SNN, reference simulator (%)",
             _json(r, "snn_accuracy", "%", MEASURED, "report.json has no snn_accuracy")]]
    labels = {"snn_vs_qkeras": "SNN simulator vs QKeras", "csim_vs_qkeras": "SNN firmware C-sim vs QKeras",
              "csim_vs_hls4ml_ann": "SNN firmware C-sim vs hls4ml ANN C-sim",
              "hls4ml_ann_vs_qkeras": "hls4ml ANN C-sim vs QKeras",
              "rtl_vs_qkeras": "SNN RTL twin (Verilator) vs QKeras",
              "rtl_ann_vs_qkeras": "ANN RTL twin (Verilator) vs QKeras",
              "rtl_da4ml_vs_qkeras": "da4ml's fully parallel ANN (Verilator) vs QKeras",
              "csim_cycles_vs_rtl": "SNN firmware C-sim cycles vs the RTL twin's measured cycles (trace samples)"}
    mm = _at(r, "mismatches") or {}
    csim = r.get("csim_samples")
    for name in [*labels, *(k for k in mm if k not in labels and k not in ("trace", "rtl_trace"))]:
        reason = "not comparable: TF float32 may round" if name in mm else "not run"
        on = f" ({csim} samples)" if "csim" in name and csim is not None and csim != r.get("samples") else ""
        rows.append([f"Mismatching samples: {labels.get(name, name)}{on}",
                     _json(r, f"mismatches.{name}", "", MEASURED, reason)])
    if isinstance(r.get("testbench"), dict):
        rows.append([f"Mismatching samples: SNN firmware testbench ({r['testbench'].get('samples', '?')} samples)",
                     _json(r, "testbench.mismatches", "", MEASURED, "not run")])
    rows.append([f"SNN firmware C-sim trace vs simulator, every layer and step ({r.get('trace_samples', '?')} "
                 "samples)", _trace(mm)])
    samples = r.get("samples")
    table = {"id": "accuracy", "title": f"Accuracy and exactness on {samples or 'the'} test samples",
             "columns": ["", "value"], "rows": rows, "sources": True}
    compared = r.get("compared_outputs")
    if isinstance(compared, dict) and len(set(compared.values())) > 1:  # a final softmax / sigmoid
        table["note"] = "; ".join(f"{k} compared on {v}" for k, v in compared.items()) + "."
    return table


def _trace(mm: dict) -> dict:
    """mismatches.trace: None when the firmware's trace equals the simulator's, else the first difference."""
    if "trace" not in mm:
        return missing("not run")
    first = mm["trace"]
    if first is None:
        return value(None, "", MEASURED, text="identical")
    if isinstance(first, dict):
        where = ", ".join(f"{k} {first[k]}" for k in ("layer", "kind", "step", "sample", "index") if k in first)
        return value(None, "", MEASURED, text="differs",
                     note=f"first at {where}: expected {first.get('expected')}, got {first.get('got')}")
    return value(None, "", MEASURED, text="differs", note=str(first))


def _layer_table(r: dict, config: dict) -> dict:
    spn = _at(r, "spikes_per_neuron") or {}
    rows = []
    for i, layer in enumerate(_at(r, "energy_pj.layers") or []):
        name = layer.get("name", f"layer {i}")
        spikes = (_json(r, f"spikes_per_neuron.{name}", "spikes", MEASURED, "") if name in spn
                  else missing("readout: no spikes", "spikes", NOT_APPLICABLE))
        rows.append([name, spikes] + [_json(r, f"energy_pj.layers.{i}.{k}", unit, OP_MODEL, f"no {k}")
                                      for k, unit in (("ann_macs", "ops"), ("snn_macs", "ops"), ("snn_acs", "ops"),
                                                      ("ann_pj", "nJ"), ("snn_pj", "nJ"))])
    return {"id": "layers", "title": "Per layer: spikes and energy per inference",
            "columns": ["layer", "spikes / neuron", "ANN MACs", "SNN MACs", "SNN accumulates", "ANN energy (nJ)",
                        "SNN energy (nJ)"],
            "rows": rows, "sources": False,
            "note": f"Spikes: {MEASURED}, averaged over the test set. Operations and energy: {OP_MODEL}, "
                    f"{_energy_note(r, config)}; an analog (direct-input) first layer is MACs in both designs."
                    + ("" if rows else " Not available: report.json has no energy_pj.layers.")}


def _cycles_table(r: dict) -> dict:
    cycles = r.get("cycles") if isinstance(r.get("cycles"), dict) else {}
    rows = []
    for i, b in enumerate(cycles.get("layers", [])):
        processes = b.get("processes") if isinstance(b.get("processes"), dict) else {}
        rows.append([str(b.get("name", "?")), str(b.get("kind", "?")),
                     ", ".join(f"{name} {count}" for name, count in processes.items()),
                     _json(r, f"cycles.layers.{i}.latency", "cycles", ESTIMATE, "no latency"),
                     _json(r, f"cycles.layers.{i}.ii", "cycles", ESTIMATE, "no ii")])
    if rows:
        rows.append(["network", f"{cycles.get('style', '?')} schedule", "",
                     _json(r, "latency_cycles", "cycles", ESTIMATE, "report.json has no latency_cycles"),
                     _json(r, "initiation_interval", "cycles", ESTIMATE, "report.json has no initiation_interval")])
        for k in ("min", "mean", "max"):
            rows.append([f"network, C simulation ({k} over {len(_at(r, 'csim_cycles.per_sample') or [])} samples)",
                         f"{_at(r, 'hls.strategy') or '?'} strategy", "counted as the loops run",
                         _json(r, f"csim_cycles.{k}", "cycles", CSIM_CYCLES, "report.json has no csim_cycles"),
                         missing("not measured", "cycles")])
        note = (f"Blocks and network: {ESTIMATE} (hls_templates/CYCLES.md). {cycles.get('note') or ''}. The C "
                f"simulation rows are {CSIM_CYCLES}: what the blocks counted on the trace samples.")
    else:
        note = ("Not available: report.json has no cycle-model estimate (cycles); the run built no firmware "
                "(hls.enabled=false) or predates the cycle model.")
    return {"id": "cycles", "title": "SNN firmware: cycle model per block",
            "columns": ["block", "kind", "processes (cycles)", "latency (cycles)", "II (cycles)"], "rows": rows,
            "sources": False, "note": note}


def _rtl_trace(mm: dict) -> dict:
    """mismatches.rtl_trace: None when the RTL's spikes and membranes equal the simulator's, else where they differ."""
    if "rtl_trace" not in mm:
        return missing("not run")
    first = mm["rtl_trace"]
    return value(None, "", RTL_SIM, text="identical") if first is None else value(None, "", RTL_SIM, text="differs",
                                                                                 note=str(first))


RTL_RESOURCES = (("LUT", "LUT"), ("FF", "FF"), ("CARRY", "CARRY"), ("DSP", "DSP"), ("BRAM", "BRAM (18 Kb)"),
                 ("LUTRAM", "LUTRAM (LUTs as RAM)"))


def _rtl_cells(r: dict, key: str) -> list[list]:
    """(label, cell) rows of one RTL design at report.json `key` (rtl, or rtl.ann): cycles, then resources."""
    design = _at(r, key) or {}
    rows = [[f"Cycles per inference, {k}", _json(r, f"{key}.cycles.{k}", "cycles", RTL_SIM, f"no {k}")]
            for k in ("min", "mean", "max")]
    rows.append(["Samples off the documented cycle formula", _json(r, f"{key}.cycles_vs_formula", "count", RTL_SIM, "")])
    res = design.get("resources") if isinstance(design.get("resources"), dict) else {}
    tool = res.get("tool", "Yosys").split(" (")[0]
    for name, label in RTL_RESOURCES:
        rows.append([label, _json(r, f"{key}.resources.{name}", "count", SYNTH, res.get("skipped", "not synthesized"),
                                  note=f"{tool}, {res.get('family', '?')}"
                                       + (f", {res['mapper']}" if res.get("mapper", "default") != "default" else ""))])
    return rows


def _rtl_table(r: dict) -> dict:
    """The RTL twin (hwflow.rtl): the SNN and the ANN of the same network from the same generator,
    outputs and cycles measured in Verilator, resources from Yosys."""
    rtl = r.get("rtl") if isinstance(r.get("rtl"), dict) else None
    base = {"id": "rtl", "title": "RTL twin: Verilator co-simulation and Yosys synthesis, SNN and ANN",
            "columns": ["quantity", "SNN", "ANN", "SNN / ANN"], "sources": True}
    if rtl is None or "skipped" in rtl:
        why = rtl["skipped"] if rtl else "report.json has no rtl (rtl.enabled=false, or a run of an older hwflow)"
        return {**base, "rows": [], "note": f"Not available: {why}."}
    no_ann = missing("not built (rtl.ann_baseline=false)")
    ann = isinstance(rtl.get("ann"), dict)
    rows = [["RTL vs QKeras, mismatching samples",
             _json(r, "mismatches.rtl_vs_qkeras", "count", RTL_SIM, "not comparable (TF float32 may round)"),
             _json(r, "mismatches.rtl_ann_vs_qkeras", "count", RTL_SIM, "not comparable (TF float32 may round)")
             if ann else no_ann],
            ["RTL trace vs snn.trace", _rtl_trace(_at(r, "mismatches") or {}), missing("no spikes", source=NOT_APPLICABLE)]]
    snn_rows, ann_rows = _rtl_cells(r, "rtl"), _rtl_cells(r, "rtl.ann")
    rows += [[label, cell, ann_rows[i][1] if ann else no_ann] for i, (label, cell) in enumerate(snn_rows)]
    fmax = rtl.get("fmax") if isinstance(rtl.get("fmax"), dict) else {}
    rows.append([f"fmax on a Lattice {fmax.get('device', 'ECP5')} (MHz)",
                 _json(r, "rtl.fmax.fmax_mhz", "MHz", PNR, fmax.get("skipped", "not placed and routed"),
                       note=fmax.get("tool")), missing("not placed and routed (the SNN only)")])
    res = rtl.get("resources") if isinstance(rtl.get("resources"), dict) else {}
    return {**base, "rows": [row + [_ratio(*row[1:3]) if row[0] != "Samples off the documented cycle formula" else ""]
                             for row in rows],
            "note": f"SNN: {rtl.get('architecture')} architecture in {rtl.get('dir')}/; ANN: the same integer network "
                    f"as multiply-accumulates over levels (architecture ann) in {_at(r, 'rtl.ann.dir') or '-'}/; "
                    f"{rtl.get('lanes')} lanes each, {rtl.get('buffers', 'frame')} buffers between blocks, "
                    f"{rtl.get('samples')} samples. Cycles: {RTL_SIM}, ap_start to "
                    f"ap_done of the RTL's own handshake, the formulas in hls_templates/rtl/. Resources: {SYNTH} "
                    f"({res.get('tool', 'not run')}); not Vivado numbers and not comparable with the HLS cycle "
                    "model's estimates."}


def _firmware(r: dict) -> str:
    try:
        h = r["hls"]
        return (f"{h['backend']} {h['io_type']}, part {h['part']}, clock {h['clock_period']:g} ns, "
                f"reuse factor {h['reuse_factor']}")
    except (KeyError, TypeError, ValueError):
        return "not built (hls.enabled=false): no cycle model, no C simulation"


def _run_facts(r: dict, config: dict, run_dir: Path) -> list[tuple[str, str]]:
    lam = r.get("lambda")
    return [("Run folder", str(run_dir)), ("Model", f"{r.get('model', '?')} on {r.get('dataset', '?')}"),
             ("Test samples", str(r.get("samples", "?"))),
             ("Time steps T / input encoding", f"{r.get('time_steps', '?')} / {r.get('encoding', '?')}"),
             ("Spike regularizer λ", f"{lam:g}" if is_number(lam) else "?"),
             ("Firmware", _firmware(r)),
             ("Firmware folders",
              ", ".join(str(r[k]) for k in ("firmware_dir", "ann_firmware_dir") if k in r) or "—"),
             ("Energy model", _energy_note(r, config))]


def comparison(run_dir: str | Path, vivado_dirs: Iterable[str | Path] = (), final_dir: str | Path | None = None,
               trust_foreign: bool = False) -> dict:
    """The SNN design vs the hls4ml ANN design of a run, with tool reports from `vivado_dirs`
    (`[snn=|ann=]DIR`, see hwflow.tool_reports.finder) and the run's firmware/ folder.

    Keys: title, run [(label, text)], tables [{id, title, columns, rows, sources, note}] whose rows
    are a label then values (or text), reports [{design, kind, path, used}], warnings, report (report.json).
    final_dir: the folder to name as the run's (where run_dir is about to be moved), if not run_dir.
    Only tool reports of the run's firmware (top function, part, clock) are used, unless trust_foreign:
    then every number read from another design's report says so in its note ('foreign': True).
    """
    run_dir = Path(run_dir)
    r, config = load_run(run_dir)
    dirs = list(vivado_dirs) + ([run_dir / "firmware"] if (run_dir / "firmware").is_dir() else [])
    tools = find_reports(dirs, run_firmware(r, config), trust_foreign)
    tables = [_summary_table(r, config, tools), _accuracy_table(r), _layer_table(r, config), _cycles_table(r),
              _feasibility_table(r), _rtl_table(r)]
    mark_foreign(tables, {str(f.path): f.foreign for f in tools.found if f.used and f.foreign})
    reports = [{"design": f.design or "unknown", "kind": f.kind, "path": str(f.path), "used": f.used}
               for f in tools.found]
    return {"title": f"hwflow report: {r.get('model', run_dir.name)}", "run": _run_facts(r, config, Path(final_dir or run_dir)),
            "tables": tables, "reports": reports, "warnings": tools.warnings, "report": r}

