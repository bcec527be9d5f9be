"""Fuzz the converter: random QKeras models over the supported layer kinds, each SNN against QKeras.

    python benchmarks/fuzz.py --models 10000
    python benchmarks/fuzz.py --models 10000 --shard 0/2 & python benchmarks/fuzz.py --models 10000 --shard 1/2; \
        python benchmarks/fuzz.py --merge 2      # the same 10,000 models on two cores, then one fuzz.json

--models counts models compared: Hypothesis keeps drawing (up to --max-draws) until that many distinct
architectures have been built, converted and compared. A draw equal to an earlier one (Hypothesis can reach the
same architecture by different choices) is counted as a repeat and not compared again; the shards split the
distinct draws in turn, so they compare disjoint sets and together exactly --models.

The architectures are the test suite's (tests/randmodels.py `archs`): an image or (a quarter of them) a
sequence input; 0-2 convolutions (QConv2D, QDepthwiseConv2D, QSeparableConv2D, a Concatenate of two QConv2D
branches and, for 'same' at stride 1, the tensor itself (hwflow.ops.concatenate), a ResNet basic block
Add()([conv(act(conv(a))), a]) (hwflow.ops.residual's pass-through channels), or on a sequence QConv1D with
'causal' padding too; kernels 1-3, strides 1-2, 'valid'/'same' or a ZeroPadding2D/1D before), each
with an optional max pool, average pool (2x2, 3x3 at stride 2, global; AveragePooling2D or QKeras's
QAveragePooling2D / QGlobalAveragePooling2D) or UpSampling2D (2, 1-2), and optionally a residual
Add()([conv(a), a]), 0-2 dense layers
(quantized_relu, signed quantized_bits, binary(), ternary() or quantized_relu_po2 activations, optionally a residual
Add()([dense(a), a])),
in a chain optionally a QBatchNormalization or a float BatchNormalization after every QConv2D and hidden QDense
(the SNN is compared with the folded model, hwflow.fold_batchnorm), optionally a Reshape of the input image to a
non-square one and a Reshape to a vector in place of the Flatten, T 1-8 per layer,
input grids of 1-8 bits, weights of 2-8 bits, a readout
(optionally through a final softmax / sigmoid) or a spiking last layer, direct or bit-plane input. Each model
gets 32 inputs rich in zeros and saturated levels; the SNN's outputs must equal model.predict bit for bit
(mismatching samples are counted, and the first failing architecture is printed). A model TensorFlow
itself cannot run (an OpError in model.predict) has no reference and is counted apart. Hypothesis draws the
architectures from a fixed seed (derandomized), so a run with the same --models and --max-draws is repeatable
(Hypothesis's sequence depends on its example budget, so runs with different budgets draw different models).
Writes reports/fuzz.json (--name: another file, for a probe beside the recorded run).

--graphs draws the test suite's random graphs instead (tests/randmodels.py `graph_archs`): 1-3 inputs joined first
or after 1-2 layers of their own, a trunk layer, a Concatenate of 2-3 branches of depth 1-2 and at most one of
depth 0 (fused or joined), 1-3 readout heads of 0-1 hidden layers, dense or 3x3/1x1 convolutional, T 1-8, 1-6-bit
inputs; the SNN's outputs, the heads side by side, must equal the model's.
"""
from __future__ import annotations

import argparse
import collections
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from common import REPORTS, machine, save  # noqa: E402

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from randmodels import (MULTI_LAYER, archs, build, build_graph, buildable, graph_archs, graph_inputs,  # noqa: E402
                        inputs, reference)
from tqdm import tqdm  # noqa: E402

import hwflow  # noqa: E402
from hwflow.metrics import count_mismatches  # noqa: E402


