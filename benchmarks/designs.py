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
    print(table(rows))


def table(rows: list[dict]) -> str:
    """The Markdown table of reports/BENCHMARKS.md: per model its SNN and hls4ml ANN columns."""
    def both(label: str, snn, ann="") -> str:
        return f"| {label} | " + " | ".join(str(f(r) if callable(f) else f) for r in rows for f in (snn, ann)) + " |"

    def nj(pj: float) -> str:
        return f"{pj / 1e3:.1f} nJ"

    head = "| | " + " | ".join(f"{r['model']} {d}" for r in rows for d in ("SNN", "hls4ml ANN")) + " |"
    mm = lambda key: lambda r: f"{r['mismatches'][key]} mismatches"  # noqa: E731
    lines = [head, "|---|" + "---|" * (2 * len(rows)),
             both("test accuracy", lambda r: f"{100 * r['snn_accuracy']:.2f} %", lambda r: f"{100 * r['ann_accuracy']:.2f} %"),
             both("firmware C sim vs QKeras, whole test set", mm("csim_vs_qkeras"), mm("hls4ml_ann_vs_qkeras")),
             both("SNN firmware vs hls4ml's ANN firmware", mm("csim_vs_hls4ml_ann")),
             both("firmware trace vs Python, every layer and step", lambda r: "identical" if r["mismatches"]["trace"]
                  is None else str(r["mismatches"]["trace"]), "—"),
             both("self-checking testbench", lambda r: f"{r['testbench']['mismatches']} mismatches of "
                  f"{r['testbench']['samples']}, exit {r['testbench']['returncode']}", "—"),
             both("hls4ml configuration", lambda r: f"{r['hls']['strategy']}, {r['hls']['lanes']} lanes, "
                  f"{r['hls']['io_type']}", lambda r: f"{r['hls_ann']['io_type']}, reuse factors "
                  + " / ".join(f"{v:,}" for v in r["hls_ann"]["reuse_factors"].values())),
             both("spikes / inference", lambda r: f"{r['spikes_per_sample']:,.1f}", "— (multi-bit)"),
             both("energy / inference (estimate, `int45`)", lambda r: nj(r["energy_pj"]["snn"]),
                  lambda r: nj(r["energy_pj"]["ann"])),
             both("C-sim cycles, measured (C simulation counters), trace samples: min / mean / max",
                  lambda r: f"{r['csim_cycles']['min']:,} / {r['csim_cycles']['mean']:,.1f} / {r['csim_cycles']['max']:,}",
                  "none: hls4ml's C simulation counts no cycles"),
             both("C-sim cycles vs RTL twin (Verilator), trace samples", lambda r: f"{r['mismatches']['csim_cycles_vs_rtl']} "
                  "samples off", "—"),
             both("cycle model (estimate; worst case), latency / II", lambda r: f"{r['latency_cycles']:,} / "
                  f"{r['initiation_interval']:,} ({r['cycles']['style']})", "not available without csynth"),
             both("RTL twin vs QKeras, whole test set", mm("rtl_vs_qkeras"), mm("rtl_ann_vs_qkeras")),
             both("RTL twin cycles (Verilator): min / mean / max", lambda r: "{min:,} / {mean:,.1f} / {max:,}".format(
                 **r["rtl"]["cycles"]), lambda r: "{min:,} / {mean:,.1f} / {max:,} (twin's folded ANN)".format(
                 **r["rtl"]["ann"]["cycles"])),
             both("RTL twin, Yosys synth_xilinx: LUT / FF / DSP / BRAM18", lambda r: " / ".join(
                 f"{r['rtl']['resources'][k]:,}" for k in ("LUT", "FF", "DSP", "BRAM")), lambda r: " / ".join(
                 f"{r['rtl']['ann']['resources'][k]:,}" for k in ("LUT", "FF", "DSP", "BRAM"))),
             both("feasibility estimate: LUT / FF / DSP / BRAM18", lambda r: " / ".join(
                 f"{r['feasibility']['total'][k]:,}" for k in ("LUT", "FF", "DSP", "BRAM")), lambda r: " / ".join(
                 f"{r['hls_ann']['feasibility']['total'][k]:,}" for k in ("LUT", "FF", "DSP", "BRAM"))),
             both("g++ compile / C sim of the test set", lambda r: f"{r['firmware_seconds']['snn_compile']:.1f} s / "
                  f"{r['firmware_seconds']['snn_csim']:.1f} s", lambda r: f"{r['firmware_seconds']['ann_compile']:.1f} s"
                  f" / {r['firmware_seconds']['ann_csim']:.1f} s")]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
