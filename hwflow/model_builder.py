"""Build the QKeras quantization-aware model described by a validated config."""
from __future__ import annotations

import tensorflow as tf
from qkeras import (QActivation, QConv2D, QConv2DBatchnorm, QDense, QDepthwiseConv2D, QDepthwiseConv2DBatchnorm,
                    quantized_bits, quantized_relu)

from hwflow.errors import HwflowError
from hwflow.qlayers import QDenseBatchnorm
from hwflow.regularizer import SpikeRegularizer

INPUT_SHAPES = {"digits": (8, 8, 1), "mnist": (28, 28, 1), "jets": (16,)}


def build_model(cfg: dict, quantized: bool = True) -> tf.keras.Model:
    """The config's QKeras model (functional): input quantizer, then the config's layers in order.

    The input quantizer is quantized_relu(bits, integer), or quantized_bits(bits, integer, alpha=1)
    for a signed input. Dense, conv and depthwise layers use quantized_bits(bits, integer, alpha)
    kernels (alpha 1 or 'auto_po2') and alpha=1 biases (QKeras's default Clip constraint keeps the
    float weights inside the quantizer's range); batchnorm: true uses QKeras's folding layer
    (QConv2DBatchnorm, QDepthwiseConv2DBatchnorm, hwflow's QDenseBatchnorm); every layer but the
    readout is followed by QActivation(quantized_relu(time_steps, activation_integer)); residual:
    true adds the layer's own input before that activation (Add()([layer(a), a]), the form hwflow
    fuses into one neuron); a readout with
    activation softmax is followed by Activation('softmax'). quantized=False builds the float twin:
    Dense / Conv2D / DepthwiseConv2D (+ BatchNormalization), the same Add, ReLU and softmax.
    """
    t, a_int = cfg["time_steps"], cfg["activation_integer"]
    lam = cfg["train"]["lambda"]
    name_of = cfg["name"] if quantized else f"{cfg['name']}_float"
    inp = tf.keras.Input(shape=INPUT_SHAPES[cfg["dataset"]["name"]], name="model_input")  # hls4ml reserves "input"
    h = inp
    counts: dict[str, int] = {}

    def name(prefix: str) -> str:
        counts[prefix] = counts.get(prefix, 0) + 1
        return f"{prefix}{counts[prefix]}"

    def add(layer: tf.keras.layers.Layer) -> None:
        nonlocal h
        h = layer(h)

    def activation() -> tf.keras.layers.Layer:
        if not quantized:
            return tf.keras.layers.ReLU(name=name("act"))
        reg = SpikeRegularizer(lam, t, a_int) if lam > 0 else None
        return QActivation(quantized_relu(t, a_int), activity_regularizer=reg, name=name("act"))

    def quantizers(kernel_key: str = "kernel_quantizer") -> dict:
        w, b = cfg["weights"], cfg["bias"]
        return {kernel_key: quantized_bits(w["bits"], w["integer"], alpha=w["alpha"]),
                "bias_quantizer": quantized_bits(b["bits"], b["integer"], alpha=1)}

    def add_linear(i: int, layer: dict, kinds: tuple, *args, **kwargs) -> None:
        """The quantized layer (batch norm folded in) or the float layer and a BatchNormalization; the
        layer's own input added after it if residual."""
        nonlocal h
        qcls, qbn_cls, float_cls = kinds
        a = h
        if quantized:
            kernel_key = "depthwise_quantizer" if qcls is QDepthwiseConv2D else "kernel_quantizer"
            add((qbn_cls if layer["batchnorm"] else qcls)(*args, **kwargs, **quantizers(kernel_key)))
        else:
            add(float_cls(*args, **kwargs))
            if layer["batchnorm"]:
                add(tf.keras.layers.BatchNormalization(name=name("bn")))
        if layer.get("residual"):
            if tuple(h.shape) != tuple(a.shape):
                raise HwflowError(f"layers[{i}] ({layer['type']}) has residual: true but maps shape "
                                  f"{tuple(a.shape)[1:]} to {tuple(h.shape)[1:]}; a residual needs padding same, "
                                  "strides 1 and as many filters as input channels")
            h = tf.keras.layers.Add(name=name("add"))([h, a])

    if quantized:
        inp_cfg = cfg["input"]
        add(QActivation(quantized_bits(inp_cfg["bits"], inp_cfg["integer"], alpha=1) if inp_cfg["signed"]
                        else quantized_relu(inp_cfg["bits"], inp_cfg["integer"]), name="input_quant"))
    for i, layer in enumerate(cfg["layers"]):
        kind = layer["type"]
        if kind == "dense":
            if len(h.shape) != 2:
                add(tf.keras.layers.Flatten(name=name("flatten")))
            add_linear(i, layer, (QDense, QDenseBatchnorm, tf.keras.layers.Dense), layer["units"], name=name("dense"))
            if not layer["readout"]:
                add(activation())
            elif layer["activation"] != "linear":
                add(tf.keras.layers.Activation(layer["activation"], name=layer["activation"]))
        elif kind == "conv2d":
            add_linear(i, layer, (QConv2D, QConv2DBatchnorm, tf.keras.layers.Conv2D), layer["filters"],
                       layer["kernel"], strides=layer["strides"], padding=layer["padding"], name=name("conv"))
            add(activation())
        elif kind == "depthwise":
            add_linear(i, layer, (QDepthwiseConv2D, QDepthwiseConv2DBatchnorm, tf.keras.layers.DepthwiseConv2D),
                       layer["kernel"], strides=layer["strides"], padding=layer["padding"], name=name("dwconv"))
            add(activation())
        elif kind == "maxpool":
            add(tf.keras.layers.MaxPooling2D(layer["pool"], name=name("pool")))
        elif kind == "avgpool":
            add(tf.keras.layers.AveragePooling2D(layer["pool"], name=name("pool")))
        elif kind == "upsample":
            add(tf.keras.layers.UpSampling2D(layer["size"], name=name("upsample")))
        elif kind == "flatten":
            add(tf.keras.layers.Flatten(name=name("flatten")))
    return tf.keras.Model(inp, h, name=name_of)
