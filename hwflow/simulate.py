"""Time-step reference simulator of the SNN IR: integer arithmetic, vectorised over the batch."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from hwflow.geometry import conv2d, fan_out, patches
from hwflow.ir import Flatten, InputEncoder, Layer, MaxPool, Neuron, SynapticLayer

FLOAT32_EXACT_BITS = 24
FLOAT64_EXACT_BITS = 53


@dataclass
class LayerTrace:
    """What one layer did for a batch: output planes, membranes, spike and operation counts."""

    spikes: np.ndarray | None = None  # uint8 [B, T, ...] output planes (IF layers and pools)
    membrane_steps: np.ndarray | None = None  # int64 [B, S, ...] Horner membrane after each input step
    membrane: np.ndarray | None = None  # int64 [B, ...] after integration and bias, before firing
    spike_count: int = 0
    synaptic_ops: int = 0  # accumulates (spiking input) or multiply-accumulates (analog input)


@dataclass
class RunResult:
    output: np.ndarray
    layers: dict[str, LayerTrace] = field(default_factory=dict)
    input_spikes: int = 0


def encode(encoder: InputEncoder, levels: np.ndarray) -> np.ndarray:
    """Input levels [B, ...] to planes [B, S, ...]: one analog plane or MSB-first bit planes."""
    if encoder.encoding == "direct":
        return levels[:, None]
    return to_planes(levels, encoder.steps)


def to_planes(levels: np.ndarray, steps: int) -> np.ndarray:
    """Unsigned levels to binary planes, most significant first: [B, ...] -> [B, steps, ...] uint8."""
    shifts = np.arange(steps - 1, -1, -1).reshape((1, steps) + (1,) * (levels.ndim - 1))
    return ((levels[:, None] >> shifts) & 1).astype(np.uint8)


def from_planes(planes: np.ndarray) -> np.ndarray:
    """Binary planes [B, T, ...] (MSB first) back to integer levels [B, ...]."""
    steps = planes.shape[1]
    weights = (1 << np.arange(steps - 1, -1, -1, dtype=np.int64)).reshape((1, steps) + (1,) * (planes.ndim - 2))
    return (planes.astype(np.int64) * weights).sum(axis=1)


def exact_dtype(layer: SynapticLayer) -> type:
    """The fastest dtype whose matmul is exact for this layer: every partial sum is bounded by
    membrane_bound, so float32 (24-bit mantissa) or float64 (53-bit) BLAS is exact below those."""
    if layer.membrane_bits <= FLOAT32_EXACT_BITS:
        return np.float32
    return np.float64 if layer.membrane_bits <= FLOAT64_EXACT_BITS else np.int64


def synaptic_input(layer: SynapticLayer, planes: np.ndarray) -> np.ndarray:
    """W . s for a stack of planes [N, ...] -> [N, *out_shape]: weighted inputs, exact integers."""
    dtype = exact_dtype(layer)
    weight = layer.weight.astype(dtype)
    if layer.op == "dense":
        out = planes.reshape(planes.shape[0], -1).astype(dtype) @ weight
    else:
        out = conv2d(planes.astype(dtype), weight, layer.strides, layer.padding)
    return out.astype(np.int64)


def integrate(layer: SynapticLayer, planes: np.ndarray, record: bool) -> tuple[np.ndarray, np.ndarray | None]:
    """Horner accumulation v <- 2 v + W . s(t) over the input planes, then + bias.

    The weighted inputs W . s(t) of all steps are computed in one batched matmul; the Horner
    recursion then runs step by step on the integer membranes.
    """
    b, steps = planes.shape[:2]
    weighted = synaptic_input(layer, planes.reshape((b * steps,) + planes.shape[2:]))
    weighted = weighted.reshape((b, steps) + layer.out_shape)
    v = np.zeros((b,) + layer.out_shape, dtype=np.int64)
    trace = np.empty_like(weighted) if record else None
    for t in range(steps):
        v = 2 * v + weighted[:, t]
        if record:
            trace[:, t] = v
    return v + layer.membrane_bias, trace


def fire(v: np.ndarray, neuron: Neuron) -> np.ndarray:
    """Emit T binary spikes MSB first, subtract reset; strict comparison at the last step (ties to even)."""
    steps = neuron.time_steps
    spikes = np.empty((v.shape[0], steps) + v.shape[1:], dtype=np.uint8)
    v = v.copy()
    for t in range(steps):
        threshold = neuron.threshold << (steps - 1 - t)
        s = v > threshold if t == steps - 1 else v >= threshold
        v -= s * threshold
        spikes[:, t] = s
    return spikes


def max_pool(layer: MaxPool, planes: np.ndarray) -> np.ndarray:
    """Bit-serial max: a window's output bit is the OR over inputs still tied for the maximum."""
    b, steps = planes.shape[:2]
    flat = planes.reshape((b * steps,) + planes.shape[2:])
    win = patches(flat, layer.pool, layer.strides, layer.padding)  # [B*T, Ho, Wo, ph, pw, C]
    win = win.reshape((b, steps) + win.shape[1:3] + (-1, win.shape[-1])).astype(bool)
    alive = np.ones((b,) + win.shape[2:], dtype=bool)
    out = np.empty((b, steps) + layer.out_shape, dtype=np.uint8)
    for t in range(steps):
        bit = win[:, t]
        o = np.any(alive & bit, axis=3)
        alive &= bit | ~o[:, :, :, None, :]
        out[:, t] = o
    return out


def synaptic_ops(layer: SynapticLayer, planes: np.ndarray) -> int:
    """Accumulates driven by input spikes, or multiply-accumulates for an analog input."""
    if layer.op == "dense":
        if layer.analog_input:
            return planes.shape[0] * layer.weight.size
        return int(planes.sum(dtype=np.int64)) * layer.weight.shape[1]
    kh, kw, cin, cout = layer.weight.shape
    fan = fan_out(layer.in_shape[:2], (kh, kw), layer.strides, layer.padding)
    if layer.analog_input:
        return planes.shape[0] * int(fan.sum()) * cin * cout
    per_pixel = planes.sum(axis=(1, 4), dtype=np.int64)  # [B, H, W]
    return int((per_pixel * fan).sum()) * cout


def run(encoder: InputEncoder, layers: list[Layer], levels: np.ndarray, trace: bool) -> RunResult:
    """Run a batch of input levels through the network, time step by time step."""
    planes = encode(encoder, levels)
    result = RunResult(output=np.empty(0), input_spikes=0 if encoder.encoding == "direct" else int(planes.sum()))
    grid = encoder.grid
    readout = None
    for layer in layers:
        lt = LayerTrace()
        if isinstance(layer, SynapticLayer):
            lt.synaptic_ops = synaptic_ops(layer, planes)
            v, lt.membrane_steps = integrate(layer, planes, record=trace)
            if trace:
                lt.membrane = v
            if layer.is_readout:
                readout, planes = (v, layer.frac), None
            else:
                planes = fire(v, layer.neuron)
                grid = layer.neuron.grid
                lt.spike_count = int(planes.sum(dtype=np.int64))
        elif isinstance(layer, MaxPool):
            planes = max_pool(layer, planes)
        elif isinstance(layer, Flatten):
            planes = planes.reshape(planes.shape[:2] + (-1,))
        if trace and planes is not None:
            lt.spikes = planes
        result.layers[layer.name] = lt
    if readout is not None:
        v, frac = readout
        result.output = (v.astype(np.float64) * 2.0**-frac).astype(np.float32)
    else:
        result.output = grid.values(from_planes(planes))
    return result
