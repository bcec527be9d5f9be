"""Residual Add: Add()([f(a), a]) or Add()([f(a), p(a)]) fused into the neurons of f's layers.

One layer, f = layer: layer(a) + a = W . a + b + a = (W + I) . a + b, where I is the identity synapse:
input value j of a reaches output j with weight 1 (a dense layer's diagonal; a convolution's tap that
reads the output pixel's own position, for each channel c -> c). The Add before the activation therefore
becomes one more integer weight per output, 2**weight_frac (the value 1 on the layer's weight grid), and
the one neuron integrates the synapses and the identity path together: no branch, no buffer of a, and
every firmware block, the RTL twin and their cycle formulas apply unchanged (the identity taps are weights
like any other; an event-driven block pays for them only when a spikes). TensorFlow computes the Add in
float32 on the same integers: BoundWidths bounds the sum with the identity weights included. A projection
shortcut p (a linear layer reading a, no activation of its own) adds its kernel instead of I: layer(a) + p(a)
is one layer whose kernel is both kernels placed in one window (hwflow.ops.concatenate.merged_window; same
strides and output size), on the finer of their weight grids.

Several layers, f = L_n . act . ... . act . L_1 (the ResNet basic block: conv, activation, conv, Add): the
layers L_1 .. L_{n-1} carry a on pass-through channels. L_1 gets C more outputs (C = a's channels) that copy
its input, weight 1 at the tap of the output's own position and bias 0; every later L_k reads them as C
more input channels and copies them on again; L_n reads them and adds I (or p's kernel) from them. A pass-
through neuron gets a's level k as pre-activation k 2**-frac, on its own grid when L_k's activation has a's
quantizer, and fires k again, exactly (round half to even and the clip leave an on-grid value alone). So the
skip path travels as spikes through the layers between, at the cost of C more neurons (and their synapses and
spikes, which the counts include) per layer, instead of a FIFO beside them; every firmware block and the RTL
twin run the widened layers unchanged. The pass-through needs the layers between to be QDense/QConv layers
(no pool, flatten or reshape) of stride 1 that keep a's image size, each with a's own unsigned quantizer.

Where it cannot (a stride, a pool or another quantizer on the path; a strided projection: the ResNet
downsampling block Add()([conv(act(conv_s2(a))), conv1x1_s2(a)])), the skip goes beside the block instead
(join_skip): the layers between keep their own outputs, a join (hwflow.ops.join) puts a's planes after
L_n's input m, and L_n adds I (or p's kernel) from those channels, the same merged weights as above. A
strided 1x1 projection reads a[o s] at output pixel o, so a is first subsampled by a 1x1 max pool of that
stride (one tap: the bit-serial OR copies it) and p becomes a 1x1 kernel of stride 1 on it. This needs a
and m on one quantized_relu grid with one T (their planes then line up step by step in L_n's Horner
integration) and the same pixels, and a to be spikes (not the analog input of encoding='direct'); a
larger strided projection kernel is refused with one line. The cost is a's frame held while the block
runs (the RTL twin's memory, hls4ml's stream FIFOs), not neurons.

The layers are a QDense, QConv2D, QConv1D or depthwise/separable convolution (or a batch-norm folding
QDenseBatchnorm, QConv2DBatchnorm, QDepthwiseConv2DBatchnorm: its folded weights) without an activation of
their own before the Add; hwflow.convert.layer_chain checks the graph (skip_of) and leaves a projection off
the chain. A batch norm inside a graph, a skip from a signed activation and other graphs are refused with
one line.
"""
from __future__ import annotations

import copy
import dataclasses

import numpy as np

from hwflow.errors import HwflowError
from hwflow.ir import INPUT
from hwflow.geometry import axis_paddings, pad_before
from hwflow.ops.conv2d import Conv2D
from hwflow.ops.dense import Dense
from hwflow.ops.join import Join
from hwflow.ops.maxpool import MaxPool
from hwflow.ops import ternary
from hwflow.ops.concatenate import aligned, identity, input_join, merged_window
from hwflow.ops.keras_layers import is_linear_without_activation, producer
from hwflow.ops.passthrough import parse_activation, parse_dropout
from hwflow.ops.registry import HANDLERS, parses
from hwflow.ops.synaptic import SynapticLayer
from hwflow.rtl.block import image

