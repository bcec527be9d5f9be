"""QKeras model -> SNN IR: walk the layer chain, one registered parse handler per layer kind (hwflow.ops)."""
from __future__ import annotations

import warnings

from hwflow.errors import HwflowError
from hwflow.geometry import axis_paddings, out_size
from hwflow.ir import InputEncoder, Node
from hwflow.ops import HANDLERS, OPENS_INPUT, concatenate, po2, residual, ternary
from hwflow.ops.keras_layers import is_linear_activation, shape_of, unsupported
from hwflow.ops.neuron import Neuron
from hwflow.ops.output_function import function_name, set_output_function
from hwflow.ops.synaptic import SynapticLayer
from hwflow.quant import Grid, activation_code, input_grid
from hwflow.snn import SNN


def layer_chain(model) -> list:
    """The model's layers as a single chain: Sequential, or functional with the forms hwflow fuses -- a residual
    Add()([f(a), a]) or Add()([f(a), p(a)]) (hwflow.ops.residual: the chain holds the Add, a projection p is left
    off), a Concatenate of branches from one tensor (hwflow.ops.concatenate: the chain holds the Concatenate, the
    branches are left off and parsed by it), several inputs joined first by one Concatenate, several outputs made
    from the same activation by readout heads of the same depth (hwflow.ops.concatenate.fuse_heads)."""
    n_in, n_out = len(model.inputs), len(model.outputs)
    if (n_out != 1 and concatenate.output_heads(model) is None) or (n_in != 1 and concatenate.input_join(model) is None):
        raise HwflowError(f"model '{model.name}' has {n_in} input{'s' * (n_in != 1)} and {n_out} output"
                          f"{'s' * (n_out != 1)}; hwflow converts a chain (with residual Adds and Concatenates of "
                          "branches from one tensor) from one input, or several joined first by one Concatenate, "
                          "to one output, or several made by readout heads of one depth from the same tensor")
    inside = concatenate.branch_layers(model) | residual.off_chain(model)
    layers = [layer for layer in model.layers if type(layer).__name__ != "InputLayer" and id(layer) not in inside]
    for prev, layer in zip(layers, layers[1:]):
        inputs = layer.input if isinstance(layer.input, list) else [layer.input]
        if type(layer).__name__ == "Concatenate":
            inputs = [concatenate.branches(layer)[0]]
        elif residual.skip_of(layer) is not None:
            inputs = [residual.skip_of(layer)[0]]
        if len(inputs) > 1:
            names = ", ".join(f"'{t.node.layer.name}'" for t in inputs)
            raise HwflowError(f"layer '{layer.name}' ({type(layer).__name__}) joins {names}; hwflow fuses residual "
                              "Adds over a chain of layers from an earlier tensor (or its projection) and joins "
                              "Concatenates of branches from one tensor; other joins are not supported")
        if inputs[0] is not prev.output:
            raise HwflowError(f"layer '{layer.name}' does not take exactly the output of '{prev.name}'; "
                              "hwflow converts chains with residual Adds and Concatenates of branches "
                              "(hwflow.ops.residual, hwflow.ops.concatenate); other branches are not supported")
    return layers


