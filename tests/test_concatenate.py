"""Concatenate of parallel one-layer branches (and the tensor itself), fused into one layer: exact in the SNN, the
HLS C simulation and the RTL twin; what it cannot fuse is refused in one line (deeper branches: test_join)."""
from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf
from qkeras import (QActivation, QConv1D, QConv2D, QDense, QDepthwiseConv2D, quantized_bits, quantized_relu,
                    quantized_relu_po2)
from tensorflow.keras.layers import Concatenate, Dropout, Flatten, ZeroPadding2D

import hwflow
from hwflow.errors import HwflowError
from hwflow.ir import INPUT
from hwflow.ops.conv2d import Conv2D
from hwflow.ops.dense import Dense
from hwflow.rtl import tools
from randmodels import firmware_outputs, grid_inputs, on_grid

Q4, Q6 = quantized_bits(4, 0, alpha=1), quantized_bits(6, 2, alpha=1)
SHAPE = (6, 5, 2)


def relu(t: int = 4, integer: int = 1) -> QActivation:
    return QActivation(quantized_relu(t, integer))


def conv(filters: int, kernel, q=Q4, **kw) -> QConv2D:
    return QConv2D(filters, kernel, kernel_quantizer=q, bias_quantizer=q, **kw)


def dense(units: int) -> QDense:
    return QDense(units, kernel_quantizer=Q4, bias_quantizer=Q4)


def graph(shape, body, seed: int = 0) -> tf.keras.Model:
    """Input -> quantized_relu(4, 1) a -> body(a) -> a 3-unit readout; weights on the 1/8 grid (randmodels)."""
    inp = tf.keras.Input(shape)
    h = body(relu()(inp))
    out = dense(3)(Flatten()(h) if len(h.shape) > 2 else h)
    return on_grid(tf.keras.Model(inp, out), seed)


def inception(a):
    """3x3 'same', a itself, 1x1 (another weight grid, its own activation=), 1x3 'same'; then a 3x3 conv."""
    c = Concatenate()([relu()(conv(2, 3, padding="same")(a)), a,
                       conv(3, 1, q=Q6, activation=quantized_relu(4, 1))(a),
                       relu()(conv(1, (1, 3), padding="same")(a))])
    return relu(2, 0)(conv(2, 3)(c))


def padded_pair(z):
    """Two 'valid' 3x3 convolutions (weight grids 1/8 and 1/8 of 6 bits) over one zero-padded tensor."""
    return Concatenate()([relu(3, 0)(conv(2, 3)(z)), relu(3, 0)(conv(1, 3, q=Q6)(z))])


VARIANTS = {  # name: (input shape, body)
    "inception with the identity": (SHAPE, inception),
    "strided 3x3 'same' and 1x1 'valid'": (SHAPE, lambda a: Concatenate()([
        relu(3, 0)(conv(2, 3, strides=2, padding="same")(a)), relu(3, 0)(conv(2, 1, strides=2)(a))])),
    "two 'valid' 3x3 after a ZeroPadding2D": (SHAPE, lambda a: padded_pair(ZeroPadding2D(((1, 1), (0, 2)))(a))),
    "depthwise and conv": (SHAPE, lambda a: Concatenate(axis=3)([
        relu()(QDepthwiseConv2D(3, padding="same", depthwise_quantizer=Q4, bias_quantizer=Q4)(a)),
        relu()(conv(2, 3, padding="same")(a)), a])),
    "dense with the identity": ((7,), lambda a: relu(3, 0)(dense(4)(Concatenate()([a, relu()(dense(5)(a))])))),
    "the identity made by a layer": (SHAPE, lambda a: (lambda h: Concatenate()([
        relu()(conv(2, 3, padding="same")(h)), h]))(relu()(conv(3, 1)(a)))),  # h is act(conv(a)), a branch-like form
    "conv1d": ((9, 2), lambda a: Concatenate()([
        relu()(QConv1D(3, 3, padding="causal", kernel_quantizer=Q4, bias_quantizer=Q4)(a)), a,
        relu()(QConv1D(2, 1, kernel_quantizer=Q4, bias_quantizer=Q4)(a))])),
}


