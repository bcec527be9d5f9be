"""The SNN equals QKeras bit for bit: random architectures, tie-heavy inputs, every rounding case."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import hwflow
from hwflow.ops import synaptic
from randmodels import Arch, archs, buildable, build, inputs, reference, rounding_cases

@pytest.mark.slow
@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(arch=archs(), encoding=st.sampled_from(["direct", "bitplane"]))
def test_random_models_equal_qkeras(arch: Arch, encoding: str) -> None:
    if not buildable(arch):
        return
    model = build(arch)
    snn = hwflow.convert(model, encoding=encoding)
    assert snn.tf_float32_exact, snn.summary()
    x = inputs(arch, 64, arch.seed)
    np.testing.assert_array_equal(snn.predict(x), reference(model).predict(x, verbose=0))
    assert_levels_run_equals_step_run(snn, x)


def assert_levels_run_equals_step_run(snn, x) -> None:
    """predict / run work on levels; trace steps through every plane: same outputs, spikes and ops."""
    stats, tr = snn.run(x, logits=True), snn.trace(x)
    np.testing.assert_array_equal(stats.output, tr.output)
    assert stats.spikes == {k: tr.layers[k].spike_count for k in stats.spikes}
    assert stats.synaptic_ops == {k: tr.layers[k].synaptic_ops for k in stats.synaptic_ops}
    assert stats.input_spikes == tr.input_spikes


def tie_model(t: int) -> tuple[Arch, object]:
    """Weights with one fractional bit and outputs one level = 2 membrane units: every odd
    pre-activation sits exactly halfway between two levels."""
    arch = Arch(seed=7, hw=6, channels=1, input_bits=3, input_integer=3,
                convs=[(4, 3, 1, "same", t, 1, "max")], denses=[(16, t, 1)], weight_bits=3, weight_integer=1,
                bias_bits=4, bias_integer=2, out_units=5, readout=True)
    return arch, build(arch)


@pytest.mark.parametrize("t", [1, 2, 4, 8, 12, 16])
def test_tie_heavy_inputs_hit_every_case_and_match(t: int) -> None:
    arch, model = tie_model(t)
    x = inputs(arch, 300, seed=t)
    snn = hwflow.convert(model)
    np.testing.assert_array_equal(snn.predict(x), model.predict(x, verbose=0))
    assert_levels_run_equals_step_run(snn, x)
    cases = rounding_cases(snn, x)
    assert all(n > 0 for n in cases.values()), cases


def test_round_half_up_neuron_would_mismatch(monkeypatch) -> None:
    """The last-step strict comparison is what makes ties round to even: a non-strict neuron fails, in the
    step-by-step trace and in the closed form predict uses."""
    arch, model = tie_model(4)
    x = inputs(arch, 300, seed=1)
    snn = hwflow.convert(model)
    expected = model.predict(x, verbose=0)

    def fire_half_up(v, neuron):
        spikes = np.empty((v.shape[0], neuron.time_steps) + v.shape[1:], dtype=np.uint8)
        v = v.copy()
        for t in range(neuron.time_steps):
            threshold = neuron.threshold << (neuron.time_steps - 1 - t)
            s = v >= threshold
            v -= s * threshold
            spikes[:, t] = s
        return spikes

    def fired_levels_half_up(v, neuron):  # the closed form predict uses, with >= at the last step too
        return np.clip(v // neuron.threshold, 0, 2**neuron.time_steps - 1)

    monkeypatch.setattr(synaptic, "fire", fire_half_up)
    assert np.any(snn.trace(x).output != expected)
    np.testing.assert_array_equal(snn.predict(x), expected)
    monkeypatch.setattr(synaptic, "fired_levels", fired_levels_half_up)
    assert np.any(snn.predict(x) != expected)


def test_trace_is_consistent_with_predict() -> None:
    arch, model = tie_model(3)
    x = inputs(arch, 20, seed=3)
    snn = hwflow.convert(model, encoding="bitplane")
    tr = snn.trace(x)
    np.testing.assert_array_equal(tr.output, snn.predict(x))
    first = snn.layers[0]
    lt = tr.layers[first.name]
    assert lt.spikes.shape == (20, 3) + first.out_shape
    assert lt.membrane_steps.shape == (20, arch.input_bits) + first.out_shape
    # Horner: the last partial membrane plus the bias is the integrated membrane
    np.testing.assert_array_equal(lt.membrane_steps[:, -1] + first.membrane_bias, lt.membrane)
    assert lt.spike_count == int(lt.spikes.sum())


def test_large_accumulation_is_flagged_not_compared() -> None:
    """A layer whose sums exceed float32's 24-bit mantissa is reported as not TF-exact."""
    arch = Arch(seed=1, hw=8, channels=1, input_bits=8, input_integer=0, convs=[], denses=[(32, 8, 4)],
                weight_bits=16, weight_integer=0, bias_bits=16, bias_integer=4, out_units=3, readout=True)
    snn = hwflow.convert(build(arch))
    assert not snn.tf_float32_exact
    assert snn.tf_inexact_layers()


