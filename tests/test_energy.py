"""The energy model: width-aware integer arithmetic by default, the paper's float figures by name."""
from __future__ import annotations

import numpy as np
import pytest

import hwflow
from hwflow.config import load_config
from hwflow.energy import EnergyModel, energy, grid_shift, widths
from hwflow.errors import HwflowError
from hwflow.hls.lower import layer_list
from hwflow.options import FirmwareOptions
from randmodels import build, conv_arch, inputs


@pytest.fixture(scope="module")
def run():
    arch = conv_arch()  # 3-bit inputs and activations, 3-bit weights (one fractional bit)
    snn = hwflow.convert(build(arch), encoding="direct")
    return snn, snn.run(inputs(arch, 50, seed=2))


def test_fp32_45_is_the_papers_figures_whatever_the_widths(run) -> None:
    snn, stats = run
    for r in energy(snn, stats, EnergyModel("fp32_45")):
        assert r.ann_pj == r.ann_macs * 4.6 and r.snn_pj == r.snn_macs * 4.6 + r.snn_acs * 0.9


def test_int45_scales_with_the_layers_widths(run) -> None:
    snn, stats = run
    model = EnergyModel("int45")
    width = widths(snn)
    conv = snn.synaptic_layers[0]
    fw = {d["name"]: d for d in layer_list(snn, FirmwareOptions())[0]}  # the firmware's types: the widths the hardware has
    for layer in snn.synaptic_layers:
        assert (width[layer.name][0], width[layer.name][2]) == (fw[layer.name]["weight_bits"],
                                                               fw[layer.name]["psum_bits"])
    assert width[conv.name][1] == 3  # 3-bit input levels
    assert all(w[1] == 3 for w in width.values())  # every later layer reads 3-bit quantized_relu levels
    rows = energy(snn, stats, model)
    fp32 = energy(snn, stats, EnergyModel("fp32_45"))
    for r, f, layer in zip(rows, fp32, snn.synaptic_layers):
        w_bits, in_bits, psum_bits = width[layer.name]
        k = grid_shift(layer)  # the ANN's weights at their own grid: the quantizer's 3 bits at most
        assert w_bits - k <= 3 and (k > 0 or layer is not conv)  # the conv's weights were shifted left
        v_bits, steps = layer.membrane_bits, layer.in_steps + (layer.neuron.time_steps if layer.neuron else 0)
        ann_mac = 3.1 * (w_bits - k) * in_bits / 1024 + 0.1 * (v_bits - k) / 32
        snn_mac = 3.1 * w_bits * in_bits / 1024 + 0.1 * v_bits / 32
        # a float model, not a bit-exact path: equal up to the order of the float operations
        assert r.ann_pj == pytest.approx(r.ann_macs * ann_mac + layer.n_out * 0.1 * (v_bits - k) / 32, rel=1e-12)
        assert r.ann_macs == f.ann_macs
        neuron = layer.n_out * steps * 0.1 * v_bits / 32  # S Horner adds and T fire steps per neuron
        assert r.snn_pj == pytest.approx(r.snn_macs * snn_mac + r.snn_acs * 0.1 * psum_bits / 32 + neuron, rel=1e-12)
        assert r.ann_pj < f.ann_pj / 10  # narrow integers cost far less than 32-bit floats
    assert "integer arithmetic at the layers' widths" in model.assumption


def test_config_names_the_model() -> None:
    assert load_config("digits_mlp")["energy"]["model"] == "int45"
    assert load_config("digits_mlp", overrides={"energy": {"model": "fp32_45"}})["energy"]["model"] == "fp32_45"
    with pytest.raises(HwflowError, match="energy.model must be one of int45, fp32_45"):
        load_config("digits_mlp", overrides={"energy": {"model": "7nm"}})
    assert np.isfinite(EnergyModel.from_config(load_config("digits_mlp")).mac_pj(8, 4, 16))
