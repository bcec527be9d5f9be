"""Concatenate of parallel branches over one tensor: fused into one layer of IF neurons, or (deeper branches)
the branches' own nodes and a join.

The form (Inception's parallel convolutions, DenseNet's [a, f(a)]): Concatenate()([b_1, ..., b_n]) along the
channels, where every b_i is either a itself, or activation(linear_i(a)): one QDense / QConv2D / QConv1D /
depthwise / separable convolution (their batch-norm folding forms too) reading a, and its activation (a
QActivation after it or its own activation=), the same quantizer on every branch.

Channel c of the concatenation is channel c' of one branch, which reads only a. So the branches are one layer
whose weights are the branches' side by side along the output channels, each output channel keeping its own
branch's weights and bias and every other branch's weights zero: W = [W_1 | ... | W_n], b = [b_1 | ... | b_n].
Different fractions are first put on the finest of them (shifted left: exact). Convolutions need the same
strides and output size; each kernel is placed inside one window that covers them all: with P = max_i pad_i
(the padding before the data), branch i's tap k reads input row o s - pad_i + k = o s - P + (P - pad_i + k), so
its kernel sits at offset P - pad_i of the merged one, whose other taps are zero (the padding after the data
is the merged window's). The branch a itself is the identity synapse (a 1x1 kernel of weight 1, channel c to
c; a dense layer's diagonal), exact through the shared neuron only when the branches' activation is a's own
grid: level k in, pre-activation k 2**-frac, level k out (a different grid is refused). The one neuron fires
every channel as its branch's activation would: the same quantizer, so the same Neuron. The fused layer is a
plain Dense / Conv2D node: every firmware block, the RTL twin and their cycle formulas run it unchanged, and an
event-driven block pays for a branch's zero taps nothing (it pays per input spike and weight row, as any
layer). Refused with one line: signed, binary, ternary or power-of-two activations on the branches or on a.

Deeper branches (any chain of single-input layers from a to the Concatenate, of any depth; a itself): every
branch is parsed on its own from a's state into nodes of its own, the first reading a's node (Node.inputs),
and hwflow.ops.join puts their outputs side by side (the SNN's nodes are then a DAG). Every branch must end
in spike planes on one quantized_relu grid with one T; a Concatenate inside a branch, a branch reaching back
before a, a branch left at the analog input (direct encoding) and signed ends are refused with one line.

Several inputs joined by one Concatenate (input_join): the joined array is the SNN's one input on the inputs' shared
quantizer grid (InputEncoder.joins records which model input fills which channels); snn.predict joins the model's
list of inputs itself. Inputs that meet after layers of their own (join_input_branches): each input's first layer
reads its channels of the joined array (zero weights on the others', the same sums), and the branches join as above.
Several outputs made by readout heads from the same activation (output_heads): the heads side by side, fused the
same way level by level (fuse_heads; a later level reads each head's own channels, so its weights are blocks); one
readout layer at the end; snn.predict splits its output into the model's list (SNN.output_splits), and the
firmware outputs the heads side by side.
"""
from __future__ import annotations

import copy
import dataclasses

import numpy as np

from hwflow.errors import HwflowError
from hwflow.ir import INPUT
from hwflow.geometry import axis_paddings, out_size, pad_before
from hwflow.ops.conv2d import Conv2D
from hwflow.ops.dense import Dense
from hwflow.ops.keras_layers import LINEAR_LAYERS as LINEAR
from hwflow.ops.keras_layers import is_linear_without_activation, producer, shape_of
from hwflow.ops.join import join_nodes
from hwflow.ops.registry import parses
from hwflow.ops.synaptic import SynapticLayer
from hwflow.rtl.block import image

ACTIVATIONS = ("QActivation",)
FORM = ("hwflow fuses Concatenate()([b_1, ..., b_n]) along the channels where every b_i is the same tensor a or "
        "activation(linear(a)), one QDense/QConv layer and its activation")


def ancestry(tensor) -> list[tuple[object, list]]:
    """(t, the layers from t to `tensor`) for `tensor` and every tensor before it through single-input layers,
    nearest first."""
    out, path = [(tensor, [])], []
    while True:
        layer = producer(tensor)
        if type(layer).__name__ == "InputLayer" or isinstance(layer.input, list):
            return out
        path = [layer] + path
        tensor = layer.input
        out.append((tensor, path))


