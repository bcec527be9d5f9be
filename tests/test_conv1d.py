"""QConv1D (and ZeroPadding1D) as the convolution of a one-row image, and Reshape between sequences, images and
vectors: exact in the SNN, the HLS C simulation and the RTL twin."""
from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf
from qkeras import QActivation, QConv1D, QConv2D, QDense, quantized_bits, quantized_relu
from tensorflow.keras.layers import Flatten, Reshape, ZeroPadding1D

import hwflow
from hwflow.errors import HwflowError
from hwflow.rtl import tools
from randmodels import grid_inputs, grid_model
from hwflow.rtl.block import image

Q4 = quantized_bits(4, 0, alpha=1)


def relu(t: int = 3) -> QActivation:
    return QActivation(quantized_relu(t, 1))


def sequence_model(layers: list, seed: int = 0) -> tf.keras.Model:
    """A (12, 3) sequence input (randmodels.grid_model)."""
    return grid_model((12, 3), layers, seed)


def sequences(n: int, seed: int) -> np.ndarray:
    return grid_inputs((12, 3), n, seed)


DENSE = lambda: QDense(3, kernel_quantizer=Q4, bias_quantizer=Q4)  # noqa: E731
VARIANTS = {  # name: fresh layers
    "valid": lambda: [QConv1D(4, 3, kernel_quantizer=Q4, bias_quantizer=Q4), relu(), Flatten(), DENSE()],
    "same, stride 2": lambda: [QConv1D(4, 3, strides=2, padding="same", kernel_quantizer=Q4, bias_quantizer=Q4),
                               relu(), Flatten(), DENSE()],
    "causal, twice": lambda: [QConv1D(4, 3, padding="causal", kernel_quantizer=Q4, bias_quantizer=Q4), relu(),
                              QConv1D(2, 2, kernel_quantizer=Q4), relu(2), Flatten(), DENSE()],
    "ZeroPadding1D into a causal conv": lambda: [ZeroPadding1D((2, 1)), QConv1D(4, 3, padding="causal",
                                                                                kernel_quantizer=Q4), relu(), Flatten(),
                                                 DENSE()],
    "readout": lambda: [QConv1D(4, 3, kernel_quantizer=Q4, bias_quantizer=Q4)],
    "Reshape to a vector": lambda: [QConv1D(4, 3, kernel_quantizer=Q4), relu(), Reshape((40,)), DENSE()],
    "Reshape to an image and back": lambda: [QConv1D(4, 3, kernel_quantizer=Q4), relu(), Reshape((5, 2, 4)),
                                             QConv2D(2, 2, kernel_quantizer=Q4), relu(), Reshape((4, 2)),
                                             QConv1D(3, 2, kernel_quantizer=Q4), relu(), Flatten(), DENSE()],
    "Reshape after the readout": lambda: [QConv1D(4, 3, kernel_quantizer=Q4, bias_quantizer=Q4), Reshape((5, 2, 4))],
}


@pytest.mark.parametrize("name", list(VARIANTS))
@pytest.mark.parametrize("encoding", ["direct", "bitplane"])
def test_conv1d_equals_qkeras(name: str, encoding: str) -> None:
    model = sequence_model(VARIANTS[name]())
    snn = hwflow.convert(model, encoding=encoding)
    assert snn.synaptic_layers[0].kind == "conv1d"
    x = sequences(300, seed=1)
    np.testing.assert_array_equal(snn.predict(x), model.predict(x, verbose=0))


def test_a_sequence_is_a_one_row_image() -> None:
    assert image((12, 3)) == (1, 12, 3) and image((5,)) == (1, 1, 5)
    snn = hwflow.convert(sequence_model(VARIANTS["ZeroPadding1D into a causal conv"]()), encoding="bitplane")
    conv = snn.synaptic_layers[0]
    assert (conv.weight.shape[:2], conv.strides, conv.padding) == ((1, 3), (1, 1), ((0, 0), (4, 1)))
    assert (conv.in_shape, conv.out_shape) == ((12, 3), (15, 4))


def test_a_reshape_that_regroups_channels_is_one_line() -> None:
    model = sequence_model([QConv1D(4, 3, kernel_quantizer=Q4), relu(), Reshape((5, 8)), Flatten(), DENSE()])
    with pytest.raises(HwflowError, match=r"from \(10, 4\) to \(5, 8\): it regroups channels") as err:
        hwflow.convert(model, encoding="bitplane")
    assert "\n" not in str(err.value)


@pytest.mark.firmware
@pytest.mark.slow
@pytest.mark.skipif(tools.find(tools.VERILATOR) is None, reason="Verilator is needed for RTL simulation")
def test_firmware_and_rtl_of_conv1d_are_exact(tmp_path) -> None:
    """A sequence padded, convolved, reshaped into a one-column image and back: event through the line buffers
    (io_stream) and the RTL twin's ANN architecture (the event one within the first check): outputs == SNN ==
    QKeras, C-sim trace and cycles equal to the RTL's (the latency blocks' explicit padding: tests/test_pooling.py)."""
    from test_rtl import check as rtl_check
    from test_strategies import check as hls_check

    model = sequence_model([ZeroPadding1D((1, 0)), QConv1D(4, 3, strides=2, padding="same", kernel_quantizer=Q4,
                                                           bias_quantizer=Q4), relu(),
                            Reshape((7, 1, 4)), QConv2D(3, (2, 1), kernel_quantizer=Q4, bias_quantizer=Q4), relu(2),
                            Reshape((6, 3)), QConv1D(3, 2, padding="causal", kernel_quantizer=Q4, bias_quantizer=Q4),
                            relu(2), Flatten(), QDense(4, kernel_quantizer=Q4, bias_quantizer=Q4)])
    snn = hwflow.convert(model, encoding="bitplane")
    x = sequences(40, seed=2)
    hls_check(tmp_path / "event", model, snn, x, strategy="event", lanes=2, io_type="io_stream")
    rtl_check(snn, model, x, tmp_path / "ann", "ann", 3)
