"""Average pools of any window (an integer, not only power-of-two, threshold), global average pools,
QKeras's quantized average pools, and ZeroPadding2D folded into the window after it: exact in the SNN,
the HLS C simulation and the RTL twin."""
from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf
from qkeras import (QActivation, QAveragePooling2D, QConv2D, QDense, QGlobalAveragePooling2D, quantized_bits,
                    quantized_relu)
from tensorflow.keras.layers import AveragePooling2D, Flatten, GlobalAveragePooling2D, MaxPooling2D, ZeroPadding2D

import hwflow
from hwflow.errors import HwflowError
from hwflow.ops import avgpool
from hwflow.rtl import tools
from randmodels import firmware_outputs, grid_inputs, grid_model

Q4 = quantized_bits(4, 0, alpha=1)  # levels of 1/8 from -1 to 7/8


def relu(t: int = 3) -> QActivation:
    return QActivation(quantized_relu(t, 1))


def model_of(layers: list, shape=(9, 9, 2), seed: int = 0) -> tf.keras.Model:
    return grid_model(shape, layers, seed)


def levels(shape, n: int, seed: int) -> np.ndarray:
    return grid_inputs(shape, n, seed, saturated=0.1)


def pool_net() -> tf.keras.Model:
    """ZeroPadding2D ((1, 0), (0, 2)) into a 'valid' conv, a 3x3 average pool at stride 2 (area 9), ZeroPadding2D
    into a strided conv, a global average pool over 2x3 pixels (area 6 = 2 * 3), a readout. Each pool's output
    grid is one bit coarser than (3x3) or as fine as (global) its input's, so that ties occur: a window sum of
    9 * odd (3 * odd) levels lies exactly halfway between two output levels."""
    return model_of([ZeroPadding2D(((1, 0), (0, 2))), QConv2D(4, 3, kernel_quantizer=Q4, bias_quantizer=Q4), relu(),
                     AveragePooling2D(3, strides=2), relu(2), ZeroPadding2D(1),
                     QConv2D(3, 2, strides=2, kernel_quantizer=Q4, bias_quantizer=Q4), relu(2),
                     GlobalAveragePooling2D(), relu(2), QDense(4, kernel_quantizer=Q4, bias_quantizer=Q4)])


DENSE = lambda: QDense(3, kernel_quantizer=Q4, bias_quantizer=Q4)  # noqa: E731
Q8 = lambda: quantized_bits(8, 0, alpha=1)  # noqa: E731
VARIANTS = {  # name: fresh layers
    "3x3": lambda: [AveragePooling2D(3), relu(), Flatten(), DENSE()],
    "3x3 stride 2": lambda: [AveragePooling2D(3, strides=2), relu(), Flatten(), DENSE()],
    "3x3 'same', no window padded": lambda: [AveragePooling2D(3, padding="same"), relu(), Flatten(), DENSE()],
    "2x3": lambda: [AveragePooling2D((2, 3)), relu(5), Flatten(), DENSE()],
    "global": lambda: [GlobalAveragePooling2D(), relu(8), DENSE()],
    "global, keepdims": lambda: [GlobalAveragePooling2D(keepdims=True), relu(), Flatten(), DENSE()],
    "QAveragePooling2D, average_quantizer": lambda: [QAveragePooling2D(3, average_quantizer=Q8()), relu(), Flatten(),
                                                     DENSE()],
    "QAveragePooling2D, own activation": lambda: [
        QAveragePooling2D(3, average_quantizer=Q8(), activation=quantized_relu(3, 1)), Flatten(), DENSE()],
    "QAveragePooling2D, no quantizer": lambda: [QAveragePooling2D(3), relu(), Flatten(), DENSE()],
    "QGlobalAveragePooling2D": lambda: [QGlobalAveragePooling2D(average_quantizer=quantized_bits(6, 0, 1)), relu(),
                                        DENSE()],
    "QGlobalAveragePooling2D, factor 0": lambda: [
        QGlobalAveragePooling2D(average_quantizer=quantized_bits(4, 0, 1)), relu(), DENSE()],
    "ZeroPadding2D into a pool": lambda: [ZeroPadding2D(1), AveragePooling2D(3), relu(), Flatten(), DENSE()],
    "two ZeroPadding2D into a strided 'same' conv": lambda: [
        ZeroPadding2D(1), ZeroPadding2D(((0, 1), (2, 0))),
        QConv2D(2, 3, strides=2, padding="same", kernel_quantizer=Q4), relu(), Flatten(), DENSE()],
}


@pytest.mark.parametrize("name", list(VARIANTS))
@pytest.mark.parametrize("encoding", ["direct", "bitplane"])
def test_every_pool_and_padding_equals_qkeras(name: str, encoding: str) -> None:
    layers = VARIANTS[name]()
    if encoding == "direct":  # a pool needs spikes: a 1x1 convolution first
        layers = [QConv2D(2, 1, kernel_quantizer=Q4, bias_quantizer=Q4), relu(4), *layers]
    model = model_of(layers)
    x = levels((9, 9, 2), 400, seed=1)
    snn = hwflow.convert(model, encoding=encoding)
    np.testing.assert_array_equal(snn.predict(x), model.predict(x, verbose=0))


