"""hwflow: error-free conversion of QKeras networks into binary-coded spiking networks and firmware."""
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from hwflow.convert import SUPPORTED_LAYERS, convert  # noqa: E402
from hwflow.errors import HwflowError  # noqa: E402
from hwflow.fold import fold_batchnorm  # noqa: E402
from hwflow.snn import SNN  # noqa: E402

__all__ = ["convert", "fold_batchnorm", "SNN", "HwflowError", "SUPPORTED_LAYERS"]
