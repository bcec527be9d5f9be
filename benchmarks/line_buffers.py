"""Line buffers in the RTL twin: the same trained network with whole frames between its blocks (blocks one after
another) and with rings of line buffers (blocks at once, row by row), measured in Verilator and synthesized by Yosys.

    python benchmarks/line_buffers.py zoo_mnist_cnn hw_mnist_cnn_bitplane_lam0.0001 --architectures event,ann --samples 1000

RUN names folders under runs/bench/ that hold a trained run (benchmarks/rtl_zoo.py, benchmarks/hardware.py write
them). For each run, architecture and buffers: outputs vs QKeras (mismatching samples), cycles per inference
measured in Verilator against the model (the sum of the blocks' formulas, or the row schedule of
hwflow.rtl.schedule), the bits of the memories between blocks (as generated), and Yosys synth_xilinx totals.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import ROOT, machine, save  # noqa: E402

from hwflow.datasets import load_dataset  # noqa: E402
from hwflow.flow import SNN_FILE  # noqa: E402
from hwflow.metrics import count_mismatches  # noqa: E402
from hwflow.rtl import to_rtl  # noqa: E402
from hwflow.rtl.block import BUFFERS  # noqa: E402
from hwflow.serialize import load_snn  # noqa: E402
from hwflow.train import load_trained  # noqa: E402


def pow2(n: int) -> int:
    return 1 << max(n - 1, 0).bit_length()


def buffer_bits(design) -> int:
    """Bits of the memories between blocks as the templates declare them (hls_templates/rtl/): the encoder's
    and every layer's and pool's output memory, rows kept x row width x words per pixel x planes (spike planes
    at a power-of-two stride) x word bits; not the readout's membranes."""
    total = 0
    for prod in design.stages[:-2]:
        p, width = prod.params, prod.rows[1]
        if prod.module == "hwflow_encode":
            words = p["RING"] * width * (-(-p["C"] // p["WORD"]) if p["BITPLANE"] else p["C"])
            total += words * (p["STEPS"] * p["WORD"] if p["BITPLANE"] else p["LEVEL_BITS"])
        elif prod.module == "hwflow_maxpool":
            words = pow2(p["OUT_RING"] * width * -(-p["C"] // p["WORD"]))
            total += p["STEPS"] * words * p["WORD"] * (p["BITS"] if p["ANALOG"] else 1)
        else:
            words = p["OUT_RING"] * width * -(-p["N_OUT"] // p["LANES"])
            total += words * p["LANES"] * (p["OUT_STEPS"] + 1) if p["ANN"] else p["OUT_STEPS"] * pow2(words) * p["LANES"]
    return total


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("runs", nargs="+")
    p.add_argument("--architectures", default="event,ann")
    p.add_argument("--lanes", type=int, default=8)
    p.add_argument("--samples", type=int, default=1000)
    p.add_argument("--family", default="xcup")
    p.add_argument("--no-synth", action="store_true")
    p.add_argument("--name", default="line_buffers")
    args = p.parse_args()
    rows = []
    for run in args.runs:
        run_dir = ROOT / "runs" / "bench" / run
        model, cfg = load_trained(run_dir)
        snn = load_snn(run_dir / SNN_FILE)
        ds = load_dataset(cfg["dataset"]["name"], cfg["dataset"]["path"], limit_test=args.samples)
        x = snn.quantize_input(ds.x_test)
        y = model.predict(x, verbose=0)
        for architecture in args.architectures.split(","):
            for buffers in BUFFERS:
                t0 = time.perf_counter()
                design = to_rtl(snn, run_dir / f"rtl_{architecture}_{buffers}", architecture, args.lanes, force=True,
                                buffers=buffers)
                sim = design.simulate(x, progress=True)
                row = {"run": run, "encoding": cfg["input"]["encoding"], "architecture": architecture,
                       "buffers": buffers, "lanes": args.lanes, "samples": len(x),
                       "mismatches_vs_qkeras": count_mismatches(sim.output, y),
                       "cycles_off_model": int((sim.cycles != design.cycle_model(x)).sum()),
                       "cycles_mean": float(sim.cycles.mean()), "cycles_max": int(sim.cycles.max()),
                       "buffer_bits": buffer_bits(design), "simulate_seconds": time.perf_counter() - t0}
                if not args.no_synth:
                    t0 = time.perf_counter()
                    res = design.synthesize(args.family)
                    row.update({k: res[k] for k in ("LUT", "FF", "CARRY", "DSP", "BRAM", "LUTRAM")}, tool=res["tool"],
                               mapper=res["mapper"], synthesize_seconds=time.perf_counter() - t0)
                rows.append(row)
                print({k: v for k, v in row.items() if k not in ("tool",)}, flush=True)
                out = save(args.name, {"command": "python " + " ".join(sys.argv), "machine": machine(), "rows": rows})
    print(f"written {out}")
    print(table(rows))


def table(rows: list[dict]) -> str:
    """The Markdown table of reports/BENCHMARKS.md."""
    lines = ["| run | input | architecture | buffers | samples | mismatches vs QKeras | off the model | cycles mean / max "
             "| buffer bits | LUT | FF | BRAM18 | LUTRAM |", "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['run']} | {r['encoding']} | {r['architecture']} | {r['buffers']} | {r['samples']:,} | "
                     f"{r['mismatches_vs_qkeras']} | {r['cycles_off_model']} | {r['cycles_mean']:,.0f} / "
                     f"{r['cycles_max']:,} | {r['buffer_bits']:,} | {r.get('LUT', '-'):,} | {r.get('FF', '-'):,} | "
                     f"{r.get('BRAM', '-')} | {r.get('LUTRAM', '-'):,} |")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
