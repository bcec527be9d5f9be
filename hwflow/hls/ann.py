"""The peer baseline: the same QKeras model as a plain hls4ml ANN project (hls4ml's own converter)."""
from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import tensorflow as tf

from hwflow.convert import convert
from hwflow.defaults import DEFAULT_PROJECT_NAME
from hwflow.errors import HwflowError
from hwflow.fold import fold_batchnorm, has_batchnorm
from hwflow.hls.block import grid_spec, spec_cpp
from hwflow.hls.feasibility import MAX_PARTITION, MAX_WORD_BITS, Feasibility, MacLayer, estimate_ann
from hwflow.hls.lower import guard_inputs
from hwflow.options import FirmwareOptions


@dataclass
class AnnSettings:
    """How hls4ml's ANN is configured so that Vivado/Vitis HLS can build it (hwflow.hls.feasibility's limits)."""

    io_type: str
    reuse_factors: dict[str, int]  # hls4ml layer name -> ReuseFactor (Dense, Conv2D)
    why: str
    feasibility: Feasibility  # its resource estimate on the part (hwflow.hls.feasibility.estimate_ann)

    def as_dict(self) -> dict:
        return dict(io_type=self.io_type, reuse_factors=self.reuse_factors, why=self.why,
                    feasibility=self.feasibility.as_dict())


