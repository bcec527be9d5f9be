"""SNN design vs hls4ml ANN design per model: the full `hwflow run` of the zoo model as shipped
(training, SNN, firmware and hls4ml's ANN C-simulated on the test set, the RTL twin in Verilator and Yosys).

    python benchmarks/designs.py mnist_mlp mnist_cnn
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import ROOT, machine, save  # noqa: E402

from hwflow.config import load_config  # noqa: E402
from hwflow.flow import run  # noqa: E402

KEYS = ("model", "time_steps", "samples", "ann_accuracy", "snn_accuracy", "mismatches", "spikes_per_neuron",
        "spikes_per_sample", "energy_pj", "latency_cycles", "initiation_interval", "cycles", "csim_cycles", "hls",
        "hls_ann", "feasibility", "rtl", "testbench", "firmware_seconds", "seconds")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("configs", nargs="+")
    args = p.parse_args()
    rows = []
    for name in args.configs:
        report = run(load_config(name), ROOT / "runs" / "bench" / f"{name}_design", progress=False)
        rows.append({k: report.get(k) for k in KEYS})
        r = rows[-1]
        print(f"{name}: acc {r['snn_accuracy']:.4f}, mismatches {r['mismatches']}, spikes/sample "
              f"{r['spikes_per_sample']:.1f}, energy ANN {r['energy_pj']['ann'] / 1e3:.1f} nJ / SNN "
              f"{r['energy_pj']['snn'] / 1e3:.1f} nJ, SNN latency {r['latency_cycles']} cycles "
              f"II {r['initiation_interval']} ({r['cycles']['style']}), C-sim cycles {r['csim_cycles']['mean']:.1f} "
              f"(max {r['csim_cycles']['max']}) on the trace samples, RTL cycles {r['rtl']['cycles']}, "
              f"Yosys {r['rtl']['resources']}", flush=True)
    out = save("designs", {"command": "python " + " ".join(sys.argv), "machine": machine(), "rows": rows})
    print(f"written {out}")


if __name__ == "__main__":
    main()
