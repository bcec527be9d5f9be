"""QKeras model -> SNN IR: parse the layer chain, then run the passes (align grids, bound widths)."""
from __future__ import annotations

import math
import warnings

import numpy as np

from hwflow.errors import HwflowError
from hwflow.fold import fold_batchnorm, quantized_weights
from hwflow.ir import Flatten, InputEncoder, Layer, MaxPool, Neuron, SynapticLayer
from hwflow.passes import DEFAULT_PASSES
from hwflow.quant import Grid, input_grid, relu_grid, to_integers
from hwflow.snn import SNN

SUPPORTED_LAYERS = ("QDense", "QDenseBatchnorm", "QConv2D", "QConv2DBatchnorm", "BatchNormalization (folded)",
                    "QActivation(quantized_relu)", "MaxPooling2D", "AveragePooling2D (power-of-two pool, "
                    "followed by a QActivation)", "Flatten", "Dropout", "Activation('linear')", "InputLayer")
LINEAR_OPS = ("QDense", "QDenseBatchnorm", "QConv2D", "QConv2DBatchnorm")


def unsupported(layer, why: str = "") -> HwflowError:
    return HwflowError(f"layer '{layer.name}' of type {type(layer).__name__} is not supported{why}; "
                       f"hwflow converts: {', '.join(SUPPORTED_LAYERS)}")


def layer_chain(model) -> list:
    """The model's layers as a single chain (Sequential, or functional without branches)."""
    layers = [layer for layer in model.layers if type(layer).__name__ != "InputLayer"]
    for prev, layer in zip(layers, layers[1:]):
        inputs = layer.input if isinstance(layer.input, list) else [layer.input]
        if len(inputs) != 1 or inputs[0] is not prev.output:
            raise HwflowError(f"layer '{layer.name}' does not take exactly the output of '{prev.name}'; "
                              "hwflow converts single-chain models (no branches or skip connections)")
    return layers


def shape_of(shape) -> tuple[int, ...]:
    return tuple(int(d) for d in shape[1:])


def is_linear_activation(act) -> bool:
    return act is None or getattr(act, "__name__", "") == "linear"


def synaptic_layer(layer, in_shape, in_steps: int, in_frac: int, analog: bool) -> SynapticLayer:
    """A SynapticLayer (no neuron yet) from a QDense / QConv2D(-Batchnorm) layer."""
    kind = type(layer).__name__
    where = f"layer '{layer.name}' ({kind})"
    kernel, bias = quantized_weights(layer)
    weight, weight_frac = to_integers(kernel, where + " kernel")
    if bias is None:
        bias_int, bias_frac = np.zeros(kernel.shape[-1], np.int64), 0
    else:
        bias_int, bias_frac = to_integers(bias, where + " bias")
    out_shape = shape_of(layer.output_shape)
    common = dict(name=layer.name, weight=weight, weight_frac=weight_frac, bias=bias_int, bias_frac=bias_frac,
                  in_shape=in_shape, out_shape=out_shape, in_steps=in_steps, in_frac=in_frac,
                  analog_input=analog, neuron=None)
    if kind in ("QDense", "QDenseBatchnorm"):
        if len(in_shape) != 1:
            raise HwflowError(f"{where} gets a {len(in_shape)}-D input {in_shape}; put a Flatten before it")
        return SynapticLayer(op="dense", **common)
    if layer.data_format != "channels_last" or tuple(layer.dilation_rate) != (1, 1) or getattr(layer, "groups", 1) != 1:
        raise unsupported(layer, " with data_format/dilation/groups other than channels_last/1/1")
    return SynapticLayer(op="conv2d", strides=tuple(layer.strides), padding=layer.padding, **common)


def avg_pool_layer(layer, in_shape, in_steps: int, in_frac: int) -> SynapticLayer:
    """AveragePooling2D as a sum-pool synapse (identity kernel) scaled by 2**-log2(area)."""
    ph, pw = layer.pool_size
    area = ph * pw
    h, w, c = in_shape
    exact_same = layer.padding == "same" and h % ph == 0 and w % pw == 0
    if area & (area - 1) or tuple(layer.strides) != (ph, pw) or not (layer.padding == "valid" or exact_same):
        raise unsupported(layer, " unless its pool area is a power of two, strides equal the pool size and "
                                 "no window is padded (AveragePooling2D is exact only then)")
    weight = np.zeros((ph, pw, c, c), np.int64)
    weight[:, :, np.arange(c), np.arange(c)] = 1
    return SynapticLayer(name=layer.name, op="conv2d", weight=weight, weight_frac=int(math.log2(area)),
                         bias=np.zeros(c, np.int64), bias_frac=0, in_shape=in_shape,
                         out_shape=shape_of(layer.output_shape), in_steps=in_steps, in_frac=in_frac,
                         analog_input=False, neuron=None, strides=(ph, pw), padding="valid")