def kinds(arch) -> list[str]:
    """The layer kinds an architecture exercises (for the report's counts)."""
    out = ["conv1d" if arch.sequence else spec[7] if len(spec) > 7 else "conv" for spec in arch.convs]
    out += ["upsample" if spec[6] == "up" else f"{spec[6]}pool" for spec in arch.convs if spec[6] and not arch.sequence]
    out += ["zeropadding" for spec in arch.convs if spec[3] == "zero"]
    out += ["dense"] * len(arch.denses) + [arch.output or ("readout" if arch.readout else "spiking end")]
    out += ["conv residual" for spec in arch.convs
            if spec[8:] and spec[8] and spec[3] == "same" and spec[2] == 1
            and (arch.sequence or spec[7] not in MULTI_LAYER)]
    out += ["signed activation" for spec in arch.denses if spec[3:] and spec[3] is True and spec[1] >= 2]
    out += [f"{spec[3]} activation" for spec in arch.denses if spec[3:] and spec[3] in ("binary", "ternary", "po2")]
    out += [f"{arch.batchnorm} batchnorm"] * (sum(arch.bn_after(spec[7]) for spec in arch.convs)
                                              + sum(arch.bn_after("dense") for _ in arch.denses))
    out += ["reshape"] * (arch.reshape + arch.image_reshaped)
    after_binary = False
    for spec in arch.denses:
        out += ["dense residual"] if spec[4:] and spec[4] and not after_binary else []
        after_binary = spec[3:] and spec[3] in ("binary", "ternary")
    return out


def graph_kinds(arch) -> list[str]:
    """The forms a random graph exercises (for the report's counts)."""
    out = [f"{len(arch.channels)} inputs" + (" with layers" if arch.input_layers else "")] * (len(arch.channels) > 1)
    out += ["branches joined" if any(d > 1 for d in arch.branches) or 0 in arch.branches else "branches fused"] * bool(
        arch.branches)
    out += [f"{arch.heads} heads" + (" with hidden layers" if arch.head_layers else "")] * (arch.heads > 1)
    return out + ["images" if arch.image else "vectors"]


