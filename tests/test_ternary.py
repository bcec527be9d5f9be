"""ternary() activations as two sign neurons per unit (hwflow.ops.ternary): -1, 0, +1 exact against QKeras, one
spike per nonzero value, the ties at +-threshold; in the SNN, the HLS C simulation and the RTL twin."""
from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf
from qkeras import QActivation, QConv2D, QDense, quantized_bits, quantized_relu, ternary
from tensorflow.keras.layers import Add, AveragePooling2D, Flatten, MaxPooling2D, Reshape

import hwflow
from hwflow.errors import HwflowError
from hwflow.regularizer import SpikeRegularizer
from hwflow.rtl import tools
from randmodels import grid_inputs, grid_model

Q4 = quantized_bits(4, 0, alpha=1)  # levels of 1/8 from -1 to 7/8


def tern(threshold: float | None = None) -> QActivation:
    return QActivation(ternary(threshold=threshold))


def dense(units: int = 3, **kw) -> QDense:
    return QDense(units, kernel_quantizer=Q4, bias_quantizer=Q4, **kw)


def conv(filters: int, kernel: int, **kw) -> QConv2D:
    return QConv2D(filters, kernel, kernel_quantizer=Q4, bias_quantizer=Q4, **kw)


VARIANTS = {  # name: fresh layers after grid_model's 6x6x2 input
    "dense, default and dyadic thresholds": lambda: [Flatten(), dense(8), tern(), dense(6, activation=ternary(threshold=0.25)),
                                                      dense()],
    "conv 'same' into conv into dense": lambda: [conv(3, 3, padding="same"), tern(0.5), conv(2, 2, strides=2),
                                                 tern(0.25), Flatten(), dense()],
    "conv, Reshape to a vector": lambda: [conv(2, 3), tern(0.125), Reshape((32,)), dense(5), tern(), dense()],
    "into a quantized_relu conv and a max pool": lambda: [conv(3, 3), tern(0.25), conv(2, 1),
                                                          QActivation(quantized_relu(3, 1)), MaxPooling2D(2),
                                                          Flatten(), dense()],
}


@pytest.mark.parametrize("name", list(VARIANTS))
@pytest.mark.parametrize("encoding", ["direct", "bitplane"])
def test_ternary_activations_equal_qkeras(name: str, encoding: str) -> None:
    model = grid_model((6, 6, 2), VARIANTS[name]())
    snn = hwflow.convert(model, encoding=encoding)
    x = grid_inputs((6, 6, 2), 400, seed=1, saturated=0.1)
    np.testing.assert_array_equal(snn.predict(x), model.predict(x, verbose=0))


def test_a_unit_is_a_pair_of_sign_neurons_and_the_threshold_itself_fires() -> None:
    """|x| >= t gives +-1 (QKeras compares >=): with t = 0.25 on the 1/8 grid of the pre-activation, x = +-0.25
    must fire its half of the pair, x = +-0.125 must not; p and n never fire together; the pair's weights are
    [W, -W] (and its input, itself a pair, repeats them negated: [[W, -W], [-W, W]]); the readout reads W p - W n."""
    model = grid_model((6, 6, 2), VARIANTS["dense, default and dyadic thresholds"](), seed=2)
    snn = hwflow.convert(model, encoding="bitplane")
    first, second = snn.synaptic_layers[1:3]
    kernel, bias = model.layers[4].get_weights()  # the QDense(6, activation=ternary(threshold=0.25)), on the 1/8 grid
    n = kernel.shape[1]
    assert first.out_shape == (2 * n,) and first.neuron.sign and first.neuron.time_steps == 1
    paired_in = np.concatenate([kernel, -kernel], axis=0)
    np.testing.assert_array_equal(first.weight * 2.0**-first.weight_frac,
                                  np.concatenate([paired_in, -paired_in], axis=1))
    next_kernel = model.layers[5].get_weights()[0]
    np.testing.assert_array_equal(second.weight * 2.0**-second.weight_frac,
                                  np.concatenate([next_kernel, -next_kernel], axis=0))
    x = grid_inputs((6, 6, 2), 3000, seed=3)
    spikes = snn.trace(x).layers[first.name].spikes[:, 0]
    h = tf.keras.Model(model.inputs, model.layers[3].output)(x).numpy()  # the ternary values it reads
    u = h.astype(np.float64) @ kernel + bias  # the exact pre-activation
    p, m = spikes[:, :n], spikes[:, n:]
    assert not (p & m).any()
    for value, fires in ((0.25, True), (0.125, False)):
        assert (u == value).sum() > 0 and (u == -value).sum() > 0
        assert (p[u == value] == fires).all() and (m[u == -value] == fires).all()
    out = tf.keras.Model(model.inputs, model.layers[4].output)(x).numpy()
    np.testing.assert_array_equal(p.astype(np.float32) - m, out)
    np.testing.assert_array_equal(snn.predict(x), model.predict(x, verbose=0))


