"""The peer baseline: the same QKeras model as a plain hls4ml ANN project (hls4ml's own converter)."""
from __future__ import annotations

from pathlib import Path

from hwflow.convert import convert
from hwflow.defaults import DEFAULT_PROJECT_NAME
from hwflow.fold import fold_batchnorm, has_batchnorm
from hwflow.hls.block import grid_spec, spec_cpp
from hwflow.hls.lower import guard_inputs
from hwflow.options import FirmwareOptions


def ann_to_hls(model, output_dir: str | Path, options: FirmwareOptions | None = None, *,
               project_name: str = DEFAULT_PROJECT_NAME, **settings):
    """hls4ml's ModelGraph of the QKeras model, configured to compute it exactly (options as for to_hls).

    Batch norm is folded into the quantized weights first (hls4ml would otherwise keep a float
    batch-norm layer that rounds differently), precisions come from the quantizers with
    config_from_keras_model(granularity='name'), and the input type is the model's input grid; its
    predict and trace reject inputs off that grid.
    """
    import hls4ml

    opts = FirmwareOptions.of(options, **settings)
    snn = convert(model)  # validates the model and gives the input grid
    if has_batchnorm(model):
        model = fold_batchnorm(model)
    config = hls4ml.utils.config_from_keras_model(model, granularity="name", backend=opts.backend,
                                                  default_reuse_factor=opts.reuse_factor)
    config["Model"]["Strategy"] = opts.hls4ml_strategy
    input_name = next(iter(config["LayerName"]))  # hls4ml lists the InputLayer first
    config["LayerName"][input_name]["Precision"] = {"result": spec_cpp(grid_spec(snn.encoder.grid))}
    hls_model = hls4ml.converters.convert_from_keras_model(
        model, hls_config=config, output_dir=str(output_dir), project_name=project_name, backend=opts.backend,
        io_type=opts.io_type, part=opts.part, clock_period=opts.clock_period)
    guard_inputs(hls_model, snn)  # as hwflow's own firmware: inputs off the grid are an error, not truncated
    return hls_model
