"""hwflow's integrate-and-fire blocks as hls4ml layers, through hls4ml's public extension API.

Each block is an hls4ml ``Layer`` subclass (registered with ``hls4ml.model.layers.register_layer``)
plus a config template (the ``configN`` struct written to parameters.h) and a function template
(the call written to myproject.cpp), registered with ``backend.register_template`` on the Vivado
and Vitis backends; the C++ headers in hls_templates/ are registered with
``backend.register_source`` on both. Every type is given an explicit precision here: hls4ml's
model default precision is never used.

Blocks (C++ in hls_templates/, loop structure and cycle model in each header's comment):

    SpikeEncode       nnet_spike_encode.h    bit-plane input: values -> S spike planes
    IFDense           nnet_if_dense.h        if_dense_spiking (adds) / if_dense_analog (MAC)
                      nnet_if_neuron.h       + if_neuron_fire, or membrane_readout
    IFConv2D          nnet_if_conv2d.h       if_conv2d_spiking / if_conv2d_analog (+ neuron)
    BitSerialMaxPool  nnet_bitserial_pool.h  bit-serial max pooling on planes
    SpikeFlatten      nnet_spike_encode.h    channels-last reshape (element copy)
    SpikeDecode       nnet_spike_encode.h    last spiking layer: planes -> output levels
    (io_stream)       nnet_spike_stream.h    stream <-> array adapters around every block

A trace build (a layer's ``trace`` attribute on) also writes ``nnet::spike_probe::commit`` after
every call (C simulation only), which files the block's staged membranes and counted cycles
(nnet_spike_common.h; read by hwflow.hls.trace).
"""
from __future__ import annotations

from pathlib import Path

import hls4ml
from hls4ml.backends.template import FunctionCallTemplate, LayerConfigTemplate
from hls4ml.model.attributes import Attribute, ConfigurableAttribute, TypeAttribute, WeightAttribute
from hls4ml.model.layers import Layer
from hls4ml.model.types import FixedPrecisionType, IntegerPrecisionType, NamedType

from hwflow.hls.cycles import reuse_depth

TEMPLATE_DIR = Path(__file__).resolve().parents[2] / "hls_templates"
HEADERS = ("nnet_spike_common.h", "nnet_if_dense.h", "nnet_if_conv2d.h", "nnet_if_neuron.h",
           "nnet_bitserial_pool.h", "nnet_spike_encode.h", "nnet_spike_stream.h")
BACKENDS = ("Vivado", "Vitis")

SPIKE = IntegerPrecisionType(width=1, signed=False)  # one bit of one spike plane: ap_uint<1>


def int_type(bits: int, signed: bool = True) -> IntegerPrecisionType:
    return IntegerPrecisionType(width=int(bits), signed=signed)


def precision_of(spec: tuple) -> IntegerPrecisionType | FixedPrecisionType:
    """('int', width, signed) | ('fixed', width, integer, signed) -> an hls4ml precision."""
    if spec[0] == "int":
        return IntegerPrecisionType(width=int(spec[1]), signed=bool(spec[2]))
    return FixedPrecisionType(width=int(spec[1]), integer=int(spec[2]), signed=bool(spec[3]))


# --------------------------------------------------------------------------------------- layers

class SpikeLayer(Layer):
    """Base of hwflow's blocks: output shape and precision come from the layer dict."""

    _expected_attributes = [
        Attribute("out_shape", value_type=list),
        Attribute("out_precision", value_type=tuple),
        ConfigurableAttribute("reuse_factor", default=1),
    ]

    def initialize(self):
        precision = precision_of(self.get_attr("out_precision"))
        self.add_output_variable(list(self.get_attr("out_shape")), precision=precision)

    def add_type(self, name: str, precision) -> None:
        """An extra named type (written to defines.h as `{name}{index}_t`), e.g. the membrane."""
        self.set_attr(name + "_t", NamedType(f"{name}{self.index}_t", precision))


class SpikeEncode(SpikeLayer):
    _expected_attributes = [Attribute("n_in"), Attribute("steps")]


class SpikeDecode(SpikeLayer):
    _expected_attributes = [Attribute("n_in"), Attribute("steps")]


class SpikeFlatten(SpikeLayer):
    _expected_attributes = [Attribute("size")]


