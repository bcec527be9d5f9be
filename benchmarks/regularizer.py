"""Spike regularizer benchmark: train a zoo model at several lambdas, measure accuracy, spikes, energy.

    python benchmarks/regularizer.py mnist_mlp --lambdas 0,1e-4 --time-steps 4
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import ROOT, machine, save  # noqa: E402

from hwflow.config import load_config  # noqa: E402
from hwflow.flow import run  # noqa: E402


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("config")
    p.add_argument("--lambdas", default="0,1e-4")
    p.add_argument("--time-steps", type=int, default=4)
    args = p.parse_args()
    rows = []
    for lam in [float(v) for v in args.lambdas.split(",")]:
        cfg = load_config(args.config, overrides={"time_steps": args.time_steps, "train": {"lambda": lam, "float_baseline": False},
                                                       "hls": {"enabled": False}})
        t0 = time.perf_counter()
        report = run(cfg, ROOT / "runs" / "bench" / f"{args.config}_T{args.time_steps}_lam{lam:g}", progress=False)
        rows.append({"lambda": lam, "seconds": time.perf_counter() - t0, **{k: report[k] for k in (
            "ann_accuracy", "snn_accuracy", "mismatches", "spikes_per_neuron", "spikes_per_sample", "energy_pj")}})
        r = rows[-1]
        print(f"lambda {lam:g}: acc {r['snn_accuracy']:.4f} spikes/sample {r['spikes_per_sample']:.1f} "
              f"mismatches {r['mismatches']['snn_vs_qkeras']} ({r['seconds']:.0f} s)", flush=True)
    base = rows[0]
    for r in rows:
        r["spike_reduction"] = 1 - r["spikes_per_sample"] / base["spikes_per_sample"]
        r["accuracy_drop_points"] = 100 * (base["snn_accuracy"] - r["snn_accuracy"])
    out = save(f"regularizer_{args.config}_T{args.time_steps}", {
        "command": "python " + " ".join(sys.argv), "config": args.config, "time_steps": args.time_steps,
        "machine": machine(), "rows": rows})
    print(f"written {out}")
    print("| lambda | SNN acc | = QKeras | spikes/neuron (per layer) | spikes/sample | reduction | ANN nJ | SNN nJ |")
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        spn = ", ".join(f"{v:.3f}" for v in r["spikes_per_neuron"].values())
        print(f"| {r['lambda']:g} | {100 * r['snn_accuracy']:.2f} % | {r['mismatches']['snn_vs_qkeras']} mismatches "
              f"| {spn} | {r['spikes_per_sample']:.1f} | {100 * r['spike_reduction']:.1f} % "
              f"| {r['energy_pj']['ann'] / 1e3:.1f} | {r['energy_pj']['snn'] / 1e3:.1f} |")


if __name__ == "__main__":
    main()
