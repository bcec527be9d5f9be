"""A generated RTL design: Verilator co-simulation (outputs, measured cycles, trace) and Yosys synthesis."""
from __future__ import annotations

import json
import os
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm import tqdm

from hwflow import simulate
from hwflow.errors import HwflowError
from hwflow.ops.encoder import encode
from hwflow.package_data import TEMPLATE_DIR
from hwflow.rtl import nextpnr, tools, verilator, yosys
from hwflow.rtl.schedule import line_latency
from hwflow.rtl.block import TOP, RtlStage, block_module, design_sources

TESTBENCH = TEMPLATE_DIR / "rtl" / "hwflow_rtl_tb.cpp"


@dataclass
class RtlResult:
    """What the RTL did for a batch: outputs as snn.logits gives them, and measured cycles per sample."""

    output: np.ndarray
    cycles: np.ndarray  # int64 [B], ap_start to ap_done, counted by the testbench on the RTL's own handshake
    spikes: dict[str, np.ndarray] | None = None  # trace: layer -> uint8 [B, T, n] output planes
    membranes: dict[str, np.ndarray] | None = None  # trace: layer -> int64 [B, n] before firing


class RtlDesign:
    """The Verilog of hwflow.to_rtl in `path`: simulate(x) in Verilator, synthesize() with Yosys."""

    def __init__(self, path: Path, snn, stages: list[RtlStage], architecture: str, lanes: int,
                 buffers: str = "frame") -> None:
        self.path, self.snn, self.stages = Path(path), snn, stages
        self.architecture, self.lanes, self.buffers = architecture, lanes, buffers

    @property
    def sources(self) -> list[str]:
        return design_sources({s.module for s in self.stages})

    # ----------------------------------------------------------------------------- simulation

    def simulate(self, x: np.ndarray, trace: bool = False, progress: bool = False) -> RtlResult:
        """Stream every sample through the RTL: outputs (shape and dtype of snn.logits) and cycles.

        trace: also record every layer's spike planes and membranes from the RTL (see `first_difference`);
        progress: a progress bar over the samples.
        """
        levels = self.snn.input_levels(x)
        levels = levels.reshape(len(levels), -1)
        binary = verilator.build(self.path, [self.path / s for s in self.sources], TESTBENCH)
        out_stage = self.stages[-1]
        n_out = out_stage.params["N"]
        with tempfile.TemporaryDirectory(prefix="hwflow-rtlsim-") as tmp:
            run_dir = Path(tmp)
            for s in self.stages:
                for name in s.memories:
                    os.symlink(self.path / name, run_dir / name)
            with open(run_dir / "inputs.txt", "w") as f:
                f.write(f"{len(levels)} {levels.shape[1]} {n_out} {out_stage.params['TDATA_BITS']}\n")
                np.savetxt(f, levels, fmt="%d")
            args = [str(binary)] + (["+trace"] if trace else [])
            lines = []
            bar = tqdm(total=len(levels), desc="Verilator RTL simulation", unit="sample", disable=not progress)
            with open(run_dir / "stderr.txt", "w+") as err, \
                    subprocess.Popen(args, cwd=run_dir, stdout=subprocess.PIPE, stderr=err, text=True) as proc:
                for line in proc.stdout:
                    if line.startswith("N "):
                        bar.update(1)
                    if trace:
                        lines.append(line)
                returncode = proc.wait()
                err.seek(0)
                stderr = err.read()
            bar.close()
            if returncode != 0:
                raise HwflowError(f"the RTL simulation of {self.path} failed: {tools.first_errors(stderr)}")
            raw = np.loadtxt(run_dir / "outputs.txt", dtype=np.int64, ndmin=2).reshape(len(levels), n_out)
            cycles = np.loadtxt(run_dir / "cycles.txt", dtype=np.int64, ndmin=1).reshape(len(levels))
        result = RtlResult(self.decode(raw), cycles)
        if trace:
            result.spikes, result.membranes = self._parse_trace(lines, len(levels))
        return result

    def decode(self, raw: np.ndarray) -> np.ndarray:
        """Output beats -> what snn.logits returns: readout membranes in units, or the last levels on their grid."""
        last = [layer for layer in self.snn.layers if not layer.reshapes_only][-1]
        if last.is_readout:
            out = (raw.astype(np.float64) * 2.0**-last.frac).astype(np.float32)
        else:
            out = last.neuron.grid.values(raw)
        return out.reshape((len(raw),) + tuple(self.snn.output_shape))

    def _parse_trace(self, lines: list[str], samples: int):
        """The V (membrane: layer, pixel, channel, value) and S (spikes: layer, step, pixel, group, bits) lines."""
        synaptic = {k: s for k, s in enumerate(self.stages)
                    if s.synaptic and s.params["OUT_STEPS"] and not s.params["ANN"]}
        size = {k: s.params["OUT_H"] * s.params["OUT_W"] * s.params["N_OUT"] for k, s in synaptic.items()}
        spikes = {s.name: np.zeros((samples, s.params["OUT_STEPS"], size[k]), np.uint8) for k, s in synaptic.items()}
        membranes = {s.name: np.zeros((samples, size[k]), np.int64) for k, s in synaptic.items()}
        sample = -1
        for line in lines:
            parts = line.split()
            if not parts:
                continue
            if parts[0] == "N":
                sample = int(parts[1])
            elif parts[0] == "V":
                s = synaptic[int(parts[1])]
                p, c, v = (int(x) for x in parts[2:5])
                membranes[s.name][sample, p * s.params["N_OUT"] + c] = v
            elif parts[0] == "S":
                s = synaptic[int(parts[1])]
                tau, p, g, bits = int(parts[2]), int(parts[3]), int(parts[4]), parts[5]
                lanes, n_out = s.params["LANES"], s.params["N_OUT"]
                for lane in range(lanes):
                    c = g * lanes + lane
                    if c < n_out:
                        spikes[s.name][sample, tau, p * n_out + c] = bits[lanes - 1 - lane] == "1"
        return spikes, membranes

    def first_difference(self, x: np.ndarray) -> str | None:
        """Trace the RTL and the SNN on x: None if every spike and membrane agrees, else where they first differ.

        The ANN design (architecture 'ann') has no spikes: its outputs are compared."""
        x = self.snn.encoder.join(x)
        rtl = self.simulate(x, trace=True)
        ref = self.snn.trace(x)
        for b in range(len(x)):
            for name in rtl.spikes:
                lt = ref.layers[name]
                v_ref = lt.membrane.reshape(len(x), -1)[b]
                bad = np.flatnonzero(rtl.membranes[name][b] != v_ref)
                if bad.size:
                    j = int(bad[0])
                    return (f"sample {b}, layer '{name}', neuron {j}: membrane {rtl.membranes[name][b, j]} in the "
                            f"RTL, {v_ref[j]} in the SNN")
                s_ref = lt.spikes.reshape(len(x), lt.spikes.shape[1], -1)[b]
                diff = np.argwhere(rtl.spikes[name][b] != s_ref)
                if diff.size:
                    t, j = (int(v) for v in diff[0])
                    return f"sample {b}, layer '{name}', step {t}, neuron {j}: spike {rtl.spikes[name][b, t, j]} in the RTL"
        out_ref = ref.output
        bad = np.argwhere(rtl.output.reshape(len(x), -1) != out_ref.reshape(len(x), -1))
        if bad.size:
            b, j = (int(v) for v in bad[0])
            return f"sample {b}, output {j}: {rtl.output.reshape(len(x), -1)[b, j]} in the RTL, {out_ref.reshape(len(x), -1)[b, j]} in the SNN"
        return None

    # ---------------------------------------------------------------------------- cycle model

    def cycle_model(self, x: np.ndarray, batch_size: int = 500) -> np.ndarray:
        """Cycles per sample by the blocks' documented formulas, on the SNN's own spikes (int64 [B]):
        their sum with frame buffers, the row schedule (hwflow.rtl.schedule) with line buffers."""
        levels = self.snn.input_levels(x)
        total = np.zeros(len(levels), np.int64)
        for start in range(0, len(levels), batch_size):
            chunk = levels[start:start + batch_size]
            ref = simulate.run(self.snn.encoder, self.snn.layers, chunk, trace=True)
            planes = {"encode": encode(self.snn.encoder, chunk).planes}
            for name, lt in ref.layers.items():
                if lt.spikes is not None:
                    planes[name] = lt.spikes
            feeds = [planes.get(s.sources[0]) if s.sources else None for s in self.stages]
            for b in range(len(chunk)):
                inputs = [None if f is None else f[b].reshape(f.shape[1], -1) for f in feeds]
                if self.buffers == "line":
                    rows = [s.row_cycles(p) for s, p in zip(self.stages[:-1], inputs)]
                    total[start + b] = line_latency(self.stages, rows)
                else:
                    total[start + b] = sum(s.cycles(p) for s, p in zip(self.stages, inputs))
        return total

    @property
    def interface_cycles(self) -> int:
        """Cycles of the stages the HLS firmware has no counterpart for: the AXI-Stream input (one beat
        per input level, then 1) and output stages (one beat per output, then 1). The folded and event
        HLS blocks count the rest: C-simulation cycles + this = the RTL's cycles, sample by sample."""
        return self.stages[0].cycles(None) + self.stages[-1].cycles(None)

    # ------------------------------------------------------------------------------ synthesis

    def synthesize(self, family: str = "xcup", dsp: bool = True) -> dict:
        """Yosys synth_xilinx: integer LUT, FF, CARRY, DSP, BRAM (18 Kb), LUTRAM totals, `blocks`, `tool`.

        dsp=False maps multipliers to LUTs (`synth_xilinx -nodsp`)."""
        return synthesize_dir(self.path, family, dsp)

    def place_and_route(self) -> dict:
        """nextpnr on the smallest ECP5 that holds the design: {fmax_mhz, device, ...}, an ECP5 figure."""
        return place_and_route_dir(self.path)


