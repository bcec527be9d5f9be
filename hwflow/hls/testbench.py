"""A self-checking C++ testbench for a written hls4ml project (hwflow SNN firmware or ANN baseline).

    hls_model.write()                                   # or hwflow.hls.compile(hls_model)
    hwflow.hls.write_testbench(hls_model, x, snn.logits(x))
    result = hwflow.hls.csim_testbench(hls_model.config.get_output_dir())   # g++, no Vivado/Vitis
    assert result.mismatches == 0

The testbench (hls_templates/hwflow_test.cpp) replaces hls4ml's ``<project>_test.cpp`` and keeps
its tb_data files and results logs, so hls4ml's build_prj.tcl runs it unchanged in csim_design and
cosim_design, which then fail unless every output equals the Python model's bit for bit.
hls4ml's write() rewrites ``<project>_test.cpp``: write the testbench after write() / compile().
"""
from __future__ import annotations

import re
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from hwflow.errors import HwflowError
from hwflow.hls.toolchain import require_gxx
from hwflow.hls.vivado_build import project_settings
from hwflow.package_data import TEMPLATE_DIR

TEMPLATE = TEMPLATE_DIR / "hwflow_test.cpp"
SUMMARY = re.compile(r"^hwflow testbench: (\d+) samples, (\d+) mismatches$", re.M)


@dataclass
class TestbenchResult:
    """One run of the testbench; samples / mismatches are None if it stopped before its summary line."""

    __test__ = False  # not a pytest class

    samples: int | None
    mismatches: int | None
    returncode: int
    seconds: float  # g++ build and run
    output: str  # compiler and testbench output


def check_on_grid(values: np.ndarray, precision, what: str) -> None:
    """HwflowError unless every value is exactly representable in the ap_[u]fixed / ap_[u]int precision."""
    frac = precision.width - precision.integer
    lo, hi = (-(2 ** (precision.width - 1)), 2 ** (precision.width - 1) - 1) if precision.signed \
        else (0, 2**precision.width - 1)
    scaled = values * 2.0**frac
    bad = (scaled != np.round(scaled)) | (scaled < lo) | (scaled > hi)
    if bad.any():
        where = tuple(int(i) for i in np.argwhere(bad)[0])
        raise HwflowError(f"{int(bad.sum())} {what} values are not exactly representable in the top function's "
                          f"{what} type {precision.definition_cpp()}, e.g. {what}{list(where)} = {values[where]!r}")


def sample_rows(values, n_values: int, what: str) -> np.ndarray:
    """values as float64 [samples, n_values] (one sample per row, C order as hls4ml flattens)."""
    values = np.asarray(values, dtype=np.float64)
    if values.ndim == 0 or values.size != len(values) * n_values:
        raise HwflowError(f"{what} has shape {values.shape}; the top function takes {n_values} {what} values "
                          "per sample (shape [samples, ...])")
    return values.reshape(len(values), n_values)


def write_dat(path: Path, rows: np.ndarray) -> None:
    """One sample per line; repr of float64 is exact for the dyadic values of fixed-point types."""
    path.write_text("".join(" ".join(map(repr, row)) + "\n" for row in rows.tolist()))


def testbench_source(hls_model) -> str:
    """hls_templates/hwflow_test.cpp filled in for the model's top function."""
    project = hls_model.config.get_project_name()
    (inp,), (out,) = hls_model.get_input_variables(), hls_model.get_output_variables()
    brams = [v for v in hls_model.get_weight_variables() if v.storage.lower() == "bram"]
    namespace = hls_model.config.get_writer_config().get("Namespace")
    inserts = {
        "bram": [f'#include "firmware/weights/{b.name}.h"' for b in brams],
        "namespace": [f"using namespace {namespace};"] if namespace else [],
        "sizes": [f"const size_t N_IN = {inp.size()}, N_OUT = {out.size()};"],
        "data": [f"{inp.definition_cpp()};", f"hwflow_tb::load<{inp.type.name}, {inp.size_cpp()}>(&in[0], {inp.name});",
                 f"{out.definition_cpp()};"],
        "top-level-function": [f"{project}({', '.join(v.name for v in [inp, out, *brams])});"],
        "check": [f"hwflow_tb::check<{out.type.name}, {out.size_cpp()}>(&expected[0], {out.name}, samples);"],
    }
    lines = []
    for line in TEMPLATE.read_text().replace("firmware/myproject.h", f"firmware/{project}.h").splitlines():
        marker = re.search(r"// hwflow insert (\S+)$", line)
        indent = line[:len(line) - len(line.lstrip())]
        lines += [indent + code for code in inserts[marker.group(1)]] if marker else [line]
    return "\n".join(lines) + "\n"