def test_the_neuron_divides_by_the_odd_part_of_the_area_and_ties_go_to_even() -> None:
    model = pool_net()
    snn = hwflow.convert(model, encoding="bitplane")
    convs = [layer for layer in snn.synaptic_layers]
    assert [c.neuron.divisor if c.neuron else None for c in convs] == [1, 9, 1, 3, None]
    assert [c.padding for c in convs[:3]] == [((1, 0), (0, 2)), "valid", ((1, 1), (1, 1))]
    x = levels((9, 9, 2), 300, seed=2)
    np.testing.assert_array_equal(snn.predict(x), model.predict(x, verbose=0))
    # the average pools see ties (a pre-activation exactly between two levels) onto odd and even levels
    trace = snn.trace(x)
    for pool in (convs[1], convs[3]):
        v = trace.layers[pool.name].membrane  # bias shift included: a tie is a multiple of the threshold
        level = v // pool.neuron.threshold
        ties = (v % pool.neuron.threshold == 0) & (level > 0) & (level < 2**pool.neuron.time_steps)
        assert (ties & (level % 2 == 1)).sum() > 0 and (ties & (level % 2 == 0)).sum() > 0


def test_snn_json_keeps_divisors_and_explicit_padding(tmp_path) -> None:
    snn = hwflow.convert(pool_net(), encoding="bitplane")
    from hwflow.serialize import load_snn, snn_json
    (tmp_path / "snn.json").write_text(snn_json(snn))
    loaded = load_snn(tmp_path / "snn.json")
    facts = lambda s: [(c.neuron.divisor if c.neuron else None, getattr(c, "padding", None))  # noqa: E731
                       for c in s.synaptic_layers]
    assert facts(loaded) == facts(snn) and facts(snn)[0] == (1, ((1, 0), (0, 2)))
    x = levels((9, 9, 2), 50, seed=3)
    np.testing.assert_array_equal(loaded.predict(x), snn.predict(x))


@pytest.mark.parametrize("layers, message", [
    ([AveragePooling2D(3, strides=2, padding="same"), relu(), Flatten(), DENSE()],
     "with a window padded by the pool ('same' divides it by its count of real pixels)"),
    ([AveragePooling2D(3)], "divides by 9 and ends the model; put a QActivation after it"),
    ([ZeroPadding2D(1), MaxPooling2D(2), Flatten(), DENSE()],
     "is followed by MaxPooling2D '"),
    ([QConv2D(2, 1, kernel_quantizer=Q4), ZeroPadding2D(1), relu(), Flatten(), DENSE()],
     "between a linear layer and its activation"),
    ([ZeroPadding2D(1)], "ends the model"),
])
def test_what_cannot_be_exact_is_one_line(layers, message: str) -> None:
    with pytest.raises(HwflowError, match="") as err:
        hwflow.convert(model_of(layers), encoding="bitplane")
    assert message in str(err.value) and "\n" not in str(err.value)


def test_a_float_average_that_rounds_otherwise_is_refused(monkeypatch) -> None:
    """The conversion runs TensorFlow's pool at every rounding boundary: a pool one ulp off is caught."""
    exact = avgpool.probe

    def off_by_a_little(layer, kernel):
        pool = exact(layer, kernel)
        return lambda x: pool(x) * np.float32(1 + 2**-20)

    monkeypatch.setattr(avgpool, "probe", off_by_a_little)
    with pytest.raises(HwflowError, match="TensorFlow's float32 average of a window summing to") as err:
        hwflow.convert(model_of(VARIANTS["3x3"]()), encoding="bitplane")
    assert "\n" not in str(err.value)


@pytest.mark.firmware
@pytest.mark.slow
@pytest.mark.skipif(tools.find(tools.VERILATOR) is None, reason="Verilator is needed for RTL simulation")
def test_firmware_and_rtl_of_pools_and_padding_are_exact(tmp_path) -> None:
    """Event through line buffers (io_stream), latency (io_parallel): C simulation == SNN == QKeras, trace and
    cycles equal to the RTL twin's; the RTL's ANN twin divides by 9 and 3 with QKeras's half to even."""
    from test_rtl import check as rtl_check
    from test_strategies import check as hls_check

    model = pool_net()
    snn = hwflow.convert(model, encoding="bitplane")
    x = levels((9, 9, 2), 40, seed=4)
    hls_check(tmp_path / "event", model, snn, x, strategy="event", lanes=2, io_type="io_stream")
    latency = hwflow.hls.to_hls(snn, tmp_path / "latency", strategy="latency")
    latency.compile()
    y = hwflow.hls.predict(latency, snn, x)
    firmware_outputs(model, snn, x, y)
    rtl_check(snn, model, x, tmp_path / "ann", "ann", 3)
