"""Exact comparisons and scores of model outputs."""
from __future__ import annotations

import numpy as np


def count_mismatches(a: np.ndarray, b: np.ndarray) -> int:
    """Number of samples whose outputs differ in any element (exact comparison)."""
    if a.shape != b.shape:
        raise ValueError(f"output shapes differ: {a.shape} vs {b.shape}")
    return int(np.any(a.reshape(len(a), -1) != b.reshape(len(b), -1), axis=1).sum())


def accuracy(outputs: np.ndarray, labels: np.ndarray) -> float:
    """Top-1 accuracy of outputs [N, classes] against integer labels [N]."""
    return float(np.mean(np.argmax(outputs, axis=1) == labels))
