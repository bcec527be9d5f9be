"""Time-step trace of the firmware's C simulation, compared with the reference simulator.

A trace build (``to_hls(..., trace=True)``) turns hls4ml's trace on for every block (``Trace:
True``): ``hls_model.trace(x)`` returns every block's output, i.e. the spike planes [T][...] of
all its time steps (kept as int64: spike bits, or a fixed-point value's integer level; an analog
input keeps the reference's single plane axis). hwflow's C-simulation probes
(hwflow_spike_common.h) add, per synaptic layer, the Horner membrane after each input plane
(``<layer>_membrane_steps`` [B, S, ...]) and the membrane after integration and bias
(``<layer>_membrane`` [B, ...]), and per block process the cycles its loops counted
(``<layer>_cycles_<process>`` [B]).
"""
from __future__ import annotations

import ctypes
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from hwflow.compat import hls4ml_library
from hwflow.errors import HwflowError
from hwflow.hls.blocks import planes as block_planes
from hwflow.hls.lower import to_hls
from hwflow.hls.toolchain import require_gxx
from hwflow.options import FirmwareOptions
from hwflow.simulate import RunResult
from hwflow.snn import SNN

KINDS = ("membrane_steps", "membrane", "spikes")  # schedule order within a layer (LayerTrace fields)
CYCLES = "_cycles_"


@dataclass
class TraceResult:
    reference: RunResult  # snn.trace(x)
    firmware: dict[str, np.ndarray]  # block outputs and probes, see the module docstring
    cycles: dict[str, dict[str, int]]  # cycles the C simulation counted, per block and process
    first_difference: dict | None


def trace_compare(snn: SNN, x: np.ndarray, output_dir: str | Path, options: FirmwareOptions | None = None,
                  **settings) -> TraceResult:
    """Build and compile the trace firmware (options / settings as for to_hls), run x through its C
    simulation and compare every layer's membranes and spikes, step by step, with snn.trace(x)."""
    opts = FirmwareOptions.of(options, **settings)
    reference = snn.trace(x)  # also checks that x lies on the input grid
    hls_model = to_hls(snn, output_dir, opts, trace=True)
    firmware = run_trace(hls_model, snn, x)
    kinds = KINDS[1:] if opts.sequential else KINDS  # the lane blocks stage the membranes per pixel only
    return TraceResult(reference, firmware, csim_cycles(firmware, constant=opts.strategy != "event"),
                       first_difference(reference, firmware, kinds))


def measure_cycles(hls_model, x: np.ndarray) -> np.ndarray:
    """Cycles per sample that the C simulation's counters record (HWFLOW_CYCLES, every block and
    process added up): int64 [B]. hls_model must be a trace build (to_hls(..., trace=True)), whose
    probes file the counts; for the folded and event strategies they equal the RTL twin's measured
    cycles minus its interface stages (hwflow.rtl.design.interface_cycles)."""
    if not any(layer.get_attr("trace", False) for layer in hls_model.get_layers()):
        raise HwflowError("measure_cycles reads the C simulation's cycle probes, which only a trace build files: "
                          "build the model with hwflow.hls.to_hls(snn, out_dir, ..., trace=True)")
    require_gxx("the C simulation's cycle count")
    hls_model.trace(np.ascontiguousarray(np.asarray(x, dtype=np.float64)))  # checks the input grid
    return counted_cycles(read_probes(hls4ml_library(hls_model)))


def counted_cycles(records: dict[str, np.ndarray]) -> np.ndarray:
    """Cycles per sample: every '<block>_cycles_<process>' record of a trace run, added up."""
    return np.sum([v for k, v in records.items() if CYCLES in k], axis=0, dtype=np.int64)


