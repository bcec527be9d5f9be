"""UpSampling2D / UpSampling1D (nearest): exact in the SNN, the HLS C simulation (latency io_parallel, event
through line buffers on io_stream, folded) and the RTL twin (frame and line buffers, and its ANN)."""
from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf
from qkeras import QActivation, QConv1D, QConv2D, QDense, quantized_bits, quantized_relu, ternary
from tensorflow.keras.layers import Flatten, MaxPooling2D, UpSampling1D, UpSampling2D

import hwflow
from hwflow.errors import HwflowError
from hwflow.ops.upsample import UpSample
from hwflow.rtl import tools
from randmodels import grid_inputs, grid_model

Q4 = quantized_bits(4, 0, alpha=1)
SHAPE = (5, 4, 2)


def relu(t: int = 3) -> QActivation:
    return QActivation(quantized_relu(t, 1))


def conv(filters: int, kernel, **kw) -> QConv2D:
    return QConv2D(filters, kernel, kernel_quantizer=Q4, bias_quantizer=Q4, **kw)


def dense(units: int = 3) -> QDense:
    return QDense(units, kernel_quantizer=Q4, bias_quantizer=Q4)


VARIANTS = {  # name: (input shape, fresh layers)
    "2x2 after the activation": (SHAPE, lambda: [conv(3, 2), relu(), UpSampling2D(2), conv(2, 3), relu(2),
                                                 Flatten(), dense()]),
    "(2, 3) before the activation": (SHAPE, lambda: [conv(3, 2), UpSampling2D((2, 3)), relu(), conv(2, 3, strides=2),
                                                     relu(2), Flatten(), dense()]),
    "rows only, twice, then a 'same' max pool": (SHAPE, lambda: [conv(3, 2), relu(), UpSampling2D((3, 1)),
                                                                 UpSampling2D((1, 2)), MaxPooling2D(2, padding="same"),
                                                                 conv(2, 2, padding="same"), relu(2), Flatten(),
                                                                 dense()]),
    "before a dense layer": (SHAPE, lambda: [conv(3, 2), relu(), UpSampling2D(2), Flatten(), dense(4), relu(),
                                             dense()]),
    "after a ternary activation": (SHAPE, lambda: [conv(3, 2), QActivation(ternary()), UpSampling2D((2, 1)),
                                                   conv(2, 2), relu(), Flatten(), dense()]),
    "the last layer": (SHAPE, lambda: [conv(3, 2), relu(2), UpSampling2D((1, 2))]),
    "UpSampling1D": ((6, 2), lambda: [QConv1D(3, 2, kernel_quantizer=Q4, bias_quantizer=Q4), relu(), UpSampling1D(3),
                                      QConv1D(2, 3, kernel_quantizer=Q4, bias_quantizer=Q4), relu(2), Flatten(),
                                      dense()]),
}


@pytest.mark.parametrize("name", list(VARIANTS))
@pytest.mark.parametrize("encoding", ["direct", "bitplane"])
def test_upsampling_equals_qkeras(name: str, encoding: str) -> None:
    shape, layers = VARIANTS[name]
    model = grid_model(shape, layers())
    snn = hwflow.convert(model, encoding=encoding)
    assert any(isinstance(layer, UpSample) for layer in snn.layers)
    x = grid_inputs(shape, 300, seed=1, saturated=0.1)
    y = model.predict(x, verbose=0)
    np.testing.assert_array_equal(snn.predict(x), y)
    np.testing.assert_array_equal(snn.trace(x).output, y)  # the plane-by-plane path (planes repeated, not levels)


def test_the_node_repeats_rows_and_columns_and_survives_json(tmp_path) -> None:
    model = grid_model(SHAPE, VARIANTS["(2, 3) before the activation"][1]())
    snn = hwflow.convert(model, encoding="bitplane")
    up = next(layer for layer in snn.layers if isinstance(layer, UpSample))
    assert (up.in_shape, up.out_shape, up.up, up.pool) == ((4, 3, 3), (8, 9, 3), (2, 3), (1, 1))
    before = snn.layers[snn.layers.index(up) - 1]
    assert before.neuron is not None  # the neuron fires first, the planes are copied after it
    from hwflow.serialize import load_snn, snn_json
    (tmp_path / "snn.json").write_text(snn_json(snn))
    again = load_snn(tmp_path / "snn.json")
    up_again = next(layer for layer in again.layers if isinstance(layer, UpSample))
    assert up_again.up == (2, 3)
    x = grid_inputs(SHAPE, 50, seed=3)
    np.testing.assert_array_equal(again.predict(x), model.predict(x, verbose=0))


