"""Spikes and event cycles of quantized_relu_po2 against quantized_relu activations, on one digits MLP.

    python benchmarks/po2_spikes.py --samples 200

The same MLP (sklearn digits 8x8, input quantized_relu(5, 1), Flatten, QDense 64 -> activation -> QDense 32 -> activation ->
QDense 10 readout, 6-bit weights) is trained with each activation (Adam, 40 epochs, seed 0), converted to the SNN
(direct input) and simulated on the whole test set: QKeras and SNN accuracy, mismatching samples, spikes per neuron
per layer (measured by the simulator: a po2 unit must send exactly 1). Then the event RTL twin (8 lanes) runs the
first --samples test images in Verilator: its outputs against QKeras and its measured cycles (an event layer pays a
cycle per input word of every plane, plus one per spike and lane group: a po2 code has one spike but T planes).
Writes reports/po2_spikes.json.
"""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import digits_run, save_digits, trained_snn  # noqa: E402

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from qkeras import QActivation, QDense, quantized_bits, quantized_relu, quantized_relu_po2  # noqa: E402
from tqdm import tqdm  # noqa: E402

import hwflow  # noqa: E402
from hwflow.metrics import count_mismatches  # noqa: E402

ACTIVATIONS = {"quantized_relu(3, 0)": lambda: quantized_relu(3, 0),
               "quantized_relu(4, 0)": lambda: quantized_relu(4, 0),
               "quantized_relu_po2(2)": lambda: quantized_relu_po2(2),
               "quantized_relu_po2(3)": lambda: quantized_relu_po2(3)}


def mlp(activation) -> tf.keras.Model:
    """The benchmark's MLP with `activation()` after both hidden layers."""
    w, b = quantized_bits(6, 0, alpha=1), quantized_bits(10, 3, alpha=1)
    return tf.keras.Sequential([
        tf.keras.Input((8, 8, 1)), QActivation(quantized_relu(5, 1)), tf.keras.layers.Flatten(),
        QDense(64, kernel_quantizer=w, bias_quantizer=b), QActivation(activation()),
        QDense(32, kernel_quantizer=w, bias_quantizer=b), QActivation(activation()),
        QDense(10, kernel_quantizer=w, bias_quantizer=b)])


def main() -> None:
    args, data = digits_run(__doc__, 40, "test images the RTL twin simulates")
    rows = {}
    for name, activation in tqdm(ACTIVATIONS.items(), desc="activations", unit="model"):
        model, snn, run, reference, train_s = trained_snn(lambda: mlp(activation), data, args.epochs)
        x = data.x_test[:args.samples]
        design = hwflow.to_rtl(snn, Path("runs/bench_po2") / name.replace(" ", ""), architecture="event", lanes=8)
        rtl = design.simulate(x)
        rows[name] = dict(
            time_steps=snn.time_steps, qkeras_accuracy=float(np.mean(reference.argmax(1) == data.y_test)),
            snn_accuracy=float(np.mean(run.output.argmax(1) == data.y_test)),
            snn_vs_qkeras=count_mismatches(run.output, reference), spikes_per_neuron=run.spikes_per_neuron(),
            spikes_per_sample=sum(run.spikes.values()) / run.samples,
            rtl_vs_qkeras=count_mismatches(rtl.output, reference[:args.samples]),
            rtl_cycles_vs_formula=int(np.sum(rtl.cycles != design.cycle_model(x))),
            rtl_cycles_mean=float(rtl.cycles.mean()), rtl_cycles_min=int(rtl.cycles.min()),
            rtl_cycles_max=int(rtl.cycles.max()), cycles_source="measured (Verilator RTL simulation, event, 8 lanes)",
            train_seconds=train_s)
    out = save_digits("po2_spikes", args, data, rows)
    print("| activation | T | QKeras / SNN accuracy | SNN vs QKeras | spikes per neuron (hidden 1, 2) | "
          "spikes per sample | RTL vs QKeras | event RTL cycles min / mean / max (formula off) |")
    for name, r in rows.items():
        spn = " / ".join(f"{v:.3f}" for v in r["spikes_per_neuron"].values())
        print(f"| {name} | {r['time_steps'][0]} | {r['qkeras_accuracy']:.2%} / {r['snn_accuracy']:.2%} | "
              f"{r['snn_vs_qkeras']} | {spn} | {r['spikes_per_sample']:.1f} | {r['rtl_vs_qkeras']} | "
              f"{r['rtl_cycles_min']:,} / {r['rtl_cycles_mean']:,.0f} / {r['rtl_cycles_max']:,} "
              f"({r['rtl_cycles_vs_formula']}) |")
    print(f"written {out}")
    if any(r["snn_vs_qkeras"] or r["rtl_vs_qkeras"] for r in rows.values()):
        sys.exit(1)


if __name__ == "__main__":
    main()
