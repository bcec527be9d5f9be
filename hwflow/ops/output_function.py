"""A final softmax or sigmoid (Activation, Softmax, QActivation, or a last QDense/QConv2D's own activation).

The SNN's readout gives the exact logits; the SNN then applies the same TensorFlow float32 operation
the model applies (keras.activations.softmax / sigmoid), so snn.predict equals model.predict bit for
bit. The firmware and the RTL output the logits: they are compared with the model's logits (the
model without its final function, `logits_model`), not with its probabilities.
"""
from __future__ import annotations

import numpy as np

from hwflow.errors import HwflowError
from hwflow.ops.registry import parses

FUNCTIONS = ("softmax", "sigmoid")


def function_name(act) -> str | None:
    """'softmax' or 'sigmoid' for those Keras activations (a function or its name), else None."""
    name = act if isinstance(act, str) else getattr(act, "__name__", "")
    return name if name in FUNCTIONS else None


def apply(name: str | None, logits: np.ndarray) -> np.ndarray:
    """The model's final function on exact float32 logits, by the same TensorFlow operation."""
    if name is None:
        return logits
    import tensorflow as tf
    return tf.keras.activations.get(name)(tf.constant(np.asarray(logits, np.float32))).numpy()


def set_output_function(parser, layer, name: str) -> None:
    """The model ends with `name` after its last linear layer (the readout)."""
    if parser.pending is None:
        raise HwflowError(f"{name} '{layer.name}' must directly follow the last QDense/QConv2D (the readout, with no "
                          "activation between); hwflow applies it to the exact logits")
    parser.output_function = name


@parses("Softmax", note="the model's last layer, on the readout's logits")
def parse_softmax(parser, layer) -> None:
    if layer.axis not in (-1, len(layer.input_shape) - 1):
        raise HwflowError(f"Softmax '{layer.name}' over axis {layer.axis}: hwflow applies a final softmax over the "
                          "last axis only")
    set_output_function(parser, layer, "softmax")


def logits_model(model):
    """The Keras model without its final softmax / sigmoid: what the firmware computes. The model itself
    when it has none; otherwise a model on the same layers (the same weights, graphs such as a residual
    Add kept) that stops before the function: before a last Activation / Softmax, or through a linear
    copy of a last QDense/QConv2D with activation=softmax."""
    import tensorflow as tf

    last = model.layers[-1]
    if type(last).__name__ in ("Activation", "QActivation", "Softmax"):
        fn = "softmax" if type(last).__name__ == "Softmax" else function_name(
            getattr(last, "quantizer", None) or getattr(last, "activation", None))
        if fn is None:
            return model
        return tf.keras.Model(model.inputs, last.input, name=f"{model.name}_logits")
    if function_name(getattr(last, "activation", None)) is None:
        return model
    linear = type(last).from_config(dict(last.get_config(), activation="linear", name=f"{last.name}_logits"))
    out = linear(last.input)
    linear.set_weights(last.get_weights())
    return tf.keras.Model(model.inputs, out, name=f"{model.name}_logits")


def qkeras_reference(model, x: np.ndarray, output_function: str | None, outputs: np.ndarray | None = None) -> np.ndarray:
    """What QKeras computes where the firmware and the RTL output: model.predict(x) (`outputs`, when
    already computed), or its logits when the model ends with a softmax / sigmoid."""
    if output_function is None:
        return model.predict(x, verbose=0) if outputs is None else outputs
    return logits_model(model).predict(x, verbose=0)


def compared_outputs(output_function: str | None) -> dict[str, str]:
    """Which outputs each comparison of a run's report is made on (report.json `compared_outputs`)."""
    if output_function is None:
        return {"snn": "the model's outputs", "firmware": "the model's outputs", "rtl": "the model's outputs"}
    logits = f"the logits before the model's final {output_function} (QKeras: the model without it)"
    return {"snn": f"the model's outputs, after the same TensorFlow float32 {output_function}",
            "firmware": logits, "rtl": logits}