def exact_snn(model: tf.keras.Model, shape, encoding: str) -> hwflow.SNN:
    """The model's SNN, checked equal to QKeras on 400 tie-heavy inputs (levels and plane by plane), and lowered
    (not built) to the HLS blocks and the RTL stages, whose lowering checks every layer's input kind and shape."""
    from hwflow.hls.lower import layer_list
    from hwflow.options import FirmwareOptions
    from hwflow.rtl.generate import lower_stages

    snn = hwflow.convert(model, encoding=encoding)
    x = grid_inputs(shape, 400, seed=1, saturated=0.1)
    y = model.predict(x, verbose=0)
    np.testing.assert_array_equal(snn.predict(x), y)
    np.testing.assert_array_equal(snn.trace(x).output, y)
    for architecture in ("event", "ann"):
        lower_stages(snn, 1, architecture)
        layer_list(snn, FirmwareOptions.of(strategy=architecture if architecture == "event" else "latency", lanes=1))
    return snn


@pytest.mark.parametrize("name", list(VARIANTS))
@pytest.mark.parametrize("encoding", ["direct", "bitplane"])
def test_concatenate_equals_qkeras(name: str, encoding: str) -> None:
    shape, body = VARIANTS[name]
    model = graph(shape, body)
    snn = exact_snn(model, shape, encoding)
    concat = next(layer for layer in model.layers if type(layer).__name__ == "Concatenate")
    fused = next(layer for layer in snn.layers if layer.name == concat.name)
    assert fused.out_shape == tuple(concat.output_shape[1:]) and fused.neuron is not None


def test_the_fused_layer_holds_each_branch_in_its_own_channels() -> None:
    """Inception: one 3x3 window ('same': padding 1), the 1x1 kernels at its centre, the 1x3 on its middle row, the
    identity weight 1 on the fused weight grid; biases side by side, the identity's 0."""
    model = graph(SHAPE, inception)
    snn = hwflow.convert(model, encoding="bitplane")
    fused = snn.layers[0]
    assert isinstance(fused, Conv2D) and fused.weight.shape == (3, 3, 2, 8) and fused.padding == ((1, 1), (1, 1))
    w = fused.weight
    one = 1 << fused.weight_frac
    np.testing.assert_array_equal(w[1, 1, :, 2:4], one * np.eye(2, dtype=np.int64))  # a itself: channels 2, 3
    assert not w[:, :, :, 2:4].sum(axis=(2, 3))[[0, 0, 1, 1, 2, 2, 0, 2], [0, 1, 0, 2, 0, 1, 2, 2]].any()
    assert not np.delete(w[:, :, :, 4:7], 1, axis=0).any() and not np.delete(w[1, :, :, 4:7], 1, axis=0).any()
    assert not np.delete(w[:, :, :, 7], 1, axis=0).any()  # the 1x3: middle row only
    assert fused.bias.shape == (8,) and not fused.bias[2:4].any()


@pytest.mark.parametrize("body, message", [
    (lambda a: Concatenate()([relu()(conv(2, 3, padding="same")(a)), relu(3, 0)(conv(2, 1)(a))]),
     "with different activations"),
    (lambda a: Concatenate()([relu(3, 0)(conv(2, 3, padding="same")(a)), a]),
     r"joins its input a \(grid .*\) with branches on grid"),
    (lambda a: Concatenate()([relu()(conv(2, (4, 3))(a)), relu()(conv(2, 1, strides=2)(a))]),
     "different strides or output sizes"),
    (lambda a: Concatenate(axis=1)([relu()(conv(2, 3, padding="same")(a)), a]), "joins along axis 1"),
    (lambda a: Concatenate()([QActivation(quantized_bits(4, 1, alpha=1))(conv(2, 1)(a)),
                              QActivation(quantized_bits(4, 1, alpha=1))(conv(1, 1)(a))]), "joins signed"),
    (lambda a: Concatenate()([QActivation(quantized_relu_po2(3))(conv(2, 1)(a)),
                              QActivation(quantized_relu_po2(3))(conv(1, 1)(a))]), "quantized_relu_po2"),
    (lambda a: Concatenate()([conv(2, 1)(a), relu()(conv(1, 1)(a))]), "has no activation"),
])
def test_what_it_cannot_fuse_is_one_line(body, message: str) -> None:
    model = graph(SHAPE, body)
    with pytest.raises(HwflowError, match=message) as err:
        hwflow.convert(model, encoding="bitplane")
    assert "\n" not in str(err.value)