def side_by_side(outputs) -> np.ndarray:
    """A model's outputs (a list for several) as one array [samples, values], as snn.logits gives them."""
    outputs = outputs if isinstance(outputs, list) else [outputs]
    return np.concatenate([np.asarray(o).reshape(len(o), -1) for o in outputs], axis=1)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--models", type=int, default=10_000, help="distinct models to compare (over all shards)")
    p.add_argument("--max-draws", type=int, help="Hypothesis's example budget (default 2 x --models)")
    p.add_argument("--samples", type=int, default=32, help="inputs per model")
    p.add_argument("--shard", default="0/1",
                   help="I/N: compare only distinct draws I, I+N, I+2N, ... (fuzz_shardIofN.json)")
    p.add_argument("--merge", type=int, metavar="N", help="add up NAME_shard*ofN.json into NAME.json, and stop")
    p.add_argument("--name", default="fuzz", help="result file reports/NAME.json (a probe beside the recorded run)")
    p.add_argument("--graphs", action="store_true", help="draw random graphs (randmodels.graph_archs)")
    args = p.parse_args()
    if args.merge:
        merge(args.merge, args.name)
        return
    shard, shards = (int(v) for v in args.shard.split("/"))
    target = args.models // shards + (shard < args.models % shards)  # this shard's share of --models
    seen: set[str] = set()
    tally = dict(models=0, draws=0, repeated_draws=0, skipped_unbuildable=0, samples=0, mismatching_samples=0,
                 inexact_tf_models=0, tf_cannot_run=0, refused=0)
    tf_errors: list[str] = []
    refusals: list[str] = []
    covered: collections.Counter = collections.Counter()
    failures: list[str] = []
    bar = tqdm(total=target, desc="random models compared", unit="model")
    t0 = time.perf_counter()

    @settings(max_examples=args.max_draws or 2 * args.models, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    @given(arch=graph_archs() if args.graphs else archs(), encoding=st.sampled_from(["direct", "bitplane"]))
    def one(arch, encoding: str) -> None:
        if tally["models"] >= target:
            return
        key = f"{arch!r} {encoding}"
        if key in seen:
            tally["repeated_draws"] += 1
            return
        seen.add(key)
        if (len(seen) - 1) % shards != shard:
            return
        tally["draws"] += 1
        tf.keras.backend.clear_session()  # one model at a time: Keras's graph does not grow
        if not args.graphs and not buildable(arch):
            tally["skipped_unbuildable"] += 1
            return
        model = build_graph(arch) if args.graphs else build(arch)
        try:
            snn = hwflow.convert(model, encoding=encoding)
        except hwflow.HwflowError as exc:  # a refusal (e.g. a float average TF rounds otherwise): listed, not compared
            tally["refused"] += 1
            if len(refusals) < 5:
                refusals.append(f"{arch} {encoding}: {exc}")
            return
        if not snn.tf_float32_exact:  # TF's float32 pass may round: not a reference to compare with
            tally["inexact_tf_models"] += 1
            return
        x = graph_inputs(arch, args.samples, arch.seed) if args.graphs else inputs(arch, args.samples, arch.seed)
        try:
            expected = reference(model).predict(x, verbose=0)
        except tf.errors.OpError as exc:  # TensorFlow itself cannot run it (oneDNN kernels): no reference
            tally["tf_cannot_run"] += 1
            if len(tf_errors) < 3:
                tf_errors.append(f"{arch}: {exc.message.splitlines()[0]}")
            return
        bad = count_mismatches(side_by_side(snn.predict(x)), side_by_side(expected))
        tally["models"] += 1
        bar.update(1)
        tally["samples"] += len(expected[0] if isinstance(expected, list) else expected)
        tally["mismatching_samples"] += bad
        covered.update((graph_kinds(arch) if args.graphs else kinds(arch)) + [encoding])
        if bad and len(failures) < 5:
            failures.append(f"{arch} {encoding}: {bad} samples")

    one()
    bar.close()
    if tally["models"] < target:
        sys.exit(f"fuzz: only {tally['models']} of {target} models compared within the draw budget; "
                 f"raise --max-draws")
    seconds = time.perf_counter() - t0
    result = dict(command="python " + " ".join(sys.argv), machine=machine(), **tally, seconds=seconds,
                  layer_kinds=dict(covered), failures=failures, tf_errors=tf_errors, refusals=refusals)
    out = save(args.name if shards == 1 else f"{args.name}_shard{shard}of{shards}", result)
    report(result, out)


def report(result: dict, out) -> None:
    """Print the tally; exit 1 if any sample mismatched."""
    tally, seconds, covered, failures = result, result["seconds"], result["layer_kinds"], result["failures"]
    print(f"{tally['models']} distinct models of {tally['draws']} distinct draws ({tally['repeated_draws']} repeated "
          f"draws not compared again, {tally['skipped_unbuildable']} unbuildable, {tally['inexact_tf_models']} "
          f"not exact in TF float32, {tally['tf_cannot_run']} TensorFlow could not run, "
          f"{tally['refused']} refused by the converter), {tally['samples']} samples: "
          f"{tally['mismatching_samples']} mismatching; {seconds:.0f} s; kinds {dict(covered)}; written {out}")
    if failures:
        print("first failures:\n" + "\n".join(failures))
        sys.exit(1)


def merge(shards: int, name: str) -> None:
    """NAME.json: the shards' counts added up, their lists joined, the slowest shard's time."""
    parts = [json.loads((REPORTS / f"{name}_shard{i}of{shards}.json").read_text()) for i in range(shards)]
    total = dict(parts[0], command=" & ".join(p["command"] for p in parts), seconds=max(p["seconds"] for p in parts))
    for key in ("models", "draws", "skipped_unbuildable", "samples", "mismatching_samples", "inexact_tf_models",
                "tf_cannot_run", "refused"):
        total[key] = sum(p[key] for p in parts)
    total["repeated_draws"] = max(p["repeated_draws"] for p in parts)  # the last shard to stop saw every repeat
    total["layer_kinds"] = dict(sum((collections.Counter(p["layer_kinds"]) for p in parts), collections.Counter()))
    for key in ("failures", "tf_errors", "refusals"):
        total[key] = [x for p in parts for x in p[key]]
    report(total, save(name, total))


if __name__ == "__main__":
    main()
