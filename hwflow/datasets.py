"""Datasets already on the input quantizer's fixed-point grid (never downloaded): images (digits,
MNIST) and a synthetic stand-in for the jet-tagging features hls4ml's tutorial starts from."""
from __future__ import annotations

import gzip
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from hwflow.errors import HwflowError

SUPPORTED = ("digits", "mnist", "jets")
JETS = dict(train=40_000, test=10_000, features=16, classes=5, seed=2026, separation=0.3, grid_frac=5, limit=4.0)
MNIST_FILES = {
    "x_train": ("train-images-idx3-ubyte.gz", 2051),
    "y_train": ("train-labels-idx1-ubyte.gz", 2049),
    "x_test": ("t10k-images-idx3-ubyte.gz", 2051),
    "y_test": ("t10k-labels-idx1-ubyte.gz", 2049),
}


@dataclass
class Dataset:
    """Inputs x as float32 ([N, H, W, 1] images, or [N, features]) and int64 labels y."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    name: str


def load_dataset(name: str, path: str | Path | None = None,
                 limit_train: int | None = None, limit_test: int | None = None) -> Dataset:
    """Load `digits` (sklearn, values k/16), `mnist` (IDX .gz files in `path`, values k/256) or `jets`
    (synthetic, generated here: see _jets; signed values k/32 in [-4, 4)).

    limit_train / limit_test keep only the first N samples of each split.
    """
    if name == "digits":
        ds = _digits()
    elif name == "mnist":
        ds = _mnist(path)
    elif name == "jets":
        ds = _jets()
    else:
        raise HwflowError(f"unknown dataset '{name}'; supported: {', '.join(SUPPORTED)}")
    ds.x_train, ds.y_train = ds.x_train[:limit_train], ds.y_train[:limit_train]
    ds.x_test, ds.y_test = ds.x_test[:limit_test], ds.y_test[:limit_test]
    return ds


def _digits() -> Dataset:
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    bunch = load_digits()
    x = (bunch.images / 16.0).astype(np.float32)[..., None]
    y = bunch.target.astype(np.int64)
    x_train, x_test, y_train, y_test = train_test_split(
        x, y, test_size=0.2, random_state=0, stratify=y)
    return Dataset(x_train, y_train, x_test, y_test, "digits")


def _jets() -> Dataset:
    """Synthetic data of the jet-tagging task's shape (16 standardized high-level features, 5 classes:
    g, q, W, Z, t), drawn from a fixed seed: class means close together, class covariances that
    differ a little, a fixed nonlinear mixing. A linear classifier reaches about 58 %, an MLP about
    75 % (the real task's MLP: about 76 %). Standardized on the training split, rounded to k/32 and
    clipped to [-4, 4): the grid of quantized_bits(8, 2, alpha=1). Not the CERN data."""
    c = JETS
    rng = np.random.default_rng(c["seed"])
    k, d = c["classes"], c["features"]
    means = rng.normal(0, c["separation"], (k, d))
    base = rng.normal(0, 1, (d, d)) / np.sqrt(d)
    scales = np.stack([base + 0.35 * rng.normal(0, 1, (d, d)) / np.sqrt(d) for _ in range(k)])
    mixing = rng.normal(0, 1, (d, d)) / np.sqrt(d)

    def draw(n: int) -> tuple[np.ndarray, np.ndarray]:
        y = rng.integers(0, k, n)
        latent = means[y] + np.einsum("nd,nde->ne", rng.normal(0, 1, (n, d)), scales[y])
        return np.tanh(latent @ mixing) * 2 + 0.3 * latent, y.astype(np.int64)

    (x_train, y_train), (x_test, y_test) = draw(c["train"]), draw(c["test"])
    mu, sd = x_train.mean(axis=0), x_train.std(axis=0)
    step = 2.0 ** -c["grid_frac"]

    def on_grid(x: np.ndarray) -> np.ndarray:
        return np.clip(np.round((x - mu) / sd / step) * step, -c["limit"], c["limit"] - step).astype(np.float32)

    return Dataset(on_grid(x_train), y_train, on_grid(x_test), y_test, "jets")


def _mnist(path: str | Path | None) -> Dataset:
    if path is None:
        raise HwflowError("MNIST needs a folder; set dataset.path in the YAML to the folder "
                          "holding the four IDX .gz files")
    folder = Path(path)
    arrays = {}
    for key, (filename, magic) in MNIST_FILES.items():
        file = folder / filename
        if not file.is_file():
            raise HwflowError(f"MNIST file {file} not found; set dataset.path in the YAML to the "
                              "folder holding the four IDX .gz files")
        arrays[key] = read_idx(file, magic)
    return Dataset(
        x_train=(arrays["x_train"] / np.float32(256.0)).astype(np.float32)[..., None],
        y_train=arrays["y_train"].astype(np.int64),
        x_test=(arrays["x_test"] / np.float32(256.0)).astype(np.float32)[..., None],
        y_test=arrays["y_test"].astype(np.int64),
        name="mnist",
    )


def read_idx(file: Path, magic: int) -> np.ndarray:
    """Read a gzipped unsigned-byte IDX file whose big-endian magic number must equal `magic`."""
    with gzip.open(file, "rb") as f:
        data = f.read()
    found = int.from_bytes(data[:4], "big")
    if found != magic:
        raise ValueError(f"{file}: magic number {found} is not {magic}; not an IDX file of this kind")
    ndim = magic & 0xFF
    dims = [int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)