class Parser:
    """The state the parse handlers share while the layer chain is walked, and the moves they make."""

    def __init__(self, model, encoding: str, time_steps: int | None, input_quantizer):
        self.model = model
        self.encoding = encoding
        self.time_steps = time_steps
        self.encoder: InputEncoder | None = None
        self.layers: list[Node] = []
        self.pending: SynapticLayer | None = None  # linear layer waiting for its activation
        self.deferred: list[Node] = []  # max pool / flatten met between a linear layer and its activation
        self.grid: Grid | None = None  # grid of the current (spiking or input) activation
        self.steps = 0
        self.output_function: str | None = None  # a final softmax / sigmoid (hwflow.ops.output_function)
        self.divisor = 1  # the pending layer's pre-activation divisor (an average pool's odd area factor)
        self.neuron_check = None  # called with the pending layer's activation quantizer (an average pool's)
        self.zero_padding = None  # (ZeroPadding2D layer, its ((top, bottom), (left, right))) before a convolution
        self.offset = 0  # the current activation's offset binary (Neuron.offset; 0 unless signed)
        self.pm1 = False  # the current activation is binary(): its plane b means 2 b - 1
        self.pair = 0  # the current activation is ternary(): this many units, each a (p, n) plane pair (ops.ternary)
        self.input_quantizer = input_quantizer  # several inputs: the Concatenate that joins them sets the input
        if input_quantizer is not None and len(model.inputs) == 1:
            self.set_input(self.as_quantizer(input_quantizer), shape_of(model.input_shape), "input_quantizer")

    @staticmethod
    def as_quantizer(q):
        if isinstance(q, str):
            from qkeras.quantizers import get_quantizer
            return get_quantizer(q)
        return q

    def set_input(self, q, shape, where: str) -> None:
        """The input encoder from the model's input quantizer."""
        grid = input_grid(q, where)
        if self.encoding == "bitplane":
            if grid.signed or grid.hi & (grid.hi + 1):
                raise HwflowError(f"{where}: bit-plane input needs an unsigned quantizer with 2**bits levels; "
                                  "use quantized_relu(bits, integer) or encoding='direct'")
        self.encoder = InputEncoder(shape, grid, self.encoding)
        self.grid, self.steps = grid, self.encoder.steps

    def analog(self) -> bool:
        """True while the data is still the analog input (no synaptic layer seen yet)."""
        return (self.encoding == "direct" and self.pending is None
                and not any(isinstance(x, SynapticLayer) for x in self.layers))

    def add_neuron(self, q, where: str) -> None:
        """Give the pending linear layer its neuron (from a quantized_relu or quantized_bits) and emit it."""
        code = activation_code(q, where)
        if self.time_steps is not None and code.bits != self.time_steps:
            raise HwflowError(f"{where}: {q!s} has {code.bits} bits but time_steps={self.time_steps} was asked; "
                              "T must equal the activation quantizer's bits")
        if code.po2 is not None and (self.divisor != 1 or self.neuron_check is not None):
            raise HwflowError(f"{where}: {q!s} after an average pool is not supported; use quantized_relu there")
        if self.neuron_check is not None:
            self.neuron_check(q)
        pair = 0
        if code.pair_threshold is not None:
            if self.deferred:
                raise HwflowError(f"{self.deferred[0].kind} '{self.deferred[0].name}' comes between "
                                  f"'{self.pending.name}' and its ternary() activation ({where}); put it after the "
                                  "activation of a quantized_relu layer, or drop it")
            pair = self.pending.out_shape[-1]
            ternary.pair_outputs(self.pending, code.pair_threshold)
        bounds, bound_frac = None, 0
        if code.po2 is not None:
            layer = self.pending
            bound_frac = max(layer.in_frac + layer.weight_frac, layer.bias_frac)
            bounds = po2.exponent_bounds(q, -code.frac, code.bits - code.frac - 1, bound_frac, where)
        self.pending.neuron = Neuron(code.bits, code.bits - code.frac, divisor=self.divisor, offset=code.offset,
                                     sign=code.sign, po2_bounds=bounds, po2_frac=bound_frac)
        self.layers.append(self.pending)
        self.pending, self.divisor, self.neuron_check = None, 1, None
        self.grid, self.steps, self.offset, self.pm1, self.pair = code.grid, code.bits, code.offset, code.pm1, pair
        self.layers.extend(self.deferred)
        self.deferred = []

    def emit(self, node: Node) -> None:
        """Add a node; while a linear layer waits for its activation, after that layer's neuron."""
        (self.deferred if self.pending is not None else self.layers).append(node)

    def start_linear(self, node: SynapticLayer, keras_layer, divisor: int = 1, neuron_check=None) -> None:
        """A linear layer that waits for its activation (its own activation=, or the next QActivation).

        divisor: its neuron fires on the pre-activation divided by it (Neuron.divisor);
        neuron_check: called with the activation's quantizer before the neuron is made."""
        if self.pending is not None:
            raise HwflowError(f"layers '{self.pending.name}' and '{keras_layer.name}' are linear with no "
                              "quantized_relu between them; insert QActivation('quantized_relu(bits, integer)')")
        if (self.offset or self.pm1) and getattr(node, "pads", lambda: False)():
            raise HwflowError(f"layer '{keras_layer.name}' pads its input, whose signed levels travel in offset binary "
                              "(a padded zero would read as the lowest level); use padding='valid' after a signed "
                              "activation")
        node.in_offset = self.offset
        if self.pm1:
            node.take_pm1_input()
        if self.pair:
            ternary.take_pair_input(node, self.pair)
        self.pending, self.divisor, self.neuron_check = node, divisor, neuron_check
        act = getattr(keras_layer, "activation", None)
        if function_name(act) is not None:
            set_output_function(self, keras_layer, function_name(act))
        elif not is_linear_activation(act):
            self.add_neuron(act, f"layer '{keras_layer.name}'")

    def padded_input(self, layer, kernel: tuple[int, int], strides: tuple[int, int], padding,
                     hw: tuple[int, int] | None = None):
        """The input shape and padding of a window layer, with a ZeroPadding2D just before it folded in:
        (the unpadded shape, explicit ((top, bottom), (left, right)) pads); else its own.
        padding: the layer's ('valid', 'same' or explicit); hw: its (padded) input's height and width, if
        not the first two dimensions of its input shape (a sequence: (1, L))."""
        if self.zero_padding is None:
            return shape_of(layer.input_shape), padding
        zero_layer, pads = self.zero_padding
        self.zero_padding = None
        merged = []
        for size, k, st, (before, after), own in zip(hw or shape_of(layer.input_shape)[:2], kernel, strides, pads,
                                                     axis_paddings(padding)):
            if own == "same":
                total = max((out_size(size, k, st, own) - 1) * st + k - size, 0)
                own = (total // 2, total - total // 2)
            own = (0, 0) if own == "valid" else own
            merged.append((before + own[0], after + own[1]))
        return shape_of(zero_layer.input_shape), tuple(merged)

    def visit(self, layer) -> None:
        """Dispatch one Keras layer to its registered handler."""
        kind = type(layer).__name__
        handler = HANDLERS.get(kind)
        if handler is None:
            raise unsupported(layer)
        if self.output_function is not None:
            raise HwflowError(f"layer '{layer.name}' follows the model's final {self.output_function}; hwflow converts "
                              f"a {self.output_function} only as the last layer")
        if self.encoder is None and kind not in OPENS_INPUT:
            raise HwflowError(f"model '{self.model.name}' has no input quantizer before '{layer.name}'; add "
                              "QActivation('quantized_relu(bits, integer)') as its first layer or pass "
                              "input_quantizer='quantized_bits(8,0,alpha=1)' to hwflow.convert")
        padding = self.zero_padding
        handler(self, layer)
        if padding is not None and self.zero_padding is padding:
            raise HwflowError(f"{type(padding[0]).__name__} '{padding[0].name}' is followed by {kind} '{layer.name}'; "
                              "hwflow folds a zero padding only into the convolution or average pool right after it")

    def finish(self) -> list[Node]:
        """The node list; a last linear layer without activation becomes the membrane readout."""
        if self.zero_padding is not None:
            zero = self.zero_padding[0]
            raise HwflowError(f"{type(zero).__name__} '{zero.name}' ends the model; hwflow folds a zero padding only "
                              "into the convolution or average pool right after it")
        if self.pending is None and (self.offset or self.pm1 or self.pair):
            last = next(x for x in reversed(self.layers) if isinstance(x, SynapticLayer))
            raise HwflowError(f"the model ends in the signed activation of '{last.name}'; hwflow outputs unsigned "
                              "levels or the readout's values: end it with a quantized_relu or a linear QDense")
        if self.pending is not None and self.divisor != 1:
            raise HwflowError(f"layer '{self.pending.name}' divides by {self.divisor} and ends the model; put a "
                              "QActivation after it (its neuron does the division)")
        if self.pending is not None:
            self.layers.append(self.pending)
            self.layers.extend(self.deferred)
            for x in self.deferred:
                if not x.reshapes_only:
                    raise HwflowError(f"{x.kind} '{x.name}' after the readout layer '{self.pending.name}' is not "
                                      "supported; put it before the last linear layer")
        if not any(isinstance(x, SynapticLayer) for x in self.layers):
            raise HwflowError(f"model '{self.model.name}' has no QDense/QConv2D layer to convert")
        return self.layers


def convert(model, time_steps: int | None = None, encoding: str = "direct", input_quantizer=None) -> SNN:
    """Convert a QKeras model into an SNN that computes model.predict exactly.

    time_steps, if given, must equal the bits of every quantized_relu (T is read from them).
    encoding: 'direct' (first layer sees analog input levels) or 'bitplane' (input sent as spikes).
    input_quantizer: for a model without an input QActivation, the grid its inputs lie on (a QKeras
    quantizer or its string, e.g. 'quantized_bits(8,0,alpha=1)').
    A final softmax or sigmoid is applied to the exact logits by the same TensorFlow operation
    (snn.output_function); the firmware outputs the logits (snn.logits).
    A BatchNormalization or QBatchNormalization is folded first (see hwflow.fold_batchnorm): the SNN then
    equals the folded model, and a warning says so. The IR passes (hwflow.passes) run as the SNN is built.
    """
    if encoding not in ("direct", "bitplane"):
        raise HwflowError(f"encoding={encoding!r} is not supported; use 'direct' or 'bitplane'")
    notes = []
    kinds = sorted({type(layer).__name__ for layer in model.layers} & {"BatchNormalization", "QBatchNormalization"})
    if kinds:
        from hwflow.fold import fold_batchnorm
        model = fold_batchnorm(model)
        notes.append(f"{' and '.join(kinds)} folded and re-quantized: the SNN equals "
                     f"hwflow.fold_batchnorm({model.name}), not the batch-norm model")
        warnings.warn(notes[-1], stacklevel=2)
    chain = layer_chain(model)
    parser = Parser(model, encoding, time_steps, input_quantizer)
    for layer in chain:
        parser.visit(layer)
    heads = concatenate.output_heads(model)
    if heads is None:
        return SNN(model.name, parser.encoder, parser.finish(), shape_of(model.output_shape), warnings=notes,
                   output_function=parser.output_function)
    splits = concatenate.fuse_heads(parser, heads[1])
    layers = parser.finish()
    return SNN(model.name, parser.encoder, layers, tuple(layers[-1].out_shape), warnings=notes, output_splits=splits)