@pytest.mark.parametrize("layers, encoding, message", [
    (lambda: [conv(3, 2), relu(), UpSampling2D(2, interpolation="bilinear"), Flatten(), dense()], "bitplane",
     r"with interpolation 'bilinear' \(hwflow converts 'nearest'"),
    (lambda: [UpSampling2D(2), conv(3, 2), relu(), Flatten(), dense()], "direct",
     "is not supported on the analog input"),
    (lambda: [conv(3, 2), UpSampling2D(2)], "bitplane", "upsample 'up_sampling2d.*' after the readout layer"),
])
def test_what_it_cannot_convert_is_one_line(layers, encoding: str, message: str) -> None:
    model = grid_model(SHAPE, layers())
    with pytest.raises(HwflowError, match=message) as err:
        hwflow.convert(model, encoding=encoding)
    assert "\n" not in str(err.value)


def upsample_net() -> tf.keras.Model:
    """Rows tripled and columns doubled before the activation, a 'same' convolution over the grown image,
    columns doubled again before a dense layer."""
    return grid_model(SHAPE, [conv(3, 2), UpSampling2D((3, 2)), relu(), conv(2, 3, padding="same", strides=(2, 1)),
                              relu(2), UpSampling2D((1, 2)), Flatten(), dense(4)], seed=2)


@pytest.mark.firmware
@pytest.mark.slow
@pytest.mark.skipif(tools.find(tools.VERILATOR) is None, reason="Verilator is needed for RTL simulation")
def test_firmware_and_rtl_of_upsampling_are_exact(tmp_path) -> None:
    """Event through line buffers (Vitis io_stream, a row re-read per copy), latency (Vivado io_parallel): C
    simulation == SNN == QKeras, trace and cycles equal to the RTL twin's; the RTL with line buffers (the
    upsampling block re-reads a two-row ring) and its ANN twin."""
    from test_rtl import check as rtl_check
    from test_strategies import check_stream_and_latency

    model = upsample_net()
    snn = hwflow.convert(model, encoding="bitplane")
    x = grid_inputs(SHAPE, 40, seed=4, saturated=0.1)
    check_stream_and_latency(tmp_path, model, snn, x, lanes=2)
    design, by_line = rtl_check(snn, model, x, tmp_path / "line", "folded", 3, buffers="line")
    up = next(s for s in design.stages if s.params.get("U_H") == 3)
    producer = design.stages[design.stages.index(up) - 1]
    assert producer.params["OUT_RING"] == 2 < producer.rows[0]  # the upsampler reads a ring of two input rows
    _, by_frame = rtl_check(snn, model, x, tmp_path / "frame", "folded", 3)
    assert (by_line.cycles < by_frame.cycles).all()
    rtl_check(snn, model, x, tmp_path / "ann", "ann", 2)


@pytest.mark.firmware
def test_hls4ml_ann_of_an_upsampling_model_is_exact(tmp_path) -> None:
    """The peer baseline: hls4ml converts UpSampling2D itself (its Resize layer); its C simulation == QKeras."""
    from hwflow.hls.ann import ann_to_hls
    from hwflow.hls.lower import csim_batches
    from hwflow.metrics import count_mismatches

    model = upsample_net()
    ann = ann_to_hls(model, tmp_path / "ann")
    hwflow.hls.compile(ann)
    x = grid_inputs(SHAPE, 100, seed=6, saturated=0.1)
    y = csim_batches(ann, x).astype(np.float32).reshape(len(x), -1)
    assert count_mismatches(y, model.predict(x, verbose=0)) == 0


def test_a_zoo_yaml_upsamples() -> None:
    """`type: upsample` in a zoo YAML builds an UpSampling2D, which the converter takes after the activation."""
    from hwflow.config import load_config
    from hwflow.model_builder import build_model

    layers = [{"type": "conv2d", "filters": 2, "kernel": 3}, {"type": "upsample", "size": 3},
              {"type": "conv2d", "filters": 2, "kernel": 3, "strides": 2}, {"type": "dense", "units": 10, "readout": True}]
    model = build_model(load_config("digits_mlp", overrides={"layers": layers}))
    up = next(layer for layer in model.layers if type(layer).__name__ == "UpSampling2D")
    assert tuple(up.size) == (3, 3) and up.output_shape[1:] == (18, 18, 2)
    snn = hwflow.convert(model, encoding="bitplane")
    assert [layer.kind for layer in snn.layers] == ["conv2d", "upsample", "conv2d", "flatten", "dense"]
