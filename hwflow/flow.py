"""The end-to-end job: train (QAT) -> convert -> simulate the test set -> report.json."""
from __future__ import annotations

import json
import shutil
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from hwflow.convert import convert
from hwflow.energy import energy
from hwflow.snn import SNN, RunStats


def count_mismatches(a: np.ndarray, b: np.ndarray) -> int:
    """Number of samples whose outputs differ in any element (exact comparison)."""
    if a.shape != b.shape:
        raise ValueError(f"output shapes differ: {a.shape} vs {b.shape}")
    return int(np.any(a.reshape(len(a), -1) != b.reshape(len(b), -1), axis=1).sum())


@contextmanager
def atomic_dir(out: Path):
    """Yield a temporary folder that replaces `out` only if the block succeeds (no partial output)."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.partial-", dir=out.parent))
    try:
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    if out.exists():
        shutil.rmtree(out)
    tmp.rename(out)


def accuracy(outputs: np.ndarray, labels: np.ndarray) -> float:
    return float(np.mean(np.argmax(outputs, axis=1) == labels))


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
    e_cfg = cfg.get("energy", {})
    rows = energy(snn, stats, e_cfg.get("e_mac_pj", 4.6), e_cfg.get("e_ac_pj", 0.9))
    comparable = snn.tf_float32_exact
    return ann_out, {
        "samples": int(len(x)),
        "ann_accuracy": accuracy(ann_out, y),
        "snn_accuracy": accuracy(stats.output, y),
        "mismatches": {"snn_vs_qkeras": count_mismatches(stats.output, ann_out) if comparable else None},
        "tf_float32_exact": comparable,
        "tf_inexact_layers": snn.tf_inexact_layers(),
        "spikes_per_neuron": stats.spikes_per_neuron(),
        "spikes_per_sample": sum(stats.spikes.values()) / stats.samples,
        "input_spikes_per_sample": stats.input_spikes / stats.samples,
        "energy_pj": {"ann": sum(r.ann_pj for r in rows), "snn": sum(r.snn_pj for r in rows),
                      "layers": [r.__dict__ for r in rows]},
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


def run(cfg: dict, out: Path, progress: bool = True) -> dict:
    """Train the configured model, convert it, simulate the whole test set and write out/report.json."""
    from hwflow.train import train
    with atomic_dir(out) as tmp:
        t0 = time.perf_counter()
        result = train(cfg, tmp, verbose=2 if progress else 0)
        t_train = time.perf_counter() - t0
        ds = result.dataset
        snn = convert(result.model, time_steps=cfg["time_steps"], encoding=cfg["input"]["encoding"])
        report = {"model": cfg["name"], "dataset": ds.name, "time_steps": cfg["time_steps"],
                  "encoding": cfg["input"]["encoding"], "lambda": cfg["train"]["lambda"]}
        x = snn.quantize_input(ds.x_test)
        ann_out, fields = evaluate(snn, result.model, x, ds.y_test, cfg, progress)
        report.update(fields)
        report["seconds"]["train"] = t_train
        if cfg["train"]["float_baseline"]:
            t0 = time.perf_counter()
            report["float_accuracy"] = train(cfg, verbose=0, quantized=False).test_accuracy
            report["seconds"]["train_float"] = time.perf_counter() - t0
        if cfg["hls"]["enabled"]:
            from hwflow.firmware import firmware_stage
            fw = firmware_stage(snn, result.model, x, ann_out, cfg, tmp)
            report["mismatches"].update(fw.pop("mismatches"))
            report.update(fw)
        from hwflow.serialize import save_snn
        save_snn(snn, tmp / "snn.json")
        save_trace(snn, x[:1], tmp / "trace_sample0.npz")
        (tmp / "report.json").write_text(json.dumps(report, indent=2, default=json_value))
    from hwflow.report import write_report
    try:
        write_report(out)
    except BaseException:
        shutil.rmtree(out, ignore_errors=True)  # no half-written run folder
        raise
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
                f"  cycles ({report['cycles']['source']}, {report['cycles']['style']}): latency "
                f"{report['latency_cycles']}, II {report['initiation_interval']}"] if "firmware_dir" in report else []),
             "  spikes/neuron " + "  ".join(f"{k} {v:.3f}" for k, v in report["spikes_per_neuron"].items()),
             f"  energy/inference  ANN {report['energy_pj']['ann'] / 1e3:.2f} nJ   SNN {report['energy_pj']['snn'] / 1e3:.2f} nJ"]
    return "\n".join(lines)
