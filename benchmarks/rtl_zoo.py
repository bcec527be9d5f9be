"""RTL exactness on the zoo: every zoo model's RTL twin equals QKeras on every test sample, for every
architecture and for lanes 1, an odd number and at least 8; measured cycles equal the blocks' formulas.

    python benchmarks/rtl_zoo.py digits_mlp mnist_mlp mnist_cnn --lanes 1,5,8
    python benchmarks/rtl_zoo.py mnist_cnn --name rtl_zoo_mnist_cnn   # its own reports/rtl_zoo_mnist_cnn.json

For each config: train (the zoo's epochs, or reuse RUN_DIR/NAME with --reuse), then for every
architecture and lanes: Verilator outputs against QKeras (mismatching samples) and measured cycles
against the formulas (samples off), on the whole test set unless --samples.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import ROOT, machine, save  # noqa: E402

from hwflow.config import load_config  # noqa: E402
from hwflow.datasets import load_dataset  # noqa: E402
from hwflow.flow import SNN_FILE, run  # noqa: E402
from hwflow.metrics import count_mismatches  # noqa: E402
from hwflow.ops.output_function import qkeras_reference  # noqa: E402
from hwflow.rtl import to_rtl  # noqa: E402
from hwflow.rtl.block import ARCHITECTURES  # noqa: E402
from hwflow.serialize import load_snn  # noqa: E402
from hwflow.train import load_trained  # noqa: E402


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("configs", nargs="+")
    p.add_argument("--lanes", default="1,5,8")
    p.add_argument("--architectures", default=",".join(ARCHITECTURES))
    p.add_argument("--samples", type=int, default=None, help="the first N test samples (default all)")
    p.add_argument("--reuse", action="store_true", help="reuse runs/bench/zoo_NAME when it holds a trained model")
    p.add_argument("--buffers", default="frame", choices=("frame", "line"), help="memories between the blocks")
    p.add_argument("--name", default="rtl_zoo", help="the result file: reports/NAME.json")
    args = p.parse_args()
    rows = []
    for name in args.configs:
        cfg = load_config(name, overrides={"train": {"float_baseline": False}, "hls": {"enabled": False},
                                           "rtl": {"enabled": False}})
        run_dir = ROOT / "runs" / "bench" / f"zoo_{name}"
        if not (args.reuse and (run_dir / SNN_FILE).is_file()):
            run(cfg, run_dir, progress=False, force=True)
        model, _ = load_trained(run_dir)
        snn = load_snn(run_dir / SNN_FILE)
        ds = load_dataset(cfg["dataset"]["name"], cfg["dataset"]["path"], limit_test=args.samples)
        x = snn.quantize_input(ds.x_test)
        y = qkeras_reference(model, x, snn.output_function)  # the logits, where the model ends in a softmax
        for architecture in args.architectures.split(","):
            for lanes in (int(v) for v in args.lanes.split(",")):
                t0 = time.perf_counter()
                design = to_rtl(snn, run_dir / f"rtl_{architecture}_{lanes}", architecture, lanes, force=True,
                                buffers=args.buffers)
                sim = design.simulate(x, progress=True)
                row = {"config": name, "encoding": cfg["input"]["encoding"], "architecture": architecture,
                       "lanes": lanes, "buffers": args.buffers, "samples": len(x), "mismatches_vs_qkeras": count_mismatches(sim.output, y),
                       "cycles_off_formula": int((sim.cycles != design.cycle_model(x)).sum()),
                       "cycles_mean": float(sim.cycles.mean()), "cycles_max": int(sim.cycles.max()),
                       "seconds": time.perf_counter() - t0}
                rows.append(row)
                print(f"{name} {architecture} lanes {lanes}: {row['mismatches_vs_qkeras']} mismatches, "
                      f"{row['cycles_off_formula']} off the formula, cycles {row['cycles_mean']:.0f} "
                      f"(max {row['cycles_max']}), {row['seconds']:.0f} s", flush=True)
                out = save(args.name, {"command": "python " + " ".join(sys.argv), "machine": machine(), "rows": rows})
    print(f"written {out}")
    print(table(rows))


def table(rows: list[dict]) -> str:
    """The Markdown table of reports/BENCHMARKS.md."""
    lines = ["| model | input | architecture | lanes | samples | mismatches vs QKeras | off the cycle formula "
             "| cycles mean / max |", "|---|---|---|---|---|---|---|---|"]
    lines += [f"| {r['config']} | {r['encoding']} | {r['architecture']} | {r['lanes']} | {r['samples']:,} | "
              f"{r['mismatches_vs_qkeras']} | {r['cycles_off_formula']} | {r['cycles_mean']:,.0f} / {r['cycles_max']:,} |"
              for r in rows]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
