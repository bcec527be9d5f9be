"""Shared helpers for the benchmarks: machine description and result files."""
from __future__ import annotations

import json
import os
import platform
import subprocess
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REPORTS = ROOT / "reports"


def machine() -> dict:
    """What the numbers were measured on, and the code that measured them (the commit the benchmark started from:
    a long run must not record a commit made while it ran)."""
    import numpy as np
    import tensorflow as tf
    return {"cpu_count": os.cpu_count(), "machine": platform.machine(), "python": platform.python_version(),
            "tensorflow": tf.__version__, "numpy": np.__version__, "commit": STARTED_AT}


def commit() -> str:
    """The checkout's commit, '+changes' when tracked files differ from it; 'unknown' outside a git checkout."""
    def git(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True)
    head = git("rev-parse", "--short", "HEAD")
    if head.returncode:
        return "unknown"
    return head.stdout.strip() + ("+changes" if git("diff", "--quiet", "HEAD").returncode else "")


def digits_run(doc: str, epochs: int, samples_help: str):
    """The digits benchmarks' command line (--samples, --epochs) and their dataset: (args, sklearn digits)."""
    import argparse

    from hwflow.datasets import load_dataset
    p = argparse.ArgumentParser(description=doc.splitlines()[0])
    p.add_argument("--samples", type=int, default=200, help=samples_help)
    p.add_argument("--epochs", type=int, default=epochs)
    return p.parse_args(), load_dataset("digits")


def trained_snn(make, data, epochs: int):
    """Build make() after seed 0, train it as the digits benchmarks do (Adam 0.003, cross-entropy on logits, batch
    32), convert it (direct input) and simulate the test set: (model, snn, its RunStats, QKeras's test outputs,
    training seconds)."""
    import tensorflow as tf

    import hwflow
    tf.keras.utils.set_random_seed(0)
    model = make()
    model.compile(tf.keras.optimizers.Adam(0.003), tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    start = time.perf_counter()
    model.fit(data.x_train, data.y_train, epochs=epochs, batch_size=32, verbose=0)
    seconds = time.perf_counter() - start
    snn = hwflow.convert(model, encoding="direct")
    return model, snn, snn.run(data.x_test), model.predict(data.x_test, verbose=0), seconds


def save_digits(name: str, args, data, rows: dict) -> Path:
    """Write a digits benchmark's rows with its command, machine and sample counts to reports/NAME.json."""
    import sys
    return save(name, dict(command="python " + " ".join(sys.argv), machine=machine(), test_samples=len(data.x_test),
                           rtl_samples=args.samples, rows=rows))


STARTED_AT = commit()  # read when a benchmark imports this module, before it runs


def save(name: str, result: dict) -> Path:
    """Write reports/NAME.json and return its path."""
    path = REPORTS / f"{name}.json"
    path.write_text(json.dumps(result, indent=2))
    return path
