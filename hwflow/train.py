"""Quantization-aware training of the configured QKeras model, saving and reloading it."""
from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import tensorflow as tf
import yaml

from hwflow.config import load_config
from hwflow.datasets import Dataset, load_dataset
from hwflow.errors import HwflowError
from hwflow.metrics import accuracy
from hwflow.model_builder import build_model
from hwflow.qlayers import custom_objects

MODEL_FILE = "model.h5"
CONFIG_FILE = "config.yaml"


@dataclass
class TrainResult:
    """The trained model, its data, the Keras history dict and the model's test accuracy."""

    model: tf.keras.Model
    dataset: Dataset
    history: dict
    test_accuracy: float


def dataset_for(cfg: dict) -> Dataset:
    """Load the dataset named in the config, with its path and limits."""
    ds = cfg["dataset"]
    return load_dataset(ds["name"], ds["path"], ds["limit_train"], ds["limit_test"])


def ends_with_softmax(model: tf.keras.Model) -> bool:
    """True when the model's last layer is a softmax (its outputs are probabilities, not logits)."""
    return model.layers[-1].get_config().get("activation") == "softmax"


def train(cfg: dict, out_dir: Path | None = None, verbose: int = 1, quantized: bool = True) -> TrainResult:
    """Train with Adam on sparse cross-entropy (from the logits, or from the probabilities of a model that
    ends with a softmax), deterministically from train.seed.

    train.shift > 0 moves each training image by its own random whole-pixel offset of at most `shift`
    in each direction, zeros shifted in, drawn anew every epoch from train.seed (augmentation: a moved
    pixel keeps its value, so the images stay on the input grid). A validation split is taken before
    shifting and is not shifted.

    The learning rate decays from train.learning_rate to 0 along a cosine over all steps: the
    weights settle at the end, so the batch-norm moving statistics (which inference folds into
    the weights) catch up with them.

    When out_dir is given, writes out_dir/model.h5 and out_dir/config.yaml. quantized=False trains
    the float twin of the same architecture instead (the float baseline of the report).
    """
    tc = cfg["train"]
    data = dataset_for(cfg)
    if tc["shift"] and data.x_train.ndim != 4:
        raise HwflowError(f"train.shift moves images but dataset {data.name} holds feature vectors of shape "
                          f"{data.x_train.shape[1:]}; set train.shift to 0")
    tf.keras.utils.set_random_seed(tc["seed"])
    tf.config.experimental.enable_op_determinism()
    model = build_model(cfg, quantized)
    n_fit = int(len(data.x_train) * (1.0 - tc["validation_split"]))  # as Keras splits
    steps = max(1, tc["epochs"] * math.ceil(n_fit / tc["batch_size"]))
    schedule = tf.keras.optimizers.schedules.CosineDecay(tc["learning_rate"], steps)
    model.compile(optimizer=tf.keras.optimizers.Adam(schedule),
                  loss=tf.keras.losses.SparseCategoricalCrossentropy(from_logits=not ends_with_softmax(model)),
                  metrics=["accuracy"])
    if tc["shift"]:
        history = fit_shifted(model, data, n_fit, tc, verbose)
    else:
        history = model.fit(data.x_train, data.y_train, epochs=tc["epochs"], batch_size=tc["batch_size"],
                            validation_split=tc["validation_split"], shuffle=True, verbose=verbose).history
    result = TrainResult(model, data, history, model_accuracy(model, data.x_test, data.y_test))
    if out_dir is not None:
        out_dir = Path(out_dir)
        out_dir.mkdir(parents=True, exist_ok=True)
        with warnings.catch_warnings():  # HDF5 is 'legacy'; QKeras quantizers serialize as constraints
            warnings.simplefilter("ignore", UserWarning)
            model.save(out_dir / MODEL_FILE, include_optimizer=False)
        (out_dir / CONFIG_FILE).write_text(yaml.safe_dump(cfg, sort_keys=False))
    return result


def fit_shifted(model: tf.keras.Model, data: Dataset, n_fit: int, tc: dict, verbose: int) -> dict:
    """Fit one epoch at a time, each on freshly shifted training images; returns the Keras history dict."""
    rng = np.random.default_rng(tc["seed"])
    x_fit, y_fit = data.x_train[:n_fit], data.y_train[:n_fit]
    val = (data.x_train[n_fit:], data.y_train[n_fit:]) if n_fit < len(data.x_train) else None
    history: dict[str, list] = {}
    progress = [EpochOf(tc["epochs"])]
    for epoch in range(tc["epochs"]):
        h = model.fit(shifted(x_fit, tc["shift"], rng), y_fit, initial_epoch=epoch, epochs=epoch + 1,
                      batch_size=tc["batch_size"], validation_data=val, shuffle=True, verbose=verbose,
                      callbacks=progress)
        for key, values in h.history.items():
            history.setdefault(key, []).extend(values)
    return history


class EpochOf(tf.keras.callbacks.ProgbarLogger):
    """Keras's progress bar for one-epoch fits, numbered as epochs of the whole run ('Epoch 3/12')."""

    def __init__(self, epochs: int) -> None:
        super().__init__(count_mode="steps")
        self.epochs_in_run = epochs

    def set_params(self, params: dict) -> None:
        super().set_params({**params, "epochs": self.epochs_in_run})


def shifted(x: np.ndarray, shift: int, rng: np.random.Generator) -> np.ndarray:
    """Images [N, H, W, C], each moved by its own offset (dy, dx) in [-shift, shift]^2, zeros shifted in."""
    n, h, w = x.shape[:3]
    padded = np.pad(x, ((0, 0), (shift, shift), (shift, shift), (0, 0)))
    dy, dx = rng.integers(0, 2 * shift + 1, size=(2, n))
    rows = (dy[:, None] + np.arange(h))[:, :, None]
    cols = (dx[:, None] + np.arange(w))[:, None, :]
    return padded[np.arange(n)[:, None, None], rows, cols]


def load_trained(out_dir: Path) -> tuple[tf.keras.Model, dict]:
    """Reload (model, cfg) written by train(out_dir=...)."""
    out_dir = Path(out_dir)
    model_path = out_dir / MODEL_FILE
    if not model_path.is_file():
        raise HwflowError(f"{model_path} not found; train first (hwflow run ... --out {out_dir})")
    cfg = load_config(out_dir / CONFIG_FILE)
    model = tf.keras.models.load_model(model_path, custom_objects=custom_objects(), compile=False)
    return model, cfg


def model_accuracy(model: tf.keras.Model, x: np.ndarray, y: np.ndarray) -> float:
    """Top-1 accuracy of the model's logits (inference mode)."""
    return accuracy(model.predict(x, batch_size=1024, verbose=0), y)
