"""hwflow: error-free conversion of QKeras networks into binary-coded spiking networks and firmware."""
import os
import warnings

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
# Keras 2 says QKeras quantizers are not Keras constraints/initializers whenever a model is serialized
warnings.filterwarnings("ignore", message=r"The `keras\.(constraints|initializers)\.serialize\(\)` API",
                        category=UserWarning)

from hwflow.convert import convert  # noqa: E402
from hwflow.errors import HwflowError  # noqa: E402
from hwflow.ops import supported_layers  # noqa: E402
from hwflow.options import FirmwareOptions  # noqa: E402
from hwflow.snn import SNN  # noqa: E402

SUPPORTED_LAYERS = supported_layers()

__all__ = ["convert", "fold_batchnorm", "to_hls", "to_rtl", "SNN", "HwflowError", "FirmwareOptions", "SUPPORTED_LAYERS"]


def __getattr__(name: str):
    """hwflow.to_hls, to_rtl and fold_batchnorm import hls4ml / TensorFlow only when first used."""
    if name == "to_hls":
        from hwflow.hls import to_hls
        return to_hls
    if name == "to_rtl":
        from hwflow.rtl import to_rtl
        return to_rtl
    if name == "fold_batchnorm":
        from hwflow.fold import fold_batchnorm
        return fold_batchnorm
    raise AttributeError(f"module 'hwflow' has no attribute {name!r}")
