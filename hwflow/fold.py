"""Batch-norm folding as a Keras -> Keras pass: every batch norm ends up in quantized QDense/QConv2D weights."""
from __future__ import annotations

import numpy as np
import tensorflow as tf
from qkeras import QConv2D, QDense, QDepthwiseConv2D

from hwflow.errors import HwflowError
from hwflow.quant import check_alpha, to_integers

FOLDABLE = ("QDense", "QConv2D")
PLAIN = {"QDenseBatchnorm": QDense, "QConv2DBatchnorm": QConv2D, "QDepthwiseConv2DBatchnorm": QDepthwiseConv2D}
_CONV_KEYS = ("kernel_size", "strides", "padding", "data_format", "dilation_rate")
PLAIN_KEYS = {QDense: ("units", "kernel_quantizer", "kernel_initializer"),
              QConv2D: ("filters", *_CONV_KEYS, "kernel_quantizer", "kernel_initializer"),
              QDepthwiseConv2D: ("depth_multiplier", *_CONV_KEYS, "depthwise_quantizer", "depthwise_initializer")}
COMMON_KEYS = ("name", "activation", "bias_quantizer", "trainable")


def quantized_weights(layer) -> tuple[np.ndarray, np.ndarray | None]:
    """Kernel and bias exactly as the layer uses them in inference (quantized, batch norm folded)."""
    kq = getattr(layer, "kernel_quantizer_internal", getattr(layer, "depthwise_quantizer_internal", None))
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


BATCHNORMS = ("BatchNormalization", "QBatchNormalization")


def bn_parameters(bn) -> tuple:
    """(gamma, beta, mean, variance) as the layer uses them in inference: a QBatchNormalization's
    through its quantizers (None where the layer has no scale / center)."""
    gamma = bn.gamma if bn.scale else None
    beta = bn.beta if bn.center else None
    mean, variance = bn.moving_mean, bn.moving_variance
    if type(bn).__name__ == "QBatchNormalization":
        quantized = lambda v, q: v if v is None or not q else getattr(bn, q + "_internal")(v)  # noqa: E731
        gamma, beta = quantized(gamma, "gamma_quantizer"), quantized(beta, "beta_quantizer")
        mean, variance = quantized(mean, "mean_quantizer"), quantized(variance, "variance_quantizer")
    return gamma, beta, mean, variance


def bn_folded(layer, bn, bias_frac: int | None) -> list[np.ndarray]:
    """Kernel and bias of `layer` with the batch norm `bn` (float, or QBatchNormalization with its quantized
    parameters) folded in: the kernel re-quantized by the layer's kernel quantizer, the bias by its bias
    quantizer, or, if it has none, rounded half to even onto the accumulator grid 2**-bias_frac."""
    gamma, beta, mean, variance = bn_parameters(bn)
    inv = tf.math.rsqrt(variance + bn.epsilon)
    if gamma is not None:
        inv = inv * gamma
    bias = layer.bias if layer.use_bias else tf.zeros_like(mean)
    kernel = inv * layer.kernel
    bias = inv * (bias - mean) + (beta if beta is not None else 0.0)
    if layer.bias_quantizer_internal is not None:
        bias = layer.bias_quantizer_internal(bias).numpy()
    else:
        bias = (np.round(np.asarray(bias, np.float64) * 2.0**bias_frac) * 2.0**-bias_frac).astype(np.float32)
    return [layer.kernel_quantizer_internal(kernel).numpy(), bias]


def input_frac(layers: list, i: int) -> int | None:
    """The fractional bits of the activation that feeds layers[i] (the nearest QActivation before it)."""
    from hwflow.quant import activation_code

    for layer in reversed(layers[:i]):
        if type(layer).__name__ == "QActivation":
            return activation_code(layer.quantizer, f"QActivation '{layer.name}'").grid.frac
        if type(layer).__name__ in FOLDABLE:
            return None
    return None