def saved_design(path: Path) -> tuple[dict, list[RtlStage]]:
    """design.json of a folder hwflow.to_rtl wrote, and its stages (names, modules, parameters)."""
    meta_file = Path(path) / "design.json"
    if not meta_file.is_file():
        raise HwflowError(f"{path} holds no RTL design (no design.json); write one with hwflow rtlsim RUN_DIR "
                          "or hwflow.to_rtl")
    meta = json.loads(meta_file.read_text())
    return meta, [RtlStage(s["name"], s["module"], s["params"]) for s in meta["stages"]]


def synthesize_dir(path: Path, family: str = "xcup", dsp: bool = True) -> dict:
    """Synthesize the design hwflow.to_rtl wrote in `path` (its design.json names the blocks)."""
    meta, stages = saved_design(path)
    result = yosys.synthesize(Path(path), design_sources({s.module for s in stages}), TOP, family,
                              {s.name: block_module(s) for s in stages}, dsp)
    result.update(architecture=meta["architecture"], lanes=meta["lanes"])
    return result


def place_and_route_dir(path: Path) -> dict:
    """nextpnr-ecp5 on the design hwflow.to_rtl wrote in `path`: its ECP5 fmax."""
    _, stages = saved_design(path)
    return nextpnr.place_and_route(Path(path), design_sources({s.module for s in stages}), TOP)
