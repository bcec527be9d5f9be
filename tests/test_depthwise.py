"""QDepthwiseConv2D(-Batchnorm) and QSeparableConv2D as one exact Conv2D (hwflow.ops.depthwise): the SNN,
the HLS C simulation and the RTL twin equal QKeras on every sample."""
from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf
from qkeras import QActivation, QDense, QDepthwiseConv2D, QSeparableConv2D, quantized_bits, quantized_relu
from qkeras.qdepthwiseconv2d_batchnorm import QDepthwiseConv2DBatchnorm
from tensorflow.keras.layers import Flatten

import hwflow
import hwflow.hls
from hwflow.ops.depthwise import depthwise_as_conv, separable_as_conv
from hwflow.rtl import tools
from randmodels import Arch, build, firmware_outputs, inputs

KQ, BQ = quantized_bits(4, 1, alpha=1), quantized_bits(6, 2, alpha=1)


def model_with(block: tf.keras.layers.Layer, seed: int = 0) -> tf.keras.Model:
    """7x7x3 image -> block -> IF neurons -> dense readout, weights on their grids."""
    rng = np.random.default_rng(seed)
    model = tf.keras.Sequential([tf.keras.Input((7, 7, 3)), QActivation(quantized_relu(3, 1)), block,
                                 QActivation(quantized_relu(3, 1)), Flatten(),
                                 QDense(4, kernel_quantizer=KQ, bias_quantizer=BQ)])
    for layer in model.layers:
        weights = layer.get_weights()
        if weights and not isinstance(layer, QDepthwiseConv2DBatchnorm):
            layer.set_weights([(rng.integers(-8, 8, w.shape) / 4).astype(np.float32) for w in weights])
    return model


BLOCKS = {
    "depthwise-same-stride2-multiplier2": lambda: QDepthwiseConv2D(
        3, strides=2, padding="same", depth_multiplier=2, depthwise_quantizer=KQ, bias_quantizer=BQ),
    "separable-valid": lambda: QSeparableConv2D(
        5, 3, padding="valid", depthwise_quantizer=KQ, pointwise_quantizer=KQ, bias_quantizer=BQ),
    "depthwise-batchnorm": lambda: QDepthwiseConv2DBatchnorm(
        kernel_size=3, padding="same", depthwise_quantizer=KQ, bias_quantizer=BQ),
}


def samples(n: int, seed: int) -> np.ndarray:
    levels = np.random.default_rng(seed).integers(0, 8, (n, 7, 7, 3))
    levels[:, ::3] = 7  # saturation and ties
    return (levels / 4).astype(np.float32)


def test_the_kernels_are_the_convolutions_keras_computes() -> None:
    rng = np.random.default_rng(1)
    x = rng.integers(-4, 4, (2, 6, 6, 3)).astype(np.float64)
    d, p = rng.integers(-4, 4, (3, 3, 3, 2)).astype(np.float64), rng.integers(-4, 4, (1, 1, 6, 5)).astype(np.float64)
    depthwise = tf.nn.depthwise_conv2d(x, d, [1, 1, 1, 1], "SAME").numpy()
    np.testing.assert_array_equal(tf.nn.conv2d(x, depthwise_as_conv(d), 1, "SAME").numpy(), depthwise)
    separable = tf.nn.separable_conv2d(x, d, p, [1, 1, 1, 1], "VALID").numpy()
    np.testing.assert_array_equal(tf.nn.conv2d(x, separable_as_conv(d, p), 1, "VALID").numpy(), separable)


