"""Test helpers: random QKeras models within hwflow's supported layers (weights on their grids), the fixed
architectures several tests share, and the rounding cases a set of inputs exercises."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import tensorflow as tf
from hypothesis import strategies as st
from qkeras import (QActivation, QAveragePooling2D, QBatchNormalization, QConv1D, QConv2D, QDense, QDepthwiseConv2D,
                    QGlobalAveragePooling2D, QSeparableConv2D, binary, quantized_bits, quantized_relu,
                    quantized_relu_po2, ternary)
from tensorflow.keras.layers import (Activation, Add, AveragePooling2D, BatchNormalization, Concatenate, Flatten,
                                     GlobalAveragePooling2D, MaxPooling2D, Reshape, UpSampling2D, ZeroPadding1D,
                                     ZeroPadding2D)

import hwflow
from hwflow.geometry import patches
from hwflow.ir import from_planes
from hwflow.ops.maxpool import MaxPool
from hwflow.ops.synaptic import SynapticLayer


@dataclass
class Arch:
    """A random architecture: image input, conv blocks, dense blocks, readout."""

    seed: int
    hw: int
    channels: int
    input_bits: int
    input_integer: int
    convs: list  # (filters, kernel, stride, padding, T, integer, pool[, kind[, residual]]); padding 'valid', 'same'
    #              or 'zero' (a ZeroPadding2D ((1, 0), (0, 1)) before a 'valid' convolution); pool in (None, 'max',
    #              'avg' (2x2), 'avg3' (3x3 at stride 2: area 9, an odd threshold), 'gap' (global, keepdims),
    #              'qavg' (QAveragePooling2D 2x2), 'qgap' (QGlobalAveragePooling2D, keepdims): QKeras's forms,
    #              the sum times a quantized 1/area), 'up' (UpSampling2D (2, up_columns)),
    #              kind in ('conv', 'depthwise' (depth multiplier 1 + filters % 2), 'separable', 'concat'), default
    #              'conv'; 'concat' (images): Concatenate()([act(conv(h)), h, act(conv'(h))]), conv' another
    #              QConv2D of the same window with 1 + filters % 2 filters and 5-bit weights, h itself only for
    #              'same' at stride 1 (then act is h's own quantizer; hwflow.ops.concatenate fuses the three);
    #              'branches' (images): Concatenate()([act(conv_2(act(conv_1(h)))), h, act(conv'(h))]), conv_2 'same'
    #              at stride 1, conv' another window-alike QConv2D with 5-bit weights, h itself only for 'same' at
    #              stride 1 after a first conv (h then spikes; act is h's quantizer): a join (hwflow.ops.join);
    #              'down' (images, 'same', after a first conv, else a 'conv'): the ResNet downsampling block
    #              Add()([conv_2(act(conv_1(h))), conv1x1(h)]), conv_1 and the 1x1 projection at the stride, act h's
    #              quantizer (a stride: h joined beside the block, subsampled; stride 1: pass-through channels);
    #              'block' (images, 'same' at stride 1, else a 'conv'): the ResNet basic block
    #              Add()([conv_2(act(conv_1(h))), h]), act h's own quantizer, conv_2 keeping h's channels;
    #              residual: Add()([conv(a), a]) where the shapes allow it ('same', stride 1; the conv keeps a's
    #              channels, a depthwise one multiplier 1)
    denses: list  # (units, T, integer[, signed[, residual]]): signed True (T >= 2): a quantized_bits(T, integer)
    #              activation, 'binary': binary(), 'ternary': ternary() (integer odd: its 0.33 threshold, else
    #              2**-(integer // 2 + 1), a dyadic one the pre-activations hit), 'po2': quantized_relu_po2 (`po2_of`);
    #              residual: Add()([dense(a), a]) (units = a's size; not after binary or ternary)
    weight_bits: int
    weight_integer: int
    bias_bits: int
    bias_integer: int
    out_units: int
    readout: bool  # False: the network ends in a QActivation
    output: str | None = None  # readout only: a final Activation('softmax' | 'sigmoid')
    sequence: bool = False  # input (hw + 3, channels) and QConv1D convolutions: kind 'separable' draws 'causal'
    #                         padding for a 'same' one, pools are left out
    batchnorm: str | None = None  # 'q': a QBatchNormalization after every QConv2D (kind 'conv') and hidden QDense,
    #                               'float': a BatchNormalization there and those layers without bias_quantizer;
    #                               random moving statistics; never with a residual (hwflow folds chains only);
    #                               the SNN equals the folded model (`reference`)
    reshape: bool = False  # an image of even side: a Reshape to (hw / 2, 2 hw, channels) after the input quantizer
    #                        (a non-square image), and a Reshape to a vector in place of the Flatten

    @property
    def input_shape(self) -> tuple[int, ...]:
        return (self.hw + 3, self.channels) if self.sequence else (self.hw, self.hw, self.channels)

    @property
    def up_columns(self) -> int:
        """The column factor of an 'up' pool (its rows are doubled)."""
        return 1 + self.seed % 2

    @property
    def image_reshaped(self) -> bool:
        """The input image is relabelled to (hw / 2, 2 hw, channels)."""
        return self.reshape and not self.sequence and self.hw % 2 == 0

    def bn_after(self, kind: str) -> bool:
        """A batch norm follows a layer of this kind ('conv' / 'dense'; a 2D QConv2D or a hidden QDense)."""
        return bool(self.batchnorm) and (kind == "dense" or (kind == "conv" and not self.sequence))


def po2_of(t: int, integer: int):
    """A dense spec's quantized_relu_po2: 1 + (t - 1) % 3 bits (exponents -2**(bits-1) .. 2**(bits-1) - 1, T = 2**bits
    steps), with max_value 2**integer for an odd integer (its exponent then the top)."""
    return quantized_relu_po2(1 + (t - 1) % 3, max_value=2.0**integer if integer % 2 else None)


def ternary_of(integer: int):
    """A dense spec's ternary(): QKeras's default threshold 0.33 (integer odd), else the dyadic 2**-(integer // 2 + 1)."""
    return ternary() if integer % 2 else ternary(threshold=0.5 ** (integer // 2 + 1))


def build(arch: Arch) -> tf.keras.Model:
    """The QKeras model of `arch`, weights drawn uniformly over the quantizer's levels."""
    rng = np.random.default_rng(arch.seed)
    kq = quantized_bits(arch.weight_bits, arch.weight_integer, alpha=1)
    bq = quantized_bits(arch.bias_bits, arch.bias_integer, alpha=1)
    inp = tf.keras.Input(arch.input_shape)
    h = QActivation(quantized_relu(arch.input_bits, arch.input_integer))(inp)
    level = (arch.input_bits, arch.input_integer)  # h's quantized_relu
    if arch.image_reshaped:
        h = Reshape((arch.hw // 2, 2 * arch.hw, arch.channels))(h)
    for index, (filters, kernel, stride, padding, t, integer, pool, *extra) in enumerate(arch.convs):
        kind, residual = (extra + ["conv", False][len(extra):])[:2]
        residual = residual and padding == "same" and stride == 1 and (kind not in MULTI_LAYER or arch.sequence)
        assert not (residual and arch.batchnorm), "archs draws no residual with batch norm"
        if residual:
            filters = int(h.shape[-1]) if kind == "conv" or arch.sequence else 2 * (filters // 2)  # shape kept
        if padding == "zero":
            h = (ZeroPadding1D((1, 0)) if arch.sequence else ZeroPadding2D(((1, 0), (0, 1))))(h)
        padding = "valid" if padding == "zero" else padding
        kind = "conv" if kind == "block" and (arch.sequence or (padding, stride) != ("same", 1)) else kind
        kind = "conv" if kind == "down" and (arch.sequence or padding != "same" or index == 0) else kind
        if kind == "concat" and not arch.sequence:
            h, level = concat_block(h, level, filters, kernel, stride, padding, t, integer, kq, bq)
        elif kind == "branches" and not arch.sequence:
            h, level = branches_block(h, level, filters, kernel, stride, padding, t, integer, kq, bq, index > 0)
        elif kind == "down":
            inner = QActivation(quantized_relu(*level))(QConv2D(filters, kernel, strides=stride, padding="same",
                                                               kernel_quantizer=kq, bias_quantizer=bq)(h))
            h = Add()([QConv2D(filters, kernel, padding="same", kernel_quantizer=kq, bias_quantizer=bq)(inner),
                       QConv2D(filters, 1, strides=stride, kernel_quantizer=quantized_bits(5, 1, alpha=1),
                               bias_quantizer=bq)(h)])
        elif kind == "block":
            inner = QActivation(quantized_relu(*level))(QConv2D(filters, kernel, padding="same", kernel_quantizer=kq,
                                                               bias_quantizer=bq)(h))
            h = Add()([QConv2D(int(h.shape[-1]), kernel, padding="same", kernel_quantizer=kq,
                               bias_quantizer=bq)(inner), h])
        elif arch.sequence:
            conv = QConv1D(filters, kernel, strides=stride, kernel_quantizer=kq, bias_quantizer=bq,
                           padding="causal" if kind == "separable" and padding == "same" else padding)
        else:
            conv = conv_layer(kind, filters, kernel, stride, padding, kq, bn_bias(arch, kind, bq))
        if kind not in BLOCK_KINDS or arch.sequence:
            h = Add()([conv(h), h]) if residual else batchnorm(arch, kind, conv(h))
        if kind not in ("concat", "branches") or arch.sequence:
            h, level = QActivation(quantized_relu(t, integer))(h), (t, integer)
        if arch.sequence:
            continue
        if pool == "max":
            h = MaxPooling2D(2, padding="same")(h)
        elif pool == "up":
            h = UpSampling2D((2, arch.up_columns))(h)
        elif pool in AVERAGE_POOLS:
            h, level = QActivation(quantized_relu(t, integer))(AVERAGE_POOLS[pool]()(h)), (t, integer)
    h = Reshape((int(np.prod(h.shape[1:])),))(h) if arch.reshape else Flatten()(h)
    after_binary = False  # binary or ternary
    for units, t, integer, *extra in arch.denses:
        sign, residual = (list(extra) + [False, False])[:2]
        residual = residual and not after_binary
        dense = QDense(int(h.shape[-1]) if residual else units, kernel_quantizer=kq,
                       bias_quantizer=bn_bias(arch, "dense", bq))
        act = (binary() if sign == "binary" else ternary_of(integer) if sign == "ternary"
               else po2_of(t, integer) if sign == "po2"
               else quantized_bits(t, integer, alpha=1) if sign and t >= 2 else quantized_relu(t, integer))
        h = QActivation(act)(Add()([dense(h), h]) if residual else batchnorm(arch, "dense", dense(h)))
        after_binary = sign in ("binary", "ternary")
    h = QDense(arch.out_units, kernel_quantizer=kq, bias_quantizer=bq)(h)
    if not arch.readout:
        h = QActivation(quantized_relu(arch.denses[-1][1] if arch.denses else 3, 1))(h)
    elif arch.output:
        h = Activation(arch.output)(h)
    model = tf.keras.Model(inp, h)
    w_frac = arch.weight_bits - 1 - arch.weight_integer
    b_frac = arch.bias_bits - 1 - arch.bias_integer
    half_w, half_b = 2 ** (arch.weight_bits - 1), 2 ** (arch.bias_bits - 1)
    for layer in model.layers:
        if isinstance(layer, (QDense, QConv1D, QConv2D, QDepthwiseConv2D)):  # kernel(s), then the bias
            *kernels, b = layer.get_weights()
            kernels = [rng.integers(-half_w, half_w, k.shape) * 2.0**-w_frac for k in kernels]
            b = rng.integers(-half_b, half_b, b.shape) * 2.0**-b_frac
            layer.set_weights([k.astype(np.float32) for k in kernels] + [b.astype(np.float32)])
        elif isinstance(layer, QSeparableConv2D):  # a 3-bit pointwise kernel keeps the products small
            d, p, b = layer.get_weights()
            layer.set_weights([(rng.integers(-half_w, half_w, d.shape) * 2.0**-w_frac).astype(np.float32),
                               (rng.integers(-4, 4, p.shape) / 2).astype(np.float32),
                               (rng.integers(-half_b, half_b, b.shape) * 2.0**-b_frac).astype(np.float32)])
        elif isinstance(layer, BatchNormalization):  # QBatchNormalization too: statistics far from identity
            n = layer.moving_mean.shape[0]
            layer.set_weights([rng.uniform(0.5, 3.0, n), rng.uniform(-1.0, 1.0, n), rng.uniform(-1.0, 1.0, n),
                               rng.uniform(0.1, 4.0, n)])
    return model


def concat_block(h, level: tuple[int, int], filters: int, kernel: int, stride: int, padding: str, t: int,
                 integer: int, kq, bq):
    """Arch's 'concat' kind: two convolutions of one window over h, and h itself for 'same' at stride 1 (all
    through h's own quantized_relu then, else quantized_relu(t, integer)); the block's output and its level."""
    identity = padding == "same" and stride == 1
    level = level if identity else (t, integer)
    act = lambda: QActivation(quantized_relu(*level))  # noqa: E731
    pair = [act()(QConv2D(n, kernel, strides=stride, padding=padding, kernel_quantizer=q, bias_quantizer=bq)(h))
            for n, q in ((filters, kq), (1 + filters % 2, quantized_bits(5, 1, alpha=1)))]
    return Concatenate()([pair[0]] + [h] * identity + [pair[1]]), level


def branches_block(h, level: tuple[int, int], filters: int, kernel: int, stride: int, padding: str, t: int,
                   integer: int, kq, bq, after_a_layer: bool):
    """Arch's 'branches' kind: a two-layer branch, a one-layer one and h itself (for 'same' at stride 1 after a
    first conv), all through h's own quantized_relu then, else quantized_relu(t, integer); the output and its level."""
    identity = after_a_layer and padding == "same" and stride == 1
    level = level if identity else (t, integer)
    act = lambda: QActivation(quantized_relu(*level))  # noqa: E731
    inner = act()(QConv2D(1 + filters % 2, kernel, strides=stride, padding=padding, kernel_quantizer=kq,
                          bias_quantizer=bq)(h))
    deep = act()(QConv2D(filters, kernel, padding="same", kernel_quantizer=kq, bias_quantizer=bq)(inner))
    one = act()(QConv2D(1 + filters % 3, kernel, strides=stride, padding=padding,
                        kernel_quantizer=quantized_bits(5, 1, alpha=1), bias_quantizer=bq)(h))
    return Concatenate()([deep] + [h] * identity + [one]), level


BLOCK_KINDS = ("concat", "block", "branches", "down")  # kinds built as a block of several layers
MULTI_LAYER = ("separable",) + BLOCK_KINDS  # kinds that make more than one layer (no residual Add)


def bn_bias(arch: Arch, kind: str, bq):
    """The bias quantizer of a layer of `kind`: none before a float batch norm (hwflow rounds the folded bias)."""
    return None if arch.batchnorm == "float" and arch.bn_after(kind) else bq


def batchnorm(arch: Arch, kind: str, h):
    """h through the architecture's batch norm if one follows a layer of `kind`."""
    if not arch.bn_after(kind):
        return h
    return (QBatchNormalization() if arch.batchnorm == "q" else BatchNormalization())(h)


def reference(model: tf.keras.Model) -> tf.keras.Model:
    """What the SNN equals: the model with its batch norms folded (hwflow.fold_batchnorm), else the model."""
    from hwflow.fold import BATCHNORMS
    return (hwflow.fold_batchnorm(model) if any(type(layer).__name__ in BATCHNORMS for layer in model.layers)
            else model)


AVERAGE_POOLS = {"avg": lambda: AveragePooling2D(2), "avg3": lambda: AveragePooling2D(3, strides=2),
                 "gap": lambda: GlobalAveragePooling2D(keepdims=True),
                 "qavg": lambda: QAveragePooling2D(2, average_quantizer=quantized_bits(4, 0, alpha=1)),
                 "qgap": lambda: QGlobalAveragePooling2D(keepdims=True, average_quantizer=quantized_bits(8, 0, alpha=1))}


def conv_layer(kind: str, filters: int, kernel: int, stride: int, padding: str, kq, bq) -> tf.keras.layers.Layer:
    """A QConv2D, a QDepthwiseConv2D (depth multiplier 1 + filters % 2) or a QSeparableConv2D."""
    if kind == "depthwise":
        return QDepthwiseConv2D(kernel, strides=stride, padding=padding, depth_multiplier=1 + filters % 2,
                                depthwise_quantizer=kq, bias_quantizer=bq)
    if kind == "separable":
        return QSeparableConv2D(filters, kernel, strides=stride, padding=padding, depthwise_quantizer=kq,
                                pointwise_quantizer=quantized_bits(3, 1, alpha=1), bias_quantizer=bq)
    return QConv2D(filters, kernel, strides=stride, padding=padding, kernel_quantizer=kq, bias_quantizer=bq)


def inputs(arch: Arch, n: int, seed: int) -> np.ndarray:
    """Inputs on the input grid, rich in zeros and in the top level (saturation)."""
    rng = np.random.default_rng(seed)
    top = 2**arch.input_bits - 1
    levels = rng.integers(0, top + 1, (n,) + arch.input_shape)
    levels[rng.random(levels.shape) < 0.2] = 0
    levels[rng.random(levels.shape) < 0.1] = top
    return (levels * 2.0 ** (arch.input_integer - arch.input_bits)).astype(np.float32)


def grid_model(shape: tuple[int, ...], layers: list, seed: int = 0) -> tf.keras.Model:
    """Input quantized_relu(4, 1), then `layers`; every kernel and bias drawn from the 1/8 grid -1 .. 7/8
    (a fixed seed). The fixed models of the layer tests (pools, Conv1D, signed activations) use it."""
    return on_grid(tf.keras.Sequential([tf.keras.Input(shape), QActivation(quantized_relu(4, 1)), *layers]), seed)


def on_grid(model: tf.keras.Model, seed: int = 0) -> tf.keras.Model:
    """The model with every kernel and bias drawn from the 1/8 grid -1 .. 7/8 (a fixed seed)."""
    rng = np.random.default_rng(seed)
    for w in model.weights:
        w.assign(rng.integers(-8, 8, w.shape) / 8)
    return model


def grid_inputs(shape: tuple[int, ...], n: int, seed: int, saturated: float = 0.0) -> np.ndarray:
    """n inputs on grid_model's 4-bit input grid: 20 % zeros, and `saturated` of them at the top level."""
    rng = np.random.default_rng(seed)
    k = rng.integers(0, 16, (n,) + tuple(shape))
    k[rng.random(k.shape) < 0.2] = 0
    if saturated:
        k[rng.random(k.shape) < saturated] = 15
    return (k / 8).astype(np.float32)


# ------------------------------------------------------------ random architectures (hypothesis)

T = st.integers(1, 8)


@st.composite
def archs(draw) -> Arch:
    """Random architectures over every supported layer kind (check `buildable` before building)."""
    n_conv = draw(st.integers(0, 2))
    convs = [(draw(st.integers(1, 4)), draw(st.sampled_from([1, 2, 3])), draw(st.sampled_from([1, 2])),
              draw(st.sampled_from(["valid", "same", "zero"])), draw(T), draw(st.integers(0, 3)),
              draw(st.sampled_from([None, "max", "avg", "avg3", "gap", "qavg", "qgap", "up"])),
              draw(st.sampled_from(["conv", "depthwise", "separable", "concat", "block", "branches", "down"])),
              draw(st.booleans()))
             for _ in range(n_conv)]
    denses = [(draw(st.integers(1, 12)), draw(T), draw(st.integers(0, 3)),
               draw(st.sampled_from([False, True, "binary", "ternary", "po2"])), draw(st.booleans()))
              for _ in range(draw(st.integers(0, 2)))]
    batchnorm = draw(st.sampled_from([None, None, "q", "float"]))
    if batchnorm:  # hwflow folds batch norm in chains only
        convs = [spec[:7] + ("conv" if spec[7] in BLOCK_KINDS else spec[7], False) for spec in convs]
        denses = [spec[:4] + (False,) for spec in denses]
    wb = draw(st.integers(2, 8))
    bb = draw(st.integers(2, 10))
    readout = draw(st.booleans())
    return Arch(seed=draw(st.integers(0, 2**31)), hw=draw(st.integers(4, 7)), channels=draw(st.integers(1, 2)),
                input_bits=draw(st.integers(1, 8)), input_integer=draw(st.integers(0, 2)), convs=convs,
                denses=denses, weight_bits=wb, weight_integer=draw(st.integers(0, 3)), bias_bits=bb,
                bias_integer=draw(st.integers(0, 4)), out_units=draw(st.integers(1, 6)), readout=readout,
                output=draw(st.sampled_from([None, "softmax", "sigmoid"])) if readout else None,
                sequence=draw(st.sampled_from([False, False, False, True])), batchnorm=batchnorm,
                reshape=draw(st.booleans()))


def buildable(arch: Arch) -> bool:
    """Skip architectures whose spatial size collapses to zero, and those TensorFlow cannot run: a
    QSeparableConv2D on a single input channel (its oneDNN kernel fails on some shapes, e.g. 1x1 at
    stride 2: 'could not create a primitive descriptor for a reorder primitive'; benchmarks/fuzz.py)."""
    sizes, channels = [arch.input_shape[0]] * (1 if arch.sequence else 2), arch.channels
    if arch.image_reshaped:
        sizes = [arch.hw // 2, 2 * arch.hw]
    for index, (filters, kernel, stride, padding, _, _, pool, *extra) in enumerate(arch.convs):
        kind, residual = (extra + ["conv", False][len(extra):])[:2]
        if arch.sequence:
            kind, pool = "conv", None
        if kind == "separable" and channels == 1:
            return False
        if kind == "concat":
            channels = filters + 1 + filters % 2 + channels * (padding == "same" and stride == 1)
        elif kind == "branches":
            channels = filters + 1 + filters % 3 + channels * (index > 0 and padding == "same" and stride == 1)
        elif kind == "block" and padding == "same" and stride == 1:
            pass  # the block keeps h's channels
        elif not (residual and padding == "same" and stride == 1 and kind != "separable"):  # as build
            channels = channels * (1 + filters % 2) if kind == "depthwise" else filters
        if pool == "qgap" and any(sizes) and _qgap_area_refused(sizes, padding, kernel, stride):
            return False
        for i, size in enumerate(sizes):
            size += padding == "zero"
            size = -(-size // stride) if padding == "same" else (size - kernel) // stride + 1
            if size >= 1 and pool:
                size = {"max": -(-size // 2), "avg": size // 2, "qavg": size // 2, "avg3": (size - 3) // 2 + 1,
                        "gap": 1, "qgap": 1, "up": size * (2, arch.up_columns)[i]}[pool]
            if size < 1:
                return False
            sizes[i] = size
    return True


def _qgap_area_refused(sizes: list[int], padding: str, kernel: int, stride: int) -> bool:
    """A QGlobalAveragePooling2D over an area that is not a power of two: TensorFlow's float32 product with the
    quantized 1/area may round across a level boundary, which hwflow refuses in one line (tests/test_pooling.py)."""
    area = 1
    for size in sizes:
        size += padding == "zero"
        area *= -(-size // stride) if padding == "same" else (size - kernel) // stride + 1
    return area < 1 or area & (area - 1) != 0


# ------------------------------------------------------------ fixed architectures the tests share

def firmware_outputs(model, snn: hwflow.SNN, x: np.ndarray, y: np.ndarray) -> None:
    """Firmware / RTL outputs y are the logits: equal to the SNN's and to QKeras's (before a final
    softmax / sigmoid), and through the same TensorFlow function equal to model.predict."""
    from hwflow.ops.output_function import apply, logits_model
    model = reference(model)
    np.testing.assert_array_equal(y, snn.logits(x))
    np.testing.assert_array_equal(y, logits_model(model).predict(x, verbose=0))
    np.testing.assert_array_equal(apply(snn.output_function, y), model.predict(x, verbose=0))


def conv_arch(t: int = 3) -> Arch:
    """conv('same') + max pool + dense + readout; one fractional weight bit and outputs one level =
    2 membrane units, so odd pre-activations sit exactly halfway between two levels."""
    return Arch(seed=11, hw=6, channels=1, input_bits=3, input_integer=3,
                convs=[(3, 3, 1, "same", t, 1, "max")], denses=[(8, t, 1)], weight_bits=3, weight_integer=1,
                bias_bits=4, bias_integer=2, out_units=4, readout=True)


def dense_arch() -> Arch:
    """Dense only, ending in a spiking layer (output = its level grid)."""
    return Arch(seed=5, hw=4, channels=1, input_bits=4, input_integer=1, convs=[], denses=[(8, 4, 1)],
                weight_bits=4, weight_integer=1, bias_bits=5, bias_integer=2, out_units=6, readout=False)


def peer_style_models() -> list[tf.keras.Model]:
    """Models written as hls4ml's and QKeras's own tests write them (no input quantizer, signed 8-bit
    inputs given at conversion, explicit alpha=1 kernels), with weights the project never trained."""
    tf.keras.utils.set_random_seed(7)
    q6, relu4 = quantized_bits(6, 0, alpha=1), quantized_relu(4, 0)
    dense = tf.keras.Sequential([tf.keras.Input((16,)), QDense(24, kernel_quantizer=q6, bias_quantizer=q6),
                                 QActivation(relu4), QDense(5, kernel_quantizer=q6, bias_quantizer=q6)])
    conv = tf.keras.Sequential([tf.keras.Input((8, 8, 2)),
                                QConv2D(4, 3, padding="same", kernel_quantizer=quantized_bits(4, 0, alpha=1),
                                        bias_quantizer=quantized_bits(4, 0, alpha=1)),
                                QActivation(quantized_relu(3, 0)), MaxPooling2D(2), Flatten(),
                                QDense(3, kernel_quantizer=q6, bias_quantizer=q6)])
    return [dense, conv]


def rounding_cases(snn: hwflow.SNN, x: np.ndarray) -> dict[str, int]:
    """How often the inputs hit each case the neuron must get right, over all IF layers."""
    tr = snn.trace(x)
    cases = dict(odd_ties=0, even_ties=0, saturated=0, negative=0, pool_ties=0)
    for layer in snn.layers:
        lt = tr.layers[layer.name]
        if isinstance(layer, SynapticLayer) and layer.neuron is not None:
            theta, top = layer.neuron.threshold, 2**layer.neuron.time_steps
            v = lt.membrane
            tie = (v % theta == 0) & (v >= 0) & (v < top * theta)
            cases["odd_ties"] += int((tie & ((v // theta) % 2 == 1)).sum())
            cases["even_ties"] += int((tie & ((v // theta) % 2 == 0)).sum())
            cases["saturated"] += int((v >= top * theta).sum())
            cases["negative"] += int((v < 0).sum())
        if isinstance(layer, MaxPool):
            prev = snn.layers[snn.layers.index(layer) - 1]
            levels = from_planes(tr.layers[prev.name].spikes)
            win = patches(levels, layer.pool, layer.strides, layer.padding)
            win = win.reshape(win.shape[:3] + (-1, win.shape[-1]))
            top_count = (win == win.max(axis=3, keepdims=True)).sum(axis=3)
            cases["pool_ties"] += int(((top_count > 1) & (win.max(axis=3) > 0)).sum())
    return cases


# ------------------------------------------------------------ random graphs (hypothesis)

@dataclass
class GraphArch:
    """A random graph of the forms hwflow joins or fuses: several inputs (joined first, or after layers of their
    own), a trunk layer, a Concatenate of branches (of depth 0: the tensor itself), several readout heads (hidden
    layers of their own or none). One quantized_relu(t, integer) after every layer; weights on the 1/8 grid."""

    seed: int
    image: bool  # inputs (size, size, channels) and 3x3 'same' convolutions, else vectors and dense layers
    size: int
    channels: list[int]  # per model input
    input_layers: int  # layers of each input's own before they join (0: joined first)
    branches: list[int]  # depths of the Concatenate's branches after the trunk ([]: none)
    heads: int  # readout heads (1: one output)
    head_layers: int  # hidden layers of each head
    t: int
    integer: int
    input_bits: int

    def shapes(self) -> list[tuple[int, ...]]:
        return [(self.size, self.size, c) if self.image else (self.size * c,) for c in self.channels]


def build_graph(arch: GraphArch) -> tf.keras.Model:
    """The QKeras model of a GraphArch."""
    q4 = quantized_bits(4, 0, alpha=1)
    width = iter(np.random.default_rng(arch.seed).integers(1, 5, 64))

    def layer(h, units=None, activation=True):
        n = int(units or next(width))
        out = (QConv2D(n, 3 if n % 2 else 1, padding="same", kernel_quantizer=q4, bias_quantizer=q4)(h)
               if len(h.shape) == 4 else QDense(n, kernel_quantizer=q4, bias_quantizer=q4)(h))
        return QActivation(quantized_relu(arch.t, arch.integer))(out) if activation else out

    def chain(h, depth: int):
        for _ in range(depth):
            h = layer(h)
        return h

    xs = [tf.keras.Input(shape) for shape in arch.shapes()]
    qs = [QActivation(quantized_relu(arch.input_bits, 1))(x) for x in xs]
    h = Concatenate()([chain(q, arch.input_layers) for q in qs]) if len(xs) > 1 else qs[0]
    h = layer(h)
    if arch.branches:
        h = Concatenate()([chain(h, depth) for depth in arch.branches])
    h = Flatten()(h) if arch.image else h
    outs = [layer(chain(h, arch.head_layers), units=k + 1, activation=False) for k in range(arch.heads)]
    return on_grid(tf.keras.Model(xs if len(xs) > 1 else xs[0], outs if len(outs) > 1 else outs[0]), arch.seed)


def graph_inputs(arch: GraphArch, n: int, seed: int) -> list[np.ndarray] | np.ndarray:
    """Tie-heavy inputs on the input grid (quantized_relu(input_bits, 1)): zeros and the top level; the model's list."""
    rng = np.random.default_rng(seed)
    top = 2**arch.input_bits - 1
    xs = []
    for shape in arch.shapes():
        k = rng.integers(0, top + 1, (n,) + shape)
        k[rng.random(k.shape) < 0.2] = 0
        k[rng.random(k.shape) < 0.1] = top
        xs.append((k * 2.0 ** (1 - arch.input_bits)).astype(np.float32))
    return xs if len(xs) > 1 else xs[0]


@st.composite
def graph_archs(draw) -> GraphArch:
    """Random GraphArchs: 1-3 inputs (joined first or after 1-2 layers each), no branches or 2-3 of depth 1-2 and
    at most one of depth 0 (the tensor itself), 1-3 heads of 0-1 hidden layers, T 1-8, both kinds of tensors."""
    inputs = draw(st.integers(1, 3))
    branches = draw(st.lists(st.integers(1, 2), min_size=0, max_size=2)) + [0] * draw(st.booleans())  # a once
    branches = branches if len(branches) > 1 else []
    return GraphArch(seed=draw(st.integers(0, 2**31)), image=draw(st.booleans()), size=draw(st.integers(2, 5)),
                     channels=draw(st.lists(st.integers(1, 3), min_size=inputs, max_size=inputs)),
                     input_layers=draw(st.integers(0, 2)) if inputs > 1 else 0, branches=branches,
                     heads=draw(st.integers(1, 3)), head_layers=draw(st.integers(0, 1)), t=draw(st.integers(1, 8)),
                     integer=draw(st.integers(0, 2)), input_bits=draw(st.integers(1, 6)))