def joined_inputs(shapes, quantizers=None, seed: int = 0) -> tf.keras.Model:
    """Inputs of `shapes`, each through its quantizer (quantized_relu(4, 1); None: no quantizer), joined by one
    Concatenate in reverse order, then a layer and a readout: the form of several inputs hwflow converts."""
    inputs = [tf.keras.Input(shape) for shape in shapes]
    quantizers = quantizers or [quantized_relu(4, 1)] * len(shapes)
    h = Concatenate()([QActivation(q)(x) if q else x for x, q in reversed(list(zip(inputs, quantizers)))])
    body = relu(3, 0)(conv(3, 3, padding="same")(h) if len(shapes[0]) == 3 else dense(5)(h))
    out = dense(2)(Flatten()(body) if len(body.shape) > 2 else body)
    return on_grid(tf.keras.Model(inputs, out), seed)


@pytest.mark.parametrize("shapes", [[(4,), (3,)], [(5, 4, 2), (5, 4, 1), (5, 4, 1)]], ids=["vectors", "images"])
@pytest.mark.parametrize("encoding", ["direct", "bitplane"])
def test_inputs_joined_by_a_concatenate_are_one_input(shapes, encoding: str) -> None:
    """The issue's crash (TypeError at shape_of(layer.input_shape)) on two inputs joined by Concatenate: the joined
    array is the SNN's one input; snn.predict takes the model's list (or the joined array)."""
    model = joined_inputs(shapes)
    snn = hwflow.convert(model, encoding=encoding)
    n = len(shapes)
    assert snn.encoder.joins == tuple((n - 1 - i, shapes[n - 1 - i][-1]) for i in range(n))
    xs = [grid_inputs(shape, 300, seed=k, saturated=0.1) for k, shape in enumerate(shapes)]
    y = model.predict(xs, verbose=0)
    np.testing.assert_array_equal(snn.predict(xs), y)
    np.testing.assert_array_equal(snn.predict(np.concatenate(xs[::-1], axis=-1)), y)
    np.testing.assert_array_equal(snn.trace(xs).output, y)


def test_joined_inputs_without_quantizers_take_input_quantizer(tmp_path) -> None:
    """Peer style: raw inputs joined, input_quantizer given at conversion; the encoder's joins survive JSON."""
    from hwflow.serialize import load_snn, snn_json

    model = joined_inputs([(4,), (3,)], quantizers=[None, None])
    snn = hwflow.convert(model, input_quantizer="quantized_bits(8,0,alpha=1)")
    (tmp_path / "snn.json").write_text(snn_json(snn))
    loaded = load_snn(tmp_path / "snn.json")
    xs = [np.round(np.random.default_rng(k).uniform(-1, 1, (200, n)) * 128) / 128 for k, n in enumerate((4, 3))]
    xs = [np.clip(x, -1, 127 / 128).astype(np.float32) for x in xs]
    np.testing.assert_array_equal(loaded.predict(xs), model.predict(xs, verbose=0))


@pytest.mark.parametrize("make, message", [
    (lambda: joined_inputs([(4,), (3,)], [quantized_relu(4, 1), quantized_relu(3, 1)]),
     "joins inputs quantized by .*; the joined input has one grid: give every input the same quantizer"),
    (lambda: joined_inputs([(4,), (3,)], [None, None]), "has no input quantizer before Concatenate"),
])
def test_inputs_it_cannot_join_are_one_line(make, message: str) -> None:
    with pytest.raises(HwflowError, match=message) as err:
        hwflow.convert(make())
    assert "\n" not in str(err.value)


