"""Residuals over several layers (the ResNet basic block Add()([conv(act(conv(a))), a])) and projection shortcuts
(Add()([f(a), conv_s(a)])): the layers between carry a on pass-through channels, or (a stride, a pool or another
quantizer on the path) a join puts a beside the last layer's input; the last one adds the skip; exact in the SNN,
the HLS C simulation and the RTL twin; what cannot be carried is one line."""
from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf
from qkeras import QConv1D, quantized_relu
from tensorflow.keras.layers import Add, Dropout, Flatten, MaxPooling2D, UpSampling2D

import hwflow
from hwflow.errors import HwflowError
from hwflow.ir import from_planes, is_chain
from hwflow.ops.join import Join
from hwflow.ops.synaptic import SynapticLayer
from hwflow.rtl import tools
from randmodels import grid_inputs
from test_concatenate import Q6, SHAPE, conv, dense, exact_snn, graph, relu

def block(a, layers: int = 2, projection=None, filters: int = 2):
    """layers - 1 'same' 3x3 convolutions with a's quantizer, a last 'same' 3x3 conv, + a (or projection(a)), act."""
    h = a
    for _ in range(layers - 1):
        h = relu()(conv(3, 3, padding="same")(h))
    return relu()(Add()([conv(filters, 3, padding="same")(h), projection(a) if projection else a]))


BODIES = {  # name: (input shape, body)
    "basic block": (SHAPE, lambda a: block(a)),
    "three layers": (SHAPE, lambda a: block(a, 3)),
    "1x1 projection over two layers": (SHAPE, lambda a: block(a, 2, conv(4, 1, q=Q6), filters=4)),
    "3x3 projection, the skip first in the Add": (SHAPE, lambda a: relu()(Add()([
        conv(3, 3, padding="same")(a), conv(3, 3, padding="same")(relu()(conv(2, 1)(a)))]))),
    "strided one-layer block, strided 1x1 projection": (SHAPE, lambda a: relu()(Add()([
        conv(3, 3, strides=2, padding="same")(a), conv(3, 1, strides=2, q=Q6)(a)]))),
    "two blocks in a row, then a pool": (SHAPE, lambda a: MaxPooling2D(2)(block(block(a), 2))),
    "from a layer's own activation= (a quantizer)": (SHAPE, lambda a: (lambda s: relu()(Add()([
        conv(2, 3, padding="same")(relu()(conv(2, 3, padding="same")(s))), s])))(
        conv(2, 3, padding="same", activation=quantized_relu(4, 1))(a))),
    "one layer from a layer's own activation=": (SHAPE, lambda a: (lambda s: relu()(Add()([
        conv(2, 3, padding="same")(s), s])))(conv(2, 3, padding="same", activation=quantized_relu(4, 1))(a))),
    "from a Dropout": (SHAPE, lambda a: (lambda s: relu()(Add()([
        conv(2, 3, padding="same")(relu()(conv(2, 3, padding="same")(s))), s])))(Dropout(0.2)(relu()(conv(2, 1)(a))))),
    "strided last layer, strided 1x1 projection": (SHAPE, lambda a: relu()(Add()([
        conv(3, 3, strides=2, padding="same")(relu()(conv(2, 3, padding="same")(a))), conv(3, 1, strides=2)(a)]))),
    "strided last layer, strided 3x3 projection": (SHAPE, lambda a: relu()(Add()([
        conv(3, 3, strides=2, padding="same")(relu()(conv(2, 3, padding="same")(a))),
        conv(3, 3, strides=2, padding="same")(a)]))),
    "dense": ((7,), lambda a: relu()(Add()([dense(7)(relu()(dense(5)(relu()(dense(4)(a))))), a]))),
    "conv1d": ((9, 2), lambda a: relu()(Add()([
        QConv1D(2, 3, padding="same", kernel_quantizer=Q6, bias_quantizer=Q6)(
            relu()(QConv1D(3, 3, padding="causal", kernel_quantizer=Q6, bias_quantizer=Q6)(a))), a]))),
}


@pytest.mark.parametrize("name", list(BODIES))
@pytest.mark.parametrize("encoding", ["direct", "bitplane"])
def test_long_residuals_are_exact(name: str, encoding: str) -> None:
    shape, body = BODIES[name]
    exact_snn(graph(shape, body), shape, encoding)


