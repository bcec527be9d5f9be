"""AveragePooling2D: a sum pool with an identity kernel, scaled by 2**-log2(area): an IF convolution.

The average pool has no node or block of its own: it parses into a Conv2D whose kernel connects
each channel to itself with weight 1 and weight_frac = log2(area), so the conv2d op executes and
lowers it. Exact only for a power-of-two pool area, strides equal to the pool and no padded window.
"""
from __future__ import annotations

import math

import numpy as np

from hwflow.ops.conv2d import Conv2D
from hwflow.ops.keras_layers import shape_of, unsupported
from hwflow.ops.registry import parses


@parses("AveragePooling2D", note="power-of-two pool, followed by a QActivation")
def parse_avgpool(parser, layer) -> None:
    """The pool as an identity-kernel Conv2D waiting for its QActivation."""
    in_shape = shape_of(layer.input_shape)
    if parser.pending is not None or parser.analog():
        raise unsupported(layer, " directly after a linear layer or on the analog input (put it after a QActivation)")
    ph, pw = layer.pool_size
    area = ph * pw
    h, w, c = in_shape
    exact_same = layer.padding == "same" and h % ph == 0 and w % pw == 0
    if area & (area - 1) or tuple(layer.strides) != (ph, pw) or not (layer.padding == "valid" or exact_same):
        raise unsupported(layer, " unless its pool area is a power of two, strides equal the pool size and "
                                 "no window is padded (AveragePooling2D is exact only then)")
    weight = np.zeros((ph, pw, c, c), np.int64)
    weight[:, :, np.arange(c), np.arange(c)] = 1
    pool = Conv2D(name=layer.name, weight=weight, weight_frac=int(math.log2(area)), bias=np.zeros(c, np.int64),
                  bias_frac=0, in_shape=in_shape, out_shape=shape_of(layer.output_shape), in_steps=parser.steps,
                  in_frac=parser.grid.frac, analog_input=False, neuron=None, strides=(ph, pw), padding="valid")
    parser.start_linear(pool, layer)
