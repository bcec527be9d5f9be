"""Save and load the SNN IR as JSON (integers stay exact; no pickle)."""
from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np

from hwflow import ir
from hwflow.quant import Grid
from hwflow.snn import SNN

TYPES = {cls.__name__: cls for cls in (ir.InputEncoder, ir.Neuron, ir.SynapticLayer, ir.MaxPool, ir.Flatten, Grid, SNN)}


def encode(obj):
    if dataclasses.is_dataclass(obj):
        fields = {f.name: encode(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
        return {"__type__": type(obj).__name__, **fields}
    if isinstance(obj, np.ndarray):
        return {"__ndarray__": obj.tolist(), "dtype": str(obj.dtype), "shape": list(obj.shape)}
    if isinstance(obj, (list, tuple)):
        return [encode(x) for x in obj]
    if isinstance(obj, np.integer):
        return int(obj)
    return obj


TUPLE_FIELDS = {"shape", "in_shape", "out_shape", "output_shape", "pool", "strides"}


def decode(obj, key: str = ""):
    if isinstance(obj, dict) and "__ndarray__" in obj:
        return np.array(obj["__ndarray__"], dtype=obj["dtype"]).reshape(obj["shape"])
    if isinstance(obj, dict) and "__type__" in obj:
        cls = TYPES[obj["__type__"]]
        return cls(**{k: decode(v, k) for k, v in obj.items() if k != "__type__"})
    if isinstance(obj, list):
        items = [decode(x) for x in obj]
        return tuple(items) if key in TUPLE_FIELDS else items
    return obj


def save_snn(snn: SNN, path: Path) -> None:
    """Write the SNN IR to a JSON file."""
    Path(path).write_text(json.dumps(encode(snn)))


def load_snn(path: Path) -> SNN:
    """Read an SNN IR written by save_snn."""
    return decode(json.loads(Path(path).read_text()))