def inputs_with_layers(image: bool, seed: int = 0) -> tf.keras.Model:
    """Two inputs, each through its quantizer and layers of its own (one and two layers), meeting in a Concatenate,
    then a layer and a readout."""
    shapes = [(5, 4, 2), (5, 4, 1)] if image else [(6,), (4,)]
    xs = [tf.keras.Input(shape) for shape in shapes]
    if image:
        branches = [relu()(conv(3, 3, padding="same")(relu()(xs[0]))),
                    relu()(conv(2, 1)(relu()(conv(2, 3, padding="same")(relu()(xs[1])))))]
        out = dense(3)(Flatten()(relu()(conv(2, 3)(Concatenate()(branches)))))
    else:
        branches = [relu()(dense(5)(relu()(xs[0]))), relu()(dense(3)(relu()(dense(2)(relu()(xs[1])))))]
        out = dense(3)(Concatenate()(branches))
    return on_grid(tf.keras.Model(xs, out), seed)


@pytest.mark.parametrize("image", [False, True], ids=["vectors", "images"])
@pytest.mark.parametrize("encoding", ["direct", "bitplane"])
def test_inputs_that_meet_after_layers_of_their_own_are_exact(image: bool, encoding: str) -> None:
    """Each input's first layer reads its channels of the joined input (zero weights on the other's), its branch's
    output joins the other's: the SNN (a DAG from one joined input) == QKeras; lowered to HLS blocks and RTL stages."""
    from hwflow.hls.lower import layer_list
    from hwflow.options import FirmwareOptions
    from hwflow.rtl.generate import lower_stages

    model = inputs_with_layers(image)
    snn = hwflow.convert(model, encoding=encoding)
    firsts = [layer for layer in snn.layers if layer.inputs == (INPUT,)] + [snn.layers[0]]
    channels = (2, 1) if image else (6, 4)
    assert snn.encoder.shape[-1] == sum(channels) and all(f.in_shape == snn.encoder.shape for f in firsts)
    assert not firsts[1].weight[..., channels[0]:, :].any() and not firsts[0].weight[..., :channels[0], :].any()
    xs = [grid_inputs(tuple(x.shape[1:]), 300, seed=k, saturated=0.1) for k, x in enumerate(model.inputs)]
    y = model.predict(xs, verbose=0)
    np.testing.assert_array_equal(snn.predict(xs), y)
    np.testing.assert_array_equal(snn.trace(xs).output, y)
    layer_list(snn, FirmwareOptions.of(strategy="event", lanes=1))
    lower_stages(snn, 1, "event")


@pytest.mark.parametrize("shapes, make, message", [
    ([(6,), (4,)], lambda xs: Concatenate()([relu()(dense(3)(relu()(xs[0]))), relu()(xs[1])]),
     "joins input '.*' as it is with inputs that have layers of their own"),
    ([(5, 4, 2), (3,)], lambda xs: Concatenate()([relu()(dense(3)(Flatten()(relu()(xs[0])))),
                                                  relu()(dense(2)(relu()(xs[1])))]),
     r"joins inputs of shapes \[\(5, 4, 2\), \(3,\)\]; .* the same size but for the channels"),
    ([(5, 4, 2), (5, 4, 1)], lambda xs: Concatenate()([relu()(dense(3)(Flatten()(relu()(xs[0])))),
                                                       relu()(dense(2)(Flatten()(relu()(xs[1]))))]),
     "the layers of an input start with '.*' \\(Flatten\\); hwflow reads each input's channels"),
], ids=["a bare input", "inputs of other sizes", "a Flatten first"])
def test_inputs_with_layers_it_cannot_join_are_one_line(shapes, make, message: str) -> None:
    xs = [tf.keras.Input(shape) for shape in shapes]
    with pytest.raises(HwflowError, match=message) as err:
        hwflow.convert(tf.keras.Model(xs, dense(2)(make(xs))))
    assert "\n" not in str(err.value)