class Parser:
    """Walks the layer chain and builds the IR layer list, one Keras layer at a time."""

    def __init__(self, model, encoding: str, time_steps: int | None, input_quantizer):
        self.model = model
        self.encoding = encoding
        self.time_steps = time_steps
        self.encoder: InputEncoder | None = None
        self.layers: list[Layer] = []
        self.pending: SynapticLayer | None = None  # linear layer waiting for its activation
        self.deferred: list[Layer] = []  # max pool / flatten met between a linear layer and its activation
        self.grid: Grid | None = None  # grid of the current (spiking or input) activation
        self.steps = 0
        if input_quantizer is not None:
            self.set_input(self.as_quantizer(input_quantizer), shape_of(model.input_shape), "input_quantizer")

    @staticmethod
    def as_quantizer(q):
        if isinstance(q, str):
            from qkeras.quantizers import get_quantizer
            return get_quantizer(q)
        return q

    def set_input(self, q, shape, where: str) -> None:
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
        rg = relu_grid(q, where)
        if self.time_steps is not None and rg.bits != self.time_steps:
            raise HwflowError(f"{where}: {q!s} has {rg.bits} bits but time_steps={self.time_steps} was asked; "
                              "T must equal the activation quantizer's bits")
        self.pending.neuron = Neuron(rg.bits, rg.integer, threshold_log2=0)
        self.layers.append(self.pending)
        self.pending = None
        self.grid, self.steps = rg.grid, rg.bits
        self.layers.extend(self.deferred)
        self.deferred = []

    def emit(self, layer: Layer) -> None:
        (self.deferred if self.pending is not None else self.layers).append(layer)

    def start_linear(self, layer: SynapticLayer, keras_layer) -> None:
        if self.pending is not None:
            raise HwflowError(f"layers '{self.pending.name}' and '{keras_layer.name}' are linear with no "
                              "quantized_relu between them; insert QActivation('quantized_relu(bits, integer)')")
        self.pending = layer
        act = getattr(keras_layer, "activation", None)
        if not is_linear_activation(act):
            self.add_neuron(act, f"layer '{keras_layer.name}'")

    def visit(self, layer) -> None:
        kind = type(layer).__name__
        in_shape = shape_of(layer.input_shape)
        if kind == "QActivation":
            if self.encoder is None:
                self.set_input(layer.quantizer, in_shape, f"input quantizer '{layer.name}'")
            elif self.pending is None:
                raise HwflowError(f"QActivation '{layer.name}' follows no linear layer (re-quantizing spikes "
                                  "is not supported); remove it or put a QDense/QConv2D before it")
            else:
                self.add_neuron(layer.quantizer, f"QActivation '{layer.name}'")
            return
        if self.encoder is None:
            raise HwflowError(f"model '{self.model.name}' has no input quantizer before '{layer.name}'; add "
                              "QActivation('quantized_relu(bits, integer)') as its first layer or pass "
                              "input_quantizer='quantized_bits(8,0,alpha=1)' to hwflow.convert")
        if kind in LINEAR_OPS:
            self.start_linear(synaptic_layer(layer, in_shape, self.steps, self.grid.frac, self.analog()), layer)
        elif kind == "AveragePooling2D":
            if self.pending is not None or self.analog():
                raise unsupported(layer, " directly after a linear layer or on the analog input "
                                         "(put it after a QActivation)")
            self.start_linear(avg_pool_layer(layer, in_shape, self.steps, self.grid.frac), layer)
        elif kind == "MaxPooling2D":
            if self.analog():
                raise unsupported(layer, " on the analog input (use encoding='bitplane' or pool after a layer)")
            self.emit(MaxPool(layer.name, tuple(layer.pool_size), tuple(layer.strides), layer.padding,
                              in_shape, shape_of(layer.output_shape)))
        elif kind == "Flatten":
            self.emit(Flatten(layer.name, in_shape, shape_of(layer.output_shape)))
        elif kind == "Dropout" or (kind == "Activation" and is_linear_activation(layer.activation)):
            return
        elif kind == "BatchNormalization":
            raise HwflowError(f"BatchNormalization '{layer.name}' must directly follow a QDense/QConv2D with a "
                              "bias quantizer, so that hwflow.fold_batchnorm can fold it")
        else:
            raise unsupported(layer)

    def finish(self) -> list[Layer]:
        if self.pending is not None:  # last linear layer without activation: membrane readout
            self.layers.append(self.pending)
            self.layers.extend(self.deferred)
            if any(isinstance(x, MaxPool) for x in self.deferred):
                raise HwflowError(f"max pooling after the readout layer '{self.pending.name}' is not supported; "
                                  "pool before the last linear layer")
        if not any(isinstance(x, SynapticLayer) for x in self.layers):
            raise HwflowError(f"model '{self.model.name}' has no QDense/QConv2D layer to convert")
        return self.layers


def convert(model, time_steps: int | None = None, encoding: str = "direct", input_quantizer=None,
            passes=DEFAULT_PASSES) -> SNN:
    """Convert a QKeras model into an SNN that computes model.predict exactly.

    time_steps, if given, must equal the bits of every quantized_relu (T is read from them).
    encoding: 'direct' (first layer sees analog input levels) or 'bitplane' (input sent as spikes).
    A float BatchNormalization is folded first (see hwflow.fold_batchnorm): the SNN then equals the
    folded model, and a warning says so.
    """
    if encoding not in ("direct", "bitplane"):
        raise HwflowError(f"encoding={encoding!r} is not supported; use 'direct' or 'bitplane'")
    notes = []
    if any(type(layer).__name__ == "BatchNormalization" for layer in model.layers):
        model = fold_batchnorm(model)
        notes.append(f"float BatchNormalization folded and re-quantized: the SNN equals "
                     f"hwflow.fold_batchnorm({model.name}), not the float-BN model")
        warnings.warn(notes[-1], stacklevel=2)
    parser = Parser(model, encoding, time_steps, input_quantizer)
    for layer in layer_chain(model):
        parser.visit(layer)
    snn = SNN(model.name, parser.encoder, parser.finish(), shape_of(model.output_shape), warnings=notes)
    for p in passes:
        snn = p(snn)
    return snn