def test_the_skip_rides_on_pass_through_channels() -> None:
    """Basic block: the first conv gets a's 2 channels as outputs 3, 4 (weight 1 at the centre tap, bias 0), the
    second reads them and adds them to its outputs 0, 1 at its centre tap; the trace shows them equal to a."""
    model = graph(SHAPE, BODIES["basic block"][1])
    snn = hwflow.convert(model, encoding="bitplane")
    first, second = snn.layers[:2]
    assert (first.out_shape, second.in_shape, second.out_shape) == ((6, 5, 5), (6, 5, 5), (6, 5, 2))
    assert (first.pass_channels, second.pass_channels) == (2, 0) and "(+2 pass-through channels)" in snn.summary()
    np.testing.assert_array_equal(first.weight[1, 1, :, 3:], (1 << first.weight_frac) * np.eye(2, dtype=np.int64))
    assert not np.delete(first.weight[:, :, :, 3:].reshape(9, 2, 2), 4, axis=0).any() and not first.bias[3:].any()
    keras_second = [layer for layer in model.layers if type(layer).__name__ == "QConv2D"][1]
    kernel = keras_second.get_weights()[0]  # 3 input channels; the fused layer has 2 more, a's
    np.testing.assert_array_equal(second.weight[:, :, :3] * 2.0**-second.weight_frac, kernel)
    skip = second.weight[:, :, 3:]
    np.testing.assert_array_equal(skip[1, 1], (1 << second.weight_frac) * np.eye(2, dtype=np.int64))
    assert not np.delete(skip.reshape(9, 2, 2), 4, axis=0).any()
    x = grid_inputs(SHAPE, 50, seed=2)
    passed = from_planes(snn.trace(x).layers[first.name].spikes)[..., 3:]
    np.testing.assert_array_equal(passed, snn.input_levels(x))


def test_spikes_split_into_the_activation_and_its_pass_through() -> None:
    """The widened layer's own channels fire what the regularizer counts on its Keras activation, its pass-through
    channels what it counts on a: the SNN's spike count is the two together (real work, counted in energy)."""
    from hwflow.regularizer import spike_count

    model = graph(SHAPE, BODIES["basic block"][1])
    snn = hwflow.convert(model, encoding="bitplane")
    x = grid_inputs(SHAPE, 64, seed=5, saturated=0.1)
    first = snn.layers[0]
    spikes = snn.trace(x).layers[first.name].spikes.astype(np.int64)
    acts = [layer.output for layer in model.layers if type(layer).__name__ == "QActivation"][:2]  # a, the inner one
    a, inner = tf.keras.Model(model.inputs, acts)(x)
    assert spikes[..., :3].sum() == float(spike_count(inner, 4, 1)) > 0
    assert spikes[..., 3:].sum() == float(spike_count(a, 4, 1)) > 0
    assert snn.trace(x).layers[first.name].spike_count == spikes.sum()


def lifted(body):
    """body after a first 1x1 layer (so that a is spike planes under direct encoding too)."""
    return lambda a: body(relu()(conv(2, 1)(a) if len(a.shape) == 4 else dense(2)(a)))


JOINED = {  # residuals the pass-through cannot carry: a joined beside the block (hwflow.ops.join)
    "ResNet downsampling block (3x3 stride 2, strided 1x1 projection)": ((8, 6, 2), lifted(lambda a: relu()(Add()([
        conv(3, 3, padding="same")(relu()(conv(3, 3, strides=2, padding="same")(a))), conv(3, 1, strides=2, q=Q6)(a)])))),
    "a max pool and an upsampling on the path": ((8, 6, 2), lifted(lambda a: relu()(Add()([
        conv(2, 3, padding="same")(UpSampling2D(2)(MaxPooling2D(2)(relu()(conv(3, 1)(a))))), a])))),
    "another quantizer on the path": ((7,), lifted(lambda a: relu()(Add()([
        dense(2)(relu()(dense(4)(relu(3, 0)(dense(5)(a))))), a])))),
}


@pytest.mark.parametrize("name", list(JOINED))
@pytest.mark.parametrize("encoding", ["direct", "bitplane"])
def test_residuals_the_pass_through_cannot_carry_join_the_skip(name: str, encoding: str) -> None:
    """The layers between keep their own outputs (no pass-through channels), a join puts a (subsampled for a strided
    1x1 projection) after the last layer's input, and that layer adds the skip from the joined channels."""
    shape, body = JOINED[name]
    snn = exact_snn(graph(shape, body), shape, encoding)
    assert not is_chain(snn.layers) and not any(s.pass_channels for s in snn.synaptic_layers)
    join = next(layer for layer in snn.layers if isinstance(layer, Join))
    last = snn.layers[snn.layers.index(join) + 1]
    assert isinstance(last, SynapticLayer) and last.in_shape == join.out_shape
    subsampled = [layer for layer in snn.layers if layer.name.endswith("_subsample")]
    assert len(subsampled) == ("downsampling" in name) and all(s.strides == (2, 2) for s in subsampled)


