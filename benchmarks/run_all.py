"""Run every benchmark with the arguments recorded in reports/BENCHMARKS.md (about 3 hours: the hardware benchmarks synthesize every design)."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RUNS = [
    ["regularizer.py", "mnist_mlp", "--lambdas", "0,3e-5,1e-4,3e-4"],
    ["throughput.py", "mnist_mlp", "mnist_cnn", "--repeats", "3"],
    ["firmware.py", "mnist_mlp", "mnist_cnn", "--samples", "10000"],
    ["designs.py", "mnist_mlp", "mnist_cnn"],
    ["hardware.py", "digits_mlp", "--encodings", "direct,bitplane"],
    ["hardware.py", "mnist_mlp", "--lambdas", "0,1e-4,3e-4", "--encodings", "bitplane", "--samples", "2000",
     "--designs", "event,folded,ann"],
    ["hardware.py", "mnist_cnn", "--encodings", "direct,bitplane", "--samples", "2000", "--designs", "event,folded,ann",
     "--name", "hardware_mnist_cnn"],
    ["hls_strategies.py", "mnist_mlp", "mnist_cnn", "--lambdas", "0,1e-4", "--samples", "200"],
    ["calibrate.py"],
    ["hls_strategies.py", "mnist_cnn", "--io-type", "io_stream", "--samples", "200"],
    ["hardware.py", "mnist_mlp", "--lambdas", "0,3e-4,1e-4", "--encodings", "direct", "--samples", "1000",
     "--designs", "event,folded,ann", "--reuse", "--name", "hardware_mnist_mlp_direct"],
    ["rtl_zoo.py", "digits_mlp", "jet_mlp", "--reuse", "--lanes", "8,5,1", "--name", "rtl_zoo_dense"],
    ["rtl_zoo.py", "mnist_mlp", "--reuse", "--architectures", "event,folded", "--lanes", "8,5,1", "--name",
     "rtl_zoo_mnist_mlp"],
    ["rtl_zoo.py", "mnist_cnn", "--reuse", "--architectures", "event,folded", "--lanes", "8,5,1", "--name",
     "rtl_zoo_mnist_cnn"],
    ["line_buffers.py", "zoo_mnist_cnn", "--architectures", "event,ann", "--samples", "1000"],
    ["po2_spikes.py", "--samples", "200"],
    ["graph_blocks.py", "--samples", "200"],
]

if __name__ == "__main__":
    for args in RUNS:
        print("==", " ".join(args), flush=True)
        subprocess.run([sys.executable, f"benchmarks/{args[0]}", *args[1:]], cwd=ROOT, check=True)
