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


def fit_seeded(model, x, y, epochs: int) -> float:
    """Train a classifier from seed 0 as the digits benchmarks do (Adam 0.003, cross-entropy on logits, batch 32);
    the seconds it took. The model must be built after tf.keras.utils.set_random_seed(0)."""
    import tensorflow as tf
    model.compile(tf.keras.optimizers.Adam(0.003), tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    start = time.perf_counter()
    model.fit(x, y, epochs=epochs, batch_size=32, verbose=0)
    return time.perf_counter() - start


STARTED_AT = commit()  # read when a benchmark imports this module, before it runs


def save(name: str, result: dict) -> Path:
    """Write reports/NAME.json and return its path."""
    path = REPORTS / f"{name}.json"
    path.write_text(json.dumps(result, indent=2))
    return path