class BitSerialMaxPool(SpikeLayer):
    _expected_attributes = [Attribute(a) for a in (
        "in_height", "in_width", "n_chan", "out_height", "out_width", "pool_height", "pool_width",
        "stride_height", "stride_width", "pad_top", "pad_left", "steps")]


class SynapticBlock(SpikeLayer):
    """Common part of IFDense / IFConv2D: integer weights, bias, membrane and neuron types."""

    _expected_attributes = [
        Attribute("analog", value_type=bool),
        Attribute("readout", value_type=bool),
        Attribute("in_steps"),
        Attribute("out_steps"),
        Attribute("threshold_log2"),
        Attribute("n_synapses"),
        Attribute("membrane_bits"),
        Attribute("psum_bits"),
        Attribute("weight_bits"),
        Attribute("bias_bits"),
        Attribute("threshold_bits"),
        Attribute("level_bits"),
        Attribute("level_signed", value_type=bool),
        Attribute("readout_width"),
        WeightAttribute("weight"),
        WeightAttribute("bias"),
        TypeAttribute("weight"),
        TypeAttribute("bias"),
        TypeAttribute("membrane"),
    ]

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


class IFDense(SynapticBlock):
    _expected_attributes = [Attribute("n_in"), Attribute("n_out")]


class IFConv2D(SynapticBlock):
    _expected_attributes = [Attribute(a) for a in (
        "in_height", "in_width", "n_chan", "out_height", "out_width", "n_filt", "filt_height", "filt_width",
        "stride_height", "stride_width", "pad_top", "pad_left")]


LAYERS = (SpikeEncode, SpikeDecode, SpikeFlatten, BitSerialMaxPool, IFDense, IFConv2D)


# ---------------------------------------------------------------------------------- templates

def consts(**values) -> str:
    return "".join(f"    static const unsigned {k} = {int(v)};\n" for k, v in values.items())


def typedefs(node, *names) -> str:
    return "".join(f"    typedef {node.get_attr(n + '_t').name} {n}_t;\n" for n in names
                   if node.get_attr(n + "_t") is not None)


def struct(node, base: str, body: str) -> str:
    return f"struct config{node.index} : nnet::{base} {{\n{body}}};\n"


class SpikeEncodeConfigTemplate(LayerConfigTemplate):
    def __init__(self):
        super().__init__(SpikeEncode)

    def format(self, node):
        n, s = node.get_attr("n_in"), node.get_attr("steps")
        return struct(node, "spike_code_config", consts(n_in=n, steps=s, size=n * s))


class SpikeDecodeConfigTemplate(LayerConfigTemplate):
    def __init__(self):
        super().__init__(SpikeDecode)

    def format(self, node):
        n, s = node.get_attr("n_in"), node.get_attr("steps")
        return struct(node, "spike_code_config", consts(n_in=n, steps=s, size=n * s))


class SpikeFlattenConfigTemplate(LayerConfigTemplate):
    def __init__(self):
        super().__init__(SpikeFlatten)

    def format(self, node):
        return struct(node, "spike_flatten_config", consts(size=node.get_attr("size")))


class BitSerialMaxPoolConfigTemplate(LayerConfigTemplate):
    def __init__(self):
        super().__init__(BitSerialMaxPool)

    def format(self, node):
        a = {k: node.get_attr(k) for k in ("in_height", "in_width", "n_chan", "out_height", "out_width",
                                           "pool_height", "pool_width", "stride_height", "stride_width",
                                           "pad_top", "pad_left", "steps")}
        in_plane = a["in_height"] * a["in_width"] * a["n_chan"]
        out_plane = a["out_height"] * a["out_width"] * a["n_chan"]
        return struct(node, "bitserial_pool_config", consts(
            **a, in_plane=in_plane, out_plane=out_plane, in_size=a["steps"] * in_plane,
            out_size=a["steps"] * out_plane, pool_size=a["pool_height"] * a["pool_width"]))