@pytest.mark.parametrize("body, message", [
    (lambda a: relu()(Add()([conv(2, 3, padding="same")(relu(3, 1)(conv(2, 3, padding="same")(a))), a])),
     "share one quantized_relu"),
    (lambda a: relu()(Add()([conv(2, 2, strides=2, padding="same")(relu()(conv(2, 3, strides=2, padding="same")(
        a))), conv(2, 1, strides=4)(a)])), "differ in size"),
    (lambda a: relu()(Add()([conv(2, 3, padding="same")(relu()(conv(3, 3, strides=2, padding="same")(a))),
                             conv(2, 3, strides=2, padding="same")(a)])), "a 3x3 kernel at strides"),
    (lambda a: (lambda s: relu()(Add()([conv(2, 3, padding="same")(relu()(conv(2, 3, padding="same")(s))), s])))(
        relu()(conv(1, 1)(a))), "adds 1 channels to the 2 of .* \\(Keras broadcasts them\\)"),
])
def test_what_cannot_pass_through_or_join_is_one_line(body, message: str) -> None:
    with pytest.raises(HwflowError, match=message) as err:
        hwflow.convert(graph(SHAPE, body), encoding="bitplane")
    assert "\n" not in str(err.value)


@pytest.mark.parametrize("shape, body", [
    (SHAPE, lambda a: relu()(Add()([conv(2, 3, padding="same")(MaxPooling2D(1)(relu()(conv(2, 3, padding="same")(
        a)))), a]))),
    ((3, 2), lambda a: (lambda f: relu()(Add()([dense(6)(Flatten()(f)), f])))(Flatten()(a))),
], ids=["from the input, a pool between", "from a Flatten of the input, a Flatten between"])
def test_a_skip_from_the_analog_input_cannot_join_is_one_line(shape, body) -> None:
    """Direct encoding: a is the analog input (or a reshape of it), which the pass-through carries but a join
    cannot."""
    with pytest.raises(HwflowError, match="skip starts at the analog input") as err:
        hwflow.convert(graph(shape, body), encoding="direct")
    assert "\n" not in str(err.value)


@pytest.mark.firmware
@pytest.mark.slow
@pytest.mark.skipif(tools.find(tools.VERILATOR) is None, reason="Verilator is needed for RTL simulation")
def test_firmware_and_rtl_of_long_residuals_are_exact(tmp_path) -> None:
    """A basic block, then a 1x1 projection over two layers: event through line buffers (Vitis io_stream), latency
    (Vivado io_parallel): C simulation == SNN == QKeras, trace and cycles equal to the RTL twin's; the RTL folded with
    line buffers and its ANN twin; hls4ml's own ANN of the graph == QKeras."""
    from hwflow.hls.ann import ann_to_hls
    from hwflow.hls.lower import csim_batches
    from hwflow.metrics import count_mismatches
    from test_rtl import check as rtl_check
    from test_strategies import check_stream_and_latency

    model = graph(SHAPE, lambda a: block(block(a), 2, conv(3, 1, q=Q6), filters=3), seed=3)
    snn = hwflow.convert(model, encoding="bitplane")
    x = grid_inputs(SHAPE, 40, seed=4, saturated=0.1)
    check_stream_and_latency(tmp_path, model, snn, x, lanes=3)
    rtl_check(snn, model, x, tmp_path / "line", "folded", 2, buffers="line")
    rtl_check(snn, model, x, tmp_path / "ann", "ann", 4)
    ann = ann_to_hls(model, tmp_path / "hls4ml")
    hwflow.hls.compile(ann)
    y = csim_batches(ann, x).astype(np.float32).reshape(len(x), -1)
    assert count_mismatches(y, model.predict(x, verbose=0)) == 0


@pytest.mark.firmware
@pytest.mark.skipif(tools.find(tools.VERILATOR) is None, reason="Verilator is needed for RTL simulation")
def test_firmware_and_rtl_of_a_downsampling_block_are_exact(tmp_path) -> None:
    """The ResNet downsampling block (its skip subsampled and joined): Vitis io_stream event (trace, C simulation ==
    SNN == QKeras, counted cycles == the RTL twin's measured ones), Vivado io_parallel latency, the RTL's ANN twin."""
    from test_rtl import check as rtl_check
    from test_strategies import check_stream_and_latency

    shape, body = JOINED["ResNet downsampling block (3x3 stride 2, strided 1x1 projection)"]
    model = graph(shape, body, seed=2)
    snn = hwflow.convert(model, encoding="bitplane")
    x = grid_inputs(shape, 40, seed=4, saturated=0.2)
    check_stream_and_latency(tmp_path, model, snn, x, lanes=2)
    _, ann = rtl_check(snn, model, x, tmp_path / "ann", "ann", 3)
    assert len(set(ann.cycles.tolist())) == 1
