"""Fine-grained l1 spike regularizer.

Forward value: the exact number of spikes the binary-coded SNN emits for an activation,
i.e. the sum over neurons of popcount(the level its planes carry) (Keras divides activity
regularizers by the batch size, so the loss term is lambda x spikes per sample). Gradient: the
surrogate d popcount / d level := 1, passed back through QKeras's straight-through quantizer.

The planes carry a * 2**frac + offset for an activation a (hwflow.quant.activation_code):
quantized_relu(bits, integer) its level (frac = bits - integer, offset 0); a signed quantized_bits
its offset-binary level k + 2**(bits-1); binary() the plane b = (a + 1) / 2 (frac -1, offset 1/2),
binary(use_01=True) b = a; ternary() two planes per unit whose spikes number |a| (levels |a|, frac 0).
SpikeRegularizer.of(quantizer, lam) reads them off the quantizer.
"""
from __future__ import annotations

import tensorflow as tf


def levels_of(activation: tf.Tensor, bits: int, integer: int, frac: int | None = None,
              offset: float = 0.0, magnitude: bool = False) -> tf.Tensor:
    """The levels a * 2**frac + offset the SNN's planes carry for activation a (frac defaults to
    quantized_relu(bits, integer)'s bits - integer); magnitude: |a| * 2**frac + offset (ternary's pair)."""
    frac = bits - integer if frac is None else frac
    return (tf.abs(activation) if magnitude else activation) * float(2.0**frac) + float(offset)


def popcount(levels: tf.Tensor, bits: int) -> tf.Tensor:
    """Number of ones in the `bits`-bit binary code of integer-valued float levels."""
    k = tf.round(tf.stop_gradient(levels))
    count = tf.zeros_like(k)
    for _ in range(bits):
        bit = tf.math.floormod(k, 2.0)
        count += bit
        k = (k - bit) / 2.0
    return count


def spike_count(activation: tf.Tensor, bits: int, integer: int, frac: int | None = None,
                offset: float = 0.0, magnitude: bool = False) -> tf.Tensor:
    """Exact spike count of a quantized activation tensor, with the l1 surrogate gradient."""
    levels = levels_of(activation, bits, integer, frac, offset, magnitude)
    per_neuron = levels + tf.stop_gradient(popcount(levels, bits) - levels)
    return tf.reduce_sum(per_neuron)


@tf.keras.utils.register_keras_serializable(package="hwflow")
class SpikeRegularizer(tf.keras.regularizers.Regularizer):
    """Activity regularizer lambda * (exact SNN spike count) of an activation whose planes carry
    a * 2**frac + offset over `bits` planes (default: quantized_relu(bits, integer)); magnitude: |a| instead
    of a (ternary)."""

    def __init__(self, lam: float, bits: int, integer: int, frac: int | None = None, offset: float = 0.0,
                 magnitude: bool = False):
        self.lam = float(lam)
        self.bits = int(bits)
        self.integer = int(integer)
        self.frac = None if frac is None else int(frac)
        self.offset = float(offset)
        self.magnitude = bool(magnitude)

    @classmethod
    def of(cls, quantizer, lam: float) -> SpikeRegularizer:
        """The regularizer of a QKeras activation quantizer hwflow converts (quantized_relu, quantized_bits,
        binary, ternary): its planes' code from hwflow.quant.activation_code."""
        from hwflow.quant import activation_code

        code = activation_code(quantizer, f"SpikeRegularizer.of({quantizer!s})")
        if code.pm1:  # the plane b = (a + 1) / 2
            return cls(lam, 1, 0, frac=-1, offset=0.5)
        if code.pair_threshold is not None:  # ternary: one spike per nonzero a (hwflow.ops.ternary)
            return cls(lam, 1, 1, frac=0, magnitude=True)
        return cls(lam, code.bits, code.bits - code.frac, frac=code.frac, offset=code.offset)

    def __call__(self, activation: tf.Tensor) -> tf.Tensor:
        return self.lam * spike_count(activation, self.bits, self.integer, self.frac, self.offset, self.magnitude)

    def get_config(self) -> dict:
        return {"lam": self.lam, "bits": self.bits, "integer": self.integer, "frac": self.frac, "offset": self.offset,
                "magnitude": self.magnitude}
