"""QDepthwiseConv2D, QDepthwiseConv2DBatchnorm and QSeparableConv2D, each as one Conv2D of exact integer weights.

A depthwise convolution (depth multiplier M) is the Conv2D whose kernel [kh, kw, C, C*M] is zero but for
K[:, :, c, c*M + m] = D[:, :, c, m] (Keras's output channel order). A separable convolution is that
depthwise kernel followed by a 1x1 pointwise kernel P [1, 1, C*M, F] with no activation between: the
Conv2D of kernel W[:, :, c, f] = sum_m D[:, :, c, m] P[0, 0, c*M + m, f], exact integers on the grid
2**-(depthwise frac + pointwise frac). The SNN, the HLS blocks and the RTL twin then run it as any
convolution (hwflow.ops.conv2d): exact, with the convolution's cycle formula. The cost is that of that
full convolution: C*M (depthwise) or C*F (separable) synapses per tap, where a depthwise schedule would
add M, or M plus F once per pixel; hwflow has no such schedule yet.
"""
from __future__ import annotations

import numpy as np

from hwflow.ops.conv2d import Conv2D
from hwflow.ops.keras_layers import shape_of, unsupported
from hwflow.ops.registry import parses
from hwflow.ops.synaptic import keras_fields
from hwflow.quant import check_alpha


def quantized(layer, kind: str, kernel) -> np.ndarray:
    """A kernel as the layer uses it in inference: through its `kind` quantizer, if it has one."""
    q = getattr(layer, f"{kind}_quantizer_internal", None)
    if q is None:
        return np.asarray(kernel, dtype=np.float64)
    check_alpha(q, f"layer '{layer.name}' {kind} quantizer", weights=True)
    return np.asarray(q(kernel), dtype=np.float64)


def depthwise_as_conv(depthwise: np.ndarray) -> np.ndarray:
    """The full Conv2D kernel [kh, kw, C, C*M] of a depthwise kernel [kh, kw, C, M]."""
    kh, kw, c, m = depthwise.shape
    kernel = np.zeros((kh, kw, c, c * m), dtype=depthwise.dtype)
    for ch in range(c):
        kernel[:, :, ch, ch * m:(ch + 1) * m] = depthwise[:, :, ch, :]
    return kernel


def separable_as_conv(depthwise: np.ndarray, pointwise: np.ndarray) -> np.ndarray:
    """The Conv2D kernel [kh, kw, C, F] of depthwise [kh, kw, C, M] then pointwise [1, 1, C*M, F]
    (float64 products and sums of grid values: exact integers well below 2**53)."""
    kh, kw, c, m = depthwise.shape
    return np.einsum("hwcm,cmf->hwcf", depthwise, pointwise.reshape(c, m, -1))


def bias_of(layer) -> np.ndarray | None:
    if not layer.use_bias:
        return None
    q = getattr(layer, "bias_quantizer_internal", None)
    if q is not None:
        check_alpha(q, f"layer '{layer.name}' bias quantizer", weights=True)
    return np.asarray(q(layer.bias) if q is not None else layer.bias, dtype=np.float64)


def emit_conv(parser, layer, kernel: np.ndarray, bias: np.ndarray | None) -> None:
    if layer.data_format != "channels_last" or tuple(layer.dilation_rate) != (1, 1):
        raise unsupported(layer, " with data_format/dilation other than channels_last/1")
    in_shape, padding = parser.padded_input(layer, tuple(layer.kernel_size), tuple(layer.strides), layer.padding)
    fields = keras_fields(layer, in_shape, shape_of(layer.output_shape), parser.steps, parser.grid.frac,
                          parser.analog(), weights=(kernel, bias))
    parser.start_linear(Conv2D(strides=tuple(layer.strides), padding=padding, **fields), layer)


@parses("QDepthwiseConv2D", "QDepthwiseConv2DBatchnorm", note="as a Conv2D with zero weights across channels")
def parse_depthwise(parser, layer) -> None:
    """A depthwise convolution (batch norm folded as QKeras folds it in inference), waiting for its activation."""
    if hasattr(layer, "get_folded_weights"):
        depthwise, bias = (np.asarray(w) for w in layer.get_folded_weights())
        bq = layer.bias_quantizer_internal
        bias = np.asarray(bq(bias) if bq is not None else bias, dtype=np.float64)
    else:
        depthwise, bias = layer.depthwise_kernel, bias_of(layer)
    emit_conv(parser, layer, depthwise_as_conv(quantized(layer, "depthwise", depthwise)), bias)


@parses("QSeparableConv2D", note="depthwise and pointwise kernels multiplied into one Conv2D")
def parse_separable(parser, layer) -> None:
    """A separable convolution as the one convolution it computes, waiting for its activation."""
    kernel = separable_as_conv(quantized(layer, "depthwise", layer.depthwise_kernel),
                               quantized(layer, "pointwise", layer.pointwise_kernel))
    emit_conv(parser, layer, kernel, bias_of(layer))
