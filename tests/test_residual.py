"""The residual Add()([layer(a), a]) fused into the layer's neuron: identity weights, exact in the SNN, the HLS
C simulation and the RTL twin; what it cannot fuse is one line."""
from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf
from qkeras import (QActivation, QBatchNormalization, QConv1D, QConv2D, QConv2DBatchnorm, QDense, QDepthwiseConv2D,
                    QDepthwiseConv2DBatchnorm, binary,
                    quantized_bits, quantized_relu)
from tensorflow.keras.layers import Add, Concatenate, Flatten, MaxPooling2D

import hwflow
from hwflow.errors import HwflowError
from hwflow.ops import residual
from hwflow.rtl import tools
from randmodels import grid_inputs

Q4 = quantized_bits(4, 0, alpha=1)
SHAPE = (6, 6, 2)


def grid_weights(model: tf.keras.Model, seed: int) -> tf.keras.Model:
    """Every kernel and bias on the 1/8 grid -1 .. 7/8 (randmodels.grid_model's weights); the batch norm of a
    QConv2DBatchnorm / QDepthwiseConv2DBatchnorm gets statistics far from identity."""
    rng = np.random.default_rng(seed)
    for w in model.weights:
        w.assign(rng.integers(-8, 8, w.shape) / 8)
    for layer in model.layers:
        if hasattr(layer, "batchnorm"):
            n = layer.batchnorm.moving_mean.shape[0]
            layer.batchnorm.set_weights([rng.uniform(0.5, 3.0, n), rng.uniform(-1.0, 1.0, n),
                                         rng.uniform(-1.0, 1.0, n), rng.uniform(0.1, 4.0, n)])
    return model


def head(h):
    """quantized_relu, max pool, then a dense residual block and a readout with its own residual Add."""
    h = MaxPooling2D(2)(QActivation(quantized_relu(3, 1))(h))
    f = QActivation(quantized_relu(3, 1))(QDense(6, kernel_quantizer=Q4, bias_quantizer=Q4)(Flatten()(h)))
    f = QActivation(quantized_relu(4, 1))(Add()([QDense(6, kernel_quantizer=Q4, bias_quantizer=Q4)(f), f]))
    return Add()([f, QDense(6, kernel_quantizer=Q4, bias_quantizer=Q4)(f)])  # the readout's identity, other order


BLOCKS = {  # name: the residual block on the activated input a
    "conv 3x3 'same'": lambda a: Add()([QConv2D(2, 3, padding="same", kernel_quantizer=Q4, bias_quantizer=Q4)(a), a]),
    "conv 2x2 'same' (pads after)": lambda a: Add()([a, QConv2D(2, 2, padding="same", kernel_quantizer=Q4,
                                                                bias_quantizer=Q4)(a)]),
    "depthwise 3x3": lambda a: Add()([QDepthwiseConv2D(3, padding="same", depthwise_quantizer=Q4,
                                                       bias_quantizer=Q4)(a), a]),
    "QDepthwiseConv2DBatchnorm 3x3": lambda a: Add()([QDepthwiseConv2DBatchnorm(
        3, padding="same", depthwise_quantizer=Q4, bias_quantizer=quantized_bits(8, 3, alpha=1))(a), a]),
    "QConv2DBatchnorm 1x1 (pointwise)": lambda a: Add()([QConv2DBatchnorm(
        2, 1, kernel_quantizer=Q4, bias_quantizer=quantized_bits(8, 3, alpha=1))(a), a]),
    "signed input": lambda a: (lambda s: Add()([QConv2D(2, 1, kernel_quantizer=Q4, bias_quantizer=Q4)(s), s]))(
        QActivation(quantized_bits(3, 1, alpha=1))(QConv2D(2, 1, kernel_quantizer=Q4, bias_quantizer=Q4)(a))),
}


def model_of(name: str, seed: int = 0, input_name: str | None = None) -> tf.keras.Model:
    x = tf.keras.Input(SHAPE, name=input_name)
    a = QActivation(quantized_relu(4, 1))(x)
    return grid_weights(tf.keras.Model(x, head(BLOCKS[name](a))), seed)