def branches(layer) -> tuple[object, list[list]]:
    """(a, the layers of each branch from a to the Concatenate, [] for a itself) of a Concatenate along the
    channels of branches of single-input layers from one tensor a; a one-line HwflowError for any other."""
    where = f"Concatenate '{layer.name}'"
    inputs = layer.input if isinstance(layer.input, list) else [layer.input]
    rank = len(inputs[0].shape)
    if layer.axis not in (-1, rank - 1):
        raise HwflowError(f"{where} joins along axis {layer.axis}; {FORM}, along the channels (axis -1)")
    lines = [ancestry(t) for t in inputs]
    for source, _ in lines[0]:  # a: the nearest tensor every input reads
        paths = [next((p for t, p in line if t is source), None) for line in lines]
        if all(p is not None for p in paths):
            return source, paths
    names = ", ".join(f"'{producer(t).name}'" for t in inputs)
    raise HwflowError(f"{where} joins {names}, which do not all read one tensor through layers of one input each; "
                      f"hwflow converts a Concatenate of branches from one tensor (inputs that meet after layers of "
                      "their own, and branches that join inside, are not supported)")


def fused_form(paths: list[list]) -> bool:
    """Whether every branch is a itself or one QDense/QConv layer and its activation (fused into one layer)."""
    def one_layer(path: list) -> bool:
        kinds = [type(x).__name__ for x in path]
        return (not kinds or (len(kinds) == 1 and kinds[0] in LINEAR)
                or (len(kinds) == 2 and kinds[0] in LINEAR and kinds[1] in ACTIVATIONS))
    return all(one_layer(p) for p in paths) and any(paths)


def input_join(model):
    """(the Concatenate, its input quantizer layers, InputEncoder.joins, each input's layers after its quantizer) of a
    model whose several inputs meet in one Concatenate on the channels, each straight, through its own QActivation (the
    input quantizer) or through layers of one input each after it; None for any other model."""
    if len(model.inputs) < 2:
        return None
    for layer in model.layers:
        if type(layer).__name__ != "Concatenate" or layer.axis not in (-1, len(layer.output_shape) - 1):
            continue
        quantizers, joins, paths = [], [], []
        for tensor in layer.input:
            start, path = ancestry(tensor)[-1]  # the furthest tensor it reads through layers of one input
            index = next((i for i, t in enumerate(model.inputs) if t is start), None)
            if index is None:
                break
            if path and type(path[0]).__name__ == "QActivation":
                quantizers.append(path[0])
                path = path[1:]
            joins.append((index, int(start.shape[-1])))
            paths.append(path)
        else:
            if sorted(i for i, _ in joins) == list(range(len(model.inputs))) and len(quantizers) in (0, len(joins)):
                return layer, quantizers, tuple(joins), paths
    return None


def output_heads(model):
    """(h, each head's layers) of a model of several outputs, each made from the same tensor h by a chain of layers of
    one input whose last is a QDense/QConv layer without activation (readout heads, with hidden layers of their
    own or not); None for any other model."""
    if len(model.outputs) < 2:
        return None
    lines = [ancestry(t) for t in model.outputs]
    for source, _ in lines[0]:
        paths = [next((p for t, p in line if t is source), None) for line in lines]
        if all(p for p in paths):
            break
    else:
        return None
    if not all(is_linear_without_activation(p[-1]) for p in paths) or len({type(p[-1]).__name__ for p in paths}) != 1:
        return None
    return source, paths