def synaptic_consts(node, n_psum: int) -> dict:
    """Constants shared by the IFDense / IFConv2D configs; n_psum partial sums per output pixel."""
    r = node.get_attr("reuse_factor")
    n_syn = node.get_attr("n_synapses")
    readout = node.get_attr("readout")
    return dict(in_steps=node.get_attr("in_steps"), n_synapses=n_syn, reuse_factor=r, block_factor=n_syn // r,
                reuse_depth=reuse_depth(n_syn, r, n_psum),
                out_steps=0 if readout else node.get_attr("out_steps"),
                out_size=node.get_output_variable().size(),
                threshold_log2=0 if readout else node.get_attr("threshold_log2"),
                readout_width=node.get_attr("readout_width") if readout else 0)


SYNAPTIC_TYPES = ("weight", "bias", "membrane", "psum", "level", "threshold")


class IFDenseConfigTemplate(LayerConfigTemplate):
    def __init__(self):
        super().__init__(IFDense)

    def format(self, node):
        n_in, n_out = node.get_attr("n_in"), node.get_attr("n_out")
        c = dict(n_in=n_in, n_out=n_out, in_size=node.get_attr("in_steps") * n_in)
        c.update(synaptic_consts(node, n_out))
        return struct(node, "if_dense_config", consts(**c) + typedefs(node, *SYNAPTIC_TYPES))


class IFConv2DConfigTemplate(LayerConfigTemplate):
    def __init__(self):
        super().__init__(IFConv2D)

    def format(self, node):
        a = {k: node.get_attr(k) for k in ("in_height", "in_width", "n_chan", "out_height", "out_width", "n_filt",
                                           "filt_height", "filt_width", "stride_height", "stride_width",
                                           "pad_top", "pad_left")}
        in_plane = a["in_height"] * a["in_width"] * a["n_chan"]
        out_plane = a["out_height"] * a["out_width"] * a["n_filt"]
        c = dict(a, in_plane=in_plane, in_size=node.get_attr("in_steps") * in_plane, out_plane=out_plane,
                 n_out=out_plane, row_taps=a["filt_width"] * a["n_chan"])
        c.update(synaptic_consts(node, a["n_filt"]))
        return struct(node, "if_conv2d_config", consts(**c) + typedefs(node, *SYNAPTIC_TYPES))


def is_stream(node) -> bool:
    return node.model.config.get_config_value("IOType") == "io_stream"


def probe(node, process: str) -> list[str]:
    """In a trace build, the line after a block's process call that files its C-simulation probes
    as '<layer>_...' records (membranes, '<layer>_cycles_<process>'); nothing otherwise."""
    if not node.get_attr("trace", False):
        return []
    return ["#ifndef __SYNTHESIS__", f'nnet::spike_probe::commit("{node.name}", "{process}");', "#endif"]


def with_io(node, params: dict, kernel) -> list[str]:
    """The block's call lines: kernel(input_t, input, output_t, output) on arrays (io_parallel), or
    for io_stream wrapped in stream -> array -> kernel -> stream adapters (nnet_spike_stream.h)."""
    if not is_stream(node):
        return kernel(params["input_t"], params["input"], params["output_t"], params["output"])
    n_in, n_out = node.get_input_variable().size(), node.get_output_variable().size()
    in_t, out_t = f"{params['input_t']}::value_type", f"{params['output_t']}::value_type"
    a_in, a_out = f"layer{node.index}_in", f"layer{node.index}_res"
    return [f"{in_t} {a_in}[{n_in}];",
            f"#pragma HLS ARRAY_PARTITION variable={a_in} complete dim=0",
            f"nnet::stream_to_array<{params['input_t']}, {n_in}>({params['input']}, {a_in});",
            *probe(node, "read"),
            f"{out_t} {a_out}[{n_out}];",
            f"#pragma HLS ARRAY_PARTITION variable={a_out} complete dim=0",
            *kernel(in_t, a_in, out_t, a_out),
            f"nnet::array_to_stream<{params['output_t']}, {n_out}>({a_out}, {params['output']});",
            *probe(node, "write")]


def simple_call(function: str, process: str):
    def kernel(node, params):
        return with_io(node, params, lambda in_t, x, out_t, y: [
            f"nnet::{function}<{in_t}, {out_t}, {params['config']}>({x}, {y});", *probe(node, process)])
    return kernel


def headers(*names: str) -> list[str]:
    return [f"nnet_utils/{n}" for n in names + ("nnet_spike_stream.h",)]


