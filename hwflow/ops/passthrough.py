"""Layers that compute nothing at inference (Dropout, a linear Activation), and batch norm left unfolded."""
from __future__ import annotations

from hwflow.errors import HwflowError
from hwflow.ops.keras_layers import is_linear_activation, unsupported
from hwflow.ops.output_function import function_name, set_output_function
from hwflow.ops.registry import parses


@parses("Dropout", "SpatialDropout1D", "SpatialDropout2D", "GaussianDropout", "AlphaDropout", "GaussianNoise",
        "ActivityRegularization", note="ignored at inference")
def parse_dropout(parser, layer) -> None:
    """Nothing: dropout, noise and activity regularization are the identity at inference."""


@parses("Activation", note="'linear'; 'softmax' or 'sigmoid' as the model's last layer")
def parse_activation(parser, layer) -> None:
    """Nothing for Activation('linear'); a final softmax / sigmoid on the logits (hwflow.ops.output_function);
    any other float activation cannot be exact."""
    name = function_name(layer.activation)
    if name is not None:
        set_output_function(parser, layer, name)
    elif not is_linear_activation(layer.activation):
        raise unsupported(layer, f" with activation {getattr(layer.activation, '__name__', layer.activation)!r}")


@parses("BatchNormalization", "QBatchNormalization",
        note="folded into the QDense/QConv2D right before it (QBatchNormalization with its quantized parameters)")
def parse_batchnorm(parser, layer) -> None:
    """hwflow.convert folds every foldable batch norm first: one left here could not be folded."""
    raise HwflowError(f"{type(layer).__name__} '{layer.name}' must directly follow a QDense/QConv2D, so that "
                      "hwflow.fold_batchnorm can fold it")
