"""Every zoo model, briefly trained, equals its SNN on the whole test set; T 1..8, BN, regularizer."""
from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf
from qkeras import QActivation, QDense, quantized_bits, quantized_relu

import hwflow
from hwflow.config import load_config, zoo_names
from hwflow.metrics import count_mismatches
from hwflow.train import train


def short(name: str, **overrides) -> dict:
    train_cfg = {"epochs": 1, **overrides.pop("train", {})}
    return load_config(name, overrides={"train": train_cfg, **overrides})


def assert_exact(cfg: dict) -> hwflow.SNN:
    result = train(cfg, verbose=0)
    snn = hwflow.convert(result.model, time_steps=cfg["time_steps"], encoding=cfg["input"]["encoding"])
    assert snn.tf_float32_exact, snn.tf_inexact_layers()
    x = snn.quantize_input(result.dataset.x_test)
    np.testing.assert_array_equal(x, result.dataset.x_test)  # the datasets are already on the grid
    np.testing.assert_array_equal(snn.predict(x), result.model.predict(x, verbose=0))
    return snn


@pytest.mark.slow
@pytest.mark.parametrize("t", range(1, 9))
@pytest.mark.parametrize("batchnorm", [True, False])
@pytest.mark.parametrize("lam", [0.0, 1e-3])
def test_digits_mlp_all_time_steps(t: int, batchnorm: bool, lam: float) -> None:
    layers = [{"type": "dense", "units": 32, "batchnorm": batchnorm}, {"type": "dense", "units": 10, "readout": True}]
    encoding = "bitplane" if t % 2 else "direct"
    cfg = short("digits_mlp", time_steps=t, layers=layers, train={"lambda": lam, "seed": t},
                input={"encoding": encoding})
    snn = assert_exact(cfg)
    assert snn.time_steps == [t]


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(set(zoo_names()) - {"digits_mlp"}))
def test_zoo_model_full_test_set(name: str) -> None:
    cfg = short(name, dataset={"limit_train": 3000}, train={"lambda": 1e-4})
    assert_exact(cfg)


def test_digits_mlp_as_shipped() -> None:
    assert_exact(short("digits_mlp"))


def test_float_batchnorm_is_folded_and_exact() -> None:
    """A user's QDense + float BatchNormalization: the SNN equals the folded fixed-point model."""
    tf.keras.utils.set_random_seed(3)
    kq, bq = quantized_bits(6, 0, alpha=1), quantized_bits(10, 4, alpha=1)
    model = tf.keras.Sequential([
        tf.keras.Input((64,)), QActivation(quantized_relu(4, 0)), QDense(20, kernel_quantizer=kq, bias_quantizer=bq),
        tf.keras.layers.BatchNormalization(), QActivation(quantized_relu(3, 0)),
        QDense(10, kernel_quantizer=kq, bias_quantizer=bq)])
    rng = np.random.default_rng(0)
    x = (rng.integers(0, 16, (512, 64)) / 16).astype(np.float32)
    model.compile("adam", "mse")
    model.fit(x, rng.normal(size=(512, 10)), epochs=2, verbose=0)
    with pytest.warns(UserWarning, match="folded"):
        snn = hwflow.convert(model)
    folded = hwflow.fold_batchnorm(model)
    assert not any(type(layer).__name__ == "BatchNormalization" for layer in folded.layers)
    np.testing.assert_array_equal(snn.predict(x), folded.predict(x, verbose=0))
    assert count_mismatches(snn.predict(x), model.predict(x, verbose=0)) < len(x)  # same network, re-quantized


@pytest.mark.slow
@pytest.mark.parametrize("name", ["digits_mlp", "mnist_cnn"])
def test_folding_bn_layers_changes_nothing(name: str) -> None:
    """QDenseBatchnorm / QConv2DBatchnorm -> QDense / QConv2D with folded quantized weights: identical."""
    cfg = short(name, dataset={"limit_train": 1000, "limit_test": 500})
    result = train(cfg, verbose=0)
    folded = hwflow.fold_batchnorm(result.model)
    assert not hwflow.fold.has_batchnorm(folded)
    x = result.dataset.x_test
    np.testing.assert_array_equal(folded.predict(x, verbose=0), result.model.predict(x, verbose=0))