def fuse_heads(parser, paths: list[list]) -> tuple[int, ...]:
    """The readout heads as one network of fused layers, pending in the parser: level by level, the heads' layers
    side by side (the first level reads h; a later one reads its own head's channels: hwflow.ops.concatenate.fuse
    with by_head), the readouts last; the heads' sizes (SNN.output_splits). The heads need the same depth, layers
    of one kind per level and one unsigned quantized_relu per level (one neuron fires every head's units)."""
    where = f"outputs {', '.join(repr(p[-1].name) for p in paths)}"
    if parser.pending is not None:
        raise HwflowError(f"{where} read '{parser.pending.name}' before its activation; hwflow fuses readout heads "
                          "that read an activation")
    padding, parser.zero_padding = parser.zero_padding, None  # a ZeroPadding2D before the heads: each head's
    levels = []
    for path in paths:
        sub = copy.copy(parser)
        sub.layers, sub.deferred, sub.zero_padding = list(parser.layers), [], padding
        for layer in path:
            sub.visit(layer)
        made = sub.layers[len(parser.layers):] + [sub.pending]
        if any(not isinstance(n, SynapticLayer) for n in made) or sub.deferred:
            raise HwflowError(f"{where}: the head of '{path[-1].name}' has a pool, reshape or padding of its own; "
                              "hwflow fuses heads of QDense/QConv layers and their activations")
        levels.append(made)
    if len({len(made) for made in levels}) != 1:
        raise HwflowError(f"{where} have heads of {sorted({len(m) for m in levels})} layers; hwflow fuses readout "
                          "heads of the same depth")
    fused = []
    for depth, nodes in enumerate(zip(*levels)):
        neuron, kind = nodes[0].neuron, type(nodes[0])
        plain = neuron is None or not (neuron.offset or neuron.sign or neuron.po2_bounds is not None)
        if any(n.neuron != neuron or type(n) is not kind for n in nodes) or not plain:
            raise HwflowError(f"{where}: their layers {', '.join(repr(n.name) for n in nodes)} differ in kind or "
                              "activation, or spike signed, binary(), ternary() or po2 levels; hwflow fuses heads "
                              "whose layers share one quantized_relu per level")
        out_shape = tuple(nodes[0].out_shape[:-1]) + (sum(n.out_shape[-1] for n in nodes),)
        name = "output_heads" if neuron is None else f"output_heads_{depth + 1}"
        fused.append(fuse(name, list(nodes), out_shape, where, by_head=depth > 0))
    parser.layers.extend(fused[:-1])
    parser.pending = fused[-1]
    return tuple(int(made[-1].out_shape[-1]) for made in levels)


def branch_layers(model) -> set[int]:
    """ids of the layers the chain skips (parse_concatenate parses them): inside the Concatenate branches, the input
    quantizers of joined inputs, the readout heads of several outputs."""
    joined = input_join(model)
    ids = {id(x) for x in joined[1] + [x for path in joined[3] for x in path]} if joined else set()  # the Concatenate
    # sets the input and parses each input's layers
    heads = output_heads(model)
    ids |= {id(x) for path in heads[1] for x in path} if heads else set()
    for layer in model.layers:
        if type(layer).__name__ == "Concatenate" and (joined is None or layer is not joined[0]):
            ids.update(id(x) for path in branches(layer)[1] for x in path)
    return ids


def aligned(node: SynapticLayer, weight_frac: int, bias_frac: int) -> tuple[np.ndarray, np.ndarray]:
    """The node's weights and bias [n_out] on finer fractions (shifted left: exact)."""
    bias = np.broadcast_to(np.asarray(node.bias, dtype=np.int64), (node.weight.shape[-1],))
    return node.weight << (weight_frac - node.weight_frac), bias << (bias_frac - node.bias_frac)


def identity(like: SynapticLayer, shape: tuple[int, ...]) -> SynapticLayer:
    """The tensor a of `shape` itself, as `like`'s kind of layer reading it: weight 1 (fraction 0) from input channel
    c to output c, bias 0 (a dense layer's diagonal, a 1x1 convolution)."""
    channels = int(shape[-1])
    eye = np.eye(channels, dtype=np.int64)
    fields = dict(weight=eye if isinstance(like, Dense) else eye.reshape(1, 1, channels, channels), weight_frac=0,
                  bias=np.zeros(channels, np.int64), bias_frac=0, in_shape=tuple(shape), out_shape=tuple(shape))
    if isinstance(like, Conv2D):
        fields.update(strides=(1, 1), padding="valid")
    return dataclasses.replace(like, **fields)


