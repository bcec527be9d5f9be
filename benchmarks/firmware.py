"""Firmware C-simulation benchmark: compile time and samples/s, SNN firmware vs hls4ml's ANN firmware.

    python benchmarks/firmware.py mnist_mlp mnist_cnn --samples 10000
Each model is trained for one epoch on 5000 images (the firmware's cost does not depend on it);
both projects are Vitis io_parallel, reuse factor 1, compiled with g++ by hls4ml.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import machine, save  # noqa: E402

import hwflow  # noqa: E402
from hwflow.config import load_config  # noqa: E402
from hwflow.metrics import count_mismatches  # noqa: E402
from hwflow.hls import compile as compile_hls  # noqa: E402
from hwflow.hls import predict, to_hls  # noqa: E402
from hwflow.hls.ann import ann_to_hls  # noqa: E402
from hwflow.options import FirmwareOptions  # noqa: E402
from hwflow.train import train  # noqa: E402


def timed(fn):
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("configs", nargs="+")
    p.add_argument("--samples", type=int, default=10000)
    args = p.parse_args()
    rows = []
    for name in args.configs:
        cfg = load_config(name, overrides={"train": {"epochs": 1}, "dataset": {"limit_train": 5000}})
        result = train(cfg, verbose=0)
        snn = hwflow.convert(result.model)
        x = result.dataset.x_test[:args.samples]
        y_qkeras = result.model.predict(x, verbose=0)
        with tempfile.TemporaryDirectory() as tmp:
            opts = FirmwareOptions.from_config(cfg)  # the zoo's buildable settings (strategy, lanes, part)
            snn_fw = to_hls(snn, Path(tmp) / "snn", opts)
            ann_fw = ann_to_hls(result.model, Path(tmp) / "ann", opts)
            snn_compile, ann_compile = compile_hls(snn_fw), compile_hls(ann_fw)
            t_snn, y_snn = timed(lambda: predict(snn_fw, snn, x))
            t_ann, y_ann = timed(lambda: np.asarray(ann_fw.predict(np.ascontiguousarray(x, np.float64)), np.float32))
        y_ann = y_ann.reshape(y_snn.shape)
        row = {"model": name, "samples": len(x), "hls": opts.as_dict(), "snn_compile_s": snn_compile,
               "ann_compile_s": ann_compile,
               "snn_csim_samples_per_s": len(x) / t_snn, "ann_csim_samples_per_s": len(x) / t_ann,
               "mismatches": {"csim_vs_qkeras": count_mismatches(y_snn, y_qkeras),
                              "csim_vs_hls4ml_ann": count_mismatches(y_snn, y_ann),
                              "hls4ml_ann_vs_qkeras": count_mismatches(y_ann, y_qkeras)}}
        rows.append(row)
        print(f"{name}: compile SNN {snn_compile:.1f} s / ANN {ann_compile:.1f} s; C sim SNN "
              f"{row['snn_csim_samples_per_s']:.0f}/s / ANN {row['ann_csim_samples_per_s']:.0f}/s; "
              f"mismatches {row['mismatches']}", flush=True)
    out = save("firmware_csim", {"command": "python " + " ".join(sys.argv), "machine": machine(), "rows": rows})
    print(f"written {out}")


if __name__ == "__main__":
    main()
