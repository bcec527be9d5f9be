"""Every use of a private TensorFlow / QKeras / hls4ml / Ray internal, checked against the pinned versions.

pyproject.toml pins tensorflow, qkeras, hls4ml and ray (2.15.1, 0.9.0, 1.3.0, 2.60.0 today). The few
internals it needs are reached only through this module: when one is missing, the error names it,
the installed version and the pinned one, instead of an AttributeError deep inside the flow.
"""
from __future__ import annotations

import functools
import importlib
import re
from importlib import metadata
from typing import Any

from hwflow.errors import HwflowError

CHECKED = ("tensorflow", "qkeras", "hls4ml", "ray")  # the packages whose internals hwflow uses


@functools.lru_cache(maxsize=None)
def pinned() -> dict[str, str]:
    """{package: version} that pyproject.toml pins with == (read from hwflow's installed metadata)."""
    pins = {}
    try:
        requirements = metadata.requires("hwflow") or []
    except metadata.PackageNotFoundError:
        return pins
    for req in requirements:
        match = re.fullmatch(r"([A-Za-z0-9_.-]+)\s*==\s*([^;\s]+)", req.split(";")[0].strip())
        if match and match.group(1).lower() in CHECKED:
            pins[match.group(1).lower()] = match.group(2)
    return pins


def installed_version(package: str) -> str:
    """The installed distribution's version, or 'not installed'."""
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "not installed"


def version_mismatches() -> dict[str, tuple[str, str]]:
    """{package: (installed, pinned)} for every pinned package whose installed version differs."""
    found = {p: installed_version(p) for p in pinned()}
    return {p: (v, pinned()[p]) for p, v in found.items() if v != pinned()[p]}


def internal(package: str, owner: Any, path: str, what: str) -> Any:
    """owner.<path> (dotted), a private internal of `package`; a HwflowError naming it if it is gone."""
    value = owner
    try:
        for part in path.split("."):
            value = getattr(value, part)
    except AttributeError:
        pin = pinned().get(package, "the version pyproject.toml pins")
        raise HwflowError(f"{package} {installed_version(package)} has no {path} ({what}); hwflow needs "
                          f"{package}=={pin}: pip install '{package}=={pin}'") from None
    return value


def hls4ml_library(hls_model) -> Any:
    """The ctypes library of hls4ml's last compile()/trace() of the model (ModelGraph._top_function_lib)."""
    lib = internal("hls4ml", hls_model, "_top_function_lib", "the compiled C-simulation library")
    if lib is None:
        raise HwflowError("the hls4ml model has no compiled library; call hls_model.compile() or trace() first")
    return lib


def smart_cond(pred, true_fn, false_fn):
    """tf.__internal__.smart_cond.smart_cond: a Python branch when pred is static, else tf.cond."""
    import tensorflow as tf
    return internal("tensorflow", tf, "__internal__.smart_cond.smart_cond", "static-or-graph condition")(
        pred, true_fn, false_fn)


def training_value(layer, training):
    """Keras 2's Layer._get_training_value: the training flag a BatchNormalization will use."""
    return internal("tensorflow", layer, "_get_training_value", "Keras 2 BatchNormalization training flag")(training)


def add_qkeras_objects(objects: dict) -> None:
    """qkeras.utils._add_supported_quantized_objects: every QKeras layer and quantizer, for load_model."""
    utils = importlib.import_module("qkeras.utils")
    internal("qkeras", utils, "_add_supported_quantized_objects", "QKeras's custom objects")(objects)


def reload_ray_config() -> None:
    """ray._raylet.Config.initialize(''): make Ray re-read RAY_AUTH_MODE (it reads it once, at import)."""
    raylet = importlib.import_module("ray._raylet")
    internal("ray", raylet, "Config.initialize", "Ray's configuration reload")("")