def test_the_wrong_inputs_are_one_line() -> None:
    snn = hwflow.convert(joined_inputs([(4,), (3,)]))
    x = grid_inputs((4,), 5, seed=1)
    with pytest.raises(HwflowError, match="1 input arrays given; the model has 2 inputs"):
        snn.predict([x])
    with pytest.raises(HwflowError, match=r"do not join into \(7,\)"):
        snn.predict([x, x])
    single = hwflow.convert(graph((4,), lambda a: relu()(dense(5)(a))))
    np.testing.assert_array_equal(single.predict(list(x)), single.predict(x))  # a list of samples, as np.asarray


def test_joined_inputs_that_quantize_themselves_refuse_input_quantizer() -> None:
    with pytest.raises(HwflowError, match="quantizes its inputs itself .*; leave input_quantizer out") as err:
        hwflow.convert(joined_inputs([(4,), (3,)]), input_quantizer="quantized_bits(8,0,alpha=1)")
    assert "\n" not in str(err.value)


def test_a_dense_concatenation_is_one_dense_layer() -> None:
    snn = hwflow.convert(graph((7,), VARIANTS["dense with the identity"][1]), encoding="bitplane")
    fused = snn.layers[0]
    assert isinstance(fused, Dense) and fused.weight.shape == (7, 12)
    np.testing.assert_array_equal(fused.weight[:, :7], (1 << fused.weight_frac) * np.eye(7, dtype=np.int64))


@pytest.mark.firmware
@pytest.mark.slow
@pytest.mark.skipif(tools.find(tools.VERILATOR) is None, reason="Verilator is needed for RTL simulation")
def test_firmware_and_rtl_of_a_concatenation_are_exact(tmp_path) -> None:
    """Inception: event through line buffers (Vitis io_stream), latency (Vivado io_parallel): C simulation == SNN ==
    QKeras, trace and cycles equal to the RTL twin's; the RTL folded with line buffers and its ANN twin. hls4ml's own
    ANN: refused in one line for four branches (hls4ml merges two tensors), == QKeras on a two-branch graph."""
    from hwflow.hls.ann import ann_to_hls
    from hwflow.hls.lower import csim_batches
    from hwflow.metrics import count_mismatches
    from test_rtl import check as rtl_check
    from test_strategies import check_stream_and_latency

    model = graph(SHAPE, inception, seed=3)
    snn = hwflow.convert(model, encoding="bitplane")
    x = grid_inputs(SHAPE, 40, seed=4, saturated=0.1)
    check_stream_and_latency(tmp_path, model, snn, x, lanes=3)
    rtl_check(snn, model, x, tmp_path / "line", "folded", 2, buffers="line")
    rtl_check(snn, model, x, tmp_path / "ann", "ann", 4)
    with pytest.raises(HwflowError, match="merges two tensors at a time .* joins 4, so this model has no hls4ml ANN"):
        ann_to_hls(model, tmp_path / "hls4ml")
    pair = graph(SHAPE, VARIANTS["strided 3x3 'same' and 1x1 'valid'"][1], seed=5)
    ann = ann_to_hls(pair, tmp_path / "hls4ml")
    hwflow.hls.compile(ann)
    y = csim_batches(ann, x).astype(np.float32).reshape(len(x), -1)
    assert count_mismatches(y, pair.predict(x, verbose=0)) == 0


