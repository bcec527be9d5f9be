"""Time-step reference simulator of the SNN IR: every node executes itself (Node.execute), integer arithmetic."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from hwflow.ir import INPUT, InputEncoder, LayerTrace, Node, last_uses, sources
from hwflow.ops.encoder import encode


@dataclass
class RunResult:
    output: np.ndarray
    layers: dict[str, LayerTrace] = field(default_factory=dict)
    input_spikes: int = 0


def run(encoder: InputEncoder, layers: list[Node], levels: np.ndarray, trace: bool, counts: bool = True) -> RunResult:
    """Run a batch of input levels through the network, node by node: time step by time step with
    `trace` (every plane and membrane kept), else on the levels the planes carry (the same integers);
    spike and operation counts only if `counts` (or `trace`)."""
    signal = encode(encoder, levels, as_levels=not trace)
    counts = counts or trace
    result = RunResult(output=np.empty(0), input_spikes=int(signal.spikes().sum(dtype=np.int64)) if counts else 0)
    signals, last = {INPUT: signal}, last_uses(layers)  # what each node output, kept until its last reader has run
    for i, (layer, src) in enumerate(zip(layers, sources(layers))):
        signal, lt = layer.execute_inputs([signals[name] for name in src], trace, counts)
        if trace and signal.planes is not None:
            lt.spikes = signal.planes
        result.layers[layer.name] = lt
        signals[layer.name] = signal
        for name in {n for n in src if last[n] == i}:
            del signals[name]
    result.output = signal.output if signal.output is not None else signal.grid.values(signal.as_levels())
    return result
