"""The converted spiking network: IR plus the reference simulator behind predict/trace."""
from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np

from hwflow import simulate
from hwflow.errors import HwflowError
from hwflow.ir import InputEncoder, Node
from hwflow.ops import output_function
from hwflow.ops.synaptic import SynapticLayer
from hwflow.passes import run_passes


@dataclass
class RunStats:
    """Whole-set statistics of a run: outputs plus per-layer totals (no per-sample traces)."""

    output: np.ndarray
    samples: int
    spikes: dict[str, int]
    neurons: dict[str, int]
    synaptic_ops: dict[str, int]
    input_spikes: int

    def spikes_per_neuron(self) -> dict[str, float]:
        """Average spikes per neuron per sample, per spiking layer."""
        return {k: self.spikes[k] / (self.neurons[k] * self.samples) for k in self.spikes}


@dataclass
class SNN:
    """A binary-coded integrate-and-fire network that computes its source QKeras model exactly.

    Building one runs the IR passes (hwflow.passes): its widths and thresholds are always set.
    """

    name: str
    encoder: InputEncoder
    layers: list[Node]
    output_shape: tuple[int, ...]
    warnings: list[str] = field(default_factory=list)
    output_function: str | None = None  # a final 'softmax' / 'sigmoid' on the logits (hwflow.ops.output_function)
    # several outputs (parallel readout heads, hwflow.ops.concatenate.output_heads): their sizes on the last axis;
    # predict returns the list model.predict does, logits and the firmware the heads side by side
    output_splits: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        self.layers = run_passes(self.encoder, list(self.layers))

    @property
    def synaptic_layers(self) -> list[SynapticLayer]:
        return [layer for layer in self.layers if isinstance(layer, SynapticLayer)]

    @property
    def time_steps(self) -> list[int]:
        """T of every spiking layer, in order."""
        return [s.neuron.time_steps for s in self.synaptic_layers if s.neuron is not None]

    @property
    def tf_float32_exact(self) -> bool:
        """True when TensorFlow's float32 forward pass is provably exact fixed point for every input."""
        return all(s.tf_float32_exact for s in self.synaptic_layers)

    def tf_inexact_layers(self) -> list[str]:
        return [s.name for s in self.synaptic_layers if not s.tf_float32_exact]

    def input_levels(self, x: np.ndarray) -> np.ndarray:
        """Integer input levels of x (a model of several inputs: their list, or the joined array); a HwflowError if
        x is off the input grid or out of range."""
        x = self.encoder.join(x)
        if x.shape[1:] != self.encoder.shape:
            raise HwflowError(f"input shape {x.shape[1:]} does not match the model's {self.encoder.shape}")
        grid = self.encoder.grid
        scaled = grid.levels(x)
        off = scaled != np.round(scaled)
        if off.any():
            where = tuple(int(i) for i in np.argwhere(off)[0])
            raise HwflowError(
                f"{int(off.sum())} input values are off the fixed-point grid (step 2^-{grid.frac}), e.g. "
                f"x{list(where)} = {x[where]!r}; quantize them first with snn.quantize_input(x)")
        outside = (scaled < grid.lo) | (scaled > grid.hi)
        if outside.any():
            where = tuple(int(i) for i in np.argwhere(outside)[0])
            raise HwflowError(
                f"{int(outside.sum())} input values are outside the input range "
                f"[{grid.lo * 2.0**-grid.frac}, {grid.hi * 2.0**-grid.frac}], e.g. x{list(where)} = {x[where]!r}; "
                "quantize them first with snn.quantize_input(x)")
        return scaled.astype(np.int64)

    def quantize_input(self, x: np.ndarray) -> np.ndarray:
        """Round and clip x onto the input grid exactly as the model's input quantizer does (joined, for a model of
        several inputs)."""
        return self.encoder.grid.quantize(self.encoder.join(x))

    def trace(self, x: np.ndarray) -> simulate.RunResult:
        """Per layer: output spike planes [B, T, ...], Horner membranes per step, membranes, counts."""
        return simulate.run(self.encoder, self.layers, self.input_levels(x), trace=True)

    def run(self, x: np.ndarray, batch_size: int = 1000, progress: bool = False, logits: bool = False,
            counts: bool = True) -> RunStats:
        """Simulate a whole set in batches, one thread per core (numpy and TensorFlow release the GIL);
        outputs (the logits, before a final softmax / sigmoid, if `logits`) and, if `counts`, spike /
        operation totals per layer (else those dicts stay empty)."""
        levels = self.input_levels(x)
        outputs, spikes, ops, input_spikes = [], {}, {}, 0
        starts = range(0, len(levels), batch_size)
        batch = lambda start: simulate.run(self.encoder, self.layers, levels[start:start + batch_size],  # noqa: E731
                                           trace=False, counts=counts)
        with ThreadPoolExecutor(max(1, min(os.cpu_count() or 1, len(starts)))) as pool:
            results = pool.map(batch, starts)
            if progress:
                from tqdm import tqdm
                results = tqdm(results, total=len(starts), desc=f"simulating {self.name}", unit="batch")
            for res in results:
                outputs.append(res.output)
                if not counts:
                    continue
                input_spikes += res.input_spikes
                for s in self.synaptic_layers:
                    ops[s.name] = ops.get(s.name, 0) + res.layers[s.name].synaptic_ops
                    if not s.is_readout:
                        spikes[s.name] = spikes.get(s.name, 0) + res.layers[s.name].spike_count
        neurons = {s.name: s.n_out for s in self.synaptic_layers if not s.is_readout}
        out = np.concatenate(outputs) if outputs else np.empty((0,) + self.output_shape, np.float32)
        if not logits:
            out = output_function.apply(self.output_function, out)
        return RunStats(out, len(levels), spikes, neurons, ops, input_spikes)

    def predict(self, x: np.ndarray, batch_size: int = 1000) -> np.ndarray:
        """Exactly what the source QKeras model's predict(x) returns, computed with spikes (a list for several
        outputs)."""
        y = self.run(x, batch_size, counts=False).output
        if not self.output_splits:
            return y
        return np.split(y, np.cumsum(self.output_splits)[:-1], axis=-1)

    def logits(self, x: np.ndarray, batch_size: int = 1000) -> np.ndarray:
        """What the firmware and the RTL output: predict(x) before a final softmax / sigmoid (the same
        array when the model has none)."""
        return self.run(x, batch_size, logits=True, counts=False).output

    def summary(self) -> str:
        """A table of the layers: shapes, T, threshold, weight and membrane widths."""
        enc = self.encoder
        rows = [f"SNN {self.name}: input {enc.shape} levels [{enc.grid.lo}, {enc.grid.hi}] x 2^-{enc.grid.frac}, "
                f"{enc.encoding} ({enc.steps} plane{'s' if enc.steps > 1 else ''})",
                f"{'layer':<14}{'op':<9}{'out shape':<16}{'T':>3}{'thr':>9}{'w bits':>8}{'v bits':>8}  exact in TF f32"]
        for layer in self.layers:
            if isinstance(layer, SynapticLayer):
                t = layer.neuron.time_steps if layer.neuron else "-"
                thr = layer.neuron.threshold if layer.neuron else "readout"
                passes = f"  (+{layer.pass_channels} pass-through channels)" if layer.pass_channels else ""
                rows.append(f"{layer.name:<14}{layer.kind:<9}{str(layer.out_shape):<16}{t:>3}{thr:>9}{layer.weight_bits:>8}"
                            f"{layer.membrane_bits:>8}  {'yes' if layer.tf_float32_exact else 'NO'}{passes}")
            else:
                rows.append(f"{layer.name:<14}{layer.kind:<9}{str(layer.out_shape):<16}")
            if layer.inputs:
                rows[-1] += f"  (reads {' + '.join(layer.inputs)})"
        return "\n".join(rows)