@pytest.mark.firmware
@pytest.mark.skipif(tools.find(tools.VERILATOR) is None, reason="Verilator is needed for RTL simulation")
def test_firmware_and_rtl_of_joined_inputs_are_exact(tmp_path) -> None:
    """Three image inputs joined: the latency firmware (C simulation) and the event RTL take the joined array through
    their one input port, == SNN == QKeras on the model's list of inputs; hls4ml's ANN refuses it in one line."""
    from hwflow.hls.ann import ann_to_hls
    from test_rtl import check as rtl_check

    shapes = [(5, 4, 2), (5, 4, 1), (5, 4, 1)]
    model = joined_inputs(shapes, seed=2)
    snn = hwflow.convert(model, encoding="bitplane")
    xs = [grid_inputs(shape, 30, seed=k, saturated=0.1) for k, shape in enumerate(shapes)]
    latency = hwflow.hls.to_hls(snn, tmp_path / "latency", strategy="latency")
    latency.compile()
    firmware_outputs(model, snn, xs, hwflow.hls.predict(latency, snn, xs))
    rtl_check(snn, model, xs, tmp_path / "event", "event", 2)
    with pytest.raises(HwflowError, match="has 3 inputs; hwflow builds the hls4ml ANN baseline of single-input"):
        ann_to_hls(model, tmp_path / "hls4ml")


@pytest.mark.firmware
@pytest.mark.skipif(tools.find(tools.VERILATOR) is None, reason="Verilator is needed for RTL simulation")
def test_firmware_and_rtl_of_inputs_with_layers_are_exact(tmp_path) -> None:
    """Two image inputs with layers of their own: the Vitis io_stream event firmware (C simulation) and the event RTL
    take the joined array through their one input port, == SNN == QKeras on the model's list of inputs."""
    from test_rtl import check as rtl_check

    model = inputs_with_layers(image=True, seed=4)
    snn = hwflow.convert(model, encoding="bitplane")
    xs = [grid_inputs(tuple(x.shape[1:]), 30, seed=k, saturated=0.2) for k, x in enumerate(model.inputs)]
    stream = hwflow.hls.to_hls(snn, tmp_path / "stream", strategy="event", lanes=2, io_type="io_stream",
                               backend="Vitis")
    stream.compile()
    firmware_outputs(model, snn, xs, hwflow.hls.predict(stream, snn, xs))
    rtl_check(snn, model, xs, tmp_path / "event", "event", 2)


def heads_model(image: bool, joined: bool = False, seed: int = 0) -> tf.keras.Model:
    """A trunk (one input, or two joined) and two readout heads on the same activation (other weight grids), as a
    model of two outputs."""
    shape = (5, 4, 2) if image else (6,)
    inputs = [tf.keras.Input(shape) for _ in range(1 + joined)]
    a = Concatenate()([relu()(x) for x in inputs]) if joined else relu()(inputs[0])
    h = relu(3, 0)(conv(3, 3, padding="same")(a) if image else dense(5)(a))
    heads = [conv(2, 1)(h), conv(1, 3, q=Q6, padding="same")(h)] if image else [dense(3)(h), QDense(
        1, kernel_quantizer=Q6, bias_quantizer=Q6)(h)]
    return on_grid(tf.keras.Model(inputs if joined else inputs[0], heads), seed)


@pytest.mark.parametrize("image", [False, True], ids=["dense heads", "conv heads"])
@pytest.mark.parametrize("joined", [False, True], ids=["one input", "two joined inputs"])
@pytest.mark.parametrize("encoding", ["direct", "bitplane"])
def test_parallel_readout_heads_are_one_readout(image: bool, joined: bool, encoding: str) -> None:
    """Several outputs, each one linear layer on the same activation: one readout layer, units side by side;
    snn.predict returns model.predict's list, snn.logits (what the firmware outputs) the heads joined."""
    model = heads_model(image, joined)
    snn = hwflow.convert(model, encoding=encoding)
    assert snn.layers[-1].name == "output_heads" and snn.output_splits == ((2, 1) if image else (3, 1))
    shape = tuple(model.inputs[0].shape[1:])
    xs = [grid_inputs(shape, 300, seed=k, saturated=0.1) for k in range(1 + joined)]
    x = xs if joined else xs[0]
    ys = model.predict(x, verbose=0)
    for got, want in zip(snn.predict(x), ys, strict=True):
        np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(snn.logits(x), np.concatenate(ys, axis=-1))


@pytest.mark.parametrize("head", [lambda h: tf.keras.layers.Activation("softmax")(dense(2)(h)),
                                  lambda h: QDense(2, kernel_quantizer=Q4, activation=quantized_relu(4, 1))(h)],
                         ids=["a softmax layer", "its own activation= quantizer"])
