"""Batch norm where QKeras users put it: QBatchNormalization (its quantized parameters) and a float
BatchNormalization after a layer without a bias quantizer, folded into the layer before them; the SNN,
the firmware and the RTL twin equal the folded fixed-point model."""
from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf
from qkeras import QActivation, QBatchNormalization, QConv2D, QDense, quantized_bits, quantized_relu
from tensorflow.keras.layers import BatchNormalization, Flatten

import hwflow
from hwflow.errors import HwflowError
from hwflow.rtl import tools
from randmodels import grid_inputs, grid_model

KQ = quantized_bits(5, 0, alpha=1)
BQ = quantized_bits(10, 4, alpha=1)


def qbn() -> QBatchNormalization:
    """QKeras's defaults: power-of-two gamma, beta, mean and variance."""
    return QBatchNormalization()


def float_bn() -> BatchNormalization:
    return BatchNormalization()


def with_statistics(model: tf.keras.Model, seed: int) -> tf.keras.Model:
    """Give every batch norm moving statistics and an affine part far from identity."""
    rng = np.random.default_rng(seed)
    for layer in model.layers:
        if type(layer).__name__ in ("BatchNormalization", "QBatchNormalization"):
            n = layer.moving_mean.shape[0]
            layer.set_weights([rng.uniform(0.5, 3.0, n), rng.uniform(-1.0, 1.0, n), rng.uniform(-1.0, 1.0, n),
                               rng.uniform(0.1, 4.0, n)])
    return model


VARIANTS = {  # name: fresh layers after grid_model's quantized_relu(4, 1) input
    "QConv2D + QBatchNormalization": lambda: [
        QConv2D(4, 3, kernel_quantizer=KQ, bias_quantizer=BQ), qbn(), QActivation(quantized_relu(3, 1)), Flatten(),
        QDense(5, kernel_quantizer=KQ, bias_quantizer=BQ)],
    "QDense + QBatchNormalization, no bias quantizer": lambda: [
        Flatten(), QDense(12, kernel_quantizer=KQ), qbn(), QActivation(quantized_relu(4, 1)),
        QDense(5, kernel_quantizer=KQ, bias_quantizer=BQ)],
    "QConv2D without bias quantizer + float BatchNormalization": lambda: [
        QConv2D(3, 2, kernel_quantizer=KQ, use_bias=False), float_bn(), QActivation(quantized_relu(3, 0)), Flatten(),
        QDense(12, kernel_quantizer=KQ), float_bn(), QActivation(quantized_relu(4, 1)),
        QDense(5, kernel_quantizer=KQ, bias_quantizer=BQ)],
}


def model_of(name: str, seed: int = 0) -> tf.keras.Model:
    return with_statistics(grid_model((6, 6, 2), VARIANTS[name](), seed), seed)


@pytest.mark.parametrize("name", list(VARIANTS))
@pytest.mark.parametrize("encoding", ["direct", "bitplane"])
def test_batchnorm_is_folded_and_the_snn_equals_the_folded_model(name: str, encoding: str) -> None:
    model = model_of(name)
    with pytest.warns(UserWarning, match="folded and re-quantized"):
        snn = hwflow.convert(model, encoding=encoding)
    folded = hwflow.fold_batchnorm(model)
    assert not hwflow.fold.has_batchnorm(folded)
    assert snn.tf_float32_exact, snn.summary()
    x = grid_inputs((6, 6, 2), 400, seed=1, saturated=0.1)
    y = snn.predict(x)
    np.testing.assert_array_equal(y, folded.predict(x, verbose=0))
    # the fold is a real change of the network: it was not the identity
    assert np.any(y != model.predict(x, verbose=0))


def test_qbatchnorm_uses_its_quantized_parameters() -> None:
    """Folding the float parameters instead of QKeras's power-of-two ones gives another network."""
    model = model_of("QConv2D + QBatchNormalization", seed=2)
    bn = next(layer for layer in model.layers if type(layer).__name__ == "QBatchNormalization")
    gamma, beta, mean, variance = (np.asarray(v) for v in hwflow.fold.bn_parameters(bn))
    assert np.all(np.log2(np.abs(gamma)) == np.round(np.log2(np.abs(gamma))))  # powers of two
    assert np.any(gamma != bn.gamma.numpy()) and np.any(variance != bn.moving_variance.numpy())
    folded = hwflow.fold_batchnorm(model)
    conv = next(layer for layer in folded.layers if type(layer).__name__ == "QConv2D")
    plain = model.layers[[type(la).__name__ for la in model.layers].index("QConv2D")]
    inv = gamma / np.sqrt(variance + bn.epsilon)
    np.testing.assert_array_equal(conv.get_weights()[0], KQ(inv * plain.kernel).numpy())
    np.testing.assert_array_equal(conv.get_weights()[1], BQ(inv * (plain.bias - mean) + beta).numpy())


