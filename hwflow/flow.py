"""The end-to-end job and its steps: train (QAT) -> convert -> simulate the test set -> firmware -> report.

`run` does every step in one temporary folder that replaces the run folder when all succeeded. The
CLI's step-by-step verbs use the same steps on an existing run folder: `convert` writes snn.json,
which later verbs load; `simulate` and `csim` merge their fields into report.json, which `report`
renders.
"""
from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np

from hwflow.convert import convert
from hwflow.energy import EnergyModel, energy
from hwflow.errors import HwflowError
from hwflow.metrics import accuracy, count_mismatches
from hwflow.ops.output_function import compared_outputs, qkeras_reference
from hwflow.outputs import check_writable, output_dir, write_file
from hwflow.serialize import load_snn, snn_json
from hwflow.snn import SNN, RunStats

SNN_FILE = "snn.json"
REPORT_FILE = "report.json"
RUN_WRITES = ("model.h5", "config.yaml", SNN_FILE, REPORT_FILE, "report.html", "report.md",
              "trace_sample0.npz")  # the files at a run folder's top level


def convert_run(model, cfg: dict, encoding: str | None = None) -> SNN:
    """The SNN of a trained run's model, with the run's T and (unless given) input encoding."""
    return convert(model, time_steps=cfg["time_steps"], encoding=encoding or cfg["input"]["encoding"])


def run_snn(run_dir: Path, model, cfg: dict) -> SNN:
    """The run's SNN: RUN_DIR/snn.json as `hwflow convert` wrote it, else converted now and saved there."""
    path = Path(run_dir) / SNN_FILE
    if path.is_file():
        return load_snn(path)
    snn = convert_run(model, cfg)
    save_snn(snn, path)
    return snn


def save_snn(snn: SNN, path: Path) -> None:
    """The SNN IR as JSON at `path`, recorded as hwflow's output of its folder."""
    write_file(Path(path).parent, Path(path).name, snn_json(snn))


def report_header(cfg: dict, dataset: str, snn: SNN) -> dict:
    """The fields every report.json starts with."""
    return {"model": cfg["name"], "dataset": dataset, "time_steps": cfg["time_steps"],
            "encoding": snn.encoder.encoding, "lambda": cfg["train"]["lambda"]}


def update_report(run_dir: Path, fields: dict) -> dict:
    """Merge fields into RUN_DIR/report.json (written whole, through a temporary file); the merged report."""
    path = Path(run_dir) / REPORT_FILE
    report = json.loads(path.read_text()) if path.is_file() else {}
    for key, value in fields.items():
        if isinstance(value, dict) and isinstance(report.get(key), dict):
            report[key] = {**report[key], **value}
        else:
            report[key] = value
    write_file(Path(run_dir), REPORT_FILE, json.dumps(report, indent=2, default=json_value))
    return report


def evaluate(snn: SNN, model, x: np.ndarray, y: np.ndarray, cfg: dict,
             progress: bool = True) -> tuple[np.ndarray, dict]:
    """Simulate x with the SNN and the QKeras model: the QKeras outputs, and the report fields
    (accuracies, mismatches, spikes, energy)."""
    t0 = time.perf_counter()
    ann_out = model.predict(x, batch_size=1000, verbose=0)
    t_ann = time.perf_counter() - t0
    t0 = time.perf_counter()
    stats: RunStats = snn.run(x, progress=progress)
    t_snn = time.perf_counter() - t0
    model = EnergyModel.from_config(cfg)
    rows = energy(snn, stats, model)
    comparable = snn.tf_float32_exact
    return ann_out, {
        "samples": int(len(x)),
        "ann_accuracy": accuracy(ann_out, y),
        "snn_accuracy": accuracy(stats.output, y),
        "mismatches": {"snn_vs_qkeras": count_mismatches(stats.output, ann_out) if comparable else None},
        "compared_outputs": compared_outputs(snn.output_function),
        "tf_float32_exact": comparable,
        "tf_inexact_layers": snn.tf_inexact_layers(),
        "spikes_per_neuron": stats.spikes_per_neuron(),
        "spikes_per_sample": sum(stats.spikes.values()) / stats.samples,
        "input_spikes_per_sample": stats.input_spikes / stats.samples,
        "energy_pj": {"ann": sum(r.ann_pj for r in rows), "snn": sum(r.snn_pj for r in rows),
                      "model": model.name, "assumption": model.assumption, "layers": [r.__dict__ for r in rows]},
        "seconds": {"qkeras_predict": t_ann, "snn_simulate": t_snn},
    }


def json_value(obj):
    """numpy scalars and arrays as plain JSON values."""
    return obj.tolist() if hasattr(obj, "tolist") else str(obj)