def identity_index(layer: SynapticLayer, where: str) -> tuple:
    """The weight index of output j's identity synapse from input j (index arrays), or a HwflowError."""
    if tuple(layer.in_shape) != tuple(layer.out_shape):
        raise HwflowError(f"{where} adds '{layer.name}' (shape {layer.out_shape}) to its input (shape "
                          f"{layer.in_shape}); a residual Add needs the same shape")
    if isinstance(layer, Dense):
        n = np.arange(layer.weight.shape[0])
        return n, n
    if not isinstance(layer, Conv2D) or tuple(layer.strides) != (1, 1):
        raise HwflowError(f"{where}: '{layer.name}' has strides {getattr(layer, 'strides', '?')}; a residual Add "
                          "is fused into a stride-1 convolution or a dense layer")
    (h, w, c), (kh, kw) = image(layer.in_shape), layer.weight.shape[:2]
    taps = tuple(pad_before(n, k, 1, pad) for n, k, pad in zip((h, w), (kh, kw), axis_paddings(layer.padding)))
    channels = np.arange(c)
    return taps[0], taps[1], channels, channels


@parses("Add", note="Add()([f(a), a]) or Add()([f(a), p(a)]) before the last activation of f, f one QDense/QConv2D/"
                    "QConv1D/depthwise layer or a chain of them keeping a's shape and quantizer, p a linear projection: "
                    "fused into the layers' neurons (identity weights, pass-through channels)")
def parse_add(parser, layer) -> None:
    """Fold the skip path into the pending linear layer's weights (through pass-through channels of the layers
    between, for a residual over several layers)."""
    node = parser.pending
    where = f"Add '{layer.name}'"
    if node is None or parser.deferred or parser.divisor != 1:
        raise HwflowError(f"{where} does not directly follow a QDense/QConv2D without activation; hwflow fuses "
                          "Add()([f(a), a]) before f's last activation only")
    if parser.pair:
        raise ternary.refuse_pair("Add", layer.name)
    if parser.pm1:
        raise HwflowError(f"{where} adds a binary() activation to '{node.name}'; put a quantized_relu or "
                          "quantized_bits activation before the residual block")
    main, source, proj = skip_of(layer)
    if proj is None and producer(main).input is source:
        node.weight = node.weight.copy()
        node.weight[identity_index(node, where)] += 1 << node.weight_frac
        return
    fold_skip(parser, node, source, proj, layer.name, where)


# ---------------------------------------------------------------- residuals over several layers, projections

def reaches(tensor, source) -> bool:
    """Whether `source` is an ancestor of `tensor` through single-input layers."""
    while tensor is not source:
        layer = producer(tensor)
        if type(layer).__name__ == "InputLayer" or isinstance(layer.input, list):
            return False
        tensor = layer.input
    return True


def projection(tensor):
    """The linear layer without activation of its own that made `tensor` (a projection shortcut), else None."""
    layer = producer(tensor)
    return layer if is_linear_without_activation(layer) else None


def skip_of(layer):
    """(main input, a, projection layer or None) of Add()([f(a), a]) or Add()([f(a), p(a)]), f a chain of layers
    whose last is linear and p a linear layer (a projection shortcut); None for any other Add."""
    if type(layer).__name__ != "Add" or not isinstance(layer.input, list) or len(layer.input) != 2:
        return None
    t1, t2 = layer.input
    for main, skip in ((t1, t2), (t2, t1)):
        proj = projection(skip)
        source = proj.input if proj is not None else skip
        if source is not main and reaches(main, source):
            return main, source, proj
    return None


def off_chain(model) -> set[int]:
    """ids of the projection layers of a model's residual Adds (the chain skips them; parse_add folds them in)."""
    found = (skip_of(layer) for layer in model.layers)
    return {id(s[2]) for s in found if s is not None and s[2] is not None}


IDENTITIES = (parse_dropout, parse_activation)  # layers that compute nothing at inference (a linear Activation)


def node_index(parser, tensor, where: str) -> int:
    """Where the node that made `tensor` sits in parser.layers (-1: the input encoder)."""
    layer = producer(tensor)
    while HANDLERS.get(type(layer).__name__) in IDENTITIES:  # Dropout and the like: the tensor before them
        layer = producer(layer.input)
    joined = input_join(parser.model)
    if joined is not None and layer is joined[0] and not any(joined[3]):  # the joined input itself
        return -1
    if type(layer).__name__ == "QActivation" and type(producer(layer.input)).__name__ != "InputLayer":
        layer = producer(layer.input)  # the activation of a linear layer (or pool) is that layer's node
        while skip_of(layer) is not None:  # ... and of an Add, the node of the layer it was folded into
            layer = producer(skip_of(layer)[0])
    elif type(layer).__name__ in ("QActivation", "InputLayer"):
        return -1
    index = next((i for i, n in enumerate(parser.layers) if n.name == layer.name), None)
    if index is None:
        raise HwflowError(f"{where} adds the output of '{layer.name}' ({type(layer).__name__}), which hwflow made no "
                          "layer of; start the skip path at a QActivation, a pool or the input")
    return index


