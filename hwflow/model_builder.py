"""Build the QKeras quantization-aware model described by a validated config."""
from __future__ import annotations

import tensorflow as tf
from qkeras import QActivation, QConv2D, QConv2DBatchnorm, QDense, quantized_bits, quantized_relu

from hwflow.qlayers import QDenseBatchnorm
from hwflow.regularizer import SpikeRegularizer

INPUT_SHAPES = {"digits": (8, 8, 1), "mnist": (28, 28, 1), "jets": (16,)}


def build_model(cfg: dict, quantized: bool = True) -> tf.keras.Model:
    """A keras.Sequential QKeras model: input quantizer, then the config's layers in order.

    The input quantizer is quantized_relu(bits, integer), or quantized_bits(bits, integer, alpha=1)
    for a signed input. Dense and conv layers use quantized_bits(bits, integer, alpha) kernels
    (alpha 1 or 'auto_po2') and alpha=1 biases (QKeras's default Clip constraint keeps the float
    weights inside the quantizer's range); every layer but the readout is followed by
    QActivation(quantized_relu(time_steps, activation_integer)); a readout with activation softmax
    is followed by Activation('softmax'). quantized=False builds the float twin: Dense / Conv2D
    (+ BatchNormalization), ReLU and the same softmax.
    """
    t, a_int = cfg["time_steps"], cfg["activation_integer"]
    lam = cfg["train"]["lambda"]
    model = tf.keras.Sequential(name=cfg["name"] if quantized else f"{cfg['name']}_float")
    model.add(tf.keras.Input(shape=INPUT_SHAPES[cfg["dataset"]["name"]], name="input"))
    if quantized:
        inp = cfg["input"]
        q = (quantized_bits(inp["bits"], inp["integer"], alpha=1) if inp["signed"]
             else quantized_relu(inp["bits"], inp["integer"]))
        model.add(QActivation(q, name="input_quant"))
    counts: dict[str, int] = {}

    def name(prefix: str) -> str:
        counts[prefix] = counts.get(prefix, 0) + 1
        return f"{prefix}{counts[prefix]}"

    def activation() -> tf.keras.layers.Layer:
        if not quantized:
            return tf.keras.layers.ReLU(name=name("act"))
        reg = SpikeRegularizer(lam, t, a_int) if lam > 0 else None
        return QActivation(quantized_relu(t, a_int), activity_regularizer=reg, name=name("act"))

    def add_linear(quantized_cls, float_cls, batchnorm: bool, *args, **kwargs) -> None:
        """The quantized layer (batch norm folded in), or the float layer and a BatchNormalization."""
        if quantized:
            model.add(quantized_cls(*args, **kwargs, **quantizers()))
            return
        model.add(float_cls(*args, **kwargs))
        if batchnorm:
            model.add(tf.keras.layers.BatchNormalization(name=name("bn")))

    def quantizers() -> dict:
        w, b = cfg["weights"], cfg["bias"]
        return {"kernel_quantizer": quantized_bits(w["bits"], w["integer"], alpha=w["alpha"]),
                "bias_quantizer": quantized_bits(b["bits"], b["integer"], alpha=1)}

    for layer in cfg["layers"]:
        kind = layer["type"]
        if kind == "dense":
            if len(model.output_shape) != 2:
                model.add(tf.keras.layers.Flatten(name=name("flatten")))
            add_linear(QDenseBatchnorm if layer["batchnorm"] else QDense, tf.keras.layers.Dense, layer["batchnorm"],
                       layer["units"], name=name("dense"))
            if not layer["readout"]:
                model.add(activation())
            elif layer["activation"] != "linear":
                model.add(tf.keras.layers.Activation(layer["activation"], name=layer["activation"]))
        elif kind == "conv2d":
            add_linear(QConv2DBatchnorm if layer["batchnorm"] else QConv2D, tf.keras.layers.Conv2D,
                       layer["batchnorm"], layer["filters"], layer["kernel"], strides=layer["strides"],
                       padding=layer["padding"], name=name("conv"))
            model.add(activation())
        elif kind == "maxpool":
            model.add(tf.keras.layers.MaxPooling2D(layer["pool"], name=name("pool")))
        elif kind == "avgpool":
            model.add(tf.keras.layers.AveragePooling2D(layer["pool"], name=name("pool")))
        elif kind == "flatten":
            model.add(tf.keras.layers.Flatten(name=name("flatten")))
    return model
