"""The spike regularizer's forward value is the SNN's exact spike count; its gradient the l1 surrogate."""
from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf
from qkeras import QActivation, QDense, binary, quantized_bits, quantized_relu

import hwflow
from hwflow.regularizer import SpikeRegularizer, popcount, spike_count


def regularized_mlp(t: int, integer: int) -> tf.keras.Model:
    tf.keras.utils.set_random_seed(t)
    kq, bq = quantized_bits(6, 0, alpha=1), quantized_bits(8, 3, alpha=1)
    reg = SpikeRegularizer(1.0, t, integer)
    return tf.keras.Sequential([
        tf.keras.Input((16,)), QActivation(quantized_relu(4, 0), name="inq"),
        QDense(24, kernel_quantizer=kq, bias_quantizer=bq, name="d1"),
        QActivation(quantized_relu(t, integer), activity_regularizer=reg, name="a1"),
        QDense(12, kernel_quantizer=kq, bias_quantizer=bq, name="d2"),
        QActivation(quantized_relu(t, integer), activity_regularizer=reg, name="a2"),
        QDense(3, kernel_quantizer=kq, bias_quantizer=bq, name="out")])


@pytest.mark.parametrize("t,integer", [(1, 0), (3, 1), (4, 0), (8, 2)])
def test_forward_value_is_the_snn_spike_count(t: int, integer: int) -> None:
    model = regularized_mlp(t, integer)
    x = (np.random.default_rng(t).integers(0, 16, (64, 16)) / 16).astype(np.float32)
    snn = hwflow.convert(model)
    trace = snn.trace(x)
    acts = tf.keras.Model(model.inputs, [model.get_layer("a1").output, model.get_layer("a2").output])(x)
    for name, act in zip(("d1", "d2"), acts):
        assert float(spike_count(act, t, integer)) == trace.layers[name].spike_count
    total = trace.layers["d1"].spike_count + trace.layers["d2"].spike_count
    assert total > 0
    model(x, training=False)
    # Keras divides activity regularizers by the batch size (64: exact in float32)
    assert float(tf.add_n(model.losses)) * 64 == total


def test_popcount_counts_binary_ones() -> None:
    levels = tf.constant(np.arange(256, dtype=np.float32))
    expected = np.array([bin(k).count("1") for k in range(256)], dtype=np.float32)
    np.testing.assert_array_equal(popcount(levels, 8).numpy(), expected)


def test_gradient_is_the_l1_surrogate_through_the_ste() -> None:
    t, integer, lam = 3, 1, 0.5
    q = quantized_relu(t, integer)
    top = (2**t - 1) * 2.0 ** (integer - t)
    z = tf.constant(np.linspace(-1.0, 3.0, 401, dtype=np.float32))
    with tf.GradientTape() as tape:
        tape.watch(z)
        loss = SpikeRegularizer(lam, t, integer)(q(z))
    grad = tape.gradient(loss, z).numpy()
    zn = z.numpy()
    expected = np.where((zn > 0) & (zn <= top), lam * 2.0 ** (t - integer), 0.0).astype(np.float32)
    np.testing.assert_array_equal(grad, expected)


def test_regularizer_round_trips_through_config() -> None:
    reg = SpikeRegularizer(1e-3, 4, 0)
    again = SpikeRegularizer.from_config(reg.get_config())
    assert (again.lam, again.bits, again.integer, again.frac, again.offset) == (1e-3, 4, 0, None, 0.0)


@pytest.mark.parametrize("quantizer", [quantized_bits(3, 1, alpha=1), quantized_bits(4, 0, alpha=1),
                                       quantized_bits(3, 1, keep_negative=0, alpha=1), binary(), binary(use_01=True),
                                       quantized_relu(3, 1)], ids=str)
def test_signed_and_binary_activations_count_the_spikes_their_planes_carry(quantizer) -> None:
    """SpikeRegularizer.of(q): offset-binary levels k + 2**(T-1), binary()'s b = (a + 1) / 2, use_01's b = a."""
    tf.keras.utils.set_random_seed(4)
    kq, bq = quantized_bits(6, 0, alpha=1), quantized_bits(8, 3, alpha=1)
    reg = SpikeRegularizer.of(quantizer, 1.0)
    model = tf.keras.Sequential([
        tf.keras.Input((16,)), QActivation(quantized_relu(4, 0)),
        QDense(24, kernel_quantizer=kq, bias_quantizer=bq, name="d1"),
        QActivation(quantizer, activity_regularizer=reg, name="a1"),
        QDense(3, kernel_quantizer=kq, bias_quantizer=bq)])
    x = (np.random.default_rng(5).integers(0, 16, (64, 16)) / 16).astype(np.float32)
    snn = hwflow.convert(model)
    spikes = snn.trace(x).layers["d1"].spike_count
    assert 0 < spikes < 64 * 24 * snn.synaptic_layers[0].neuron.time_steps
    act = tf.keras.Model(model.inputs, model.get_layer("a1").output)(x)
    assert float(reg(act)) == spikes
    assert SpikeRegularizer.from_config(reg.get_config()).get_config() == reg.get_config()