def grid_at(parser, index: int):
    """(level grid, planes) of the activation the node at `index` outputs (-1: the input)."""
    synaptic = [n for n in parser.layers[:index + 1] if isinstance(n, SynapticLayer)]
    if not synaptic:
        return parser.encoder.grid, parser.encoder.steps
    neuron = synaptic[-1].neuron
    return neuron.grid, neuron.time_steps


def skip_node(parser, index: int, grid, steps: int, proj, node: SynapticLayer, where: str) -> SynapticLayer:
    """The skip path as a linear layer reading a: the projection, parsed as if it came right after a, or the
    identity (weight 1 from channel c of a to output c)."""
    if proj is not None:
        sub = copy.copy(parser)
        sub.layers, sub.deferred, sub.pending, sub.zero_padding = parser.layers[:index + 1], [], None, None
        sub.grid, sub.steps, sub.offset, sub.pm1, sub.pair = grid, steps, 0, False, 0
        sub.visit(proj)
        if sub.pending is None:
            raise HwflowError(f"{where}: the projection '{proj.name}' is not a linear layer hwflow can fold")
        return sub.pending
    return identity(node, parser.layers[index].out_shape if index >= 0 else parser.encoder.shape)


def pass_through(layer: SynapticLayer, channels: int, first: int, widen: bool) -> SynapticLayer:
    """The layer with `channels` more outputs that copy its input channels first.. (identity weights at the tap
    of the output's own position); widen: it also gets that many more input channels (zero weights)."""
    w = layer.weight
    if widen:
        w = np.concatenate([w, np.zeros(w.shape[:-2] + (channels, w.shape[-1]), np.int64)], axis=-2)
    w = np.concatenate([w, np.zeros(w.shape[:-1] + (channels,), np.int64)], axis=-1)
    rows = np.arange(first, first + channels)
    cols = np.arange(layer.weight.shape[-1], layer.weight.shape[-1] + channels)
    if isinstance(layer, Dense):
        w[rows, cols] = 1 << layer.weight_frac
    else:
        (h, wd, _), (kh, kw) = image(layer.in_shape), layer.weight.shape[:2]
        ty, tx = (pad_before(n, k, 1, pad) for n, k, pad in zip((h, wd), (kh, kw), axis_paddings(layer.padding)))
        w[ty, tx, rows, cols] = 1 << layer.weight_frac
    bias = np.broadcast_to(np.asarray(layer.bias, np.int64), (layer.weight.shape[-1],))
    grow = lambda shape, n: tuple(shape[:-1]) + (shape[-1] + n,)  # noqa: E731
    return dataclasses.replace(layer, weight=w, bias=np.concatenate([bias, np.zeros(channels, np.int64)]),
                               in_shape=grow(layer.in_shape, channels if widen else 0),
                               out_shape=grow(layer.out_shape, channels), pass_channels=layer.pass_channels + channels)


def carried(between: list, grid) -> bool:
    """Whether pass-through channels can carry a through `between`: QDense/QConv layers of stride 1 that keep the
    image size, each with a's own unsigned quantizer (its neurons then copy a's levels exactly)."""
    for layer in between:
        plain = (isinstance(layer, SynapticLayer) and layer.neuron is not None and not layer.neuron.offset
                 and not layer.neuron.sign and layer.neuron.po2_bounds is None and layer.neuron.divisor == 1)
        if not plain or layer.neuron.grid != grid:
            return False
        if not isinstance(layer, Dense) and (tuple(layer.strides) != (1, 1)
                                             or image(layer.in_shape)[:2] != image(layer.out_shape)[:2]):
            return False
    return True


