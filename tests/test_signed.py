"""Signed activations (quantized_bits) in offset binary: T planes of k + 2**(T-1), the offset absorbed into the
neuron's shift and the next layer's bias; binary() as one sign plane b = [x >= 0] whose value 2 b - 1 the next
layer's weights and bias take up; exact in the SNN, the HLS C simulation and the RTL twin."""
from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf
from qkeras import QActivation, QConv2D, QDense, binary, quantized_bits, quantized_relu
from tensorflow.keras.layers import AveragePooling2D, Flatten, MaxPooling2D

import hwflow
from hwflow.errors import HwflowError
from hwflow.rtl import tools
from randmodels import grid_inputs, grid_model

Q4 = quantized_bits(4, 0, alpha=1)  # levels of 1/8 from -1 to 7/8


def signed(bits: int = 3, integer: int = 1) -> QActivation:
    return QActivation(quantized_bits(bits, integer, alpha=1))


def model_of(layers: list, seed: int = 0) -> tf.keras.Model:
    """A 6x6x2 bit-plane-input model (randmodels.grid_model)."""
    return grid_model((6, 6, 2), layers, seed)


def levels(n: int, seed: int) -> np.ndarray:
    return grid_inputs((6, 6, 2), n, seed)


def dense(units: int = 3) -> QDense:
    return QDense(units, kernel_quantizer=Q4, bias_quantizer=Q4)


def conv(filters: int, kernel: int) -> QConv2D:
    return QConv2D(filters, kernel, kernel_quantizer=Q4, bias_quantizer=Q4)


VARIANTS = {  # name: fresh layers
    "dense, 3 and 4 bits": lambda: [Flatten(), dense(8), signed(), dense(8), signed(4, 2), dense()],
    "conv, 'same' max pool": lambda: [conv(3, 3), signed(), MaxPooling2D(2, padding="same"), Flatten(), dense()],
    "conv into conv": lambda: [conv(3, 3), signed(), conv(2, 2), QActivation(quantized_relu(3, 1)), Flatten(),
                               dense()],
    "2x2 and 3x3 average pools": lambda: [conv(3, 1), signed(3, 1), AveragePooling2D(2), signed(2, 1), conv(2, 1),
                                          signed(3, 1), AveragePooling2D(3), signed(2, 0), Flatten(), dense()],
    "unsigned quantized_bits": lambda: [Flatten(), dense(8), QActivation(quantized_bits(3, 1, keep_negative=0,
                                                                                        alpha=1)), dense()],
    "binary dense": lambda: [Flatten(), dense(10), QActivation(binary()), dense(8), QActivation("binary"), dense()],
    "binary conv, max pool": lambda: [conv(3, 3), QActivation(binary()), MaxPooling2D(2), conv(2, 2),
                                      QActivation(quantized_relu(3, 1)), Flatten(), dense()],
    "binary use_01, last": lambda: [Flatten(), dense(10), QActivation(binary(use_01=True)), dense(),
                                    QActivation(binary(use_01=True))],
}


@pytest.mark.parametrize("name", list(VARIANTS))
@pytest.mark.parametrize("encoding", ["direct", "bitplane"])
def test_signed_activations_equal_qkeras(name: str, encoding: str) -> None:
    model = model_of(VARIANTS[name]())
    snn = hwflow.convert(model, encoding=encoding)
    x = levels(400, seed=1)
    np.testing.assert_array_equal(snn.predict(x), model.predict(x, verbose=0))


def test_offset_binary_levels_and_ties() -> None:
    """The planes carry k + 4 for 3-bit signed levels k in -4..3; the next layer's bias absorbs 4 * sum(W);
    pre-activations exactly between two levels go to the even one, above and below zero."""
    model = model_of(VARIANTS["dense, 3 and 4 bits"](), seed=3)
    snn = hwflow.convert(model, encoding="bitplane")
    first, second = snn.synaptic_layers[:2]
    assert (first.neuron.offset, first.neuron.grid.lo, first.neuron.grid.hi, second.in_offset) == (4, -4, 3, 4)
    np.testing.assert_array_equal(second.offset_bias, second.bias - 4 * second.weight.sum(axis=0))
    x = levels(500, seed=4)
    trace = snn.trace(x)
    v = trace.layers[first.name].membrane - first.neuron.offset * first.neuron.threshold  # u + half a threshold
    thr = first.neuron.threshold
    ties = v % thr == 0  # u / thr = k - 1/2 exactly
    level = v // thr  # k: the tie goes to k - 1 if k is odd, else stays
    inside = (level > -4) & (level < 4)
    assert (ties & inside & (level < 0)).sum() > 0 and (ties & inside & (level > 0)).sum() > 0
    assert (ties & inside & (level % 2 == 1)).sum() > 0 and (ties & inside & (level % 2 == 0)).sum() > 0
    np.testing.assert_array_equal(snn.predict(x), model.predict(x, verbose=0))