def save_trace(snn: SNN, x: np.ndarray, path: Path) -> None:
    """Spike planes [B, T, ...] and membranes of every layer for x, as LAYER.spikes / LAYER.membrane."""
    tr = snn.trace(x)
    arrays = {}
    for name, lt in tr.layers.items():
        for kind in ("spikes", "membrane"):
            if getattr(lt, kind) is not None:
                arrays[f"{name}.{kind}"] = getattr(lt, kind)
    np.savez_compressed(path, **arrays)


def preflight(cfg: dict) -> None:
    """Check, before any training, what the firmware and RTL stages would reject after it: the compiler,
    the firmware options and the RTL lanes against the layer sizes (on the untrained model of the same
    architecture). A network the RTL generator does not cover is no error: its RTL stage says so."""
    if not cfg["hls"]["enabled"] and not cfg["rtl"]["enabled"]:
        return
    from hwflow.model_builder import build_model

    model = build_model(cfg)
    snn = convert_run(model, cfg)
    if cfg["rtl"]["enabled"]:
        from hwflow.rtl.generate import check_options
        try:
            check_options(snn, cfg["rtl"]["lanes"], cfg["rtl"]["architecture"], cfg["rtl"]["buffers"])
        except HwflowError as exc:
            raise HwflowError(f"rtl: {exc} (or set rtl.enabled: false)") from None
    if cfg["hls"]["enabled"]:
        from hwflow.hls.lower import feasible
        from hwflow.hls.toolchain import require_gxx
        from hwflow.options import FirmwareOptions

        require_gxx("the firmware stage (hls.enabled: true; set it false to skip firmware)")
        opts = FirmwareOptions.from_config(cfg)
        try:  # what the HLS tools and the part accept, before training (hls4ml's ANN too, when it is built)
            feasible(snn, opts)
            if cfg["hls"]["ann_baseline"]:
                from hwflow.hls.ann import ann_settings
                from hwflow.ops.output_function import logits_model

                ann_settings(logits_model(model), opts, snn)
        except HwflowError as exc:
            raise HwflowError(f"hls: {exc} (set it in the config's hls section)") from None


def run(cfg: dict, out: Path, progress: bool = True, force: bool = False) -> dict:
    """Train the configured model, convert it, simulate the whole test set and write out/report.json.

    What can be checked without training (preflight, and out's foreign files: see hwflow.outputs)
    is checked first."""
    from hwflow.train import train
    preflight(cfg)
    check_writable(out, force, RUN_WRITES)
    with output_dir(out, force, RUN_WRITES) as tmp:
        t0 = time.perf_counter()
        result = train(cfg, tmp, verbose=2 if progress else 0)
        t_train = time.perf_counter() - t0
        ds = result.dataset
        snn = convert_run(result.model, cfg)
        report = report_header(cfg, ds.name, snn)
        x = snn.quantize_input(ds.x_test)
        ann_out, fields = evaluate(snn, result.model, x, ds.y_test, cfg, progress)
        report.update(fields)
        y_hw = qkeras_reference(result.model, x, snn.output_function, ann_out)  # what the firmware computes
        report["seconds"]["train"] = t_train
        if cfg["train"]["float_baseline"]:
            t0 = time.perf_counter()
            report["float_accuracy"] = train(cfg, verbose=0, quantized=False).test_accuracy
            report["seconds"]["train_float"] = time.perf_counter() - t0
        if cfg["hls"]["enabled"]:
            from hwflow.firmware import FIRMWARE_DIR, firmware_stage
            fw = firmware_stage(snn, result.model, x, y_hw, cfg, tmp / FIRMWARE_DIR, progress)
            report["mismatches"].update(fw.pop("mismatches"))
            report.update(fw)
        if cfg["rtl"]["enabled"]:
            from hwflow.rtl.stage import RTL_DIR, rtl_stage
            rtl = rtl_stage(snn, x, y_hw, cfg, tmp / RTL_DIR, progress, csim=report.get("csim_cycles"))
            report["mismatches"].update(rtl.pop("mismatches"))
            report.update(rtl)
        save_snn(snn, tmp / SNN_FILE)
        save_trace(snn, x[:1], tmp / "trace_sample0.npz")
        update_report(tmp, report)
        from hwflow.report_page import write_report
        write_report(tmp, final_dir=out)
    return report


