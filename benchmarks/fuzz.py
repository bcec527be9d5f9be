"""Fuzz the converter: random QKeras models over the supported layer kinds, each SNN against QKeras.

    python benchmarks/fuzz.py --models 10000

The architectures are the test suite's (tests/randmodels.py `archs`): 0-2 convolutions (QConv2D,
QDepthwiseConv2D, QSeparableConv2D; kernels 1-3, strides 1-2, 'valid'/'same' or a ZeroPadding2D before), each
with an optional max pool or average pool (2x2, 3x3 at stride 2, global), 0-2 dense layers (quantized_relu or
signed quantized_bits activations), T 1-8 per layer,
input grids of 1-8 bits, weights of 2-8 bits, a readout
(optionally through a final softmax / sigmoid) or a spiking last layer, direct or bit-plane input. Each model
gets 32 inputs rich in zeros and saturated levels; the SNN's outputs must equal model.predict bit for bit
(mismatching samples are counted, and the first failing architecture is printed). A model TensorFlow
itself cannot run (an OpError in model.predict) has no reference and is counted apart. Hypothesis draws the
architectures from a fixed seed (derandomized), so a run is repeatable. Writes reports/fuzz.json.
"""
from __future__ import annotations

import argparse
import collections
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from common import machine, save  # noqa: E402

import tensorflow as tf  # noqa: E402
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from randmodels import archs, build, buildable, inputs  # noqa: E402
from tqdm import tqdm  # noqa: E402

import hwflow  # noqa: E402
from hwflow.metrics import count_mismatches  # noqa: E402


def kinds(arch) -> list[str]:
    """The layer kinds an architecture exercises (for the report's counts)."""
    out = [spec[7] if len(spec) > 7 else "conv" for spec in arch.convs]
    out += [f"{spec[6]}pool" for spec in arch.convs if spec[6]]
    out += ["zeropadding" for spec in arch.convs if spec[3] == "zero"]
    out += ["dense"] * len(arch.denses) + [arch.output or ("readout" if arch.readout else "spiking end")]
    out += ["signed activation" for spec in arch.denses if spec[3:] and spec[3] and spec[1] >= 2]
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--models", type=int, default=10_000)
    p.add_argument("--samples", type=int, default=32, help="inputs per model")
    args = p.parse_args()
    tally = dict(models=0, skipped_unbuildable=0, samples=0, mismatching_samples=0, inexact_tf_models=0,
                 tf_cannot_run=0, refused=0)
    tf_errors: list[str] = []
    refusals: list[str] = []
    covered: collections.Counter = collections.Counter()
    failures: list[str] = []
    bar = tqdm(total=args.models, desc="random models", unit="model")
    t0 = time.perf_counter()

    @settings(max_examples=args.models, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    @given(arch=archs(), encoding=st.sampled_from(["direct", "bitplane"]))
    def one(arch, encoding: str) -> None:
        bar.update(1)
        tf.keras.backend.clear_session()  # one model at a time: Keras's graph does not grow
        if not buildable(arch):
            tally["skipped_unbuildable"] += 1
            return
        model = build(arch)
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
        x = inputs(arch, args.samples, arch.seed)
        try:
            expected = model.predict(x, verbose=0)
        except tf.errors.OpError as exc:  # TensorFlow itself cannot run it (oneDNN kernels): no reference
            tally["tf_cannot_run"] += 1
            if len(tf_errors) < 3:
                tf_errors.append(f"{arch}: {exc.message.splitlines()[0]}")
            return
        bad = count_mismatches(snn.predict(x), expected)
        tally["models"] += 1
        tally["samples"] += len(x)
        tally["mismatching_samples"] += bad
        covered.update(kinds(arch) + [encoding])
        if bad and len(failures) < 5:
            failures.append(f"{arch} {encoding}: {bad} samples")

    one()
    bar.close()
    seconds = time.perf_counter() - t0
    result = dict(command="python " + " ".join(sys.argv), machine=machine(), **tally, seconds=seconds,
                  layer_kinds=dict(covered), failures=failures, tf_errors=tf_errors, refusals=refusals)
    out = save("fuzz", result)
    print(f"{tally['models']} models ({tally['skipped_unbuildable']} unbuildable drawn, {tally['inexact_tf_models']} "
          f"not exact in TF float32, {tally['tf_cannot_run']} TensorFlow could not run, "
          f"{tally['refused']} refused by the converter), {tally['samples']} samples: "
          f"{tally['mismatching_samples']} mismatching; {seconds:.0f} s; kinds {dict(covered)}; written {out}")
    if failures:
        print("first failures:\n" + "\n".join(failures))
        sys.exit(1)


if __name__ == "__main__":
    main()
