"""Batch-norm folding as a Keras -> Keras pass: every batch norm ends up in quantized QDense/QConv2D weights."""
from __future__ import annotations

import numpy as np
import tensorflow as tf
from qkeras import QConv2D, QDense

from hwflow.errors import HwflowError
from hwflow.quant import check_alpha

FOLDABLE = ("QDense", "QConv2D")
PLAIN = {"QDenseBatchnorm": QDense, "QConv2DBatchnorm": QConv2D}
PLAIN_KEYS = {QDense: ("units",), QConv2D: ("filters", "kernel_size", "strides", "padding", "data_format",
                                             "dilation_rate")}
COMMON_KEYS = ("name", "activation", "kernel_quantizer", "bias_quantizer", "kernel_initializer", "trainable")


def quantized_weights(layer) -> tuple[np.ndarray, np.ndarray | None]:
    """Kernel and bias exactly as the layer uses them in inference (quantized, batch norm folded)."""
    kq = getattr(layer, "kernel_quantizer_internal", None)
    bq = getattr(layer, "bias_quantizer_internal", None)
    for q in (kq, bq):
        if q is not None:
            check_alpha(q, f"layer '{layer.name}'", weights=True)
    if hasattr(layer, "get_folded_weights"):
        kernel, bias = layer.get_folded_weights()
    else:
        kernel, bias = layer.kernel, (layer.bias if layer.use_bias else None)
    kernel = kq(kernel) if kq is not None else kernel
    if bias is not None and bq is not None:
        bias = bq(bias)
    return np.asarray(kernel, dtype=np.float32), None if bias is None else np.asarray(bias, dtype=np.float32)


def float_bn_folded(layer, bn) -> list[np.ndarray]:
    """Kernel and bias of `layer` with the float BatchNormalization `bn` folded in and re-quantized."""
    inv = tf.math.rsqrt(bn.moving_variance + bn.epsilon)
    if bn.gamma is not None:
        inv = inv * bn.gamma
    bias = layer.bias if layer.use_bias else tf.zeros_like(bn.moving_mean)
    beta = bn.beta if bn.beta is not None else 0.0
    kernel = inv * layer.kernel
    bias = inv * (bias - bn.moving_mean) + beta
    return [layer.kernel_quantizer_internal(kernel).numpy(), layer.bias_quantizer_internal(bias).numpy()]


def plain_clone(layer) -> tuple[tf.keras.layers.Layer, list[np.ndarray]]:
    """A QDense / QConv2D equal to a QDenseBatchnorm / QConv2DBatchnorm in inference, with its weights."""
    cls = PLAIN[type(layer).__name__]
    config = layer.get_config()
    kwargs = {k: config[k] for k in PLAIN_KEYS[cls] + COMMON_KEYS if k in config}
    kernel, bias = quantized_weights(layer)
    return cls(use_bias=True, **kwargs), [kernel, bias]


def has_batchnorm(model) -> bool:
    """True if any layer is a BatchNormalization or a batch-norm-folding quantized layer."""
    return any(type(layer).__name__ in ("BatchNormalization", *PLAIN) for layer in model.layers)


def fold_batchnorm(model) -> tf.keras.Model:
    """A Sequential copy of `model` with no batch norm left: float BatchNormalization layers are folded
    into the QDense / QConv2D before them and re-quantized (this changes the network slightly), and
    QDenseBatchnorm / QConv2DBatchnorm become QDense / QConv2D holding their folded quantized weights
    (this changes nothing: the copy's predict equals the original's bit for bit)."""
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
            weights[-1] = float_bn_folded(prev, layer)
            config = clones[-1].get_config()
            config["use_bias"] = True
            clones[-1] = type(prev).from_config(config)
        elif kind in PLAIN:
            clone, w = plain_clone(layer)
            clones.append(clone)
            weights.append(w)
        else:
            clones.append(type(layer).from_config(layer.get_config()))
            weights.append(layer.get_weights())
    folded = tf.keras.Sequential([tf.keras.Input(model.input_shape[1:])] + clones, name=f"{model.name}_folded")
    for clone, w in zip(clones, weights):
        clone.set_weights(w)
    return folded