def summary(report: dict) -> str:
    """A short human-readable summary of a report."""
    mm_fw = report["mismatches"]
    mm = mm_fw["snn_vs_qkeras"]
    lines = [f"{report['model']} on {report['dataset']}: T={report['time_steps']}, {report['samples']} test samples",
             "  accuracy   " + (f"float {report['float_accuracy']:.4f}   " if "float_accuracy" in report else "")
             + f"QKeras {report['ann_accuracy']:.4f}   SNN {report['snn_accuracy']:.4f}",
             f"  mismatches SNN vs QKeras: {mm if mm is not None else 'not comparable (TF float32 may round in ' + ', '.join(report['tf_inexact_layers']) + ')'}",
             *([f"  firmware C simulation ({report['hls']['backend']}, {report['hls']['io_type']}): "
                f"vs QKeras {mm_fw['csim_vs_qkeras']}, vs hls4ml ANN {mm_fw.get('csim_vs_hls4ml_ann', 'not built')} "
                f"mismatches; in {report['firmware_dir']}",
                f"  firmware trace of {report['trace_samples']} samples vs snn.trace: first difference "
                f"{mm_fw['trace']}; testbench {report['testbench']['samples']} samples, "
                f"{report['testbench']['mismatches']} mismatches",
                f"  cycles ({report['cycles']['source']}, {report['hls']['strategy']}, {report['cycles']['style']}): "
                f"latency {report['latency_cycles']}, II {report['initiation_interval']}"
                + (f"; C simulation (measured, {len(report['csim_cycles']['per_sample'])} samples) min "
                   f"{report['csim_cycles']['min']} mean {report['csim_cycles']['mean']:.1f} max "
                   f"{report['csim_cycles']['max']}" if "csim_cycles" in report else "")
                + (f", {mm_fw['csim_cycles_vs_rtl']} samples off the RTL twin's" if "csim_cycles_vs_rtl" in mm_fw
                   else ""),
                *([f"  feasibility on {report['feasibility']['part']} (estimate): " + " ".join(
                    f"{k} {v}" for k, v in report["feasibility"]["total"].items())] if "feasibility" in report else [])]
             if "firmware_dir" in report else []),
             *rtl_summary(report),
             "  spikes/neuron " + "  ".join(f"{k} {v:.3f}" for k, v in report["spikes_per_neuron"].items()),
             f"  energy/inference  ANN {report['energy_pj']['ann'] / 1e3:.2f} nJ   SNN {report['energy_pj']['snn'] / 1e3:.2f} nJ"
             f"   (model {report['energy_pj'].get('model', 'fp32_45')}, an estimate)"]
    return "\n".join(lines)


def rtl_summary(report: dict) -> list[str]:
    """The RTL twin's lines of the summary: what was measured, by which tool."""
    rtl = report.get("rtl")
    if rtl is None:
        return []
    if "skipped" in rtl:
        return [f"  RTL twin: skipped, {rtl['skipped']}"]
    c, mm = rtl["cycles"], report["mismatches"]
    lines = [f"  RTL twin ({rtl['architecture']}, {rtl['lanes']} lanes, Verilator): vs QKeras {mm['rtl_vs_qkeras']} "
             f"mismatches, trace first difference {mm['rtl_trace']}; cycles per inference min {c['min']} mean "
             f"{c['mean']:.1f} max {c['max']} (measured; {rtl['cycles_vs_formula']} samples off the formula)"]
    res = rtl.get("resources")
    if res and "skipped" not in res:
        lines.append(f"  RTL twin synthesis (Yosys synth_xilinx {res['family']}, before place and route): LUT {res['LUT']} "
                     f"FF {res['FF']} CARRY {res['CARRY']} DSP {res['DSP']} BRAM18 {res['BRAM']} LUTRAM {res['LUTRAM']}")
    elif res:
        lines.append(f"  RTL twin synthesis: skipped, {res['skipped']}")
    ann = rtl.get("ann")
    if ann:
        a, res = ann["cycles"], ann.get("resources") or {}
        lines.append(f"  RTL ANN of the same network (ann, Verilator): vs QKeras {mm.get('rtl_ann_vs_qkeras')} "
                     f"mismatches; cycles mean {a['mean']:.1f} max {a['max']}"
                     + (f"; LUT {res['LUT']} FF {res['FF']} DSP {res['DSP']} BRAM18 {res['BRAM']}"
                        if "LUT" in res else ""))
    da4ml = report.get("rtl_da4ml")
    if da4ml:
        res = da4ml.get("resources") or {}
        lines.append(f"  da4ml {da4ml['da4ml']} (fully parallel ANN, pipelined, Verilator): vs QKeras "
                     f"{mm.get('rtl_da4ml_vs_qkeras')} mismatches; latency {da4ml['latency_cycles']} cycles, a new "
                     f"input every cycle" + (f"; LUT {res['LUT']} FF {res['FF']} DSP {res['DSP']} (Yosys, flattened)"
                                             if "LUT" in res else f"; {res.get('skipped', 'not synthesized')}"))
    fmax = rtl.get("fmax")
    if fmax and "skipped" not in fmax:
        lines.append(f"  RTL twin on a Lattice {fmax['device']} (nextpnr place and route; an ECP5 figure, not a "
                     f"Xilinx one): fmax {fmax['fmax_mhz']:.1f} MHz, {c['mean'] / fmax['fmax_mhz']:.1f} us per "
                     f"inference at the mean cycles")
    return lines
