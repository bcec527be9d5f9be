"""Calibrate hwflow.hls.feasibility's resource estimate on Yosys counts of the RTL twin.

For every SNN row of reports/hardware_*.json (Yosys synth_xilinx of the RTL twin, event and folded)
it loads the run's SNN (runs/bench/hw_<config>_<encoding>_lam<lambda>/snn.json, written by
benchmarks/hardware.py), lowers it with the same strategy and lanes, fits the estimate's constants
by least squares on the features below and prints estimate vs Yosys per row with the error.

    python benchmarks/calibrate.py          # writes reports/feasibility_calibration.json
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import REPORTS, ROOT, save  # noqa: E402

from hwflow.hls import feasibility  # noqa: E402
from hwflow.hls.lower import feasible, layer_list  # noqa: E402
from hwflow.options import FirmwareOptions  # noqa: E402
from hwflow.serialize import load_snn  # noqa: E402

FILES = ("hardware_digits_mlp", "hardware_digits_mlp_bitplane", "hardware_mnist_cnn", "hardware_mnist_mlp",
         "hardware_mnist_mlp_1e-4")


def features(dicts: list[dict]) -> dict[str, float]:
    """What the estimate is linear in: lane bits (adder bits plus firing bits), blocks (all of them)."""
    syn = [d for d in dicts[1:] if "weight_data" in d]
    return {"lane_bits": sum(d["lanes"] * d["membrane_bits"] * (1 + bool(d["out_steps"])) for d in syn),
            "blocks": len(dicts) - 1}


def main() -> None:
    rows = []
    for name in FILES:
        for r in json.loads((REPORTS / f"{name}.json").read_text())["rows"]:
            if not r["design"].startswith("SNN"):
                continue
            run = ROOT / "runs" / "bench" / f"hw_{r['config']}_{r['encoding']}_lam{r['lambda']:g}"
            if not (run / "snn.json").exists():
                print(f"skipped {run.name}: no snn.json (run benchmarks/hardware.py first)")
                continue
            strategy = r["design"].split()[1]
            opts = FirmwareOptions(strategy=strategy, lanes=r["lanes"])
            dicts, _ = layer_list(load_snn(run / "snn.json"), opts)
            rows.append(dict(source=name, run=run.name, strategy=strategy, lanes=r["lanes"], yosys=r,
                             features=features(dicts), estimate=vars(feasible(load_snn(run / "snn.json"), opts).total)))
    keys = ("lane_bits", "blocks")
    a = np.array([[row["features"][k] for k in keys] for row in rows], dtype=float)
    fit = {}
    for target in ("LUT", "FF"):
        y = np.array([row["yosys"][target] for row in rows], dtype=float)
        coef, *_ = np.linalg.lstsq(a, y, rcond=None)
        fit[target] = dict(zip(keys, coef.round(3).tolist()))
    print(f"{'run':<34}{'design':<8}{'LUT est':>9}{'Yosys':>7}{'err':>7}{'FF est':>8}{'Yosys':>7}{'err':>7}"
          f"{'BRAM est':>9}{'Yosys':>6}{'DSP est':>8}{'Yosys':>6}")
    errors = {"LUT": [], "FF": []}
    for row in rows:
        e, y = row["estimate"], row["yosys"]
        for k in errors:
            errors[k].append(e[k] / y[k] - 1)
        print(f"{row['run']:<34}{row['strategy']:<8}{e['LUT']:>9}{y['LUT']:>7}{e['LUT'] / y['LUT'] - 1:>7.0%}"
              f"{e['FF']:>8}{y['FF']:>7}{e['FF'] / y['FF'] - 1:>7.0%}{e['BRAM']:>9}{y['BRAM']:>6}{e['DSP']:>8}"
              f"{y['DSP']:>6}")
    summary = {k: {"mean_abs_error": float(np.mean(np.abs(v))), "worst_error": float(max(v, key=abs))}
               for k, v in errors.items()}
    print("least-squares constants on these rows:", json.dumps(fit))
    print("estimate error:", json.dumps(summary))
    save("feasibility_calibration", dict(command="python benchmarks/calibrate.py", fit=fit, error=summary,
                                         constants=dict(LUT_PER_BIT=feasibility.LUT_PER_BIT,
                                                        FF_PER_BIT=feasibility.FF_PER_BIT,
                                                        FF_PER_BLOCK=feasibility.FF_PER_BLOCK),
                                         rows=rows))


if __name__ == "__main__":
    main()
