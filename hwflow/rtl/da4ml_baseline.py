"""The hls4ml ecosystem's own RTL generator, da4ml, as the fully parallel ANN of the same integer network.

da4ml (multiplier-free distributed arithmetic, pipelined) needs numpy >= 2 while TensorFlow 2.15
needs numpy < 2, so it runs in its own venv, $HWFLOW_CACHE/da4ml-venv (default
~/.cache/hwflow/da4ml-venv), created on first use with `pip install da4ml==0.6.0`. hwflow hands the
worker (da4ml_worker.py: standard library, numpy and da4ml only) the integer network as JSON:

    {"input": {"n": N, "bits": B}, "layers": [{"weight", "bias", "shift", "levels"}, ...]}

each layer u = x @ weight + bias in membrane units (the ANN's bias, without the SNN's half-threshold
shift), its level clip(round_half_to_even(u / 2^shift), 0, 2^levels - 1), or u itself for the
readout (levels 0). da4ml rounds half up or truncates: the worker builds QKeras's half-to-even from
da4ml's exact ops (proof in its `requantize`). The result is Verilator-checked against QKeras like
the RTL twin, and synthesized by the same Yosys (flattened, as da4ml's many adder instances need).
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

from hwflow.errors import HwflowError
from hwflow.metrics import count_mismatches
from hwflow.ops.dense import Dense
from hwflow.outputs import output_dir
from hwflow.package_data import TEMPLATE_DIR
from hwflow.rtl import tools, verilator, yosys
from hwflow.rtl.block import NOT_SYNTHESIZED
from hwflow.rtl.design import RtlResult

REQUIREMENT = "da4ml==0.6.0"
WORKER = Path(__file__).with_name("da4ml_worker.py")
TESTBENCH = TEMPLATE_DIR / "rtl" / "hwflow_da4ml_tb.cpp"
TOP = "da4ml_net_wrapper"  # the worker's top module (da4ml's own IO wrapper)
META = "da4ml.json"
DA4ML_DIR = "rtl_da4ml"  # in a run folder
# Measured here: digits_mlp's 4,736 weights take seconds; mnist_mlp's 233,472 took over 9 GB of memory in
# da4ml's trace within two minutes (stopped). Refuse well before that.
MAX_WEIGHTS = 65_536
LATENCY_SOURCE = "da4ml's pipeline depth (the Verilator testbench reads every output that many cycles later)"


def venv_dir() -> Path:
    base = Path(os.environ.get("HWFLOW_CACHE", Path.home() / ".cache" / "hwflow"))
    return base / "da4ml-venv"


def python() -> Path:
    """The da4ml venv's python, creating the venv on first use (a few seconds with a package cache)."""
    target = venv_dir()
    exe = target / "bin" / "python"
    if exe.is_file():
        return exe
    target.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=".da4ml-venv-", dir=target.parent))
    try:
        print(f"[hwflow] creating the da4ml environment {target} ({REQUIREMENT}, numpy>=2) ...", file=sys.stderr,
              flush=True)
        for cmd in ([sys.executable, "-m", "venv", str(work)], [str(work / "bin" / "python"), "-m", "pip", "install",
                                                                  "-q", REQUIREMENT]):
            run = subprocess.run(cmd, capture_output=True, text=True)
            if run.returncode != 0:
                raise HwflowError(f"could not create the da4ml environment ({' '.join(cmd[-2:])}): "
                                  f"{tools.first_errors(run.stdout + run.stderr)}; pip must reach PyPI for {REQUIREMENT}")
        os.replace(work, target)  # complete or absent (only bin/python is used: it works from any folder)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return exe


def network(snn) -> dict:
    """The SNN's integer network in the worker's JSON form; HwflowError unless it is dense on unsigned levels."""
    layers = [layer for layer in snn.layers if not layer.reshapes_only]
    other = next((layer for layer in layers if not isinstance(layer, Dense)), None)
    if other is not None:
        raise HwflowError(f"layer '{other.name}' ({other.kind}): the da4ml baseline covers dense networks (QDense, "
                          "Flatten); a fully parallel convolution would not fit a part anyway")
    other = next((layer for layer in layers if layer.neuron is not None
                  and (layer.neuron.sign or layer.neuron.po2_bounds is not None)), None)
    if other is not None:
        kind = "a binary() sign" if other.neuron.sign else "a quantized_relu_po2 level"
        raise HwflowError(f"layer '{other.name}' fires {kind}; the da4ml baseline rounds onto quantized_relu "
                          "levels only: compare with the folded ANN (architecture ann) instead")
    weights = sum(int(np.count_nonzero(layer.weight)) for layer in layers)
    if weights > MAX_WEIGHTS:
        raise HwflowError(f"the network has {weights:,} nonzero weights; da4ml's fully parallel design is built here "
                          f"up to {MAX_WEIGHTS:,} (mnist_mlp's 233,472 took over 9 GB): compare with the folded ANN "
                          "(architecture ann) instead")
    grid = snn.encoder.grid
    if grid.lo != 0:
        raise HwflowError(f"the input grid {grid} has negative levels; the da4ml baseline takes unsigned input levels")
    out = {"input": {"n": int(np.prod(snn.encoder.shape)), "bits": int(grid.hi).bit_length()}, "layers": []}
    for layer in layers:
        n_out = layer.weight.shape[1]
        # the ANN's bias as the synapses see offset-binary inputs, plus a signed activation's offset in levels
        offset = 0 if layer.is_readout else layer.neuron.offset * layer.neuron.threshold
        bias = np.broadcast_to(np.asarray(layer.offset_bias + offset, dtype=np.int64), (n_out,))
        out["layers"].append({"weight": layer.weight.astype(np.int64).tolist(), "bias": [int(b) for b in bias],
                              "shift": 0 if layer.is_readout else int(layer.neuron.threshold_log2),
                              "levels": 0 if layer.is_readout else int(layer.neuron.time_steps)})
    return out


