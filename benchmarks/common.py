"""Shared helpers for the benchmarks: machine description and result files."""
from __future__ import annotations

import json
import os
import platform
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REPORTS = ROOT / "reports"


def machine() -> dict:
    """What the numbers were measured on."""
    import numpy as np
    import tensorflow as tf
    return {"cpu_count": os.cpu_count(), "machine": platform.machine(), "python": platform.python_version(),
            "tensorflow": tf.__version__, "numpy": np.__version__}


def save(name: str, result: dict) -> Path:
    """Write reports/NAME.json and return its path."""
    path = REPORTS / f"{name}.json"
    path.write_text(json.dumps(result, indent=2))
    return path
