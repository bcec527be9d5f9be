"""A wheel built from the repository carries every module, the C++ templates and the zoo, and works
from any working directory: convert a QKeras model, compile its firmware, equal outputs; `hwflow run`."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

import hwflow

pytestmark = [pytest.mark.firmware, pytest.mark.slow]
REPO = Path(hwflow.__file__).resolve().parents[1]

SCRIPT = """
import json, sys
import numpy as np
import tensorflow as tf
from qkeras import QActivation, QDense, quantized_bits, quantized_relu
import hwflow, hwflow.hls
from hwflow.package_data import TEMPLATE_DIR, ZOO_DIR

q = dict(kernel_quantizer=quantized_bits(4, 1, alpha=1), bias_quantizer=quantized_bits(5, 2, alpha=1))
model = tf.keras.Sequential([tf.keras.Input((6,)), QActivation(quantized_relu(3, 1)),
                             QDense(5, **q), QActivation(quantized_relu(3, 1)), QDense(3, **q)])
rng = np.random.default_rng(0)
for layer in model.layers:
    if layer.get_weights():
        layer.set_weights([np.round(rng.uniform(-2, 2, w.shape) * 8) / 8 for w in layer.get_weights()])
snn = hwflow.convert(model)
x = snn.quantize_input(rng.uniform(0, 2, (200, 6)))
hls_model = hwflow.hls.to_hls(snn, "prj")
hwflow.hls.compile(hls_model)
y_fw = hwflow.hls.predict(hls_model, snn, x)
y_keras = model.predict(x, verbose=0)
print(json.dumps({"hwflow": hwflow.__file__, "templates": str(TEMPLATE_DIR), "zoo": str(ZOO_DIR),
                  "mismatches": int(np.any(y_fw != y_keras, axis=1).sum()), "distinct": len(np.unique(y_keras))}))
"""


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """The wheel of this checkout, installed (without dependencies) into a fresh folder."""
    tmp = tmp_path_factory.mktemp("wheel")
    source = tmp / "source"  # a copy: setuptools' build/ folder must neither land in nor come from the checkout
    for name in ("hwflow", "hls_templates", "models"):
        shutil.copytree(REPO / name, source / name, ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO / name, source / name)
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w",
                    str(tmp / "dist"), str(source)], check=True, capture_output=True)
    (wheel,) = (tmp / "dist").glob("hwflow-*.whl")
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(tmp / "site"),
                    str(wheel)], check=True, capture_output=True)
    return tmp


def env_for(site: Path) -> dict:
    return {**os.environ, "PYTHONPATH": str(site), "PYTHONDONTWRITEBYTECODE": "1"}


def test_wheel_holds_every_module_the_templates_and_the_zoo(installed) -> None:
    (wheel,) = (installed / "dist").glob("hwflow-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    sources = {p.relative_to(REPO).as_posix() for p in (REPO / "hwflow").rglob("*.py")}
    assert sources <= names, sorted(sources - names)
    templates = {p.relative_to(REPO).as_posix() for p in (REPO / "hls_templates").rglob("*") if p.is_file()}
    assert any(t.startswith("hls_templates/rtl/") for t in templates)
    assert {f"hwflow/{t}" for t in templates if "__pycache__" not in t} <= names
    assert {f"hwflow/models/{p.name}" for p in (REPO / "models").glob("*.yaml")} <= names


def test_wheel_converts_and_compiles_from_another_folder(installed, tmp_path) -> None:
    work = tmp_path / "elsewhere"
    work.mkdir()
    out = subprocess.run([sys.executable, "-c", SCRIPT], cwd=work, env=env_for(installed / "site"),
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-3000:]
    result = json.loads(out.stdout.strip().splitlines()[-1])
    site = str(installed / "site")
    assert result["hwflow"].startswith(site) and result["templates"].startswith(site) and result["zoo"].startswith(site)
    assert result["mismatches"] == 0 and result["distinct"] > 10
    assert (work / "prj" / "firmware" / "nnet_utils" / "hwflow_if_dense.h").is_file()


def test_hwflow_run_from_the_wheel(installed, tmp_path) -> None:
    out = subprocess.run(
        [str(installed / "site" / "bin" / "hwflow"), "run", "--set", "train.epochs=1", "--set",
         "train.float_baseline=false", "--set", "hls.ann_baseline=false", "--set", "hls.testbench_samples=20",
         "--set", "dataset.limit_test=60", "--set", "rtl.synthesize=false", "--out", "r"], cwd=tmp_path,
        env=env_for(installed / "site"),
        capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-3000:]
    report = json.loads((tmp_path / "r" / "report.json").read_text())
    assert report["model"] == "digits_mlp" and report["samples"] == 60
    assert report["mismatches"]["snn_vs_qkeras"] == 0 and report["mismatches"]["csim_vs_qkeras"] == 0
    assert report["mismatches"]["rtl_vs_qkeras"] == 0  # the Verilog templates came from the wheel
    assert report["testbench"]["mismatches"] == 0
