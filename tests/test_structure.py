"""The package's structure: no import circles, one registered module per operation, C++ names that
cannot clash with hls4ml, the IR passes always run, private internals only through hwflow.compat."""
from __future__ import annotations

import ast
import dataclasses
import inspect
import re
from pathlib import Path

import numpy as np
import pytest

import hwflow
import hwflow.ops
from hwflow import compat
from hwflow.errors import HwflowError
from hwflow.ir import Node
from hwflow.ops import HANDLERS, HLS_BLOCKS, NODES
from hwflow.ops.synaptic import SynapticLayer
from hwflow.config import load_config
from hwflow.defaults import STRATEGIES
from hwflow.options import HLS4ML_STRATEGIES, FirmwareOptions
from hwflow.package_data import TEMPLATE_DIR
from randmodels import build, conv_arch

PACKAGE = Path(hwflow.__file__).parent


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported(tree: ast.Module, name: str, is_package: bool, modules: set[str]) -> set[str]:
    """The hwflow modules a module imports anywhere in its code (typing-only imports excluded)."""
    out = set()
    typing_only = {id(n) for node in ast.walk(tree) if isinstance(node, ast.If)
                   and ast.unparse(node.test) in ("TYPE_CHECKING", "typing.TYPE_CHECKING") for n in ast.walk(node)}
    for node in ast.walk(tree):
        if id(node) in typing_only:
            continue
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = name.split(".") if is_package else name.split(".")[:-1]
                base = ".".join(anchor[:len(anchor) - node.level + 1] + ([base] if base else []))
            # `from pkg import module` depends on the module; `from module import name` on the module
            targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base for a in node.names]
        else:
            continue
        out |= {t for t in targets if t in modules}
    return out


def import_graph() -> dict[str, set[str]]:
    paths = {module_name(p): p for p in PACKAGE.rglob("*.py")}
    return {name: imported(ast.parse(p.read_text()), name, p.name == "__init__.py", set(paths)) - {name}
            for name, p in paths.items()}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}  # 1: on the stack, 2: done
    stack: list[str] = []

    def visit(n: str) -> list[str] | None:
        state[n] = 1
        stack.append(n)
        for m in sorted(graph[n]):
            if state.get(m) == 1:
                return stack[stack.index(m):] + [m]
            if m not in state and (cycle := visit(m)):
                return cycle
        stack.pop()
        state[n] = 2
        return None

    for n in sorted(graph):
        if n not in state and (cycle := visit(n)):
            return cycle
    return None


def test_no_module_imports_one_that_imports_it_back() -> None:
    graph = import_graph()
    assert len(graph) > 40 and "hwflow.ops.dense" in graph["hwflow.ops"]  # the walker sees the package
    assert find_cycle(graph) is None, " -> ".join(find_cycle(graph))


def test_the_cycle_finder_finds_a_circle() -> None:
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_every_operation_is_registered_in_one_module() -> None:
    node_classes = {cls for cls in vars_of_ops() if issubclass(cls, Node) and cls not in (Node, SynapticLayer)}
    assert {c.__name__ for c in node_classes} == set(NODES) == {"Dense", "Conv2D", "Conv1D", "MaxPool", "UpSample",
                                                                "Flatten", "Join"}
    assert {"QDense", "QConv2D", "QConv2DBatchnorm", "AveragePooling2D", "MaxPooling2D", "Flatten",
            "QActivation", "Dropout"} <= set(HANDLERS)
    for cls in node_classes:  # each node executes and lowers itself (a join: on its several inputs)
        assert cls.execute is not Node.execute or cls.execute_inputs is not Node.execute_inputs, cls
        assert cls.lower is not Node.lower or cls.lower_inputs is not Node.lower_inputs, cls
    for name, handler in HANDLERS.items():
        assert handler.__module__.startswith("hwflow.ops."), (name, handler.__module__)
    assert set(HLS_BLOCKS) == {"HwflowSpikeEncode", "HwflowSpikeDecode", "HwflowSpikeFlatten",
                               "HwflowBitSerialMaxPool", "HwflowIFDense", "HwflowIFConv2D",
                               "HwflowIFLayer", "HwflowLanePool",  # folded / event strategies
                               "HwflowSpikeJoin"}


def vars_of_ops() -> list[type]:
    import importlib
    import pkgutil
    classes = []
    for info in pkgutil.iter_modules(hwflow.ops.__path__):
        module = importlib.import_module(f"hwflow.ops.{info.name}")
        classes += [v for v in vars(module).values() if inspect.isclass(v) and v.__module__ == module.__name__]
    return classes