def merged_window(nodes: list[Conv2D], where: str) -> tuple[list[tuple[int, int]], tuple[int, int], tuple]:
    """Each convolution's kernel offset in one window covering them all, that window's size and its explicit
    padding; a HwflowError unless they share strides and output size."""
    first = nodes[0]
    if any(tuple(n.strides) != tuple(first.strides) or tuple(n.out_shape[:-1]) != tuple(first.out_shape[:-1])
           for n in nodes):
        raise HwflowError(f"{where} joins convolutions of different strides or output sizes "
                          f"({', '.join(f'{n.name}: {tuple(n.strides)} -> {tuple(n.out_shape)}' for n in nodes)}); "
                          "the fused layer needs them equal")
    hw, out_hw = image(first.in_shape)[:2], image(first.out_shape)[:2]
    offsets, size, pads = [[] for _ in nodes], [], []
    for axis in range(2):
        n, s, o = hw[axis], first.strides[axis], out_hw[axis]
        before = [pad_before(n, x.weight.shape[axis], s, axis_paddings(x.padding)[axis]) for x in nodes]
        top = max(before)
        k = max(top - b + x.weight.shape[axis] for b, x in zip(before, nodes))
        after = max(0, (o - 1) * s + k - n - top)
        if out_size(n, k, s, (top, after)) != o:
            raise HwflowError(f"{where}: its convolutions cannot share one window (output {o} along axis {axis})")
        for i, b in enumerate(before):
            offsets[i].append(top - b)
        size.append(k)
        pads.append((top, after))
    return [tuple(x) for x in offsets], tuple(size), tuple(pads)


def fuse(name: str, nodes: list[SynapticLayer], out_shape: tuple[int, ...], where: str,
         by_head: bool = False) -> SynapticLayer:
    """One layer whose output channels are the nodes' side by side (see the module docstring); by_head: node i
    reads its own slice of the input channels, the slices in the nodes' order (its weights a block of the
    layer's, the rest zero), else every node reads all of them."""
    weight_frac = max(n.weight_frac for n in nodes)
    bias_frac = max(n.bias_frac for n in nodes)
    parts = [aligned(n, weight_frac, bias_frac) for n in nodes]
    bias = np.concatenate([b for _, b in parts])
    rows = [w.shape[-2] for w, _ in parts]
    starts = np.cumsum([0] + rows[:-1]) if by_head else [0] * len(parts)
    n_in = sum(rows) if by_head else rows[0]
    fields = dict(name=name, out_shape=tuple(out_shape), weight_frac=weight_frac, bias=bias, bias_frac=bias_frac,
                  natural_frac=None, membrane_bound=None, in_shape=tuple(nodes[0].in_shape[:-1]) + (n_in,))
    if isinstance(nodes[0], Dense):
        offsets, size = [()] * len(parts), ()
    else:
        offsets, size, fields["padding"] = merged_window(nodes, where)
    weight = np.zeros(size + (n_in, len(bias)), dtype=np.int64)
    col = 0
    for (w, _), at, start in zip(parts, offsets, starts):
        window = tuple(slice(o, o + k) for o, k in zip(at, w.shape[:-2]))
        weight[window + (slice(start, start + w.shape[-2]), slice(col, col + w.shape[-1]))] = w
        col += w.shape[-1]
    return dataclasses.replace(nodes[0], weight=weight, **fields)


@parses("Concatenate", note="along the channels, of branches from one tensor a: one QDense/QConv layer with its "
                            "activation (one quantizer) or a itself each: fused into one layer; deeper branches (the "
                            "same quantized_relu at their ends): their nodes and a join; of the model's inputs (each "
                            "through the same input quantizer, and layers of its own or none): one joined input",
         opens_input=True)
def parse_concatenate(parser, layer) -> None:
    """Parse every branch on its own from the current state, then emit the fused layer, or the branches' nodes and
    their join (or join the inputs)."""
    where = f"Concatenate '{layer.name}'"
    if parser.encoder is None:
        join_inputs(parser, layer, where)
        return
    _, paths = branches(layer)
    if parser.offset or parser.pm1 or parser.pair:
        raise HwflowError(f"{where} reads a signed, binary() or ternary() activation; hwflow converts a Concatenate "
                          "of branches from a quantized_relu activation")
    padding, parser.zero_padding = parser.zero_padding, None  # a ZeroPadding2D before a: every branch's
    if padding is not None and not all(paths):
        raise HwflowError(f"{where} joins the zero-padded {type(padding[0]).__name__} '{padding[0].name}' itself; "
                          "hwflow folds a zero padding only into the convolutions right after it")
    states = []
    for path in paths:
        sub = copy.copy(parser)  # the layers so far: whether a branch reads the analog input depends on them
        sub.layers, sub.deferred, sub.zero_padding = list(parser.layers), [], padding
        for x in path:
            sub.visit(x)
        states.append(sub)
    if fused_form(paths):
        fuse_branches(parser, layer, paths, states, where)
    else:
        join_branches(parser, layer, paths, states, where)