def test_the_regularizer_counts_one_spike_per_nonzero_ternary_value() -> None:
    reg = SpikeRegularizer.of(ternary(), 1.0)
    model = grid_model((6, 6, 2), [conv(3, 3, padding="same"), QActivation(ternary(), activity_regularizer=reg,
                                                                            name="t1"), Flatten(), dense()], seed=4)
    x = grid_inputs((6, 6, 2), 64, seed=5)
    snn = hwflow.convert(model, encoding="bitplane")
    spikes = snn.trace(x).layers[snn.synaptic_layers[0].name].spike_count
    act = tf.keras.Model(model.inputs, model.get_layer("t1").output)(x)
    assert 0 < spikes < 64 * 6 * 6 * 3 and float(reg(act)) == spikes == np.abs(act.numpy()).sum()
    assert SpikeRegularizer.from_config(reg.get_config()).get_config() == reg.get_config()


def residual_after_ternary() -> tf.keras.Model:
    x = tf.keras.Input((6, 6, 2))
    a = tern()(dense(4)(Flatten()(QActivation(quantized_relu(4, 1))(x))))
    return tf.keras.Model(x, dense()(tern()(Add()([dense(4)(a), a]))))


@pytest.mark.parametrize("layers, message", [
    (lambda: [conv(3, 3), tern(), MaxPooling2D(2), Flatten(), dense()], "MaxPooling2D 'max_pooling2d"),
    (lambda: [conv(3, 3), tern(), AveragePooling2D(2), QActivation(quantized_relu(3, 1)), Flatten(), dense()],
     "follows a ternary() activation"),
    (lambda: [conv(3, 3), MaxPooling2D(2), tern(), Flatten(), dense()], "comes between"),
    (lambda: [Flatten(), dense(8), tern()], "the model ends in the signed activation of"),
    (lambda: [Flatten(), dense(8), QActivation(ternary(alpha=1.0)), dense()], "alpha=1.0 must be None"),
    (lambda: [Flatten(), dense(8), QActivation(ternary(threshold=0.0)), dense()], "must be a number > 0"),
    (lambda: [Flatten(), dense(8), QActivation(ternary(threshold=np.linspace(0.2, 0.9, 8))), dense()],
     "must be a number > 0"),
    (residual_after_ternary, "Add 'add"),
])
def test_what_ternary_cannot_carry_is_one_line(layers, message: str) -> None:
    built = layers()
    model = built if isinstance(built, tf.keras.Model) else grid_model((6, 6, 2), built)
    with pytest.raises(HwflowError) as err:
        hwflow.convert(model, encoding="bitplane")
    assert message in str(err.value) and "\n" not in str(err.value)


@pytest.mark.firmware
@pytest.mark.skipif(tools.find(tools.VERILATOR) is None, reason="Verilator is needed for RTL simulation")
def test_firmware_and_rtl_of_ternary_activations_are_exact(tmp_path) -> None:
    """The pair is sign neurons and synapses: the event blocks' C simulation (Vitis, io_parallel) and the folded
    ones' (Vivado, io_stream), each with its RTL twin, == SNN == QKeras, the C-simulation cycle counters == the
    RTL's; the ANN RTL twin too."""
    from test_rtl import check as rtl_check
    from test_strategies import check as hls_check

    model = grid_model((6, 6, 2), VARIANTS["conv 'same' into conv into dense"](), seed=6)
    snn = hwflow.convert(model, encoding="bitplane")
    x = grid_inputs((6, 6, 2), 40, seed=7, saturated=0.1)
    hls_check(tmp_path / "event", model, snn, x, strategy="event", lanes=2)
    hls_check(tmp_path / "folded", model, snn, x, strategy="folded", lanes=3, backend="Vivado", io_type="io_stream")
    rtl_check(snn, model, x, tmp_path / "ann", "ann", 3)
