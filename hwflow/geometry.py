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


def patches(x: np.ndarray, kernel: tuple[int, int], strides: tuple[int, int], padding: str) -> np.ndarray:
    """Windows of x [B, H, W, C] as [B, Ho, Wo, kh, kw, C], zero padded as TensorFlow does."""
    b, h, w, c = x.shape
    kh, kw = kernel
    sh, sw = strides
    ho, wo = out_size(h, kh, sh, padding), out_size(w, kw, sw, padding)
    ph, pw = pad_before(h, kh, sh, padding), pad_before(w, kw, sw, padding)
    need_h, need_w = (ho - 1) * sh + kh, (wo - 1) * sw + kw
    xp = np.zeros((b, max(need_h, h + ph), max(need_w, w + pw), c), dtype=x.dtype)
    xp[:, ph:ph + h, pw:pw + w, :] = x
    win = np.lib.stride_tricks.sliding_window_view(xp, (kh, kw), axis=(1, 2))  # [B, H', W', C, kh, kw]
    win = win[:, :need_h - kh + 1:sh, :need_w - kw + 1:sw]
    return win.transpose(0, 1, 2, 4, 5, 3)


def fan_out(in_hw: tuple[int, int], kernel: tuple[int, int], strides: tuple[int, int], padding: str) -> np.ndarray:
    """For each input pixel, how many (output pixel, tap) pairs read it: [H, W]."""
    h, w = in_hw
    index = np.arange(h * w, dtype=np.int64).reshape(1, h, w, 1) + 1  # 0 marks padding
    taps = patches(index, kernel, strides, padding).reshape(-1)
    counts = np.bincount(taps, minlength=h * w + 1)[1:]
    return counts.reshape(h, w)