def run_trace(hls_model, snn: SNN, x: np.ndarray) -> dict[str, np.ndarray]:
    """Compile the trace build (hls4ml's trace does) and run x: block outputs and probe records."""
    require_gxx("the firmware trace")
    x = np.ascontiguousarray(np.asarray(x, dtype=np.float64))
    _, outputs = hls_model.trace(x)
    shapes = {layer.name: tuple(layer.out_shape) for layer in snn.layers}
    planes = {layer.name for layer in snn.layers if layer.emits_planes}
    stream = hls_model.config.get_config_value("IOType") == "io_stream"
    firmware = {}
    for name, values in outputs.items():
        p = hls_model.graph[name].get_output_variable().type.precision
        levels = np.rint(np.asarray(values) * 2.0 ** (p.width - p.integer)).astype(np.int64)
        if stream and block_planes(hls_model.graph[name]) > 1:
            levels = plane_major(levels)
        if name in planes and levels.ndim == len(shapes[name]) + 1:  # analog (direct input): one plane
            levels = levels[:, None]
        firmware[name] = levels
    for name, values in read_probes(hls4ml_library(hls_model)).items():  # the library hls4ml's trace ran
        if CYCLES in name:
            firmware[name] = values
        elif name.endswith("_membrane_steps"):
            firmware[name] = values.reshape((len(x), -1) + shapes[name[:-len("_membrane_steps")]])
        else:
            firmware[name] = values.reshape((len(x),) + shapes[name[:-len("_membrane")]])
    return firmware


def plane_major(values: np.ndarray) -> np.ndarray:
    """A spiking io_stream variable [B, T, *pixels, C] as hls4ml's trace returns it (the stream's
    pixel-major order: per pixel its T planes; hwflow_spike_stream.h) in plane-major order."""
    b, t, c = values.shape[0], values.shape[1], values.shape[-1]
    pixels = values.shape[2:-1]
    return np.moveaxis(values.reshape((b,) + pixels + (t, c)), -2, 1)


def read_probes(lib: ctypes.CDLL) -> dict[str, np.ndarray]:
    """Every probe record of the C-simulation library (then cleared), as int64 arrays."""
    lib.hwflow_probe_name.argtypes, lib.hwflow_probe_name.restype = [ctypes.c_uint], ctypes.c_char_p
    lib.hwflow_probe_read.argtypes, lib.hwflow_probe_read.restype = [ctypes.c_char_p, ctypes.c_void_p], ctypes.c_ulong
    names = []
    while (name := lib.hwflow_probe_name(len(names))) is not None:
        names.append(name)
    records = {}
    for name in names:
        values = np.empty(lib.hwflow_probe_read(name, None), dtype=np.int64)
        lib.hwflow_probe_read(name, values.ctypes.data)
        records[name.decode()] = values
    lib.hwflow_probe_clear()
    return records


def csim_cycles(firmware: dict[str, np.ndarray], constant: bool = True) -> dict[str, dict[str, int]]:
    """{block: {process: cycles}} from the '<block>_cycles_<process>' records: the same for every
    sample when `constant` (checked), else (the event strategy) the largest over the samples."""
    cycles: dict[str, dict[str, int]] = {}
    for key, counts in firmware.items():
        if CYCLES in key:
            if constant and (counts != counts[0]).any():
                raise HwflowError(f"internal: the C simulation counted different cycles for '{key}' across samples: "
                                  f"{sorted(set(counts.tolist()))}")
            block, process = key.rsplit(CYCLES, 1)
            cycles.setdefault(block, {})[process] = int(counts.max())
    return cycles


def first_difference(reference: RunResult, firmware: dict[str, np.ndarray],
                     kinds: tuple[str, ...] = KINDS) -> dict | None:
    """The earliest mismatch between the reference trace and the firmware's, or None.

    Earliest in the hardware's order: layer by layer; within a layer the Horner membranes
    ('membrane_steps', step = input plane), the membrane after the bias ('membrane', step None),
    then the output 'spikes' (step = output plane); then by sample and neuron. Returns
    {layer, kind, step, sample, index (neuron, channels last), expected, got}.
    """
    for layer, lt in reference.layers.items():
        for kind in kinds:
            expected = getattr(lt, kind)
            if expected is None:
                continue
            key = layer if kind == "spikes" else f"{layer}_{kind}"
            if key not in firmware:
                raise HwflowError(f"the firmware trace has no '{key}'; is it a trace build of this SNN?")
            got = np.asarray(firmware[key])
            if got.shape != expected.shape:
                raise HwflowError(f"firmware trace '{key}' has shape {got.shape}, the reference {expected.shape}")
            diff = got != expected
            if not diff.any():
                continue
            if kind == "membrane":
                step, (sample, *index) = None, np.argwhere(diff)[0].tolist()
                where = (sample, *index)
            else:  # step axis first: the earliest step, then sample, then neuron
                step, sample, *index = np.argwhere(np.moveaxis(diff, 1, 0))[0].tolist()
                where = (sample, step, *index)
            return dict(layer=layer, kind=kind, step=step, sample=sample, index=tuple(index),
                        expected=expected[where].item(), got=got[where].item())
    return None