@pytest.mark.parametrize("name", list(BLOCKS))
@pytest.mark.parametrize("encoding", ["direct", "bitplane"])
def test_residual_add_is_fused_and_exact(name: str, encoding: str) -> None:
    model = model_of(name)
    snn = hwflow.convert(model, encoding=encoding)
    assert snn.tf_float32_exact and not any(layer.kind == "add" for layer in snn.layers)
    x = grid_inputs(SHAPE, 500, seed=1, saturated=0.1)
    np.testing.assert_array_equal(snn.predict(x), model.predict(x, verbose=0))


def test_the_identity_weights_are_what_makes_it_exact(monkeypatch) -> None:
    """Each fused layer carries 1.0 on its identity taps; without them the SNN is another network."""
    model = model_of("conv 3x3 'same'")
    snn = hwflow.convert(model)
    conv = snn.synaptic_layers[0]
    keras_conv = next(layer for layer in model.layers if type(layer).__name__ == "QConv2D")
    kernel = keras_conv.get_weights()[0].copy()
    kernel[1, 1, [0, 1], [0, 1]] += 1.0
    np.testing.assert_array_equal(conv.weight * 2.0**-conv.weight_frac, kernel)
    x = grid_inputs(SHAPE, 500, seed=2)
    monkeypatch.setattr(residual, "identity_index", lambda layer, where: (np.array([], int),) * layer.weight.ndim)
    assert np.any(hwflow.convert(model).predict(x) != model.predict(x, verbose=0))


def test_conv1d_residual() -> None:
    x = tf.keras.Input((10, 2))
    a = QActivation(quantized_relu(4, 1))(x)
    h = QActivation(quantized_relu(3, 1))(Add()([QConv1D(2, 3, padding="causal", kernel_quantizer=Q4,
                                                          bias_quantizer=Q4)(a), a]))
    model = grid_weights(tf.keras.Model(x, QDense(3, kernel_quantizer=Q4, bias_quantizer=Q4)(Flatten()(h))), 3)
    xs = grid_inputs((10, 2), 400, seed=4)
    np.testing.assert_array_equal(hwflow.convert(model, encoding="bitplane").predict(xs), model.predict(xs, verbose=0))


def two_layer_block():
    x = tf.keras.Input(SHAPE)
    a = QActivation(quantized_relu(4, 1))(x)
    h = QActivation(quantized_relu(3, 1))(QConv2D(2, 3, padding="same", kernel_quantizer=Q4)(a))
    return tf.keras.Model(x, Flatten()(Add()([QConv2D(2, 3, padding="same", kernel_quantizer=Q4)(h), a])))


def concatenated():
    x = tf.keras.Input((4,))
    a = QActivation(quantized_relu(4, 0))(x)
    b = QActivation(quantized_relu(4, 0))(QDense(4, kernel_quantizer=Q4)(a))
    b = QActivation(quantized_relu(4, 0))(QDense(4, kernel_quantizer=Q4)(b))  # two layers: a join, of a analog
    return tf.keras.Model(x, QDense(3, kernel_quantizer=Q4)(Concatenate()([a, b])))


def after_binary():
    x = tf.keras.Input((4,))
    a = QActivation(binary())(QDense(4, kernel_quantizer=Q4)(QActivation(quantized_relu(4, 0))(x)))
    return tf.keras.Model(x, Add()([QDense(4, kernel_quantizer=Q4)(a), a]))


def with_batchnorm():
    x = tf.keras.Input(SHAPE)
    a = QActivation(quantized_relu(4, 1))(x)
    h = QBatchNormalization()(QConv2D(2, 3, padding="same", kernel_quantizer=Q4, bias_quantizer=Q4)(a))
    return tf.keras.Model(x, Flatten()(QActivation(quantized_relu(3, 1))(Add()([h, a]))))


