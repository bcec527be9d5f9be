"""The cycle model (hwflow.hls.cycle_model, hls_templates/CYCLES.md) and the C simulation's counts.

The model is checked against hand-computed formulas and the C++ lane mapping (no compiler); two
trace builds (g++, 10-15 s each) check that the C simulation counts the same cycles, process by
process, at a reuse factor > 1 (R = 1 is in test_hls_trace.py), and that their trace matches.
"""
from __future__ import annotations

import math

import numpy as np
import pytest

import hwflow
import hwflow.hls
from hwflow.hls import cycle_model
from hwflow.hls.schedule import reuse_depth
from randmodels import Arch, build, dense_arch, inputs



def conv_pool_arch() -> Arch:
    """conv (4 filters, 'same') + max pool + dense + readout: 36, 288 and 32 synapses, R = 4 divides all."""
    return Arch(seed=7, hw=6, channels=1, input_bits=3, input_integer=3, convs=[(4, 3, 1, "same", 3, 1, "max")],
                denses=[(8, 3, 1)], weight_bits=3, weight_integer=1, bias_bits=4, bias_integer=2, out_units=4,
                readout=True)


@pytest.mark.parametrize("n_syn,n_psum,reuse", [(128, 8, 4), (48, 6, 4), (36, 4, 3), (288, 8, 1), (27, 3, 9),
                                                (60, 6, 10)])
def test_reuse_depth_counts_the_weights_one_iteration_adds_into_a_partial_sum(n_syn, n_psum, reuse) -> None:
    lanes = np.arange(n_syn // reuse)
    k = max(np.bincount((ir + reuse * lanes) % n_psum).max() for ir in range(reuse))  # as the C++ SynapseLoop
    assert reuse_depth(n_syn, reuse, n_psum) == 1 + math.ceil(math.log2(k + 1))


def test_dense_bitplane_dataflow_by_hand() -> None:
    snn = hwflow.convert(build(dense_arch()), encoding="bitplane")  # 16 -> 8 -> 6, S = T = 4
    report = cycle_model(snn, reuse_factor=4)
    # dense 16x8: k = 128 / lcm(4, 8) = 16, D = 1 + 5; dense 8x6: k = 48 / lcm(4, 6) = 4, D = 1 + 3
    assert [(b.kind, b.processes) for b in report.layers] == [
        ("HwflowSpikeEncode", {"encode": 0}), ("HwflowSpikeFlatten", {"flatten": 0}),
        ("HwflowIFDense", {"integrate": 4 * (4 + 6 + 1) + 1, "fire": 4 + 1}),
        ("HwflowIFDense", {"integrate": 4 * (4 + 4 + 1) + 1, "fire": 4 + 1}), ("HwflowSpikeDecode", {"decode": 0})]
    assert (report.style, report.latency, report.ii) == ("dataflow", 45 + 5 + 37 + 5, 45)
    assert [b.ii for b in report.layers] == [1, 1, 45, 37, 1]

    stream = cycle_model(snn, reuse_factor=4, io_type="io_stream")
    encode = stream.layers[0]  # input [4, 4, 1] -> 16 chunks of 1; planes [4, 4, 4, 1] -> 64 chunks
    assert encode.processes == {"read": 16 + 1, "encode": 0, "write": 64 + 1} and encode.ii == 65


def test_pipeline_style_is_ii_1_with_an_estimated_latency() -> None:
    snn = hwflow.convert(build(dense_arch()), encoding="bitplane")
    report = cycle_model(snn)
    assert report.style == "pipeline" and report.ii == 1 and all(b.ii == 1 for b in report.layers)
    # R = 1: D = 1 + bit_length(16) = 6 and 1 + bit_length(8) = 5
    assert report.latency == (4 * (1 + 6 + 1) + 1) + 5 + (4 * (1 + 5 + 1) + 1) + 5
    assert "ESTIMATE" in report.summary()
    with pytest.raises(hwflow.HwflowError, match="io_type"):
        cycle_model(snn, io_type="io_serial")
    with pytest.raises(hwflow.HwflowError, match="does not divide"):
        cycle_model(snn, reuse_factor=3)


@pytest.mark.firmware
@pytest.mark.parametrize("arch,io_type", [(dense_arch(), "io_parallel"), (conv_pool_arch(), "io_stream")],
                         ids=["dense-io_parallel", "conv_pool-io_stream"])
def test_csim_cycles_equal_the_model_at_reuse_4(tmp_path, arch, io_type) -> None:
    snn = hwflow.convert(build(arch), encoding="direct")  # analog first layer: the MAC variants
    x = inputs(arch, 12, seed=9)
    result = hwflow.hls.trace_compare(snn, x, tmp_path / "prj", io_type=io_type, reuse_factor=4)
    assert result.first_difference is None
    model = cycle_model(snn, reuse_factor=4, io_type=io_type)
    assert model.style == "dataflow"
    assert result.cycles == {b.name: b.processes for b in model.layers}
    counted = [c for processes in result.cycles.values() for c in processes.values()]
    assert (sum(counted), max(counted)) == (model.latency, model.ii)