def ann_settings(model, opts: FirmwareOptions, snn) -> AnnSettings:
    """A buildable configuration of hls4ml's ANN for these firmware options (snn: hwflow.convert(model),
    for the accumulator widths of the estimate); a one-line HwflowError if it does not fit the part.

    Reuse factor: for the folded and event strategies, per layer the smallest of hls4ml's valid
    reuse factors at which the layer has at most `lanes` multipliers (the SNN's lanes: the same
    parallelism); for latency, the configured reuse factor, raised where the weights would be
    reshaped into words over MAX_WORD_BITS. io_type: io_stream (hls4ml's recommendation for CNNs)
    where an io_parallel layer output would be partitioned over MAX_PARTITION elements.
    """
    import hls4ml

    backend = hls4ml.backends.get_backend(opts.backend)
    factors, outputs, macs = {}, [], []
    widths = {layer.name: layer.membrane_bits for layer in snn.synaptic_layers}
    for layer in model.layers:
        outputs.append(math.prod(s for s in layer.output_shape[1:]))
        kernel = getattr(layer, "kernel", None)
        if kernel is None:
            continue
        n_in, n_out = math.prod(kernel.shape[:-1]), int(kernel.shape[-1])
        valid = backend.get_valid_reuse_factors(n_in, n_out)
        bits = layer.kernel_quantizer_internal.bits if getattr(layer, "kernel_quantizer_internal", None) else 32
        if opts.sequential:
            ok = [r for r in valid if n_in * n_out // r <= opts.lanes] or valid[-1:]
        else:
            ok = [r for r in valid
                  if r >= opts.reuse_factor and n_in * n_out // r * bits <= MAX_WORD_BITS] or valid[-1:]
        factors[layer.name] = ok[0]
        macs.append(MacLayer(layer.name, n_in * n_out // ok[0], ok[0], widths.get(layer.name, max(widths.values())),
                             int(bits)))
    stream = opts.io_type == "io_parallel" and max(outputs) > MAX_PARTITION
    io_type = "io_stream" if stream else opts.io_type
    why = (f"at most {opts.lanes} multipliers per layer (the SNN's lanes)" if opts.sequential
           else "the reuse factor, raised where a weight word would exceed the HLS limit")
    if stream:
        why += f"; io_stream: an io_parallel layer output would be partitioned over {MAX_PARTITION} elements"
    return AnnSettings(io_type, factors, why, estimate_ann(macs, opts.part, data_blocks(model)))


def data_blocks(model) -> tuple[str, ...]:
    """The model's layers that move or pool data without weights (pools, flatten, reshape, padding):
    the blocks of its ANN besides the multiply-accumulate layers and their activations."""
    fused = ("InputLayer", "QActivation", "Activation", "ReLU", "Softmax", "Dropout", "BatchNormalization",
             "QBatchNormalization")
    return tuple(layer.name for layer in model.layers
                 if getattr(layer, "kernel", None) is None and type(layer).__name__ not in fused)


def without_reserved_names(model) -> tf.keras.Model:
    """`model`, or its copy (same weights) whose input layers named 'input' (hls4ml reserves the name) are
    renamed 'model_input'."""
    inputs = [layer for layer in model.layers if type(layer).__name__ == "InputLayer"]
    if not any(layer.name == "input" for layer in inputs):
        return model
    renamed = [tf.keras.Input(batch_shape=layer.input.shape, dtype=layer.dtype,
                              name="model_input" if layer.name == "input" else layer.name) for layer in inputs]
    copy = tf.keras.models.clone_model(model, input_tensors=renamed if len(renamed) > 1 else renamed[0])
    copy.set_weights(model.get_weights())
    return copy


def ann_to_hls(model, output_dir: str | Path, options: FirmwareOptions | None = None, *,
               project_name: str = DEFAULT_PROJECT_NAME, **settings):
    """hls4ml's ModelGraph of the QKeras model, configured to compute it exactly (options as for to_hls)
    and to be buildable (ann_settings: reuse factors, io_type, the resource estimate, checked against the
    part before hls4ml converts; stored as hls_model.hwflow_settings).

    Batch norm is folded into the quantized weights first (hls4ml would otherwise keep a float
    batch-norm layer that rounds differently), precisions come from the quantizers with
    config_from_keras_model(granularity='name'), and the input type is the model's input grid; its
    predict and trace reject inputs off that grid. auto_po2 weight scales: see exact_alpha_types.
    """
    import hls4ml

    opts = FirmwareOptions.of(options, **settings)
    snn = convert(model)  # validates the model and gives the input grid
    po2 = next((s.name for s in snn.synaptic_layers if s.neuron is not None and s.neuron.po2_bounds is not None), None)
    if po2 is not None:
        raise HwflowError(f"hls4ml {hls4ml.__version__} does not convert quantized_relu_po2 activations (layer '{po2}'), "
                          "so this model has no hls4ml ANN; hwflow's SNN firmware (hwflow.hls.to_hls) computes it")
    if snn.encoder.joins:
        raise HwflowError(f"model '{model.name}' has {len(snn.encoder.joins)} inputs; hwflow builds the hls4ml ANN "
                          "baseline of single-input models: compare with the RTL's ANN twin (architecture ann)")
    wide = next((layer.name for layer in model.layers if type(layer).__name__ == "Concatenate"
                 and len(layer.input) > 2), None)
    if wide is not None:
        raise HwflowError(f"hls4ml {hls4ml.__version__} merges two tensors at a time ('Merging more than two tensors "
                          f"is not yet supported'), and Concatenate '{wide}' joins {len(model.get_layer(wide).input)}, "
                          "so this model has no hls4ml ANN; compare with the RTL's ANN twin (architecture ann)")
    if has_batchnorm(model):
        model = fold_batchnorm(model)
    model = without_reserved_names(model)
    chosen = ann_settings(model, opts, snn)
    config = hls4ml.utils.config_from_keras_model(model, granularity="name", backend=opts.backend,
                                                  default_reuse_factor=opts.reuse_factor)
    config["Model"]["Strategy"] = opts.hls4ml_strategy
    for name, factor in chosen.reuse_factors.items():
        config["LayerName"][name]["ReuseFactor"] = factor
    input_name = next(iter(config["LayerName"]))  # hls4ml lists the InputLayer first
    config["LayerName"][input_name]["Precision"] = {"result": spec_cpp(grid_spec(snn.encoder.grid))}
    hls_model = hls4ml.converters.convert_from_keras_model(
        model, hls_config=config, output_dir=str(output_dir), project_name=project_name, backend=opts.backend,
        io_type=chosen.io_type, part=opts.part, clock_period=opts.clock_period)
    exact_alpha_types(hls_model, snn)
    guard_inputs(hls_model, snn)  # as hwflow's own firmware: inputs off the grid are an error, not truncated
    hls_model.hwflow_settings = chosen
    return hls_model


def exact_alpha_types(hls_model, snn) -> None:
    """Give hls4ml's ApplyAlpha layers (its per-channel scale and bias after a layer with auto_po2
    weights) an exact output type. hls4ml sets their precision to 'auto', which falls back on the
    model default ap_fixed<16,6> and truncates (on jet_mlp: 275 of 10,000 samples off QKeras); the
    layer's output is its SNN layer's membrane grid, 2**-frac with membrane_bits + 1 integer bits."""
    layers = {s.name: s for s in snn.synaptic_layers}
    for layer in hls_model.get_layers():
        base = layers.get(layer.name.removesuffix("_alpha")) if layer.class_name == "ApplyAlpha" else None
        if base is not None:
            width = base.membrane_bits + 2
            var = layer.get_output_variable()
            var.type.precision = type(var.type.precision)(width, width - base.frac, True)  # the backend's class