@pytest.mark.parametrize("kernel", ["quantized_bits(4,0,1)", "binary()", "ternary()", "quantized_bits(6,2)"])
def test_auto_po2_kernels_as_qkeras_examples_write_them(kernel: str) -> None:
    """QKeras turns a kernel quantizer left at alpha=None into alpha='auto_po2' inside QDense / QConv2D:
    per-channel power-of-two scales, exact as integers on the finest channel's grid."""
    import tensorflow as tf
    from qkeras import QActivation, QConv2D, QDense, quantized_bits, quantized_relu

    tf.keras.utils.set_random_seed(3)
    bias = quantized_bits(8, 3, alpha=1)
    model = tf.keras.Sequential([
        tf.keras.Input((6, 6, 2)), QActivation(quantized_relu(3, 1)),
        QConv2D(4, 3, kernel_quantizer=kernel, bias_quantizer=bias, kernel_initializer="he_normal"),
        QActivation(quantized_relu(4, 1)), tf.keras.layers.Flatten(),
        QDense(12, kernel_quantizer=kernel, bias_quantizer=bias, kernel_initializer="he_normal"),
        QActivation(quantized_relu(4, 1)), QDense(3, kernel_quantizer=kernel, bias_quantizer=bias)])
    quantizer = model.layers[1].kernel_quantizer_internal
    assert quantizer.alpha == "auto_po2"
    quantizer(model.layers[1].kernel)  # eagerly: its per-channel scale
    scales = np.unique(np.asarray(quantizer.scale))
    snn = hwflow.convert(model, encoding="bitplane")
    x = snn.quantize_input(np.random.default_rng(0).uniform(0, 2, (300, 6, 6, 2)).astype(np.float32))
    np.testing.assert_array_equal(snn.predict(x), model.predict(x, verbose=0))
    assert np.all(np.log2(scales) == np.round(np.log2(scales)))  # the scales are powers of two
    if kernel.startswith("quantized_bits"):
        assert len(scales) > 1  # per channel: several grids, one integer network


@pytest.mark.parametrize("log2", [0, 1, 3])
@pytest.mark.parametrize("divisor", [1, 3])
def test_the_closed_form_levels_equal_the_t_fired_spikes(log2: int, divisor: int) -> None:
    """hwflow.ops.neuron.fired_levels (what predict uses: float32, float64 and int64 membranes) == the level of
    the T spikes fire() emits step by step, over every membrane from far below zero to past saturation."""
    from hwflow.ops.neuron import Neuron, fire, fired_levels

    for steps in (1, 2, 4):
        neuron = Neuron(steps, 0, threshold_log2=log2, divisor=divisor)
        span = 3 * neuron.threshold * 2**steps
        v = np.arange(-span, span, dtype=np.int64).reshape(-1, 1)
        spikes = fire(v, neuron)[:, :, 0].astype(np.int64)
        want = spikes @ (2 ** np.arange(steps - 1, -1, -1))
        for dtype in (np.float32, np.float64, np.int64):
            np.testing.assert_array_equal(fired_levels(v.astype(dtype), neuron).reshape(-1), want)