@pytest.mark.parametrize("strides, padding", [((1, 1), "same"), ((2, 2), "valid"), ((1, 2), "same")])
def test_the_simulator_runs_a_lowered_depthwise_kernel_as_a_depthwise_convolution(strides, padding) -> None:
    """hwflow.geometry.conv2d finds the depthwise kernel in its lowered Conv2D (multiplier 2: Keras's channel order)
    and computes the same integers as the int64 tap sum; a kernel with one weight across channels is not one."""
    from hwflow.geometry import conv2d, depthwise_kernel

    rng = np.random.default_rng(4)
    d = rng.integers(-8, 8, (3, 3, 4, 2)).astype(np.float64)
    w = depthwise_as_conv(d)
    np.testing.assert_array_equal(depthwise_kernel(w), d)
    x = rng.integers(0, 16, (3, 7, 7, 4))
    np.testing.assert_array_equal(conv2d(x.astype(np.float32), w, strides, padding), conv2d(x, w.astype(np.int64),
                                                                                            strides, padding))
    w[0, 0, 0, 3] = 1
    assert depthwise_kernel(w) is None and depthwise_kernel(rng.integers(-8, 8, (3, 3, 1, 4))) is None


def test_operation_counts_leave_out_the_zero_cross_channel_weights() -> None:
    """A depthwise layer's MACs are Keras's (taps x C x M per output pixel, not the lowered C x C*M), and a spike
    reaches M synapses per tap; a separable layer's one kernel is a full convolution."""
    model = model_with(BLOCKS["depthwise-same-stride2-multiplier2"]())
    layer = hwflow.convert(model, encoding="bitplane").synaptic_layers[0]
    kh, kw, c, cm = layer.weight.shape
    assert layer.reach() == cm // c == 2 and layer.ann_macs() == int(layer.fan_out().sum()) * cm
    spikes = np.zeros((1, 7, 7, c), np.uint8)
    spikes[0, 3, 3, 1] = 1  # one spike: the (output pixel, tap) pairs that read its pixel, 2 synapses each
    assert layer.synaptic_ops(spikes) == int(layer.fan_out()[3, 3]) * 2 > 0
    separable = hwflow.convert(model_with(BLOCKS["separable-valid"]()), encoding="bitplane").synaptic_layers[0]
    assert separable.reach() == separable.weight.shape[3]


@pytest.mark.parametrize("block", list(BLOCKS))
@pytest.mark.parametrize("encoding", ["direct", "bitplane"])
def test_the_snn_equals_qkeras(block: str, encoding: str) -> None:
    model = model_with(BLOCKS[block]())
    if block == "depthwise-batchnorm":  # moving statistics that are not the identity
        model.compile("adam", "mse")
        model.fit(samples(256, 2), np.zeros((256, 4)), epochs=2, verbose=0)
    snn = hwflow.convert(model, encoding=encoding)
    x = samples(300, 3)
    assert snn.tf_float32_exact
    np.testing.assert_array_equal(snn.predict(x), model.predict(x, verbose=0))


@pytest.mark.firmware
@pytest.mark.skipif(tools.find(tools.VERILATOR) is None, reason="Verilator is needed for RTL simulation")
def test_firmware_and_rtl_of_depthwise_and_separable_layers(tmp_path) -> None:
    """Both kinds in one network: event C simulation through line buffers, and the RTL twin (the
    latency strategy's block is the convolution's, tested there)."""
    arch = Arch(seed=9, hw=6, channels=2, input_bits=3, input_integer=2,
                convs=[(3, 3, 1, "same", 3, 1, "max", "depthwise"), (4, 2, 1, "valid", 2, 1, None, "separable")],
                denses=[], weight_bits=3, weight_integer=1, bias_bits=5, bias_integer=2, out_units=3, readout=True)
    model, x = build(arch), inputs(arch, 60, seed=4)
    snn = hwflow.convert(model, encoding="bitplane")
    hls_model = hwflow.hls.to_hls(snn, tmp_path / "hls", strategy="event", lanes=3, io_type="io_stream")
    hwflow.hls.compile(hls_model)
    firmware_outputs(model, snn, x, hwflow.hls.predict(hls_model, snn, x))
    firmware_outputs(model, snn, x, hwflow.to_rtl(snn, tmp_path / "rtl", architecture="event", lanes=3).simulate(x).output)