def test_binary_fires_on_zero_and_the_next_layer_takes_up_two_b_minus_one() -> None:
    """binary(): +1 iff x >= 0 (QKeras's sign(0) = +1), so pre-activations of exactly 0 must fire; the next
    layer's weights are 2 W and its bias loses sum(W)."""
    model = model_of(VARIANTS["binary dense"](), seed=2)
    snn = hwflow.convert(model, encoding="bitplane")
    first, second = snn.synaptic_layers[:2]
    assert (first.neuron.sign, first.neuron.time_steps, first.neuron.bias_shift) == (True, 1, first.neuron.threshold + 1)
    kernel = model.layers[4].get_weights()[0]  # QDense after the binary activation, on the 1/8 grid
    np.testing.assert_array_equal(second.weight * 2.0**-second.weight_frac, 2 * kernel)
    x = levels(2000, seed=3)
    trace = snn.trace(x)
    u = trace.layers[first.name].membrane - first.neuron.bias_shift  # the pre-activation, in membrane units
    zero = u == 0
    assert zero.sum() > 0 and (trace.layers[first.name].spikes[:, 0][zero] == 1).all()
    assert (trace.layers[first.name].spikes[:, 0][u == -1] == 0).all() and (u == -1).sum() > 0
    np.testing.assert_array_equal(snn.predict(x), model.predict(x, verbose=0))


@pytest.mark.parametrize("layers, message", [
    (lambda: [Flatten(), dense(8), QActivation(binary(alpha=1)), dense()], "alpha=1 must be None"),
    (lambda: [Flatten(), dense(8), QActivation(binary())], "the model ends in the signed activation of"),
    (lambda: [conv(3, 3), QActivation(binary()), QConv2D(2, 3, padding="same", kernel_quantizer=Q4), signed(),
              Flatten(), dense()], "pads its input"),
    (lambda: [conv(3, 1), QActivation(binary()), AveragePooling2D(2), signed(), Flatten(), dense()],
     "after a binary() activation"),
    (lambda: [conv(3, 1), signed(), AveragePooling2D(2), QActivation(binary()), Flatten(), dense()],
     "put a QConv2D between them"),
])
def test_what_binary_cannot_carry_is_one_line(layers, message: str) -> None:
    with pytest.raises(HwflowError) as err:
        hwflow.convert(model_of(layers()), encoding="bitplane")
    assert message in str(err.value) and "\n" not in str(err.value)


@pytest.mark.parametrize("layers, message", [
    (lambda: [conv(3, 3), signed(), QConv2D(2, 3, padding="same", kernel_quantizer=Q4), signed(), Flatten(),
              dense()], "pads its input, whose signed levels travel in offset binary"),
    (lambda: [Flatten(), dense(8), signed()], "the model ends in the signed activation of"),
    (lambda: [Flatten(), dense(8), QActivation(quantized_bits(3, 1, symmetric=1, alpha=1)), dense()],
     "symmetric must be 0"),
])
def test_what_offset_binary_cannot_carry_is_one_line(layers, message: str) -> None:
    with pytest.raises(HwflowError) as err:
        hwflow.convert(model_of(layers()), encoding="bitplane")
    assert message in str(err.value) and "\n" not in str(err.value)


@pytest.mark.firmware
@pytest.mark.slow
@pytest.mark.skipif(tools.find(tools.VERILATOR) is None, reason="Verilator is needed for RTL simulation")
def test_firmware_and_rtl_of_signed_activations_are_exact(tmp_path) -> None:
    """Folded blocks (io_parallel), the RTL twin's folded and ANN architectures: == SNN == QKeras (the latency
    blocks see only biases: offset binary changes no firmware); binary() through the event blocks and their twin."""
    from test_rtl import check as rtl_check
    from test_strategies import check as hls_check

    pools = VARIANTS["2x2 and 3x3 average pools"]()[:-2]  # down to the 3x3 pool's signed activation
    model = model_of(pools + [MaxPooling2D(2, padding="same"), Flatten(), dense(6), signed(), dense(4)], seed=5)
    snn = hwflow.convert(model, encoding="bitplane")
    x = levels(40, seed=6)
    hls_check(tmp_path / "folded", model, snn, x, strategy="folded", lanes=2)
    rtl_check(snn, model, x, tmp_path / "ann", "ann", 3)
    binary_model = model_of(VARIANTS["binary conv, max pool"]()[:-1] + [dense(6), QActivation(binary()), dense(4)],
                            seed=7)
    binary_snn = hwflow.convert(binary_model, encoding="bitplane")
    hls_check(tmp_path / "binary", binary_model, binary_snn, x, strategy="event", lanes=2)