def write_testbench(hls_model, x: np.ndarray, expected: np.ndarray) -> Path:
    """Write tb_data (inputs x, exact expected outputs) and the self-checking `<project>_test.cpp`.

    The project must already be written (hls_model.write() or compile()). x must lie exactly on the
    top function's input type and expected on its output type (HwflowError otherwise); both are
    [samples, ...] and flattened in C order, channels last, as hls4ml lays out its arrays and streams.
    Returns the testbench path. If the project is configured with WriteTar, its archive is rewritten.
    """
    project_dir = Path(hls_model.config.get_output_dir())
    project = hls_model.config.get_project_name()
    if not (project_dir / "firmware" / f"{project}.h").is_file():
        raise HwflowError(f"{project_dir} holds no written hls4ml project '{project}'; call hls_model.write() first")
    inputs, outputs = hls_model.get_input_variables(), hls_model.get_output_variables()
    if len(inputs) != 1 or len(outputs) != 1:
        raise HwflowError(f"the testbench supports one input and one output; the model has {len(inputs)} and "
                          f"{len(outputs)}")
    x_rows = sample_rows(x, inputs[0].size(), "input")
    y_rows = sample_rows(expected, outputs[0].size(), "output")
    if len(x_rows) != len(y_rows) or len(x_rows) == 0:
        raise HwflowError(f"got {len(x_rows)} input and {len(y_rows)} expected output samples; give the same "
                          "positive number of each")
    check_on_grid(x_rows, inputs[0].type.precision, "input")
    check_on_grid(y_rows, outputs[0].type.precision, "output")
    (project_dir / "tb_data").mkdir(exist_ok=True)
    write_dat(project_dir / "tb_data" / "tb_input_features.dat", x_rows)
    write_dat(project_dir / "tb_data" / "tb_output_predictions.dat", y_rows)
    path = project_dir / f"{project}_test.cpp"
    path.write_text(testbench_source(hls_model))
    hls_model.config.backend.writer.write_tar(hls_model)  # a no-op unless WriterConfig WriteTar is set
    return path


def csim_testbench(project_dir: str | Path) -> TestbenchResult:
    """Build the project's testbench and firmware with g++ and run it in the project directory.

    The flags are those of hls4ml's build_lib.sh (-O3, -I firmware/ap_types, WEIGHTS_DIR) with
    build_prj.tcl's -std=c++0x, so the sources are also checked under the HLS tools' C++ standard.
    """
    project_dir = Path(project_dir).resolve()
    project = project_settings(project_dir)["project_name"]
    require_gxx("the C simulation testbench")
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        exe = Path(tmp) / f"{project}_tb"
        compiled = subprocess.run(
            ["g++", "-O3", "-std=c++0x", "-Ifirmware", "-Ifirmware/ap_types",
             f'-DWEIGHTS_DIR="{project_dir / "firmware" / "weights"}"',
             f"{project}_test.cpp", f"firmware/{project}.cpp", "-o", str(exe)],
            cwd=project_dir, capture_output=True, text=True)
        output, returncode = compiled.stdout + compiled.stderr, compiled.returncode
        if returncode == 0:
            ran = subprocess.run([str(exe)], cwd=project_dir, capture_output=True, text=True)
            output, returncode = output + ran.stdout + ran.stderr, ran.returncode
    summary = SUMMARY.search(output)
    samples, mismatches = (int(summary.group(1)), int(summary.group(2))) if summary else (None, None)
    return TestbenchResult(samples, mismatches, returncode, time.perf_counter() - start, output)
