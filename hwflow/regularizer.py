"""Fine-grained l1 spike regularizer.

Forward value: the exact number of spikes the binary-coded SNN emits for an activation,
i.e. the sum over neurons of popcount(level) (Keras divides activity regularizers by the
batch size, so the loss term is lambda x spikes per sample). Gradient: the surrogate
d popcount / d level := 1, passed back through QKeras's straight-through quantizer.
"""
from __future__ import annotations

import tensorflow as tf


def levels_of(activation: tf.Tensor, bits: int, integer: int) -> tf.Tensor:
    """Quantized levels k = a * 2**(bits - integer) of a quantized_relu(bits, integer) output."""
    return activation * float(2.0 ** (bits - integer))


def popcount(levels: tf.Tensor, bits: int) -> tf.Tensor:
    """Number of ones in the `bits`-bit binary code of integer-valued float levels."""
    k = tf.round(tf.stop_gradient(levels))
    count = tf.zeros_like(k)
    for _ in range(bits):
        bit = tf.math.floormod(k, 2.0)
        count += bit
        k = (k - bit) / 2.0
    return count


def spike_count(activation: tf.Tensor, bits: int, integer: int) -> tf.Tensor:
    """Exact spike count of a quantized activation tensor, with the l1 surrogate gradient."""
    levels = levels_of(activation, bits, integer)
    per_neuron = levels + tf.stop_gradient(popcount(levels, bits) - levels)
    return tf.reduce_sum(per_neuron)


@tf.keras.utils.register_keras_serializable(package="hwflow")
class SpikeRegularizer(tf.keras.regularizers.Regularizer):
    """Activity regularizer lambda * (exact SNN spike count) for quantized_relu(bits, integer)."""

    def __init__(self, lam: float, bits: int, integer: int):
        self.lam = float(lam)
        self.bits = int(bits)
        self.integer = int(integer)

    def __call__(self, activation: tf.Tensor) -> tf.Tensor:
        return self.lam * spike_count(activation, self.bits, self.integer)

    def get_config(self) -> dict:
        return {"lam": self.lam, "bits": self.bits, "integer": self.integer}