def test_folded_bias_without_quantizer_is_rounded_onto_the_accumulator_grid() -> None:
    """No bias quantizer: the folded float bias is rounded half to even onto 2**-(input frac + kernel frac)."""
    model = model_of("QConv2D without bias quantizer + float BatchNormalization")
    folded = hwflow.fold_batchnorm(model)
    pairs = [(a, b) for a, b in zip(model.layers, model.layers[1:]) if type(b).__name__ == "BatchNormalization"]
    clones = [layer for layer in folded.layers if type(layer).__name__ in ("QConv2D", "QDense")]
    for (layer, bn), clone, frac_in in zip(pairs, clones, (3, 3)):  # after quantized_relu(4, 1) and (3, 0)
        kernel, bias = clone.get_weights()
        frac = frac_in + hwflow.quant.to_integers(kernel, "kernel")[1]
        inv = bn.gamma.numpy() / np.sqrt(bn.moving_variance.numpy() + bn.epsilon)
        own = layer.bias.numpy() if layer.use_bias else 0.0
        exact = inv * (own - bn.moving_mean.numpy()) + bn.beta.numpy()
        np.testing.assert_array_equal(bias, np.round(exact.astype(np.float64) * 2.0**frac) * 2.0**-frac)
        assert np.any(exact * 2.0**frac != np.round(exact * 2.0**frac))  # there was something to round


@pytest.mark.parametrize("layers, message", [
    (lambda: [Flatten(), QActivation(quantized_relu(3, 0)), qbn(), QDense(3, kernel_quantizer=KQ)],
     "can be folded only directly after a QDense or QConv2D"),
    (lambda: [QConv2D(2, 3, kernel_quantizer=KQ), QBatchNormalization(axis=1), QActivation(quantized_relu(3, 0)),
              Flatten(), QDense(3, kernel_quantizer=KQ)], "only the channel (last) axis can be folded"),
])
def test_unfoldable_batchnorm_is_one_line(layers, message: str) -> None:
    with pytest.raises(HwflowError) as err:
        hwflow.convert(grid_model((6, 6, 2), layers()))
    assert message in str(err.value) and "\n" not in str(err.value)


def test_float_bias_without_an_activation_before_it_is_one_line() -> None:
    model = tf.keras.Sequential([tf.keras.Input((8,)), QDense(4, kernel_quantizer=KQ), BatchNormalization(),
                                 QActivation(quantized_relu(3, 0)), QDense(2, kernel_quantizer=KQ, bias_quantizer=BQ)])
    with pytest.raises(HwflowError) as err:
        hwflow.convert(model, input_quantizer="quantized_bits(4,0,alpha=1)")
    assert "has no bias_quantizer and no QActivation before it" in str(err.value) and "\n" not in str(err.value)


@pytest.mark.firmware
@pytest.mark.slow
@pytest.mark.skipif(tools.find(tools.VERILATOR) is None, reason="Verilator is needed for RTL simulation")
def test_firmware_and_rtl_of_folded_batchnorm_are_exact(tmp_path) -> None:
    """The event blocks (io_parallel) with their RTL twin, and the folded RTL twin: == SNN == the folded model."""
    from test_rtl import check as rtl_check
    from test_strategies import check as hls_check

    model = model_of("QConv2D without bias quantizer + float BatchNormalization", seed=4)
    with pytest.warns(UserWarning, match="folded"):
        snn = hwflow.convert(model, encoding="bitplane")
    folded = hwflow.fold_batchnorm(model)
    x = grid_inputs((6, 6, 2), 40, seed=6)
    hls_check(tmp_path / "event", folded, snn, x, strategy="event", lanes=2)
    rtl_check(snn, folded, x, tmp_path / "rtl", "folded", 3)
