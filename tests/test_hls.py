"""The HLS firmware (hwflow.hls, hls4ml extension API) computes the SNN bit for bit.

Two tests compile real C-simulation libraries with g++ (5-10 s each); the others only write
projects (no compiler) or check errors. Nothing is cached across tests.
"""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

import hwflow
import hwflow.hls
from hwflow.errors import HwflowError
from hwflow.hls.ann import ann_to_hls
from randmodels import build, conv_arch, dense_arch, inputs, rounding_cases



@pytest.mark.firmware
def test_conv_pool_dense_direct_vitis_equals_snn_and_qkeras(tmp_path) -> None:
    arch = conv_arch()
    model = build(arch)
    snn = hwflow.convert(model, encoding="direct")
    x = inputs(arch, 400, seed=3)
    cases = rounding_cases(snn, x)
    assert all(n > 0 for n in cases.values()), cases  # ties to odd and even, saturation, pool ties ...

    hls_model = hwflow.hls.to_hls(snn, tmp_path / "prj", backend="Vitis", io_type="io_parallel")
    seconds = hwflow.hls.compile(hls_model)
    assert seconds > 0
    firmware = hwflow.hls.predict(hls_model, snn, x)
    np.testing.assert_array_equal(firmware, snn.predict(x))
    np.testing.assert_array_equal(firmware, model.predict(x, verbose=0))
    # hls4ml's own predict (float32 in, one C call per sample) gives the same numbers
    raw = hls_model.predict(np.ascontiguousarray(x[:50]))
    np.testing.assert_array_equal(np.asarray(raw).reshape(firmware[:50].shape), firmware[:50])


@pytest.mark.firmware
def test_dense_bitplane_vivado_reuse_equals_snn_and_qkeras(tmp_path) -> None:
    arch = dense_arch()
    model = build(arch)
    snn = hwflow.convert(model, encoding="bitplane")
    assert snn.encoder.steps == 4
    hls_model = hwflow.hls.to_hls(snn, tmp_path / "prj", backend="Vivado", reuse_factor=4)
    hwflow.hls.compile(hls_model)
    x = inputs(arch, 400, seed=4)
    firmware = hwflow.hls.predict(hls_model, snn, x)
    np.testing.assert_array_equal(firmware, snn.predict(x))
    np.testing.assert_array_equal(firmware, model.predict(x, verbose=0))
    assert len(np.unique(firmware)) > 3  # not a degenerate all-zero network
    cpp = (tmp_path / "prj" / "firmware" / "myproject.cpp").read_text()
    assert "hwflow::spike_encode<" in cpp and "hwflow::spike_decode<" in cpp


@pytest.mark.firmware
def test_conv_io_stream_equals_snn(tmp_path) -> None:
    arch = conv_arch(t=2)
    model = build(arch)
    snn = hwflow.convert(model, encoding="bitplane")
    hls_model = hwflow.hls.to_hls(snn, tmp_path / "prj", backend="Vitis", io_type="io_stream")
    hwflow.hls.compile(hls_model)
    x = inputs(arch, 300, seed=5)
    firmware = hwflow.hls.predict(hls_model, snn, x)
    np.testing.assert_array_equal(firmware, snn.predict(x))
    np.testing.assert_array_equal(firmware, model.predict(x, verbose=0))
    cpp = (tmp_path / "prj" / "firmware" / "myproject.cpp").read_text()
    assert "hls::stream<" in cpp and "#pragma HLS DATAFLOW" in cpp


# ------------------------------------------------------------------ no multiplier after layer 1

SYNAPTIC_CALL = re.compile(r"hwflow::(if_(?:dense|conv2d)_(?:spiking|analog))<")
CALL = re.compile(r"hwflow::(\w+)<")


def strip_comments(code: str) -> str:
    code = re.sub(r"/\*.*?\*/", "", code, flags=re.S)
    return re.sub(r"//[^\n]*", "", code)