def join_skip(parser, node: SynapticLayer, index: int, skip: SynapticLayer, grid, steps: int, name: str,
              where: str) -> SynapticLayer:
    """The skip beside the block: a's planes (subsampled for a strided 1x1 projection) joined after the pending
    layer's own input (hwflow.ops.join); the skip as a layer of stride 1 reading those joined channels."""
    if parser.offset or parser.pm1 or parser.pair:
        raise HwflowError(f"{where}: '{node.name}' reads a signed, binary() or ternary() input; the skip joins "
                          "quantized_relu planes")
    direct = parser.encoder.encoding == "direct"
    if direct and not any(isinstance(x, SynapticLayer) for x in parser.layers[:index + 1]):
        raise HwflowError(f"{where}: its skip starts at the analog input, which a join cannot carry beside the block; "
                          "use encoding='bitplane'")
    if (grid, steps) != (parser.grid, parser.steps):
        raise HwflowError(f"{where}: its skip a ({grid}, {steps} planes) and the input of '{node.name}' ({parser.grid}, "
                          f"{parser.steps} planes) differ; hwflow joins them beside the block when they share one "
                          "quantized_relu")
    main = parser.layers[-1].name if parser.layers else INPUT
    source = parser.layers[index].name if index >= 0 else INPUT
    shape = tuple(parser.layers[index].out_shape) if index >= 0 else tuple(parser.encoder.shape)
    if isinstance(skip, Conv2D) and tuple(skip.strides) != (1, 1):
        (h, w, _), (kh, kw) = image(shape), skip.weight.shape[:2]
        pads = [pad_before(n, k, st, pad) for n, k, st, pad in zip((h, w), (kh, kw), skip.strides,
                                                                   axis_paddings(skip.padding))]
        if (kh, kw) != (1, 1) or any(pads) or len(shape) != 3:
            raise HwflowError(f"{where}: its projection '{skip.name}' is a {kh}x{kw} kernel at strides "
                              f"{tuple(skip.strides)}; hwflow joins a strided projection of a 1x1 kernel on an image")
        sub = MaxPool(name=f"{name}_subsample", in_shape=shape, out_shape=tuple(skip.out_shape[:-1]) + shape[-1:],
                      pool=(1, 1), strides=tuple(skip.strides), padding="valid", inputs=(source,))
        parser.layers.append(sub)
        source, shape = sub.name, sub.out_shape
        skip = dataclasses.replace(skip, strides=(1, 1), padding="valid", in_shape=shape)
    if tuple(shape[:-1]) != tuple(node.in_shape[:-1]):
        raise HwflowError(f"{where}: its skip a {shape} and the input of '{node.name}' {tuple(node.in_shape)} differ "
                          "in size; the join beside the block needs the same pixels")
    joined = tuple(node.in_shape[:-1]) + (node.in_shape[-1] + shape[-1],)
    parser.layers.append(Join(name=f"{name}_join", in_shape=joined, out_shape=joined, inputs=(main, source)))
    return skip


def fold_skip(parser, node: SynapticLayer, source, proj, name: str, where: str) -> None:
    """Add()([f(a), a]) or Add()([f(a), p(a)]) with f over several layers, or a projection p: see the module
    docstring. The layers between a and the Add carry a on pass-through channels, or (where they cannot) a join
    puts a beside the last layer's input; the pending layer adds the skip (identity or p's weights) from them."""
    index = node_index(parser, source, where)
    between = parser.layers[index + 1:]
    grid, steps = grid_at(parser, index)
    if grid.signed:
        raise HwflowError(f"{where}: its skip path starts at a signed activation; hwflow passes unsigned "
                          "(quantized_relu) levels through a block")
    skip = skip_node(parser, index, grid, steps, proj, node, where)
    channels = image(skip.in_shape)[-1]
    if skip.out_shape[-1] != node.out_shape[-1]:
        raise HwflowError(f"{where} adds {skip.out_shape[-1]} channels to the {node.out_shape[-1]} of '{node.name}' "
                          "(Keras broadcasts them); a fused residual needs as many channels on both paths")
    if between and carried(between, grid):
        first = 0
        for k, layer in enumerate(between):
            parser.layers[index + 1 + k] = pass_through(layer, channels, first, widen=k > 0)
            first = layer.weight.shape[-1]
    elif between:
        skip = join_skip(parser, node, index, skip, grid, steps, name, where)
    own = node.weight.shape[-2]
    weight_frac, bias_frac = max(node.weight_frac, skip.weight_frac), max(node.bias_frac, skip.bias_frac)
    (w, b), (ws, bs) = (aligned(n, weight_frac, bias_frac) for n in (node, skip))
    at = own if between else 0  # the skip reads the pass-through or joined channels, or a itself
    grown = own + (channels if between else 0)
    if isinstance(node, Dense):
        weight = np.zeros((grown, w.shape[-1]), np.int64)
        weight[:own] += w
        weight[at:at + channels] += ws
        fields = {}
    else:
        offsets, (kh, kw), pads = merged_window([node, skip], where)
        weight = np.zeros((kh, kw, grown, w.shape[-1]), np.int64)
        for part, (dy, dx), lo in ((w, offsets[0], 0), (ws, offsets[1], at)):
            weight[dy:dy + part.shape[0], dx:dx + part.shape[1], lo:lo + part.shape[2]] += part
        fields = dict(padding=pads)
    node.weight, node.weight_frac, node.bias, node.bias_frac = weight, weight_frac, b + bs, bias_frac
    node.in_shape = tuple(node.in_shape[:-1]) + (grown,)
    for key, value in fields.items():
        setattr(node, key, value)
