"""The self-checking testbench passes on the exact Python outputs and catches a one-LSB error.

Each compiled case builds the testbench twice with g++ (5-10 s each): once with the true expected
outputs, once with one of them moved by one LSB of the output type.
"""
from __future__ import annotations


import numpy as np
import pytest

import hwflow
import hwflow.hls
from hwflow.cli import main
from hwflow.errors import HwflowError
from hwflow.hls.ann import ann_to_hls
from randmodels import Arch, build, inputs

N = 64


def arch() -> Arch:
    """conv + dense + readout: signed fixed-point outputs, streams of multi-channel packs."""
    return Arch(seed=7, hw=4, channels=1, input_bits=3, input_integer=2, convs=[(2, 3, 1, "same", 2, 1, None)],
                denses=[(6, 3, 1)], weight_bits=4, weight_integer=1, bias_bits=5, bias_integer=2, out_units=5,
                readout=True)


def project(tmp_path, kind: str, io_type: str, backend: str):
    model = build(arch())
    snn = hwflow.convert(model, encoding="bitplane")
    prj = tmp_path / f"{kind}_{io_type}"
    if kind == "snn":
        hls_model = hwflow.hls.to_hls(snn, prj, backend=backend, io_type=io_type)
    else:
        hls_model = ann_to_hls(model, prj, backend=backend, io_type=io_type)
    hls_model.write()
    return hls_model, snn, prj


def move_one_lsb(prj, lsb: float, sample: int, index: int) -> None:
    path = prj / "tb_data" / "tb_output_predictions.dat"
    rows = [line.split() for line in path.read_text().splitlines()]
    rows[sample][index] = repr(float(rows[sample][index]) + lsb)
    path.write_text("".join(" ".join(row) + "\n" for row in rows))


@pytest.mark.firmware
@pytest.mark.parametrize("kind,io_type,backend", [("snn", "io_parallel", "Vitis"), ("ann", "io_parallel", "Vivado"),
                                                  ("snn", "io_stream", "Vitis")])
def test_testbench_passes_exact_outputs_and_catches_one_lsb(tmp_path, capsys, kind, io_type, backend) -> None:
    hls_model, snn, prj = project(tmp_path, kind, io_type, backend)
    x = inputs(arch(), N, seed=1)
    expected = snn.predict(x)
    assert len(np.unique(expected)) > 5  # not a degenerate network
    path = hwflow.hls.write_testbench(hls_model, x, expected)
    assert path == prj / "myproject_test.cpp" and "hwflow_tb::check<result_t" in path.read_text()

    result = hwflow.hls.csim_testbench(prj)
    assert (result.returncode, result.samples, result.mismatches) == (0, N, 0), result.output
    assert f"hwflow testbench: {N} samples, 0 mismatches" in result.output
    assert len((prj / "tb_data" / "csim_results.log").read_text().splitlines()) == N  # for build_prj's validation

    precision = hls_model.get_output_variables()[0].type.precision
    move_one_lsb(prj, 2.0 ** (precision.integer - precision.width), sample=5, index=3)
    result = hwflow.hls.csim_testbench(prj)
    assert (result.returncode, result.samples, result.mismatches) == (1, N, 1), result.output
    assert "MISMATCH sample 5 output 3" in result.output
    if kind == "snn" and io_type == "io_parallel":  # the CLI: exit 1 (a check failed), the mismatch shown
        capsys.readouterr()
        assert main(["csim", "--testbench", str(prj)]) == 1
        out, err = capsys.readouterr()
        assert out.startswith("MISMATCH sample 5 output 3") and f"{N} samples, 1 mismatches" in out
        assert err.startswith("hwflow: check failed:") and err.count("\n") == 1


def test_stream_testbench_source_and_input_errors(tmp_path) -> None:
    hls_model, snn, prj = project(tmp_path, "snn", "io_stream", "Vitis")
    x = inputs(arch(), 4, seed=2)
    source = hwflow.hls.write_testbench(hls_model, x, snn.predict(x)).read_text()
    assert "hls::stream<input_t> snn_input" in source and "myproject(snn_input, layer" in source
    assert (prj / "tb_data" / "tb_input_features.dat").read_text().count("\n") == 4

    off = x.copy()
    off[2, 1, 3, 0] += 0.25  # the input grid step is 0.5
    with pytest.raises(HwflowError, match=r"1 input values are not exactly representable .* ap_ufixed<3,2>"):
        hwflow.hls.write_testbench(hls_model, off, snn.predict(x))
    with pytest.raises(HwflowError, match=r"output values are not exactly representable"):
        hwflow.hls.write_testbench(hls_model, x, snn.predict(x) + 2.0**-20)
    with pytest.raises(HwflowError, match=r"takes 5 output values per sample"):
        hwflow.hls.write_testbench(hls_model, x, snn.predict(x)[:, :4])
    with pytest.raises(HwflowError, match=r"call hls_model.write\(\) first"):
        hwflow.hls.write_testbench(hwflow.hls.to_hls(snn, tmp_path / "unwritten"), x, snn.predict(x))


def test_missing_compiler_is_a_one_line_error(tmp_path, monkeypatch) -> None:
    _, _, prj = project(tmp_path, "snn", "io_parallel", "Vivado")
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(HwflowError, match=r"g\+\+ was not found on PATH") as err:
        hwflow.hls.csim_testbench(prj)
    assert "\n" not in str(err.value)