class Da4mlDesign:
    """da4ml's Verilog of the network in `path`: simulate(x) in Verilator, synthesize() with Yosys."""

    def __init__(self, path: Path, snn, meta: dict) -> None:
        self.path, self.snn, self.meta = Path(path), snn, meta

    @property
    def latency(self) -> int:
        """Cycles from an input to its output (a new input every cycle: the initiation interval is 1)."""
        return int(self.meta["latency_cycles"])

    def simulate(self, x: np.ndarray) -> RtlResult:
        """Every sample through the pipeline: outputs as snn.logits gives them; cycles = the latency."""
        levels = self.snn.input_levels(x)
        levels = levels.reshape(len(levels), -1)
        m = self.meta
        defines = {"TB_IN_BITS": m["input_bits"], "TB_OUT_BITS": m["output_bits"],
                   "TB_OUT_SIGNED": int(m["output_signed"]), "TB_OUT_SHIFT": m["output_lsb_shift"],
                   "TB_LATENCY": self.latency}
        binary = verilator.build(self.path, [self.path / s for s in m["sources"]], TESTBENCH, TOP, defines)
        with tempfile.TemporaryDirectory(prefix="hwflow-da4ml-") as tmp:
            with open(Path(tmp) / "inputs.txt", "w") as f:
                f.write(f"{len(levels)} {levels.shape[1]} {m['outputs']}\n")
                np.savetxt(f, levels, fmt="%d")
            run = subprocess.run([str(binary)], cwd=tmp, capture_output=True, text=True)
            if run.returncode != 0:
                raise HwflowError(f"the Verilator simulation of {self.path} failed: {tools.first_errors(run.stderr)}")
            raw = np.loadtxt(Path(tmp) / "outputs.txt", dtype=np.int64, ndmin=2).reshape(len(levels), m["outputs"])
        return RtlResult(decode(self.snn, raw), np.full(len(levels), self.latency, np.int64))

    def synthesize(self, family: str = "xcup", dsp: bool = True) -> dict:
        """Yosys synth_xilinx -flatten: the totals of RtlDesign.synthesize (no per-block counts)."""
        result = yosys.synthesize(self.path, self.meta["sources"], TOP, family, dsp=dsp, flat=True)
        result.update(architecture="da4ml", lanes=None)
        return result


def decode(snn, raw: np.ndarray) -> np.ndarray:
    """Output integers -> what snn.logits returns (readout membranes in units, or the last levels on their grid)."""
    last = [layer for layer in snn.layers if not layer.reshapes_only][-1]
    out = (raw.astype(np.float64) * 2.0**-last.frac).astype(np.float32) if last.is_readout \
        else last.neuron.grid.values(raw)
    return out.reshape((len(raw),) + tuple(snn.output_shape))


def to_da4ml(snn, out_dir: str | Path, force: bool = False) -> Da4mlDesign:
    """Write da4ml's pipelined Verilog of the SNN's integer ANN into out_dir (the venv is made on first use)."""
    net = network(snn)
    exe = python()
    out = Path(out_dir)
    with output_dir(out, force) as tmp:
        (tmp / "network.json").write_text(json.dumps(net))
        run = subprocess.run([str(exe), str(WORKER), "network.json", "."], cwd=tmp, capture_output=True, text=True)
        if run.returncode != 0 or not (tmp / META).is_file():
            raise HwflowError(f"da4ml could not build {snn.name}: {tools.first_errors(run.stdout + run.stderr)}")
        shutil.rmtree(tmp / "da4ml_project", ignore_errors=True)  # da4ml's own project; the flat copy is kept
        meta = json.loads((tmp / META).read_text())
    return Da4mlDesign(out.resolve(), snn, meta)


def da4ml_stage(snn, x: np.ndarray, y_qkeras: np.ndarray, out: Path, progress: bool = False) -> dict:
    """Report fields `rtl_da4ml` (latency, interval, da4ml's version; resources come from `hwflow synth`)
    and mismatches `rtl_da4ml_vs_qkeras` of da4ml's design of the network, written to `out`."""
    if progress:
        print(f"[hwflow] da4ml: the fully parallel ANN of the same network, Verilator on {len(x)} samples ...",
              file=sys.stderr, flush=True)
    design = to_da4ml(snn, out, force=True)
    result = design.simulate(x)
    fields = {"dir": DA4ML_DIR, "samples": int(len(x)), "latency_cycles": design.latency, "initiation_interval": 1,
              "cycles": {"min": design.latency, "mean": float(design.latency), "max": design.latency,
                         "source": LATENCY_SOURCE}, "resources": NOT_SYNTHESIZED,
              "da4ml": design.meta["da4ml"], "pipeline_stages": design.meta["pipeline_stages"]}
    vs_qkeras = count_mismatches(result.output, y_qkeras) if snn.tf_float32_exact else None
    return {"rtl_da4ml": fields, "mismatches": {"rtl_da4ml_vs_qkeras": vs_qkeras}}


def synthesize_dir(path: Path, family: str = "xcup", dsp: bool = True) -> dict:
    """Synthesize the da4ml design in `path` (its da4ml.json names the sources)."""
    meta = json.loads((Path(path) / META).read_text())
    return Da4mlDesign(path, None, meta).synthesize(family, dsp)
