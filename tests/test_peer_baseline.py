"""The headline check: SNN firmware == hls4ml's own ANN firmware == QKeras, on every sample."""
from __future__ import annotations

import pytest

import numpy as np

import hwflow
from hwflow.config import load_config
from hwflow.firmware import firmware_stage
from hwflow.train import train
from randmodels import Arch, build, inputs

pytestmark = [pytest.mark.firmware, pytest.mark.slow]


def test_digits_mlp_firmware_equals_hls4ml_ann(tmp_path, capsys) -> None:
    cfg = load_config("digits_mlp", overrides={"train": {"epochs": 3}, "hls": {"backend": "Vivado"}})
    result = train(cfg, verbose=0)
    snn = hwflow.convert(result.model)
    x = result.dataset.x_test
    y = result.model.predict(x, verbose=0)
    fields = firmware_stage(snn, result.model, x, y, cfg, tmp_path / "firmware", progress=True)
    err = capsys.readouterr().err  # no silent stretch: every compile and C simulation says what it does
    for step in ("g++: compiling the SNN firmware", "g++: hls4ml's ANN firmware compiled in",
                 "C-simulating the SNN firmware: 100%", "C-simulating hls4ml's ANN firmware: 100%",
                 "firmware trace build"):
        assert step in err, (step, err[-1500:])
    assert fields["mismatches"] == {"csim_vs_qkeras": 0, "csim_vs_hls4ml_ann": 0, "hls4ml_ann_vs_qkeras": 0,
                                    "trace": None}
    assert (tmp_path / "firmware" / "snn" / "firmware" / "myproject.cpp").is_file()
    assert (tmp_path / "firmware" / "ann" / "firmware" / "myproject.cpp").is_file()


def test_random_cnn_with_ties_firmware_equals_hls4ml_ann(tmp_path) -> None:
    # hw=8: hls4ml 1.3.0's io_parallel MaxPooling2D(padding='same') on an odd size (7 -> 4) differs from
    # Keras at the padded border, so its ANN would not be the reference there; hwflow's pooling is exact
    arch = Arch(seed=11, hw=8, channels=2, input_bits=4, input_integer=2,
                convs=[(3, 3, 1, "same", 3, 1, "max"), (4, 2, 1, "valid", 2, 1, None)], denses=[(8, 3, 1)],
                weight_bits=3, weight_integer=1, bias_bits=4, bias_integer=2, out_units=4, readout=True)
    model = build(arch)
    x = inputs(arch, 200, seed=5)
    snn = hwflow.convert(model, encoding="bitplane")
    cfg = load_config("digits_mlp", overrides={"hls": {"reuse_factor": 1}})
    y = model.predict(x, verbose=0)
    fields = firmware_stage(snn, model, x, y, cfg, tmp_path)
    assert fields["mismatches"] == {"csim_vs_qkeras": 0, "csim_vs_hls4ml_ann": 0, "hls4ml_ann_vs_qkeras": 0,
                                    "trace": None}
    assert np.unique(y.round(6), axis=0).shape[0] > 10  # the outputs are not trivially constant