def function_text(headers: str, name: str) -> str:
    """Signature and body of the C++ function `name` (template line excluded)."""
    match = re.search(r"\b(?:void|bool|data_T|inline [\w:]+(?: [\w:]+)?) " + re.escape(name) + r"\(", headers)
    assert match, f"{name} not found in the registered headers"
    depth, i = 0, headers.index("{", match.end())
    for j in range(i, len(headers)):
        depth += {"{": 1, "}": -1}.get(headers[j], 0)
        if depth == 0:
            return headers[match.start():j + 1]
    raise AssertionError(f"unbalanced braces in {name}")


def written_project(tmp_path: Path, encoding: str, io_type: str):
    snn = hwflow.convert(build(conv_arch(t=2)), encoding=encoding)
    hls_model = hwflow.hls.to_hls(snn, tmp_path / encoding, io_type=io_type)
    hls_model.write()  # no compiler needed
    return tmp_path / encoding / "firmware", hls_model


@pytest.mark.parametrize("encoding,io_type", [("direct", "io_parallel"), ("bitplane", "io_parallel"),
                                              ("direct", "io_stream")])
def test_no_weight_times_spike_or_membrane_multiplier_after_first_layer(tmp_path, encoding, io_type) -> None:
    firmware, hls_model = written_project(tmp_path, encoding, io_type)
    cpp = (firmware / "myproject.cpp").read_text().split("insert layers")[1]  # the layer calls
    headers = strip_comments("".join(p.read_text() for p in sorted((firmware / "nnet_utils").glob("*.h"))))

    synaptic = SYNAPTIC_CALL.findall(cpp)
    assert len(synaptic) == 3  # conv, dense, readout dense
    expected_first = "if_conv2d_analog" if encoding == "direct" else "if_conv2d_spiking"
    assert synaptic[0] == expected_first
    assert all(name.endswith("_spiking") for name in synaptic[1:]), synaptic

    # Every hwflow function the project calls, except the analog first layer, has no '*' at all:
    # no weight x spike, weight x membrane or any other product (index maths is in spike_index).
    called = set(CALL.findall(cpp))
    assert {"if_neuron_fire", "membrane_readout", "bitserial_max_pool", "spike_flatten"} <= called
    for name in called - {"if_conv2d_analog", "if_dense_analog"}:
        text = function_text(headers, name)
        assert "*" not in text, f"{name} multiplies:\n{text}"
    # the checker does see the one multiplier of the analog layer
    assert "w[s] * k" in function_text(headers, "if_conv2d_analog")
    # index helpers multiply loop indices only: all their parameters are unsigned integers
    common = (firmware / "nnet_utils" / "hwflow_spike_common.h").read_text()
    helpers = re.search(r"namespace spike_index \{(.*?)\}\s*// namespace spike_index", common, re.S).group(1)
    signatures = re.findall(r"inline \w+ \w+\(([^)]*)\)", helpers)
    assert len(signatures) == 6
    for params in signatures:
        assert all(p.strip().startswith("unsigned ") for p in params.split(",")), params
    # the layer configs are plain constants and types: no product hooks
    parameters = strip_comments((firmware / "parameters.h").read_text())
    configs = re.findall(r"struct config\d+ : hwflow::\w+ \{.*?\};", parameters, flags=re.S)
    assert len(configs) == len(hls_model.get_layers()) - 1  # every block but the input
    for config in configs:
        assert "*" not in config and "product" not in config, config
    # the IF calls themselves pass arrays only
    for line in cpp.splitlines():
        if SYNAPTIC_CALL.search(line) or "if_neuron_fire" in line:
            assert "*" not in line, line


