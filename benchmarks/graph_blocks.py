"""What the graph forms cost: a chain CNN against a ResNet basic block, an Inception-style Concatenate, an
UpSampling2D and branches of two layers joined, on sklearn digits, measured in the SNN simulator and the RTL twin in Verilator.

    python benchmarks/graph_blocks.py --samples 200

Every model: input quantized_relu(5, 1) on the 8x8 digits, QConv2D 8 3x3 'same', then its block, a 2x2 max pool,
Flatten, a 10-unit readout; 6-bit weights, quantized_relu(4, 0) activations, Adam 30 epochs, seed 0. The blocks:
  chain       two more QConv2D 8 3x3 'same' with their activations;
  residual    Add()([conv(act(conv(a))), a]) then the activation: its first conv carries a on 8 pass-through
              channels (hwflow.ops.residual), so it has 16 neurons per pixel where the chain's has 8;
  inception   Concatenate()([act(conv 4 3x3 (a)), a, act(conv 4 1x1 (a))]): one fused layer of 16 channels;
  upsample    the first conv at stride 2 (4x4), UpSampling2D(2) back to 8x8, QConv2D 8 3x3 'same';
  branches    Concatenate()([act(conv 4 3x3 (act(conv 4 1x1 (a)))), a, act(conv 4 1x1 (a))]): Inception with a
              two-layer branch, not fusable: the branches' own layers and joins (hwflow.ops.join), a DAG;
  downsample  the ResNet downsampling block act(Add()([conv(act(conv 8 3x3 stride 2 (a))), conv 8 1x1 stride 2 (a)]))
              (4x4): a subsampled and joined beside the block (hwflow.ops.residual), a DAG.
Each is converted (direct input) and simulated on the whole test set: accuracy, mismatching samples, spikes per
sample (the pass-through channels' share apart). Then the first --samples test images run through the event RTL
twin (8 lanes) and its ANN twin (architecture ann) in Verilator: outputs against QKeras and measured cycles, checked
against the cycle formula. The FIFOs of each SNN's Vitis io_stream event project (8 lanes) are the stream depths
hls4ml writes into it (hwflow.hls.stream_fifos; generated, not synthesized). Writes reports/graph_blocks.json.
"""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import digits_run, save_digits, trained_snn  # noqa: E402

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from qkeras import QActivation, QConv2D, QDense, quantized_bits, quantized_relu  # noqa: E402
from tensorflow.keras.layers import Add, Concatenate, Flatten, MaxPooling2D, UpSampling2D  # noqa: E402
from tqdm import tqdm  # noqa: E402

import hwflow  # noqa: E402
from hwflow.metrics import count_mismatches  # noqa: E402

W, B = quantized_bits(6, 0, alpha=1), quantized_bits(10, 3, alpha=1)


def act() -> QActivation:
    return QActivation(quantized_relu(4, 0))


def conv(filters: int, kernel: int = 3, **kw) -> QConv2D:
    return QConv2D(filters, kernel, padding="same", kernel_quantizer=W, bias_quantizer=B, **kw)


BLOCKS = {
    "chain": lambda a: act()(conv(8)(act()(conv(8)(a)))),
    "residual": lambda a: act()(Add()([conv(8)(act()(conv(8)(a))), a])),
    "inception": lambda a: Concatenate()([act()(conv(4)(a)), a, act()(conv(4, 1)(a))]),
    "upsample": None,  # see model()
    "branches": lambda a: Concatenate()([act()(conv(4)(act()(conv(4, 1)(a)))), a, act()(conv(4, 1)(a))]),
    "downsample": lambda a: act()(Add()([conv(8)(act()(conv(8, strides=2)(a))), conv(8, 1, strides=2)(a)])),
}


def model(block: str) -> tf.keras.Model:
    """The benchmark's CNN with `block` (see the module docstring)."""
    inp = tf.keras.Input((8, 8, 1))
    x = QActivation(quantized_relu(5, 1))(inp)
    if block == "upsample":  # (BLOCKS['upsample'] is None: its first conv is the block's)
        h = act()(conv(8)(UpSampling2D(2)(act()(conv(8, strides=2)(x)))))
    else:
        h = BLOCKS[block](act()(conv(8)(x)))
    out = QDense(10, kernel_quantizer=W, bias_quantizer=B)(Flatten()(MaxPooling2D(2)(h)))
    return tf.keras.Model(inp, out, name=block)