def test_cpp_names_cannot_clash_with_hls4ml() -> None:
    headers = sorted(TEMPLATE_DIR.glob("*.h"))
    assert {h.name for h in headers} == {h for b in HLS_BLOCKS.values() for h in b.headers} | {
        "hwflow_spike_common.h", "hwflow_spike_stream.h"}
    for header in headers:
        text = header.read_text()
        assert header.name.startswith("hwflow_"), header.name
        assert "namespace hwflow {" in text and not re.search(r"namespace\s+nnet\b", text), header.name
        guard = re.search(r"#ifndef (\w+)", text).group(1)
        assert guard.startswith("HWFLOW_"), (header.name, guard)
    assert all(name.startswith("Hwflow") for name in HLS_BLOCKS)  # hls4ml's own SNN layers are IFNeuron, ...


def test_the_passes_always_run() -> None:
    from hwflow.convert import Parser, layer_chain

    model = build(conv_arch())
    parser = Parser(model, "direct", None, None)
    for layer in layer_chain(model):
        parser.visit(layer)
    raw = parser.finish()  # as parsed: no membrane grid, threshold or width yet
    assert all(s.membrane_bound is None and s.natural_frac is None for s in raw if isinstance(s, SynapticLayer))
    assert any(isinstance(s, SynapticLayer) and s.neuron and s.neuron.threshold_log2 is None for s in raw)
    built = hwflow.SNN(model.name, parser.encoder, raw, tuple(model.output_shape[1:]))
    converted = hwflow.convert(model)
    again = dataclasses.replace(built)  # a copy runs them again, and changes nothing
    for snn in (built, again):
        for a, b in zip(converted.synaptic_layers, snn.synaptic_layers):
            assert (b.membrane_bound, b.natural_frac, b.frac) == (a.membrane_bound, a.natural_frac, a.frac)
            assert b.membrane_bound > 0 and (b.neuron is None or b.neuron.threshold_log2 == a.neuron.threshold_log2)
            np.testing.assert_array_equal(b.weight, a.weight)


def test_readme_lists_every_layer_kind_the_converter_parses() -> None:
    table = (PACKAGE.parent / "README.md").read_text().split("## Supported layers")[1].split("\n## ")[0]
    first_cells = re.findall(r"^\| (`[^|]+) \|", table, re.M)  # a row may list several layers: `A`, `B`
    listed = {name for cell in first_cells for name in re.findall(r"`(\w+)", cell)}
    assert listed == set(HANDLERS), (sorted(set(HANDLERS) - listed), sorted(listed - set(HANDLERS)))


def test_firmware_options_are_checked_once() -> None:
    opts = FirmwareOptions.of(backend="vivado", reuse_factor=np.int64(2))
    assert (opts.backend, opts.reuse_factor, opts.part) == ("Vivado", 2, FirmwareOptions().part)
    with pytest.raises(HwflowError, match="unknown firmware setting reuse; the settings are backend"):
        FirmwareOptions.of(reuse=2)
    with pytest.raises(HwflowError, match="strategy='resource' is not supported; use latency, folded, event"):
        FirmwareOptions(strategy="resource")
    with pytest.raises(HwflowError, match="lanes=0 must be an integer 1..64"):
        FirmwareOptions(lanes=0)
    with pytest.raises(HwflowError, match="pass firmware settings by keyword"):
        FirmwareOptions.of(4)  # as in cycle_model(snn, 4)
    assert set(HLS4ML_STRATEGIES) == set(STRATEGIES)
    with pytest.raises(HwflowError, match=r"--set hls.backend: backend='Quartus' is not supported; .*; change the --set value"):
        load_config("digits_mlp", overrides={"hls": {"backend": "Quartus"}})  # the config asks FirmwareOptions


def test_a_missing_private_internal_names_the_version_and_the_pin() -> None:
    class Lib:
        pass

    with pytest.raises(HwflowError) as err:
        compat.hls4ml_library(Lib())
    msg = str(err.value)
    assert "hls4ml 1.3.0 has no _top_function_lib" in msg and "hls4ml==1.3.0" in msg and "\n" not in msg


def test_private_internals_are_used_only_in_compat() -> None:
    pattern = re.compile(r"\.__internal__\.|\._top_function_lib|\._get_training_value|_add_supported_quantized_objects"
                         r"|\._default_\w+_params")
    for path in PACKAGE.rglob("*.py"):
        if path.name != "compat.py":
            assert not pattern.search(path.read_text()), path
