"""YAML model specs: loading, deep-merged overrides, strict validation, defaults."""
from __future__ import annotations

import copy
import os
import re
from pathlib import Path
from typing import Any, Callable

import yaml

from hwflow import defaults
from hwflow.errors import HwflowError
from hwflow.options import FirmwareOptions
from hwflow.defaults import MAX_LANES
from hwflow.rtl.block import ARCHITECTURES, BUFFERS, FAMILIES
from hwflow.package_data import ZOO_DIR, checkout_root

MNIST_DEFAULT_PATH = "../shared/datasets/mnist"  # relative to the checkout (the project's shared/ data)
REQUIRED = object()
SET = "--set"  # the source of command-line overrides, named in their error messages
ORDER = ("name", "dataset", "input", "time_steps", "activation_integer", "weights", "bias", "layers",
         "train", "energy", "hls", "rtl")
Check = Callable[[Any, str], Any]


class _Loader(yaml.SafeLoader):
    """YAML 1.1's safe loader that also reads YAML 1.2 floats such as 1e-7 (1.1 reads them as strings)."""


_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(?:[0-9][0-9_]*)(?:\.[0-9_]*)?[eE][-+]?[0-9]+$"),
    list("-+0123456789"))


def load_yaml(text: str) -> Any:
    """Parse YAML text as hwflow reads specs and --set values: safe, with 1e-7 a float."""
    return yaml.load(text, Loader=_Loader)


def base_dir() -> Path:
    """The folder a relative dataset path starts from: the source checkout, else the working directory."""
    return checkout_root() or Path.cwd()


def zoo_names() -> list[str]:
    """Names of the YAML specs of the model zoo (models/)."""
    return sorted(p.stem for p in ZOO_DIR.glob("*.yaml"))


def _integer(lo: int, hi: int | None = None) -> Check:
    def check(v: Any, where: str) -> int:
        if isinstance(v, bool) or not isinstance(v, int) or v < lo or (hi is not None and v > hi):
            rng = f"{lo}..{hi}" if hi is not None else f">= {lo}"
            raise HwflowError(f"{where} must be an integer {rng}, got {v!r}")
        return v
    return check


def _optional_integer(lo: int) -> Check:
    inner = _integer(lo)
    return lambda v, where: None if v is None else inner(v, where)


def _number(lo: float, hi: float | None = None, lo_open: bool = False) -> Check:
    def check(v: Any, where: str) -> float:
        ok = not isinstance(v, bool) and isinstance(v, (int, float))
        ok = ok and (v > lo if lo_open else v >= lo) and (hi is None or v < hi)
        if not ok:
            rng = f"{'>' if lo_open else '>='} {lo}" + (f" and < {hi}" if hi is not None else "")
            raise HwflowError(f"{where} must be a number {rng}, got {v!r}")
        return float(v)
    return check


def _choice(*options: str) -> Check:
    def check(v: Any, where: str) -> str:
        if v not in options:
            raise HwflowError(f"{where} must be one of {', '.join(options)}, got {v!r}")
        return v
    return check


def _boolean(v: Any, where: str) -> bool:
    if not isinstance(v, bool):
        raise HwflowError(f"{where} must be true or false, got {v!r}")
    return v


def _string(v: Any, where: str) -> str:
    if not isinstance(v, str) or not v:
        raise HwflowError(f"{where} must be a non-empty string, got {v!r}")
    return v


def _optional_string(v: Any, where: str) -> str | None:
    return None if v is None else _string(v, where)


def _alpha(v: Any, where: str) -> int | str:
    """A kernel quantizer's alpha: 1 (a fixed grid) or 'auto_po2' (QKeras's per-channel powers of two)."""
    if v == 1 or v == "auto_po2":
        return v
    raise HwflowError(f"{where} is {v!r} but must be 1 or auto_po2")


def _firmware(field: str) -> Check:
    """A firmware setting, checked by FirmwareOptions itself (the one place that knows the allowed values)."""
    def check(v: Any, where: str) -> Any:
        try:
            return getattr(FirmwareOptions.of(**{field: v}), field)
        except HwflowError as exc:
            raise HwflowError(f"{where}: {exc}") from None
    return check


