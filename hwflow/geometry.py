"""Keras-compatible 2-D window geometry (padding, output size, patch extraction).

A padding is Keras's 'valid' or 'same', or explicit zero rows and columns ((top, bottom), (left,
right)): a ZeroPadding2D folded into the convolution after it. An axis's padding is the string
or its (before, after) pair.
"""
from __future__ import annotations

from typing import Union

import numpy as np

Padding = Union[str, tuple[tuple[int, int], tuple[int, int]]]


def axis_paddings(padding: Padding) -> tuple:
    """The padding of the height and of the width axis."""
    if isinstance(padding, str):
        return padding, padding
    return tuple(tuple(int(p) for p in axis) for axis in padding)


def out_size(size: int, kernel: int, stride: int, padding) -> int:
    """Output length along one axis, as Keras computes it (padding: the axis's)."""
    if padding == "same":
        return -(-size // stride)
    before, after = (0, 0) if padding == "valid" else padding
    return (size + before + after - kernel) // stride + 1


def pad_before(size: int, kernel: int, stride: int, padding) -> int:
    """Zero rows/columns added before the data ('same' pads the extra one after; padding: the axis's)."""
    if not isinstance(padding, str):
        return int(padding[0])
    if padding != "same":
        return 0
    total = max((out_size(size, kernel, stride, padding) - 1) * stride + kernel - size, 0)
    return total // 2


def padded(x: np.ndarray, kernel: tuple[int, int], strides: tuple[int, int], padding: Padding):
    """x [B, H, W, C] zero padded as TensorFlow does, with the output size (Ho, Wo)."""
    b, h, w, c = x.shape
    (kh, kw), (sh, sw), (pad_h, pad_w) = kernel, strides, axis_paddings(padding)
    ho, wo = out_size(h, kh, sh, pad_h), out_size(w, kw, sw, pad_w)
    ph, pw = pad_before(h, kh, sh, pad_h), pad_before(w, kw, sw, pad_w)
    xp = np.zeros((b, max((ho - 1) * sh + kh, h + ph), max((wo - 1) * sw + kw, w + pw), c), dtype=x.dtype)
    xp[:, ph:ph + h, pw:pw + w, :] = x
    return xp, ho, wo


def tap(xp: np.ndarray, i: int, j: int, ho: int, wo: int, strides: tuple[int, int]) -> np.ndarray:
    """The input pixels that kernel tap (i, j) reads for every output pixel: [B, Ho, Wo, C] view."""
    sh, sw = strides
    return xp[:, i:i + (ho - 1) * sh + 1:sh, j:j + (wo - 1) * sw + 1:sw, :]


def conv2d(x: np.ndarray, w: np.ndarray, strides: tuple[int, int], padding: Padding) -> np.ndarray:
    """2-D convolution (Keras cross-correlation, channels last) of integer-valued x and w, in x's dtype.

    Floating-point x runs as one TensorFlow convolution in its dtype: on the CPU, Eigen's or oneDNN's
    direct convolution (TensorFlow asks oneDNN for convolution_direct, never Winograd), which only
    multiplies and adds the integer operands, so it is exact while every partial sum fits the mantissa
    (24 bits in float32, 53 in float64) -- the caller's choice of dtype (SynapticLayer.exact_dtype).
    A kernel that is zero across channels (a depthwise convolution as hwflow.ops.depthwise lowers it) runs as
    TensorFlow's depthwise convolution, which sums a subset of the same integer products: C times less work.
    int64 x is summed over kernel taps in numpy."""
    kh, kw, _, cout = w.shape
    if x.dtype != np.int64:
        import tensorflow as tf
        if isinstance(padding, str):  # Keras's 'same' and 'valid' are TensorFlow's: no padded copy
            xp, tf_padding = x, padding.upper()
        else:
            xp, ho, wo = padded(x, (kh, kw), strides, padding)
            xp, tf_padding = xp[:, :(ho - 1) * strides[0] + kh, :(wo - 1) * strides[1] + kw], "VALID"
        depthwise = depthwise_kernel(w) if strides[0] == strides[1] else None  # TF's needs equal strides
        if depthwise is not None:
            return tf.nn.depthwise_conv2d(xp, depthwise.astype(x.dtype), strides=[1, *strides, 1],
                                          padding=tf_padding).numpy()
        return tf.nn.conv2d(xp, w.astype(x.dtype), strides=list(strides), padding=tf_padding).numpy()
    xp, ho, wo = padded(x, (kh, kw), strides, padding)
    acc = np.zeros((x.shape[0] * ho * wo, cout), dtype=x.dtype)
    for i in range(kh):
        for j in range(kw):
            acc += np.ascontiguousarray(tap(xp, i, j, ho, wo, strides)).reshape(len(acc), -1) @ w[i, j]
    return acc.reshape(x.shape[0], ho, wo, cout)


def depthwise_kernel(w: np.ndarray) -> np.ndarray | None:
    """The depthwise kernel [kh, kw, C, M] of a Conv2D kernel [kh, kw, C, C*M] that is zero but for input channel c
    to outputs c*M .. c*M + M - 1 (Keras's order), else None (also for C = 1, an ordinary convolution)."""
    kh, kw, cin, cout = w.shape
    if cin == 1 or cout % cin:
        return None
    channels = np.arange(cin)
    diagonal = w.reshape(kh, kw, cin, cin, cout // cin)[:, :, channels, channels, :]
    return diagonal if np.count_nonzero(diagonal) == np.count_nonzero(w) else None


def patches(x: np.ndarray, kernel: tuple[int, int], strides: tuple[int, int], padding: Padding) -> np.ndarray:
    """Windows of x [B, H, W, C] as [B, Ho, Wo, kh, kw, C], zero padded as TensorFlow does."""
    xp, ho, wo = padded(x, kernel, strides, padding)
    out = np.empty((x.shape[0], ho, wo) + tuple(kernel) + (x.shape[3],), dtype=x.dtype)
    for i in range(kernel[0]):
        for j in range(kernel[1]):
            out[:, :, :, i, j, :] = tap(xp, i, j, ho, wo, strides)
    return out


def fan_out(in_hw: tuple[int, int], kernel: tuple[int, int], strides: tuple[int, int], padding: Padding) -> np.ndarray:
    """For each input pixel, how many (output pixel, tap) pairs read it: [H, W]."""
    h, w = in_hw
    index = np.arange(h * w, dtype=np.int64).reshape(1, h, w, 1) + 1  # 0 marks padding
    taps = patches(index, kernel, strides, padding).reshape(-1)
    counts = np.bincount(taps, minlength=h * w + 1)[1:]
    return counts.reshape(h, w)