@pytest.mark.parametrize("make, message", [
    (two_layer_block, "skip starts at the analog input"),  # its middle activation is not a's: a join, of a analog
    (concatenated, "carries the analog input"),
    (after_binary, "adds a binary() activation"),
    (with_batchnorm, "folds batch norm only in chains"),
])
def test_what_is_not_fused_is_one_line(make, message: str) -> None:
    with pytest.raises(HwflowError) as err:
        hwflow.convert(make())
    assert message in str(err.value) and "\n" not in str(err.value)


@pytest.mark.firmware
@pytest.mark.slow
@pytest.mark.skipif(tools.find(tools.VERILATOR) is None, reason="Verilator is needed for RTL simulation")
def test_firmware_and_rtl_of_residual_blocks_are_exact(tmp_path) -> None:
    """The event blocks (Vivado, io_parallel) and the folded ones (Vitis, io_stream), each with its RTL twin:
    == SNN == QKeras on every sample."""
    from test_strategies import check as hls_check

    model = model_of("conv 3x3 'same'", seed=5)
    snn = hwflow.convert(model, encoding="bitplane")
    x = grid_inputs(SHAPE, 40, seed=6)
    hls_check(tmp_path / "event", model, snn, x, strategy="event", lanes=2)
    model = model_of("QDepthwiseConv2DBatchnorm 3x3", seed=5)  # a batch norm folded inside the block
    snn = hwflow.convert(model, encoding="bitplane")
    hls_check(tmp_path / "folded", model, snn, x, strategy="folded", lanes=3, io_type="io_stream", backend="Vitis")


@pytest.mark.parametrize("name", ["QDepthwiseConv2DBatchnorm 3x3", "QConv2DBatchnorm 1x1 (pointwise)"])
def test_batchnorm_folding_layers_in_a_graph_fold_to_plain_layers(name: str) -> None:
    """fold_batchnorm of a residual graph: the folding layers become plain ones, the Adds stay, bit for bit."""
    model = model_of(name, seed=2)
    folded = hwflow.fold_batchnorm(model)
    kinds = [type(layer).__name__ for layer in folded.layers]
    assert not any(k.endswith("Batchnorm") for k in kinds) and kinds.count("Add") == 3
    x = grid_inputs(SHAPE, 300, seed=4, saturated=0.1)
    np.testing.assert_array_equal(folded.predict(x, verbose=0), model.predict(x, verbose=0))


@pytest.mark.firmware
def test_hls4ml_ann_of_a_batchnorm_residual_model_is_exact(tmp_path) -> None:
    """The peer baseline on a QDepthwiseConv2DBatchnorm residual block whose input is named 'input' (a name
    hls4ml reserves; hwflow's own model builder once used it): hls4ml's C simulation == QKeras."""
    from hwflow.hls.ann import ann_to_hls
    from hwflow.hls.lower import csim_batches
    from hwflow.metrics import count_mismatches

    model = model_of("QDepthwiseConv2DBatchnorm 3x3", seed=5, input_name="input")
    ann = ann_to_hls(model, tmp_path / "ann")
    hwflow.hls.compile(ann)
    x = grid_inputs(SHAPE, 100, seed=6, saturated=0.1)
    y = csim_batches(ann, x).astype(np.float32).reshape(len(x), -1)
    assert count_mismatches(y, model.predict(x, verbose=0)) == 0


@pytest.mark.parametrize("function", ["softmax", "sigmoid"])
def test_logits_of_a_residual_model_with_a_final_function(function: str) -> None:
    """QKeras's logits (what the firmware is compared with) come from the same graph, the Add kept."""
    from hwflow.ops.output_function import logits_model

    model = model_of("conv 3x3 'same'")
    model = tf.keras.Model(model.inputs, tf.keras.layers.Activation(function)(model.outputs[0]))
    snn = hwflow.convert(model)
    x = grid_inputs(SHAPE, 200, seed=3)
    np.testing.assert_array_equal(snn.logits(x), logits_model(model).predict(x, verbose=0))
    np.testing.assert_array_equal(snn.predict(x), model.predict(x, verbose=0))