def fuse_branches(parser, layer, paths: list[list], states: list, where: str) -> None:
    """The one-layer branches (and a itself) as one layer (see the module docstring)."""
    nodes = []
    for path, sub in zip(paths, states):
        made = sub.layers[len(parser.layers):]
        if path and (sub.pending is not None or len(made) != 1):
            raise HwflowError(f"{where}: the branch through '{path[0].name}' has no activation; {FORM}")
        nodes.append(made[0] if path else None)
    made = [(n, s) for n, s in zip(nodes, states) if n is not None]
    node, state = made[0]
    for other, other_state in made[1:]:
        if other.neuron != node.neuron or other_state.grid != state.grid or other_state.pair:
            raise HwflowError(f"{where} joins '{node.name}' and '{other.name}' with different activations; "
                              "the fused layer fires one neuron: give every branch the same quantizer")
    neuron = node.neuron
    if neuron.offset or neuron.sign or neuron.po2_bounds is not None or state.pair:
        raise HwflowError(f"{where} joins signed, binary(), ternary() or quantized_relu_po2 activations; "
                          f"{FORM}, with quantized_relu")
    if any(n is None for n in nodes) and state.grid != parser.grid:
        raise HwflowError(f"{where} joins its input a (grid {parser.grid}) with branches on grid {state.grid}; the "
                          "identity branch is exact only when the branches' quantizer is a's: use the same one")
    nodes = [n if n is not None else dataclasses.replace(identity(node, node.in_shape), neuron=neuron) for n in nodes]
    parser.layers.append(fuse(layer.name, nodes, tuple(int(d) for d in layer.output_shape[1:]), where))
    parser.grid, parser.steps = state.grid, state.steps


def join_branches(parser, layer, paths: list[list], states: list, where: str) -> None:
    """Deeper branches: every branch's nodes (its first reading a's node), then the Joins of their outputs
    (hwflow.ops.join). Every branch must end in spike planes of one quantized_relu grid and T."""
    if parser.pending is not None:
        raise HwflowError(f"{where} has branches from '{parser.pending.name}' before its activation; a join reads "
                          "spike planes: put the activation before the branches")
    trunk = len(parser.layers)
    source = parser.layers[-1].name if parser.layers else INPUT
    made_all, heads, ends = [], [], []
    inputs = layer.input if isinstance(layer.input, list) else [layer.input]
    for path, sub, tensor in zip(paths, states, inputs):
        what = f"{where}: the branch through '{path[0].name}'" if path else f"{where}: its input a itself"
        if sub.pending is not None:
            raise HwflowError(f"{what} ends before the activation of '{sub.pending.name}'; a join reads spike planes: "
                              "end every branch in a QActivation('quantized_relu(bits, integer)')")
        if len(sub.layers) < trunk or any(x is not y for x, y in zip(sub.layers, parser.layers)):
            raise HwflowError(f"{what} changes layers before the branches (a residual from outside the branch); "
                              "hwflow joins branches that start at a")
        if sub.analog():
            raise HwflowError(f"{what} carries the analog input; a join reads spike planes: use encoding='bitplane' "
                              "or give the branch a layer of its own")
        if sub.offset or sub.pm1 or sub.pair:
            raise HwflowError(f"{what} ends in a signed, binary() or ternary() activation; hwflow joins branches "
                              "that end in quantized_relu")
        made = sub.layers[trunk:]
        if made:
            previous = made_all[-1].name if made_all else source
            if previous != source and not made[0].inputs:
                made[0].inputs = (source,)
            made_all += made
        heads.append(made[-1].name if made else source)
        ends.append((sub.grid, sub.steps))
    twice = next((h for k, h in enumerate(heads) if h in heads[:k]), None)
    if twice is not None:
        raise HwflowError(f"{where} joins the output of '{twice}' with itself (the same tensor twice, or through a "
                          "Dropout); hwflow joins branches of different tensors")
    if any(e != ends[0] for e in ends):
        described = ", ".join(f"{g} over {t} planes" for g, t in ends)
        raise HwflowError(f"{where} joins branches ending on different level grids ({described}); a join puts planes "
                          "side by side: give every branch the same quantized_relu")
    parser.layers.extend(made_all)
    parser.layers.extend(join_nodes(layer.name, heads, [shape_of(t.shape) for t in inputs]))
    parser.grid, parser.steps = ends[0]


