"""Reference-simulator throughput: snn.predict vs qkeras_model.predict on the MNIST test set.

    python benchmarks/throughput.py mnist_mlp mnist_cnn --repeats 3
Training quality does not change the simulator's cost (its matmuls are dense), so each model is
trained for one epoch on 5000 samples; the timed sets are the full 10000-sample test set.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import machine, save  # noqa: E402

import hwflow  # noqa: E402
from hwflow.config import load_config  # noqa: E402
from hwflow.metrics import count_mismatches  # noqa: E402
from hwflow.train import train  # noqa: E402


def best_time(fn, repeats: int) -> tuple[float, np.ndarray]:
    best, out = float("inf"), None
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("configs", nargs="+")
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--batch-size", type=int, default=1000)
    args = p.parse_args()
    rows = []
    for name in args.configs:
        cfg = load_config(name, overrides={"train": {"epochs": 1}, "dataset": {"limit_train": 5000}})
        result = train(cfg, verbose=0)
        snn = hwflow.convert(result.model, encoding=cfg["input"]["encoding"])
        x = result.dataset.x_test
        t_ann, y_ann = best_time(lambda: result.model.predict(x, batch_size=args.batch_size, verbose=0), args.repeats)
        t_snn, y_snn = best_time(lambda: snn.predict(x, batch_size=args.batch_size), args.repeats)
        row = {"model": name, "samples": len(x), "time_steps": cfg["time_steps"],
               "qkeras_samples_per_s": len(x) / t_ann, "snn_samples_per_s": len(x) / t_snn,
               "snn_over_qkeras": t_ann / t_snn, "mismatches": count_mismatches(y_snn, y_ann)}
        rows.append(row)
        print(f"{name}: QKeras {row['qkeras_samples_per_s']:.0f}/s  SNN {row['snn_samples_per_s']:.0f}/s  "
              f"ratio {row['snn_over_qkeras']:.2f}  mismatches {row['mismatches']}", flush=True)
    out = save("throughput_reference_simulator", {"command": "python " + " ".join(sys.argv),
                                                  "machine": machine(), "batch_size": args.batch_size, "rows": rows})
    print(f"written {out}")


if __name__ == "__main__":
    main()
