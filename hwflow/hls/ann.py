"""The peer baseline: the same QKeras model as a plain hls4ml ANN project (hls4ml's own converter)."""
from __future__ import annotations

from pathlib import Path

from hwflow.convert import convert
from hwflow.fold import fold_batchnorm, has_batchnorm
from hwflow.hls.lower import grid_spec, spec_cpp


def ann_to_hls(model, output_dir: str | Path, backend: str = "Vitis", io_type: str = "io_parallel",
               part: str = "xcu250-figd2104-2L-e", clock_period: float = 5, reuse_factor: int = 1,
               project_name: str = "myproject"):
    """hls4ml's ModelGraph of the QKeras model, configured to compute it exactly.

    Batch norm is folded into the quantized weights first (hls4ml would otherwise keep a float
    batch-norm layer that rounds differently), precisions come from the quantizers with
    config_from_keras_model(granularity='name'), and the input type is the model's input grid.
    """
    import hls4ml

    snn = convert(model)  # validates the model and gives the input grid
    if has_batchnorm(model):
        model = fold_batchnorm(model)
    config = hls4ml.utils.config_from_keras_model(model, granularity="name", backend=backend,
                                                  default_reuse_factor=reuse_factor)
    input_name = next(iter(config["LayerName"]))  # hls4ml lists the InputLayer first
    config["LayerName"][input_name]["Precision"] = {"result": spec_cpp(grid_spec(snn.encoder.grid))}
    return hls4ml.converters.convert_from_keras_model(
        model, hls_config=config, output_dir=str(output_dir), project_name=project_name, backend=backend,
        io_type=io_type, part=part, clock_period=clock_period)