SECTIONS: dict[str, dict[str, tuple[Check, Any]]] = {
    "dataset": {"name": (_choice("digits", "mnist", "jets"), "digits"), "path": (_optional_string, None),
                "limit_train": (_optional_integer(1), None), "limit_test": (_optional_integer(1), None)},
    "input": {"bits": (_integer(1, 16), 8), "integer": (_integer(0, 16), 0),
              "encoding": (_choice("direct", "bitplane"), "direct"), "signed": (_boolean, False)},
    "weights": {"bits": (_integer(2, 32), 8), "integer": (_integer(0, 31), 0), "alpha": (_alpha, 1)},
    "bias": {"bits": (_integer(2, 32), 16), "integer": (_integer(0, 31), 5)},
    "train": {"epochs": (_integer(1), 20), "batch_size": (_integer(1), 64),
              "learning_rate": (_number(0.0, lo_open=True), 0.002), "seed": (_integer(0), 0),
              "lambda": (_number(0.0), 0.0), "validation_split": (_number(0.0, 1.0), 0.0),
              "float_baseline": (_boolean, True), "shift": (_integer(0), 0)},
    "energy": {"model": (_choice("int45", "fp32_45"), defaults.DEFAULT_ENERGY_MODEL),
               "e_add32_pj": (_number(0.0, lo_open=True), defaults.E_ADD32_PJ),
               "e_mul32_pj": (_number(0.0, lo_open=True), defaults.E_MUL32_PJ),
               "e_mac_pj": (_number(0.0, lo_open=True), defaults.E_MAC_PJ),
               "e_ac_pj": (_number(0.0, lo_open=True), defaults.E_AC_PJ)},
    "hls": {"enabled": (_boolean, True),
            **{f: (_firmware(f), getattr(FirmwareOptions(), f)) for f in FirmwareOptions.fields()},
            "ann_baseline": (_boolean, True), "testbench_samples": (_integer(1), defaults.TESTBENCH_SAMPLES)},
    "rtl": {"enabled": (_boolean, True), "architecture": (_choice(*ARCHITECTURES), defaults.RTL_ARCHITECTURE),
            "lanes": (_integer(1, MAX_LANES), defaults.RTL_LANES), "buffers": (_choice(*BUFFERS), defaults.RTL_BUFFERS),
            "synthesize": (_boolean, True), "samples": (_optional_integer(1), None),
            "family": (_choice(*FAMILIES), defaults.RTL_FAMILY), "ann_baseline": (_boolean, True)},
}
SCALARS: dict[str, tuple[Check, Any]] = {
    "name": (_string, REQUIRED),
    "time_steps": (_integer(1, defaults.MAX_TIME_STEPS), defaults.DEFAULT_TIME_STEPS),
    "activation_integer": (_integer(0, defaults.MAX_TIME_STEPS), 0),
}
LAYERS: dict[str, dict[str, tuple[Check, Any]]] = {
    "dense": {"units": (_integer(1), REQUIRED), "batchnorm": (_boolean, False), "readout": (_boolean, False),
              "activation": (_choice("linear", "softmax"), "linear")},
    "conv2d": {"filters": (_integer(1), REQUIRED), "kernel": (_integer(1), REQUIRED),
               "strides": (_integer(1), 1), "padding": (_choice("same", "valid"), "valid"),
               "batchnorm": (_boolean, False), "residual": (_boolean, False)},
    "depthwise": {"kernel": (_integer(1), REQUIRED), "strides": (_integer(1), 1),
                  "padding": (_choice("same", "valid"), "valid"), "batchnorm": (_boolean, False),
                  "residual": (_boolean, False)},
    "maxpool": {"pool": (_integer(1), 2)},
    "avgpool": {"pool": (_integer(1), 2)},
    "upsample": {"size": (_integer(1), 2)},
    "flatten": {},
}


def load_config(path_or_name: str | Path, overrides: dict | None = None) -> dict:
    """Load a YAML spec (a path, or a zoo name such as 'digits_mlp'), deep-merge `overrides`, validate.

    Returns a plain nested dict with every default filled in; dataset.path is absolute (or None).
    """
    path = _find(path_or_name)
    source = _display(path)
    try:
        raw = load_yaml(path.read_text())
    except yaml.YAMLError as exc:
        line = str(exc).replace("\n", " ")
        raise HwflowError(f"{source} is not valid YAML ({line}); fix the syntax") from None
    if not isinstance(raw, dict):
        raise HwflowError(f"{source} must hold a mapping of keys (name, dataset, layers, ...); fix the file")
    raw.setdefault("name", path.stem)
    cfg = validate_config(raw, source)  # the file alone: its errors name the file
    return validate_config(deep_merge(raw, overrides), SET) if overrides else cfg  # now they come from --set


def deep_merge(base: dict, overrides: dict) -> dict:
    """A copy of `base` with `overrides` merged in recursively (lists and scalars are replaced)."""
    out = copy.deepcopy(base)
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def validate_config(raw: dict, source: str = "the config") -> dict:
    """Validate a raw spec dict (unknown keys, types, ranges) and fill in defaults."""
    if not isinstance(raw, dict):
        raise HwflowError(f"{source} must be a mapping of keys; fix the file")
    allowed = {**SCALARS, **dict.fromkeys(SECTIONS), "layers": None}
    _reject_unknown(raw, allowed, f"at top level of {source}")
    cfg: dict[str, Any] = _section({k: raw[k] for k in SCALARS if k in raw}, SCALARS, "", source)
    for name, spec in SECTIONS.items():
        value = {} if raw.get(name) is None else raw[name]
        if not isinstance(value, dict):
            raise HwflowError(f"{name} of {source} must be a mapping with keys {', '.join(spec)}; fix it")
        cfg[name] = _section(value, spec, name, source)
    cfg["layers"] = _layers(raw.get("layers"), source)
    _check_cross(cfg, source)
    _check_energy(raw.get("energy") or {}, cfg["energy"]["model"], source)
    _resolve_dataset_path(cfg["dataset"])
    return {key: cfg[key] for key in ORDER}