class SpikeEncodeFunctionTemplate(FunctionCallTemplate):
    def __init__(self):
        super().__init__(SpikeEncode, include_header=headers("nnet_spike_encode.h"))

    def format(self, node):
        return simple_call("spike_encode", "encode")(node, self._default_function_params(node))


class SpikeDecodeFunctionTemplate(FunctionCallTemplate):
    def __init__(self):
        super().__init__(SpikeDecode, include_header=headers("nnet_spike_encode.h"))

    def format(self, node):
        return simple_call("spike_decode", "decode")(node, self._default_function_params(node))


class SpikeFlattenFunctionTemplate(FunctionCallTemplate):
    def __init__(self):
        super().__init__(SpikeFlatten, include_header=headers("nnet_spike_encode.h"))

    def format(self, node):
        return simple_call("spike_flatten", "flatten")(node, self._default_function_params(node))


class BitSerialMaxPoolFunctionTemplate(FunctionCallTemplate):
    def __init__(self):
        super().__init__(BitSerialMaxPool, include_header=headers("nnet_bitserial_pool.h"))

    def format(self, node):
        return simple_call("bitserial_max_pool", "pool")(node, self._default_function_params(node))


def synaptic_call(node, params: dict, op: str) -> list[str]:
    """Integration into a local membrane array, then the neuron (fire) or the readout."""
    membrane = f"layer{node.index}_v"
    n_membranes = node.get_attr("n_out") if op == "dense" else (
        node.get_attr("out_height") * node.get_attr("out_width") * node.get_attr("n_filt"))
    variant = "analog" if node.get_attr("analog") else "spiking"
    w, b = node.get_weights("weight").name, node.get_weights("bias").name
    cfg = params["config"]

    def kernel(in_t, x, out_t, y):
        lines = [f"{node.get_attr('membrane_t').name} {membrane}[{n_membranes}];",
                 f"#pragma HLS ARRAY_PARTITION variable={membrane} complete dim=0",
                 f"nnet::if_{op}_{variant}<{in_t}, {cfg}>({x}, {membrane}, {w}, {b});", *probe(node, "integrate")]
        if node.get_attr("readout"):
            return lines + [f"nnet::membrane_readout<{out_t}, {cfg}>({membrane}, {y});", *probe(node, "readout")]
        return lines + [f"nnet::if_neuron_fire<{out_t}, {cfg}>({membrane}, {y});", *probe(node, "fire")]

    return with_io(node, params, kernel)


class IFDenseFunctionTemplate(FunctionCallTemplate):
    def __init__(self):
        super().__init__(IFDense, include_header=headers("nnet_if_dense.h", "nnet_if_neuron.h"))

    def format(self, node):
        return synaptic_call(node, self._default_function_params(node), "dense")


class IFConv2DFunctionTemplate(FunctionCallTemplate):
    def __init__(self):
        super().__init__(IFConv2D, include_header=headers("nnet_if_conv2d.h", "nnet_if_neuron.h"))

    def format(self, node):
        return synaptic_call(node, self._default_function_params(node), "conv2d")


TEMPLATES = (SpikeEncodeConfigTemplate, SpikeEncodeFunctionTemplate, SpikeDecodeConfigTemplate,
             SpikeDecodeFunctionTemplate, SpikeFlattenConfigTemplate, SpikeFlattenFunctionTemplate,
             BitSerialMaxPoolConfigTemplate, BitSerialMaxPoolFunctionTemplate, IFDenseConfigTemplate,
             IFDenseFunctionTemplate, IFConv2DConfigTemplate, IFConv2DFunctionTemplate)

_registered: set[str] = set()


def register() -> None:
    """Register hwflow's layers, templates and C++ sources with hls4ml (idempotent)."""
    if "layers" not in _registered:
        for cls in LAYERS:
            hls4ml.model.layers.register_layer(cls.__name__, cls)
        _registered.add("layers")
    for name in BACKENDS:
        if name in _registered:
            continue
        backend = hls4ml.backends.get_backend(name)
        available = set(hls4ml.model.optimizer.get_available_passes())
        for template in TEMPLATES:
            if f"{name.lower()}:{template().get_name()}" not in available:
                backend.register_template(template)
        for header in HEADERS:
            backend.register_source(TEMPLATE_DIR / header)
        _registered.add(name)
