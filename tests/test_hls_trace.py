"""The firmware's C simulation, traced time step by time step, equals the reference simulator.

One trace build is compiled with g++ (10-15 s) and shared by the tests of this module; the
ordering of first_difference is also checked on the reference trace alone (no compiler).
"""
from __future__ import annotations


import numpy as np
import pytest

import hwflow
import hwflow.hls
from hwflow.hls import cycle_model, first_difference
from hwflow.ir import to_planes
from hwflow.simulate import RunResult
from randmodels import build, conv_arch, inputs



def names(snn: hwflow.SNN) -> tuple[str, str]:
    """The conv layer and the first (spiking) dense layer."""
    conv, dense = (next(s.name for s in snn.synaptic_layers if s.kind == kind) for kind in ("conv2d", "dense"))
    return conv, dense


def as_firmware(reference: RunResult) -> dict[str, np.ndarray]:
    """The reference trace in the layout of a firmware trace."""
    firmware = {}
    for name, lt in reference.layers.items():
        if lt.spikes is not None:
            firmware[name] = lt.spikes.copy()
        if lt.membrane is not None:
            firmware[f"{name}_membrane"] = lt.membrane.copy()
            firmware[f"{name}_membrane_steps"] = lt.membrane_steps.copy()
    return firmware


@pytest.fixture(scope="module")
def snn_x() -> tuple[hwflow.SNN, np.ndarray]:
    """conv('same') + max pool + dense + readout, bit-plane input: every synaptic layer gets planes."""
    arch = conv_arch()
    return hwflow.convert(build(arch), encoding="bitplane"), inputs(arch, 40, seed=3)


@pytest.fixture(scope="module")
def traced(snn_x, tmp_path_factory) -> hwflow.hls.TraceResult:
    snn, x = snn_x
    return hwflow.hls.trace_compare(snn, x, tmp_path_factory.mktemp("trace") / "prj")  # Vitis, R = 1


@pytest.mark.firmware
def test_conv_pool_dense_bitplane_trace_has_no_difference(snn_x, traced) -> None:
    snn, x = snn_x
    assert traced.first_difference is None
    fw, ref = traced.firmware, traced.reference
    for layer in snn.layers:  # what was compared: every output plane, Horner step and membrane
        lt = ref.layers[layer.name]
        if lt.spikes is not None:
            np.testing.assert_array_equal(fw[layer.name], lt.spikes)
            assert 0 < lt.spikes.mean() < 1  # not a silent or saturated layer
        if lt.membrane is not None:
            np.testing.assert_array_equal(fw[f"{layer.name}_membrane_steps"], lt.membrane_steps)
            np.testing.assert_array_equal(fw[f"{layer.name}_membrane"], lt.membrane)
            assert len(np.unique(lt.membrane)) > 5
    assert fw[f"{names(snn)[0]}_membrane_steps"].shape == (40, 3, 6, 6, 3)  # S = 3 input planes
    # the encode block (not in the reference) and the readout output (its integer level = membrane)
    np.testing.assert_array_equal(fw["snn_encode"], to_planes(snn.input_levels(x), 3))
    readout = snn.layers[-1].name
    np.testing.assert_array_equal(fw[readout], fw[f"{readout}_membrane"])


@pytest.mark.firmware
def test_corrupted_firmware_entry_is_reported_as_the_first_difference(snn_x, traced) -> None:
    snn, _ = snn_x
    conv, dense = names(snn)
    fw = {k: v.copy() for k, v in traced.firmware.items()}
    fw[dense][2, 1, 5] ^= 1  # sample 2, output plane 1, neuron 5
    assert first_difference(traced.reference, fw) == dict(
        layer=dense, kind="spikes", step=1, sample=2, index=(5,),
        expected=int(traced.reference.layers[dense].spikes[2, 1, 5]), got=int(fw[dense][2, 1, 5]))
    fw[f"{conv}_membrane_steps"][7, 2, 4, 1, 0] += 1  # earlier in the schedule: an earlier layer
    diff = first_difference(traced.reference, fw)
    assert (diff["layer"], diff["kind"], diff["step"], diff["sample"], diff["index"]) == (
        conv, "membrane_steps", 2, 7, (4, 1, 0))
    assert diff["got"] == diff["expected"] + 1


@pytest.mark.firmware
def test_csim_cycles_equal_the_model_at_reuse_1(snn_x, traced) -> None:
    snn, _ = snn_x
    model = cycle_model(snn, reuse_factor=1)
    # a convolution walks its output pixels one after another: dataflow, II = the longest process
    assert model.style == "dataflow" and model.ii == max(c for b in model.layers for c in b.processes.values())
    assert traced.cycles == {b.name: b.processes for b in model.layers}
    assert sum(sum(p.values()) for p in traced.cycles.values()) == model.latency


def test_first_difference_order_without_firmware(snn_x) -> None:
    snn, x = snn_x
    reference = snn.trace(x[:6])
    fw = as_firmware(reference)
    assert first_difference(reference, fw) is None
    conv, dense = names(snn)
    fw[f"{dense}_membrane"][1, 2] -= 3
    assert first_difference(reference, fw)["kind"] == "membrane"
    fw[f"{dense}_membrane_steps"][4, 2, 6] += 1  # later sample, but an earlier step wins
    fw[f"{dense}_membrane_steps"][0, 1, 7] += 1
    diff = first_difference(reference, fw)
    assert (diff["kind"], diff["step"], diff["sample"], diff["index"]) == ("membrane_steps", 1, 0, (7,))
    fw[conv][5, 0, 1, 2, 0] ^= 1
    diff = first_difference(reference, fw)
    assert (diff["layer"], diff["kind"], diff["step"], diff["sample"], diff["index"]) == (
        conv, "spikes", 0, 5, (1, 2, 0))
    del fw[f"{conv}_membrane"]
    with pytest.raises(hwflow.HwflowError, match="has no"):
        first_difference(reference, fw)