def _section(value: dict, spec: dict[str, tuple[Check, Any]], name: str, source: str) -> dict:
    where = f"in {name} of {source}" if name else f"at top level of {source}"
    _reject_unknown(value, spec, where)
    out = {}
    for key, (check, default) in spec.items():
        dotted = f"{name}.{key}" if name else key
        label = f"--set {dotted}" if source == SET else f"{dotted} of {source}"
        if key in value:
            try:
                out[key] = check(value[key], label)
            except HwflowError as exc:
                raise HwflowError(f"{exc}; {'change the --set value' if source == SET else 'fix it in the YAML'}") \
                    from None
        elif default is REQUIRED:
            raise HwflowError(f"{label} is missing; add it to the YAML")
        else:
            out[key] = default
    return out


def _reject_unknown(value: dict, allowed: dict, where: str) -> None:
    for key in value:
        if key not in allowed:
            raise HwflowError(f"unknown key '{key}' {where}; allowed: {', '.join(sorted(allowed))}")


def _layers(value: Any, source: str) -> list[dict]:
    if not isinstance(value, list) or not value:
        raise HwflowError(f"layers of {source} must be a non-empty list of layers; add them to the YAML")
    layers = []
    for i, layer in enumerate(value):
        if not isinstance(layer, dict) or layer.get("type") not in LAYERS:
            raise HwflowError(f"layers[{i}] of {source} needs 'type' set to one of {', '.join(LAYERS)}; "
                              f"got {layer!r}")
        kind = layer["type"]
        body = {k: v for k, v in layer.items() if k != "type"}
        spec = LAYERS[kind]
        _reject_unknown(body, {"type": None, **spec}, f"in layers[{i}] ({kind}) of {source}")
        layers.append({"type": kind, **_section(body, spec, f"layers[{i}]", source)})
    last = layers[-1]
    if last["type"] != "dense":
        raise HwflowError(f"the last layer of {source} must be a dense readout layer; add "
                          "{type: dense, units: <classes>, readout: true}")
    last["readout"] = True
    for i, layer in enumerate(layers[:-1]):
        if layer.get("readout"):
            raise HwflowError(f"layers[{i}] of {source} has readout: true but only the last layer "
                              "can be the readout; remove it")
    return layers


def _check_cross(cfg: dict, source: str) -> None:
    for name in ("input", "weights", "bias"):
        sec = cfg[name]
        limit = sec["bits"] - (0 if name == "input" and not sec["signed"] else 1)
        if sec["integer"] > limit:
            raise HwflowError(f"{name}.integer of {source} is {sec['integer']} but must be <= {limit} "
                              f"for {sec['bits']} bits; lower it")
    if cfg["input"]["signed"] and cfg["input"]["encoding"] == "bitplane":
        raise HwflowError(f"input.signed of {source} needs encoding direct (bit planes carry unsigned levels); "
                          "set input.encoding: direct")
    for i, layer in enumerate(cfg["layers"]):
        if layer.get("activation", "linear") != "linear" and not (layer["readout"] and i == len(cfg["layers"]) - 1):
            raise HwflowError(f"layer {i + 1} of {source} has activation {layer['activation']} but only the last "
                              "layer, a readout, may end the model with one; set readout: true on the last layer")
    if cfg["activation_integer"] > cfg["time_steps"]:
        raise HwflowError(f"activation_integer of {source} must be <= time_steps "
                          f"({cfg['time_steps']}); lower it")


ENERGY_FIGURES = {"int45": ("e_add32_pj", "e_mul32_pj"), "fp32_45": ("e_mac_pj", "e_ac_pj")}


def _check_energy(given: dict, model: str, source: str) -> None:
    """An energy figure given for the model that does not use it would be ignored silently: refuse it."""
    spec = SECTIONS["energy"]  # a saved config lists every figure at its default: only a changed one is refused
    unused = [k for figures in ENERGY_FIGURES.values() for k in figures
              if k not in ENERGY_FIGURES[model] and k in given and given[k] != spec[k][1]]
    if unused:
        raise HwflowError(f"energy.{unused[0]} of {source} is a figure of another energy model than {model}, which "
                          f"uses {', '.join(ENERGY_FIGURES[model])}; remove it or set energy.model")


def _resolve_dataset_path(dataset: dict) -> None:
    path = dataset["path"]
    if path is None and dataset["name"] == "mnist":
        path = MNIST_DEFAULT_PATH
    if path is not None:
        dataset["path"] = os.path.normpath(base_dir() / Path(path).expanduser())


def _find(path_or_name: str | Path) -> Path:
    path = Path(path_or_name)
    if path.suffix in (".yaml", ".yml") or path.is_file():
        if not path.is_file():
            raise HwflowError(f"config file {path} not found; give an existing YAML path or a zoo name "
                              f"({', '.join(zoo_names())})")
        return path
    zoo = ZOO_DIR / f"{path_or_name}.yaml"
    if not zoo.is_file():
        raise HwflowError(f"unknown model '{path_or_name}'; give a YAML path or a zoo name "
                          f"({', '.join(zoo_names())})")
    return zoo


def _display(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(base_dir()))
    except ValueError:
        return str(path)
