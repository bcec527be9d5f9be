"""Keras-compatible 2-D window geometry (padding, output size, patch extraction)."""
from __future__ import annotations

import numpy as np


def out_size(size: int, kernel: int, stride: int, padding: str) -> int:
    """Output length along one axis, as Keras computes it."""
    if padding == "same":
        return -(-size // stride)
    return (size - kernel) // stride + 1


def pad_before(size: int, kernel: int, stride: int, padding: str) -> int:
    """Zero rows/columns TensorFlow adds before the data ('same' pads the extra one after)."""
    if padding != "same":
        return 0
    total = max((out_size(size, kernel, stride, padding) - 1) * stride + kernel - size, 0)
    return total // 2


def padded(x: np.ndarray, kernel: tuple[int, int], strides: tuple[int, int], padding: str):
    """x [B, H, W, C] zero padded as TensorFlow does, with the output size (Ho, Wo)."""
    b, h, w, c = x.shape
    (kh, kw), (sh, sw) = kernel, strides
    ho, wo = out_size(h, kh, sh, padding), out_size(w, kw, sw, padding)
    ph, pw = pad_before(h, kh, sh, padding), pad_before(w, kw, sw, padding)
    xp = np.zeros((b, max((ho - 1) * sh + kh, h + ph), max((wo - 1) * sw + kw, w + pw), c), dtype=x.dtype)
    xp[:, ph:ph + h, pw:pw + w, :] = x
    return xp, ho, wo


def tap(xp: np.ndarray, i: int, j: int, ho: int, wo: int, strides: tuple[int, int]) -> np.ndarray:
    """The input pixels that kernel tap (i, j) reads for every output pixel: [B, Ho, Wo, C] view."""
    sh, sw = strides
    return xp[:, i:i + (ho - 1) * sh + 1:sh, j:j + (wo - 1) * sw + 1:sw, :]


def conv2d(x: np.ndarray, w: np.ndarray, strides: tuple[int, int], padding: str) -> np.ndarray:
    """2-D convolution (Keras cross-correlation, channels last) as a sum over kernel taps."""
    kh, kw, _, cout = w.shape
    xp, ho, wo = padded(x, (kh, kw), strides, padding)
    acc = np.zeros((x.shape[0] * ho * wo, cout), dtype=x.dtype)
    for i in range(kh):
        for j in range(kw):
            acc += np.ascontiguousarray(tap(xp, i, j, ho, wo, strides)).reshape(len(acc), -1) @ w[i, j]
    return acc.reshape(x.shape[0], ho, wo, cout)


def patches(x: np.ndarray, kernel: tuple[int, int], strides: tuple[int, int], padding: str) -> np.ndarray:
    """Windows of x [B, H, W, C] as [B, Ho, Wo, kh, kw, C], zero padded as TensorFlow does."""
    xp, ho, wo = padded(x, kernel, strides, padding)
    out = np.empty((x.shape[0], ho, wo) + tuple(kernel) + (x.shape[3],), dtype=x.dtype)
    for i in range(kernel[0]):
        for j in range(kernel[1]):
            out[:, :, :, i, j, :] = tap(xp, i, j, ho, wo, strides)
    return out


def fan_out(in_hw: tuple[int, int], kernel: tuple[int, int], strides: tuple[int, int], padding: str) -> np.ndarray:
    """For each input pixel, how many (output pixel, tap) pairs read it: [H, W]."""
    h, w = in_hw
    index = np.arange(h * w, dtype=np.int64).reshape(1, h, w, 1) + 1  # 0 marks padding
    taps = patches(index, kernel, strides, padding).reshape(-1)
    counts = np.bincount(taps, minlength=h * w + 1)[1:]
    return counts.reshape(h, w)