@pytest.mark.parametrize("strategy, io_type", [("event", "io_parallel"), ("folded", "io_stream")])
def test_the_lane_blocks_add_only_after_the_first_layer(tmp_path, strategy, io_type) -> None:
    """The folded and event blocks, on arrays and through line buffers: the spiking kernels and every
    helper they run have no '*'; the analog first layer's MAC is the one product."""
    snn = hwflow.convert(build(conv_arch(t=2)), encoding="direct")
    hwflow.hls.to_hls(snn, tmp_path / "p", strategy=strategy, lanes=3, io_type=io_type).write()
    firmware = tmp_path / "p" / "firmware"
    cpp = (firmware / "myproject.cpp").read_text().split("insert layers")[1]
    headers = strip_comments("".join(p.read_text() for p in sorted((firmware / "nnet_utils").glob("*.h"))))
    called = set(CALL.findall(cpp))
    stream = "_stream" if io_type == "io_stream" else ""
    assert {"if_layer" + stream, "bitserial_max_pool_lanes" + stream} <= called, called
    helpers = {"lane_bias", "lane_add", "tap_at", "lane_integrate_spiking", "lane_pixel_out", "emit", "fire_step",
               "step_threshold", "lane_pool_pixel", "fill", "pixel_write", "stream_to_array", "array_to_stream"}
    for name in called | helpers:
        text = function_text(headers, name)
        assert "*" not in text, f"{name} multiplies:\n{text}"
    assert "* k" in function_text(headers, "lane_integrate_analog")


# ---------------------------------------------------------------------------------- errors

def small_snn(encoding: str = "direct") -> hwflow.SNN:
    return hwflow.convert(build(dense_arch()), encoding=encoding)


def test_reuse_factor_not_dividing_is_a_one_line_error(tmp_path) -> None:
    snn = small_snn()  # first layer 16 x 8 = 128 synapses
    with pytest.raises(HwflowError, match=r"reuse_factor=3 does not divide the 128 synapses") as err:
        hwflow.hls.to_hls(snn, tmp_path / "prj", reuse_factor=3)
    assert "\n" not in str(err.value)
    with pytest.raises(HwflowError, match="positive integer"):
        hwflow.hls.to_hls(snn, tmp_path / "prj", reuse_factor=0)


def test_conv_reuse_factor_counts_synapses_per_output_pixel(tmp_path) -> None:
    snn = hwflow.convert(build(conv_arch()))  # conv: 3 x 3 x 1 taps x 3 filters = 27 per pixel
    with pytest.raises(HwflowError, match=r"does not divide the 27 synapses per output pixel of layer"):
        hwflow.hls.to_hls(snn, tmp_path / "prj", reuse_factor=2)


def test_missing_compiler_is_a_clear_error(tmp_path, monkeypatch) -> None:
    hls_model = hwflow.hls.to_hls(small_snn(), tmp_path / "prj")
    monkeypatch.setenv("PATH", str(tmp_path))  # no g++ on it
    with pytest.raises(HwflowError, match=r"g\+\+ was not found on PATH"):
        hwflow.hls.compile(hls_model)


def test_unsupported_layer_kind_backend_and_io_type(tmp_path) -> None:
    from dataclasses import dataclass, replace

    @dataclass
    class AvgPool3D:
        name: str = "mystery_pool"

    snn = small_snn()
    with pytest.raises(HwflowError, match=r"'mystery_pool' of kind AvgPool3D has no HLS block"):
        hwflow.hls.to_hls(replace(snn, layers=snn.layers[:1] + [AvgPool3D()] + snn.layers[1:]), tmp_path / "a")
    with pytest.raises(HwflowError, match=r"backend='Quartus' is not supported"):
        hwflow.hls.to_hls(snn, tmp_path / "b", backend="Quartus")
    with pytest.raises(HwflowError, match=r"io_type='io_serial' is not supported"):
        hwflow.hls.to_hls(snn, tmp_path / "c", io_type="io_serial")


def test_predict_rejects_inputs_off_the_grid(tmp_path) -> None:
    snn = small_snn()
    hls_model = hwflow.hls.to_hls(snn, tmp_path / "prj")
    x = np.full((1,) + snn.encoder.shape, 0.1, np.float32)  # grid step is 2^-3
    with pytest.raises(HwflowError, match="off the fixed-point grid"):
        hwflow.hls.predict(hls_model, snn, x)  # checked before any firmware call
    for model in (hls_model, ann_to_hls(build(dense_arch()), tmp_path / "ann")):  # hls4ml's own entry points too
        for call in (model.predict, model.trace):
            with pytest.raises(HwflowError, match=r"off the fixed-point grid .*snn.quantize_input"):
                call(x)
            with pytest.raises(HwflowError, match="off the fixed-point grid"):
                call(x.reshape(len(x), -1))  # flat rows, as hls4ml also takes them