def accumulator_frac(layers: list, i: int, bn) -> int:
    """The grid of layers[i]'s pre-activation sums: its input activation's frac plus its kernel's (after
    folding `bn`), where a folded float bias is rounded (the layer has no bias quantizer)."""
    layer = layers[i]
    frac_in = input_frac(layers, i)
    if frac_in is None:
        raise HwflowError(f"{type(bn).__name__} '{bn.name}' follows '{layer.name}', which has no bias_quantizer "
                          "and no QActivation before it: give the layer a bias_quantizer (e.g. "
                          "quantized_bits(16, 6, alpha=1)) so the folded bias has a grid")
    gamma, _, _, variance = bn_parameters(bn)
    inv = tf.math.rsqrt(variance + bn.epsilon) * (gamma if gamma is not None else 1.0)
    kernel = layer.kernel_quantizer_internal(inv * layer.kernel).numpy()
    return frac_in + to_integers(kernel, f"layer '{layer.name}' kernel")[1]


def plain_clone(layer) -> tuple[tf.keras.layers.Layer, list[np.ndarray]]:
    """A QDense / QConv2D / QDepthwiseConv2D equal to a QDenseBatchnorm / QConv2DBatchnorm /
    QDepthwiseConv2DBatchnorm in inference, with its weights."""
    cls = PLAIN[type(layer).__name__]
    config = layer.get_config()
    kwargs = {k: config[k] for k in PLAIN_KEYS[cls] + COMMON_KEYS if k in config}
    kernel, bias = quantized_weights(layer)
    return cls(use_bias=True, **kwargs), [kernel, bias]


def plain_graph(model) -> tf.keras.Model:
    """A copy of a functional `model` (any graph) whose batch-norm-folding layers are the plain layers of their
    folded quantized weights; every other layer is copied with its weights. Equal to `model` bit for bit."""
    weights = {}

    def clone(layer):
        if type(layer).__name__ in PLAIN:
            new, weights[layer.name] = plain_clone(layer)
            return new
        weights[layer.name] = layer.get_weights()
        return type(layer).from_config(layer.get_config())

    folded = tf.keras.models.clone_model(model, clone_function=clone)
    for layer in folded.layers:
        if layer.name in weights:
            layer.set_weights(weights[layer.name])
    return tf.keras.Model(folded.inputs, folded.outputs, name=f"{model.name}_folded")


def has_batchnorm(model) -> bool:
    """True if any layer is a BatchNormalization or a batch-norm-folding quantized layer."""
    return any(type(layer).__name__ in (*BATCHNORMS, *PLAIN) for layer in model.layers)


def fold_batchnorm(model) -> tf.keras.Model:
    """A copy of `model` with no batch norm left (Sequential; any graph when it has only batch-norm-folding
    layers, see plain_graph): BatchNormalization and QBatchNormalization
    layers (with their quantized parameters) are folded into the QDense / QConv2D before them and
    re-quantized -- a layer without a bias quantizer gets its folded bias rounded onto its accumulator
    grid -- (this changes the network slightly), and
    QDenseBatchnorm / QConv2DBatchnorm / QDepthwiseConv2DBatchnorm become QDense / QConv2D / QDepthwiseConv2D
    holding their folded quantized weights
    (this changes nothing: the copy's predict equals the original's bit for bit)."""
    layers = [layer for layer in model.layers if type(layer).__name__ != "InputLayer"]
    if not any(type(layer).__name__ in BATCHNORMS for layer in layers):
        return plain_graph(model)
    joined = next((layer for layer in layers if isinstance(layer.input, list) and len(layer.input) > 1), None)
    if joined is not None:
        raise HwflowError(f"layer '{joined.name}' ({type(joined).__name__}) joins two paths; hwflow folds batch "
                          "norm only in chains: use QConv2DBatchnorm / QDenseBatchnorm inside a residual block")
    clones, weights = [], []
    for i, layer in enumerate(layers):
        kind = type(layer).__name__
        if kind in BATCHNORMS:
            prev = layers[i - 1] if i else None
            if prev is None or type(prev).__name__ not in FOLDABLE:
                raise HwflowError(f"{kind} '{layer.name}' can be folded only directly after a QDense or QConv2D; "
                                  "move it there or use QConv2DBatchnorm")
            if tuple(layer.axis) not in ((-1,), (len(layer.input_shape) - 1,)):
                raise HwflowError(f"{kind} '{layer.name}' normalizes axis {layer.axis}; only the "
                                  "channel (last) axis can be folded")
            bias_frac = accumulator_frac(layers, i - 1, layer) if prev.bias_quantizer_internal is None else None
            weights[-1] = bn_folded(prev, layer, bias_frac)
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
