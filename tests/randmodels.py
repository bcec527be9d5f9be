"""Random QKeras models within hwflow's supported layers, with weights set on their grids."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import tensorflow as tf
from qkeras import QActivation, QConv2D, QDense, quantized_bits, quantized_relu
from tensorflow.keras.layers import AveragePooling2D, Flatten, MaxPooling2D


@dataclass
class Arch:
    """A random architecture: image input, conv blocks, dense blocks, readout."""

    seed: int
    hw: int
    channels: int
    input_bits: int
    input_integer: int
    convs: list  # (filters, kernel, stride, padding, T, integer, pool) ; pool in (None, 'max', 'avg')
    denses: list  # (units, T, integer)
    weight_bits: int
    weight_integer: int
    bias_bits: int
    bias_integer: int
    out_units: int
    readout: bool  # False: the network ends in a QActivation


def build(arch: Arch) -> tf.keras.Model:
    """The QKeras model of `arch`, weights drawn uniformly over the quantizer's levels."""
    rng = np.random.default_rng(arch.seed)
    kq = quantized_bits(arch.weight_bits, arch.weight_integer, alpha=1)
    bq = quantized_bits(arch.bias_bits, arch.bias_integer, alpha=1)
    layers = [tf.keras.Input((arch.hw, arch.hw, arch.channels)),
              QActivation(quantized_relu(arch.input_bits, arch.input_integer))]
    for filters, kernel, stride, padding, t, integer, pool in arch.convs:
        layers += [QConv2D(filters, kernel, strides=stride, padding=padding, kernel_quantizer=kq, bias_quantizer=bq),
                   QActivation(quantized_relu(t, integer))]
        if pool == "max":
            layers.append(MaxPooling2D(2, padding="same"))
        elif pool == "avg":
            layers += [AveragePooling2D(2), QActivation(quantized_relu(t, integer))]
    layers.append(Flatten())
    for units, t, integer in arch.denses:
        layers += [QDense(units, kernel_quantizer=kq, bias_quantizer=bq), QActivation(quantized_relu(t, integer))]
    layers.append(QDense(arch.out_units, kernel_quantizer=kq, bias_quantizer=bq))
    if not arch.readout:
        layers.append(QActivation(quantized_relu(arch.denses[-1][1] if arch.denses else 3, 1)))
    model = tf.keras.Sequential(layers)
    w_frac = arch.weight_bits - 1 - arch.weight_integer
    b_frac = arch.bias_bits - 1 - arch.bias_integer
    for layer in model.layers:
        if isinstance(layer, (QDense, QConv2D)):
            k, b = layer.get_weights()
            half_w, half_b = 2 ** (arch.weight_bits - 1), 2 ** (arch.bias_bits - 1)
            k = rng.integers(-half_w, half_w, k.shape) * 2.0**-w_frac
            b = rng.integers(-half_b, half_b, b.shape) * 2.0**-b_frac
            layer.set_weights([k.astype(np.float32), b.astype(np.float32)])
    return model


def inputs(arch: Arch, n: int, seed: int) -> np.ndarray:
    """Inputs on the input grid, rich in zeros and in the top level (saturation)."""
    rng = np.random.default_rng(seed)
    top = 2**arch.input_bits - 1
    levels = rng.integers(0, top + 1, (n, arch.hw, arch.hw, arch.channels))
    levels[rng.random(levels.shape) < 0.2] = 0
    levels[rng.random(levels.shape) < 0.1] = top
    return (levels * 2.0 ** (arch.input_integer - arch.input_bits)).astype(np.float32)
