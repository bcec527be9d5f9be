"""hwflow's firmware blocks as hls4ml layers, through hls4ml's public extension API.

For every HlsBlock an op declares (hwflow.ops.registry.HLS_BLOCKS) this module makes an hls4ml
``Layer`` subclass (registered with ``hls4ml.model.layers.register_layer``) whose attributes are the
block's attribute table, a config template (the ``configN`` struct written to parameters.h, derived
from ``hwflow::<struct>``) and a function template (the call written to myproject.cpp), registered
with ``backend.register_template`` on the Vivado and Vitis backends; the C++ headers in
hls_templates/ are registered with ``backend.register_source`` on both. Every type is given an
explicit precision: hls4ml's model default precision is never used.

io_stream streams every activation pixel-major (per pixel its planes; hwflow_spike_stream.h). A
block whose dict sets `line_buffer` (the folded and event strategies' convolutions and pools) is
called on the streams themselves and keeps a line buffer; every other block's call is wrapped in
stream -> array -> kernel -> stream frame adapters.
"""
from __future__ import annotations

import warnings

import hls4ml
from hls4ml.backends.template import FunctionCallTemplate, LayerConfigTemplate
from hls4ml.model.attributes import Attribute, ConfigurableAttribute, TypeAttribute, WeightAttribute
from hls4ml.model.layers import Layer
from hls4ml.model.types import FixedPrecisionType, IntegerPrecisionType, NamedType

from hwflow.compat import version_mismatches
from hwflow.defaults import BACKENDS
from hwflow.hls.block import NAMESPACE, SPIKE_SPEC, CallArgs, HlsBlock
from hwflow.ops import HLS_BLOCKS
from hwflow.package_data import TEMPLATE_DIR

COMMON_HEADERS = ("hwflow_spike_common.h", "hwflow_spike_stream.h")  # every block's call includes these


def headers() -> tuple[str, ...]:
    """Every C++ header the blocks use, each once."""
    return tuple(dict.fromkeys(COMMON_HEADERS + tuple(h for b in HLS_BLOCKS.values() for h in b.headers)))


def int_type(bits: int, signed: bool = True) -> IntegerPrecisionType:
    return IntegerPrecisionType(width=int(bits), signed=signed)


def precision_of(spec: tuple) -> IntegerPrecisionType | FixedPrecisionType:
    """('int', width, signed) | ('fixed', width, integer, signed) -> an hls4ml precision."""
    if spec[0] == "int":
        return IntegerPrecisionType(width=int(spec[1]), signed=bool(spec[2]))
    return FixedPrecisionType(width=int(spec[1]), integer=int(spec[2]), signed=bool(spec[3]))


class SpikeLayer(Layer):
    """Base of hwflow's blocks: output shape and precision come from the layer dict."""

    _expected_attributes = [
        Attribute("out_shape", value_type=list),
        Attribute("out_precision", value_type=tuple),
        ConfigurableAttribute("reuse_factor", default=1),
        Attribute("partition_factor", value_type=int),  # 0: complete; else cyclic by the lanes (layer_list)
    ]

    def initialize(self):
        precision = precision_of(self.get_attr("out_precision"))
        self.add_output_variable(list(self.get_attr("out_shape")), precision=precision)

    def add_type(self, name: str, precision) -> None:
        """An extra named type (written to defines.h as `{name}{index}_t`), e.g. the membrane."""
        self.set_attr(name + "_t", NamedType(f"{name}{self.index}_t", precision))


class SynapticBlock(SpikeLayer):
    """Base of the IF blocks: integer weights, bias, membrane and neuron types."""

    _expected_attributes = [WeightAttribute("weight"), WeightAttribute("bias"), TypeAttribute("weight"),
                            TypeAttribute("bias"), TypeAttribute("membrane")]

    def initialize(self):
        super().initialize()
        self.add_weights_variable(name="weight", var_name="w{index}", type_name="weight{index}_t",
                                  precision=int_type(self.get_attr("weight_bits")), data=self.get_attr("weight_data"))
        self.add_weights_variable(name="bias", var_name="b{index}", type_name="bias{index}_t",
                                  precision=int_type(self.get_attr("bias_bits")), data=self.get_attr("bias_data"))
        self.add_type("membrane", int_type(self.get_attr("membrane_bits")))
        if self.get_attr("analog"):
            self.add_type("level", int_type(self.get_attr("level_bits"), self.get_attr("level_signed")))
        else:
            self.add_type("psum", int_type(self.get_attr("psum_bits")))
        if not self.get_attr("readout"):
            self.add_type("threshold", int_type(self.get_attr("threshold_bits")))


def layer_class(block: HlsBlock) -> type[Layer]:
    """The hls4ml layer class of a block: its attribute table as hls4ml Attributes."""
    base = SynapticBlock if block.synaptic else SpikeLayer
    attributes = [Attribute(name, value_type=kind) for name, kind in block.params.items()]
    doc = f"hwflow's {block.class_name} block (C++ config {NAMESPACE}::{block.struct}, {', '.join(block.headers)})"
    return type(block.class_name, (base,), {"_expected_attributes": attributes, "__doc__": doc})


def attributes(node, block: HlsBlock) -> dict:
    """The node's values of the block's attribute table (plus reuse_factor and out_shape)."""
    return {k: node.get_attr(k) for k in (*block.params, "reuse_factor", "out_shape")}


def is_stream(node) -> bool:
    return node.model.config.get_config_value("IOType") == "io_stream"


