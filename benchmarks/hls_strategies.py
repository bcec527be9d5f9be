"""HLS strategies benchmark: C-simulation cycles per inference of the event and folded SNN firmware
against hls4ml's ANN of the same model at a buildable configuration, and the Yosys counts of the RTL
twin of each schedule.

    python benchmarks/hls_strategies.py mnist_mlp mnist_cnn --lambdas 0,1e-4 --samples 200
    python benchmarks/hls_strategies.py mnist_cnn --io-type io_stream   # line buffers: reports/hls_strategies_io_stream.json

For every config and lambda (the run of benchmarks/hardware.py in runs/bench/, trained here if
missing): for `event` and `folded` at `--lanes`, a trace build of the SNN firmware is C-simulated on
the first `--samples` test images: outputs vs QKeras (mismatching samples) and the cycles its
blocks count (hwflow.hls.measure_cycles), checked sample by sample against the RTL twin's cycles
in Verilator; Yosys synth_xilinx of that twin (from reports/hardware_*.json where it was measured on
the same trained model, else synthesized here), against which benchmarks/calibrate.py sets and checks
the feasibility estimate. hls4ml's ANN is built with hwflow's buildable settings
(hwflow.hls.ann.ann_settings) and C-simulated, compared with QKeras and with each SNN firmware sample by
sample; hls4ml's C simulation counts no cycles (only Vivado/Vitis csynth or cosim would), so the ANN's
cycles are those of the RTL twin's folded ANN at the same lanes on the same samples (Verilator),
labelled as such, and its resources Yosys's of that twin.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import REPORTS, ROOT, machine, save  # noqa: E402

import numpy as np  # noqa: E402

import hwflow.hls  # noqa: E402
from hwflow.config import load_config  # noqa: E402
from hwflow.datasets import load_dataset  # noqa: E402
from hwflow.flow import SNN_FILE, run  # noqa: E402
from hwflow.hls import cycle_model  # noqa: E402
from hwflow.hls.ann import ann_to_hls  # noqa: E402
from hwflow.hls.lower import csim_batches, feasible  # noqa: E402
from hwflow.hls.trace import counted_cycles, run_trace  # noqa: E402
from hwflow.metrics import count_mismatches  # noqa: E402
from hwflow.options import FirmwareOptions  # noqa: E402
from hwflow.rtl import to_rtl  # noqa: E402
from hwflow.serialize import load_snn  # noqa: E402
from hwflow.train import load_trained  # noqa: E402


def yosys_row(config: str, lam: float, encoding: str, design: str, lanes: int, trained: dict) -> dict | None:
    """The Yosys counts of a design measured by benchmarks/hardware.py on the same trained model (its
    accuracy and spikes per sample equal those of the run's report.json `trained`), if any."""
    for path in sorted(REPORTS.glob("hardware_*.json")):
        for r in json.loads(path.read_text())["rows"]:
            if ((r["config"], r["lambda"], r["encoding"], r["design"], r["lanes"]) == (config, lam, encoding, design,
                                                                                      lanes)
                    and (r["accuracy"], r["spikes_per_sample"]) == (trained["snn_accuracy"],
                                                                    trained["spikes_per_sample"])):
                return {k: r[k] for k in ("LUT", "FF", "DSP", "BRAM")} | {"from": path.name}
    return None


def synthesized(design, measured: dict | None) -> dict:
    """`measured` (yosys_row), or Yosys synth_xilinx of the design now."""
    if measured is not None:
        return measured
    res = design.synthesize("xcup")
    return {k: res[k] for k in ("LUT", "FF", "DSP", "BRAM")} | {"from": "synthesized here"}


def trained(name: str, lam: float, encoding: str) -> Path:
    """The benchmark run folder of (config, lambda, encoding), trained now if it has no SNN yet."""
    run_dir = ROOT / "runs" / "bench" / f"hw_{name}_{encoding}_lam{lam:g}"
    if not (run_dir / SNN_FILE).exists():
        cfg = load_config(name, overrides={"input": {"encoding": encoding}, "train": {
            "lambda": lam, "float_baseline": False}, "hls": {"enabled": False}, "rtl": {"enabled": False}})
        run(cfg, run_dir, progress=False, force=True)
    return run_dir


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("configs", nargs="+")
    p.add_argument("--lambdas", default="0,1e-4")
    p.add_argument("--encoding", default="bitplane")
    p.add_argument("--lanes", type=int, default=8)
    p.add_argument("--samples", type=int, default=200, help="C-simulate the first N test samples")
    p.add_argument("--io-type", default="io_parallel", choices=("io_parallel", "io_stream"))
    args = p.parse_args()
    suffix = "" if args.io_type == "io_parallel" else "_io_stream"
    report = "hls_strategies" + suffix
    rows = []
    for name in args.configs:
        for lam in (float(v) for v in args.lambdas.split(",")):
            run_dir = trained(name, lam, args.encoding)
            model, _ = load_trained(run_dir)
            snn = load_snn(run_dir / SNN_FILE)
            cfg = load_config(name)
            x = snn.quantize_input(load_dataset(cfg["dataset"]["name"], cfg["dataset"]["path"],
                                                limit_test=args.samples).x_test)
            y_q = model.predict(x, verbose=0)
            report_json = json.loads((run_dir / "report.json").read_text())
            base = dict(config=name, **{"lambda": lam}, encoding=args.encoding, lanes=args.lanes, samples=len(x),
                        io_type=args.io_type, accuracy=report_json["snn_accuracy"],
                        spikes_per_sample=report_json["spikes_per_sample"])
            firmware = {}
            for strategy in ("event", "folded"):
                opts = FirmwareOptions(strategy=strategy, lanes=args.lanes, part=cfg["hls"]["part"], io_type=args.io_type)
                t0 = time.perf_counter()
                hls_model = hwflow.hls.to_hls(snn, run_dir / f"hls_{strategy}{suffix}", opts, trace=True)
                counted = counted_cycles(run_trace(hls_model, snn, x))
                y = firmware[strategy] = hwflow.hls.predict(hls_model, snn, x)
                csim_s = time.perf_counter() - t0
                design = to_rtl(snn, run_dir / f"rtl_{strategy}", strategy, args.lanes, force=True)
                rtl = design.simulate(x)
                off = int((counted - cycle_model(snn, opts).stream_cycles + design.interface_cycles
                           != rtl.cycles).sum())
                yosys = synthesized(design, yosys_row(name, lam, args.encoding, f"SNN {strategy}", args.lanes,
                                                      report_json))
                row = dict(base, design=f"SNN {strategy} (hwflow HLS)", mismatches_vs_qkeras=count_mismatches(y, y_q),
                           cycles_mean=float(counted.mean()), cycles_max=int(counted.max()),
                           cycles_source="measured (C simulation counters)", cycles_off_rtl=off,
                           yosys=yosys, csim_seconds=csim_s,
                           buffer_bits=sum(feasible(snn, opts).buffers.values()))
                rows.append(row)
                print(f"{name} lambda {lam:g} {strategy}: {row['mismatches_vs_qkeras']} mismatches, C-sim cycles mean "
                      f"{row['cycles_mean']:.1f} max {row['cycles_max']} ({off} samples off the RTL), Yosys {yosys}",
                      flush=True)
                save(report, {"command": "python " + " ".join(sys.argv), "machine": machine(), "rows": rows})
            ann = ann_to_hls(model, run_dir / f"hls_ann{suffix}", FirmwareOptions(
                strategy="event", lanes=args.lanes, part=cfg["hls"]["part"], io_type=args.io_type))
            hwflow.hls.compile(ann)
            y_ann = csim_batches(ann, x).astype(np.float32).reshape(y_q.shape)
            twin_design = to_rtl(snn, run_dir / "rtl_ann", "ann", args.lanes, force=True)
            twin = twin_design.simulate(x)
            row = dict(base, design="ANN (hls4ml)", settings=ann.hwflow_settings.as_dict(),
                       mismatches_vs_qkeras=count_mismatches(y_ann, y_q),
                       mismatches_vs_snn_firmware={k: count_mismatches(y_ann, v) for k, v in firmware.items()},
                       rtl_ann_mismatches=count_mismatches(twin.output, y_q),
                       cycles_mean=float(twin.cycles.mean()), cycles_max=int(twin.cycles.max()),
                       cycles_source="measured (Verilator) on the RTL twin's folded ANN at the same lanes; hls4ml's "
                                     "C simulation counts no cycles",
                       yosys=synthesized(twin_design, yosys_row(name, lam, args.encoding, "ANN folded", args.lanes,
                                                                report_json)))
            rows.append(row)
            print(f"{name} lambda {lam:g} hls4ml ANN {row['settings']}: {row['mismatches_vs_qkeras']} mismatches",
                  flush=True)
            out = save(report, {"command": "python " + " ".join(sys.argv), "machine": machine(),
                                          "rows": rows})
    print(f"written {out}")
    print(table(rows))


def table(rows: list[dict]) -> str:
    """The Markdown table of reports/BENCHMARKS.md."""
    lines = ["| model | λ | accuracy | design | cycles mean | cycles worst | cycles: source | vs QKeras | vs SNN firmware "
             "(event / folded) | off RTL | Yosys LUT / FF / DSP / BRAM (RTL twin) |", "|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        y = r.get("yosys") or {}
        ann = r["design"].startswith("ANN")
        vs_fw = " / ".join(str(v) for v in r["mismatches_vs_snn_firmware"].values()) if ann else ""
        lines.append(f"| {r['config']} | {r['lambda']:g} | {100 * r['accuracy']:.2f} % | {r['design']} | "
                     f"{r['cycles_mean']:,.1f} | {r['cycles_max']:,} | "
                     f"{'Verilator, RTL twin folded ANN' if ann else 'C simulation counters'} | "
                     f"{r['mismatches_vs_qkeras']} | {vs_fw} | {'—' if ann else r['cycles_off_rtl']} | "
                     + (" / ".join(f"{y[k]:,}" for k in ("LUT", "FF", "DSP", "BRAM")) if y else "—") + " |")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