def test_heads_it_cannot_fuse_are_one_line(head) -> None:
    x = tf.keras.Input((6,))
    h = relu()(dense(5)(relu()(x)))
    model = tf.keras.Model(x, [dense(3)(h), head(h)])
    with pytest.raises(HwflowError, match="has 1 input and 2 outputs; hwflow converts a chain") as err:
        hwflow.convert(model)
    assert "\n" not in str(err.value)


def test_conv_heads_after_a_zero_padding() -> None:
    """Both heads read one ZeroPadding2D: each folds it in (the parser's pending padding is theirs, not the model's
    end)."""
    x = tf.keras.Input((5, 4, 2))
    h = tf.keras.layers.ZeroPadding2D(1)(relu(3, 0)(conv(3, 3, padding="same")(relu()(x))))
    model = on_grid(tf.keras.Model(x, [conv(2, 3)(h), conv(1, 3, q=Q6)(h)]))
    snn = hwflow.convert(model, encoding="bitplane")
    xs = grid_inputs((5, 4, 2), 200, seed=6, saturated=0.1)
    for got, want in zip(snn.predict(xs), model.predict(xs, verbose=0), strict=True):
        np.testing.assert_array_equal(got, want)


def deep_heads_model(image: bool, seed: int = 0) -> tf.keras.Model:
    """A trunk and two readout heads with a hidden layer of their own each (the same quantized_relu; other widths,
    weight grids, a Dropout), as a model of two outputs."""
    shape = (5, 4, 2) if image else (6,)
    x = tf.keras.Input(shape)
    h = relu(3, 0)(conv(3, 3, padding="same")(relu()(x)) if image else dense(5)(relu()(x)))
    heads = ([conv(2, 1)(relu()(conv(2, 3, padding="same")(h))), conv(1, 3, q=Q6, padding="same")(relu()(conv(3, 1)(h)))]
             if image else [dense(3)(relu()(dense(4)(h))),
                            QDense(1, kernel_quantizer=Q6, bias_quantizer=Q6)(relu()(dense(2)(Dropout(0.1)(h))))])
    return on_grid(tf.keras.Model(x, heads), seed)


@pytest.mark.parametrize("image", [False, True], ids=["dense heads", "conv heads"])
@pytest.mark.parametrize("encoding", ["direct", "bitplane"])
def test_deeper_readout_heads_are_fused_level_by_level(image: bool, encoding: str) -> None:
    """Heads with a hidden layer each: one hidden layer of both heads' units side by side, then one readout whose
    weights are blocks (each head reads only its own hidden units); exact, lowered to the HLS blocks and RTL stages."""
    from hwflow.hls.lower import layer_list
    from hwflow.options import FirmwareOptions
    from hwflow.rtl.generate import lower_stages

    model = deep_heads_model(image)
    snn = hwflow.convert(model, encoding=encoding)
    hidden, readout = snn.layers[-2:]
    assert (hidden.name, readout.name) == ("output_heads_1", "output_heads") and snn.output_splits == (
        (2, 1) if image else (3, 1))
    own = 2 if image else 4  # the first head's hidden units
    assert hidden.out_shape[-1] == own + (3 if image else 2) and readout.weight.shape[-2] == hidden.out_shape[-1]
    assert not readout.weight[..., :own, snn.output_splits[0]:].any()
    assert not readout.weight[..., own:, :snn.output_splits[0]].any()
    shape = tuple(model.inputs[0].shape[1:])
    x = grid_inputs(shape, 300, seed=2, saturated=0.1)
    for got, want in zip(snn.predict(x), model.predict(x, verbose=0), strict=True):
        np.testing.assert_array_equal(got, want)
    layer_list(snn, FirmwareOptions.of(strategy="event", lanes=1))
    lower_stages(snn, 1, "event")