def join_inputs(parser, layer, where: str) -> None:
    """The model's inputs, joined by this Concatenate, as one input on their shared quantizer's grid."""
    joined = input_join(parser.model)
    if joined is None or joined[0] is not layer:
        raise HwflowError(f"model '{parser.model.name}' has no input quantizer before {where}; add "
                          "QActivation('quantized_relu(bits, integer)') as its first layer or pass input_quantizer= "
                          "to hwflow.convert")
    _, quantizers, joins, paths = joined
    if quantizers and parser.input_quantizer is not None:
        raise HwflowError(f"model '{parser.model.name}' quantizes its inputs itself ('{quantizers[0].name}'); leave "
                          "input_quantizer out")
    if quantizers:
        configs = {str(q.quantizer) for q in quantizers}
        if len(configs) > 1:
            raise HwflowError(f"{where} joins inputs quantized by {', '.join(sorted(configs))}; the joined input has "
                              "one grid: give every input the same quantizer")
        quantizer, what = quantizers[0].quantizer, f"input quantizer '{quantizers[0].name}'"
    elif parser.input_quantizer is not None:
        quantizer, what = parser.as_quantizer(parser.input_quantizer), "input_quantizer"
    else:
        raise HwflowError(f"model '{parser.model.name}' has no input quantizer before {where}; put the same "
                          "QActivation('quantized_relu(bits, integer)') on every input or pass input_quantizer= to "
                          "hwflow.convert")
    shapes = [shape_of(parser.model.inputs[i].shape) for i, _ in joins]
    if any(shape[:-1] != shapes[0][:-1] for shape in shapes):
        raise HwflowError(f"{where} joins inputs of shapes {shapes}; hwflow takes several inputs as one joined array: "
                          "give them the same size but for the channels")
    parser.set_input(quantizer, shapes[0][:-1] + (sum(n for _, n in joins),), what)
    parser.encoder.joins = joins
    if any(paths):
        join_input_branches(parser, layer, paths, where)


def join_input_branches(parser, layer, paths: list[list], where: str) -> None:
    """Inputs with layers of their own before the Concatenate: each input's first layer reads its channels of the
    joined input (its weights there, zeros on the other inputs' channels: exact, the same sums), and its branch's
    output joins the others' (join_branches)."""
    if not all(paths):
        bare = next(parser.model.inputs[i].name for (i, _), path in zip(parser.encoder.joins, paths) if not path)
        raise HwflowError(f"{where} joins input '{bare}' as it is with inputs that have layers of their own; give "
                          "every input a layer before the Concatenate, or join them all first")
    states, start = [], 0
    for path, (_, channels) in zip(paths, parser.encoder.joins):
        sub = copy.copy(parser)
        sub.layers, sub.deferred, sub.zero_padding = [], [], None
        for x in path:
            sub.visit(x)
        first = sub.layers[0] if sub.layers else sub.pending
        if not isinstance(first, SynapticLayer):
            raise HwflowError(f"{where}: the layers of an input start with '{path[0].name}' "
                              f"({type(path[0]).__name__}); hwflow reads each input's channels of the joined input "
                              "through a QDense/QConv layer first")
        weight = np.zeros(first.weight.shape[:-2] + (parser.encoder.shape[-1], first.weight.shape[-1]), np.int64)
        weight[..., start:start + channels, :] = first.weight
        first.weight, first.in_shape = weight, tuple(first.in_shape[:-1]) + (parser.encoder.shape[-1],)
        start += channels
        states.append(sub)
    join_branches(parser, layer, paths, states, where)