def main() -> None:
    args, data = digits_run(__doc__, 30, "test images the RTL twins simulate")
    rows = {}
    for block in tqdm(BLOCKS, desc="blocks", unit="model"):
        net, snn, run, reference, train_s = trained_snn(lambda: model(block), data, args.epochs)
        trace = snn.trace(data.x_test[:500])
        passed = sum(int(trace.layers[s.name].spikes[..., -s.pass_channels:].sum())
                     for s in snn.synaptic_layers if s.pass_channels)
        x = data.x_test[:args.samples]
        row = dict(params=int(net.count_params()), neurons=dict(run.neurons),
                   qkeras_accuracy=float(np.mean(reference.argmax(1) == data.y_test)),
                   snn_accuracy=float(np.mean(run.output.argmax(1) == data.y_test)),
                   snn_vs_qkeras=count_mismatches(run.output, reference),
                   spikes_per_sample=sum(run.spikes.values()) / run.samples,
                   pass_through_spikes_per_sample=passed / len(trace.output), train_seconds=train_s)
        for architecture in ("event", "ann"):
            design = hwflow.to_rtl(snn, Path("runs/bench_graph") / block / architecture, architecture=architecture,
                                   lanes=8, force=True)
            rtl = design.simulate(x)
            row[architecture] = dict(
                rtl_vs_qkeras=count_mismatches(rtl.output, reference[:args.samples]),
                cycles_vs_formula=int(np.sum(rtl.cycles != design.cycle_model(x))), cycles_min=int(rtl.cycles.min()),
                cycles_mean=float(rtl.cycles.mean()), cycles_max=int(rtl.cycles.max()),
                cycles_source=f"measured (Verilator RTL simulation, {architecture}, 8 lanes)")
        project = hwflow.hls.to_hls(snn, Path("runs/bench_graph") / block / "hls_stream", strategy="event", lanes=8,
                                    io_type="io_stream", backend="Vitis")
        fifos = hwflow.hls.stream_fifos(project)
        row["fifos"] = dict(count=len(fifos), bits=sum(f["bits"] for f in fifos), streams=fifos,
                            source="hls4ml stream depths of the generated Vitis io_stream event project (not synthesized)")
        rows[block] = row
    out = save_digits("graph_blocks", args, data, rows)
    print("| block | parameters | QKeras / SNN accuracy | SNN vs QKeras | spikes per sample (pass-through) | "
          "RTL vs QKeras (event, ANN) | event RTL cycles min / mean / max | ANN RTL cycles | event / ANN | "
          "io_stream FIFOs (bits) |")
    for name, r in rows.items():
        ev, ann = r["event"], r["ann"]
        print(f"| {name} | {r['params']:,} | {r['qkeras_accuracy']:.2%} / {r['snn_accuracy']:.2%} | "
              f"{r['snn_vs_qkeras']} | {r['spikes_per_sample']:.1f} ({r['pass_through_spikes_per_sample']:.1f}) | "
              f"{ev['rtl_vs_qkeras']}, {ann['rtl_vs_qkeras']} | {ev['cycles_min']:,} / {ev['cycles_mean']:,.0f} / "
              f"{ev['cycles_max']:,} | {ann['cycles_mean']:,.0f} | {ev['cycles_mean'] / ann['cycles_mean']:.2f} | "
              f"{r['fifos']['count']} ({r['fifos']['bits']:,}) |")
    print(f"written {out}")
    if any(r["snn_vs_qkeras"] or r["event"]["rtl_vs_qkeras"] or r["ann"]["rtl_vs_qkeras"]
           or r["event"]["cycles_vs_formula"] or r["ann"]["cycles_vs_formula"] for r in rows.values()):
        sys.exit(1)


if __name__ == "__main__":
    main()
