"""Small readers of Keras layers shared by the parse handlers."""
from __future__ import annotations

from hwflow.errors import HwflowError
from hwflow.ops.registry import supported_layers


def shape_of(shape) -> tuple[int, ...]:
    """A Keras shape without its batch dimension, as ints."""
    return tuple(int(d) for d in shape[1:])


LINEAR_LAYERS = ("QDense", "QDenseBatchnorm", "QConv2D", "QConv2DBatchnorm", "QConv1D", "QDepthwiseConv2D",
                 "QDepthwiseConv2DBatchnorm", "QSeparableConv2D")  # what a residual or a Concatenate may fuse


def producer(tensor):
    """The Keras layer that made a tensor."""
    return tensor.node.layer


def is_linear_without_activation(layer) -> bool:
    """A QDense/QConv layer (LINEAR_LAYERS) with no activation of its own (a quantizer given as activation= is one)."""
    return type(layer).__name__ in LINEAR_LAYERS and is_linear_activation(getattr(layer, "activation", None))


def is_linear_activation(act) -> bool:
    """True for no activation or Keras's 'linear'."""
    return act is None or getattr(act, "__name__", "") == "linear"


def unsupported(layer, why: str = "") -> HwflowError:
    """The one-line error for a layer hwflow cannot convert, listing what it converts."""
    return HwflowError(f"layer '{layer.name}' of type {type(layer).__name__} is not supported{why}; "
                       f"hwflow converts: {', '.join(supported_layers())}")
