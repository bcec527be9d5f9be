"""Fold float BatchNormalization layers into the preceding quantized layer (Keras -> Keras pass)."""
from __future__ import annotations

import numpy as np
import tensorflow as tf

from hwflow.errors import HwflowError

FOLDABLE = ("QDense", "QConv2D")


def folded_parameters(layer, bn) -> tuple[np.ndarray, np.ndarray]:
    """Kernel and bias of `layer` with `bn` folded in and re-quantized by the layer's own quantizers."""
    inv = tf.math.rsqrt(bn.moving_variance + bn.epsilon)
    if bn.gamma is not None:
        inv = inv * bn.gamma
    bias = layer.bias if layer.use_bias else tf.zeros_like(bn.moving_mean)
    beta = bn.beta if bn.beta is not None else 0.0
    kernel = inv * layer.kernel
    bias = inv * (bias - bn.moving_mean) + beta
    return (layer.kernel_quantizer_internal(kernel).numpy(), layer.bias_quantizer_internal(bias).numpy())


def fold_batchnorm(model) -> tf.keras.Model:
    """A Sequential copy of `model` in which every BatchNormalization is folded into the QDense /
    QConv2D before it and re-quantized, so the network computes in fixed point end to end."""
    layers = [layer for layer in model.layers if type(layer).__name__ != "InputLayer"]
    clones, weights = [], []
    for i, layer in enumerate(layers):
        kind = type(layer).__name__
        if kind == "BatchNormalization":
            prev = layers[i - 1] if i else None
            if prev is None or type(prev).__name__ not in FOLDABLE or prev.bias_quantizer_internal is None:
                raise HwflowError(f"BatchNormalization '{layer.name}' can be folded only directly after a QDense "
                                  "or QConv2D with a bias_quantizer; move it or use QConv2DBatchnorm")
            if tuple(layer.axis) not in ((-1,), (len(layer.input_shape) - 1,)):
                raise HwflowError(f"BatchNormalization '{layer.name}' normalizes axis {layer.axis}; only the "
                                  "channel (last) axis can be folded")
            weights[-1] = list(folded_parameters(prev, layer))
            config = clones[-1].get_config()
            config["use_bias"] = True
            clones[-1] = type(prev).from_config(config)
            continue
        clones.append(type(layer).from_config(layer.get_config()))
        weights.append(layer.get_weights())
    folded = tf.keras.Sequential([tf.keras.Input(model.input_shape[1:])] + clones, name=f"{model.name}_folded")
    for clone, w in zip(clones, weights):
        clone.set_weights(w)
    return folded