@pytest.mark.parametrize("heads, message", [
    (lambda h: [dense(3)(relu()(dense(4)(h))), dense(1)(h)], "have heads of \\[1, 2\\] layers"),
    (lambda h: [dense(3)(relu()(dense(4)(h))), dense(1)(relu(3, 0)(dense(2)(h)))], "differ in kind or activation"),
    (lambda h: [dense(3)(relu()(dense(4)(h))), dense(1)(Flatten()(relu()(dense(2)(h))))], "has a pool, reshape"),
], ids=["different depths", "different activations", "a Flatten in a head"])
def test_deeper_heads_it_cannot_fuse_are_one_line(heads, message: str) -> None:
    x = tf.keras.Input((6,))
    h = relu()(dense(5)(relu()(x)))
    with pytest.raises(HwflowError, match=message) as err:
        hwflow.convert(tf.keras.Model(x, heads(h)))
    assert "\n" not in str(err.value)


@pytest.mark.firmware
@pytest.mark.skipif(tools.find(tools.VERILATOR) is None, reason="Verilator is needed for RTL simulation")
def test_firmware_and_rtl_of_deeper_heads_are_exact(tmp_path) -> None:
    """Dense heads with hidden layers: the latency C simulation (Vivado io_parallel) and the event RTL output the
    heads side by side, == snn.logits == QKeras's outputs joined; the RTL's cycles on the formula."""
    model = deep_heads_model(image=False, seed=5)
    check_heads_firmware(tmp_path, model, grid_inputs((6,), 40, seed=7, saturated=0.2),
                         dict(strategy="latency", backend="Vivado"), dict(architecture="event", lanes=2))


def check_heads_firmware(tmp_path, model: tf.keras.Model, x, hls: dict, rtl: dict) -> None:
    """The C simulation (firmware settings `hls`) and the RTL (`rtl`) of a model of several outputs: the heads side by
    side, == snn.logits == QKeras's outputs joined; the RTL's cycles on its formula."""
    snn = hwflow.convert(model, encoding="bitplane")
    want = np.concatenate(model.predict(x, verbose=0), axis=-1)
    np.testing.assert_array_equal(snn.logits(x), want)
    firmware = hwflow.hls.to_hls(snn, tmp_path / "hls", **hls)
    firmware.compile()
    np.testing.assert_array_equal(hwflow.hls.predict(firmware, snn, x), want)
    design = hwflow.to_rtl(snn, tmp_path / "rtl", **rtl)
    result = design.simulate(x)
    np.testing.assert_array_equal(result.output, want)
    np.testing.assert_array_equal(result.cycles, design.cycle_model(x))


@pytest.mark.firmware
@pytest.mark.skipif(tools.find(tools.VERILATOR) is None, reason="Verilator is needed for RTL simulation")
def test_firmware_and_rtl_of_readout_heads_are_exact(tmp_path) -> None:
    """Two joined inputs, two conv heads: the folded C simulation (Vivado io_stream) and the folded RTL output the
    heads side by side, == snn.logits == QKeras's outputs joined."""
    model = heads_model(image=True, joined=True, seed=3)
    check_heads_firmware(tmp_path, model, [grid_inputs((5, 4, 2), 30, seed=k, saturated=0.1) for k in range(2)],
                         dict(strategy="folded", lanes=3, io_type="io_stream", backend="Vivado"),
                         dict(architecture="folded", lanes=3))


@pytest.mark.firmware
def test_hls4ml_ann_of_readout_heads_is_exact(tmp_path) -> None:
    """hls4ml's own ANN of a two-output model: its C simulation, heads side by side, == QKeras's outputs joined."""
    from hwflow.hls.ann import ann_to_hls
    from hwflow.hls.lower import csim_batches

    model = heads_model(image=False, seed=4)
    ann = ann_to_hls(model, tmp_path / "hls4ml")
    hwflow.hls.compile(ann)
    x = grid_inputs((6,), 100, seed=5, saturated=0.1)
    np.testing.assert_array_equal(csim_batches(ann, x).astype(np.float32),
                                  np.concatenate(model.predict(x, verbose=0), axis=-1))