def probe(node, process: str) -> list[str]:
    """In a trace build, the line after a block's process call that files its C-simulation probes
    as '<layer>_...' records (membranes, '<layer>_cycles_<process>'); nothing otherwise."""
    if not node.get_attr("trace", False):
        return []
    return ["#ifndef __SYNTHESIS__", f'{NAMESPACE}::spike_probe::commit("{node.name}", "{process}");', "#endif"]


def partition(node, variable: str) -> str:
    """The ARRAY_PARTITION pragma of one of the block's arrays: complete, or cyclic by the lanes."""
    factor = node.get_attr("partition_factor")
    how = f"cyclic factor={factor} dim=1" if factor else "complete dim=0"
    return f"#pragma HLS ARRAY_PARTITION variable={variable} {how}"


def planes(layer) -> int:
    """Planes of a layer's output variable: T for spike planes [T, ...], 1 for values (and the input); through
    hls4ml's Clone (io_stream, a tensor several blocks read), its source's."""
    while layer.class_name == "Clone":
        layer = layer.get_input_node()
    if layer.get_attr("out_precision") != SPIKE_SPEC:
        return 1
    return int(layer.get_attr("out_shape")[0])


def call_lines(node, block: HlsBlock) -> list[str]:
    """The block's call on arrays (io_parallel); for io_stream on the streams (a line-buffered block)
    or wrapped in stream -> array frame adapters (one per input) and an array -> stream one."""
    inps, out = [node.get_input_variable(name) for name in node.inputs], node.get_output_variable()
    config = f"config{node.index}"

    def kernel(call, in_ts: list[str], xs: list[str], out_t: str, y: str) -> list[str]:
        args = CallArgs(config, in_ts[0], xs[0], out_t, y, others=tuple(zip(in_ts[1:], xs[1:])))
        return [line for lines, process in call(node, args) for line in (*lines, *probe(node, process))]

    if not is_stream(node):
        return kernel(block.call, [v.type.name for v in inps], [v.name for v in inps], out.type.name, out.name)
    if node.get_attr("line_buffer"):
        return kernel(block.stream_call, [inps[0].type.name], [inps[0].name], out.type.name, out.name)
    suffixes = [""] if len(inps) == 1 else [str(i + 1) for i in range(len(inps))]
    arrays = [f"layer{node.index}_in{s}" for s in suffixes]
    lines = []
    for inp, name, array in zip(inps, node.inputs, arrays):
        lines += [f"{inp.type.name}::value_type {array}[{inp.size()}];",
                  partition(node, array),
                  f"{NAMESPACE}::stream_to_array<{inp.type.name}, {inp.size()}, "
                  f"{planes(node.get_input_node(name))}>({inp.name}, {array});"]
    out_t, a_out = f"{out.type.name}::value_type", f"layer{node.index}_res"
    return [*lines,
            *probe(node, "read"),
            f"{out_t} {a_out}[{out.size()}];",
            partition(node, a_out),
            *kernel(block.call, [f"{v.type.name}::value_type" for v in inps], arrays, out_t, a_out),
            f"{NAMESPACE}::array_to_stream<{out.type.name}, {out.size()}, {planes(node)}>({a_out}, {out.name});",
            *probe(node, "write")]


def constant(name: str, value) -> str:
    """A config struct member: an unsigned constant, or for a list a function of the index t returning
    list[t] (a ROM: a po2 neuron's step thresholds)."""
    if not isinstance(value, (list, tuple)):
        return f"    static const unsigned {name} = {int(value)};\n"
    cases = "".join(f" case {t}: return {int(v)}LL;" for t, v in enumerate(value))
    return f"    static long long {name}(unsigned t) {{ switch (t) {{{cases} default: return 0; }} }}\n"


def templates(block: HlsBlock, cls: type[Layer]) -> tuple[type, type]:
    """The config and function template classes of a block."""

    class ConfigTemplate(LayerConfigTemplate):
        def __init__(self):
            super().__init__(cls)

        def format(self, node):
            consts = "".join(constant(k, v) for k, v in block.constants(attributes(node, block)).items())
            typedefs = "".join(f"    typedef {node.get_attr(n + '_t').name} {n}_t;\n" for n in block.types
                               if node.get_attr(n + "_t") is not None)
            return f"struct config{node.index} : {NAMESPACE}::{block.struct} {{\n{consts}{typedefs}}};\n"

    class FunctionTemplate(FunctionCallTemplate):
        def __init__(self):
            super().__init__(cls, include_header=[f"nnet_utils/{h}" for h in (*block.headers, *COMMON_HEADERS)])

        def format(self, node):
            return call_lines(node, block)

    return ConfigTemplate, FunctionTemplate


_registered: set[str] = set()  # backends done
_templates: list[type] = []  # every block's config and function template, made once


def register() -> None:
    """Register hwflow's layers, templates and C++ sources with hls4ml (idempotent).

    Warns once if hls4ml, QKeras or TensorFlow is not the version hwflow is pinned to.
    """
    if not _templates:
        mismatches = version_mismatches()
        if mismatches:
            warnings.warn("hwflow's firmware is tested with " + ", ".join(
                f"{p}=={pin} (installed: {have})" for p, (have, pin) in mismatches.items())
                + "; if firmware generation fails, install the pinned versions", stacklevel=2)
        for block in HLS_BLOCKS.values():
            cls = layer_class(block)
            hls4ml.model.layers.register_layer(block.class_name, cls)
            _templates.extend(templates(block, cls))
    for name in BACKENDS:
        if name in _registered:
            continue
        backend = hls4ml.backends.get_backend(name)
        available = set(hls4ml.model.optimizer.get_available_passes())
        for template in _templates:
            if f"{name.lower()}:{template().get_name()}" not in available:
                backend.register_template(template)
        for header in headers():
            backend.register_source(TEMPLATE_DIR / header)
        _registered.add(name)
