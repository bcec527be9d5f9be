"""Save and load the SNN IR as JSON (integers stay exact; no pickle)."""
from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np

from hwflow.errors import HwflowError
from hwflow.ir import InputEncoder
from hwflow.ops import NODES
from hwflow.ops.neuron import Neuron
from hwflow.quant import Grid
from hwflow.snn import SNN

TUPLE_FIELDS = {"shape", "in_shape", "out_shape", "output_shape", "pool", "strides", "po2_bounds", "up", "joins",
                "output_splits", "inputs"}


def types() -> dict[str, type]:
    """Every class an SNN JSON file may name: the registered IR nodes and the SNN's parts."""
    return {**NODES, **{cls.__name__: cls for cls in (InputEncoder, Neuron, Grid, SNN)}}


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


def decode(obj, known: dict[str, type], key: str = ""):
    if isinstance(obj, dict) and "__ndarray__" in obj:
        return np.array(obj["__ndarray__"], dtype=obj["dtype"]).reshape(obj["shape"])
    if isinstance(obj, dict) and "__type__" in obj:
        cls = known.get(obj["__type__"])
        if cls is None:
            raise HwflowError(f"the SNN file names an unknown node type '{obj['__type__']}' (written by another "
                              "hwflow version?); convert the model again with hwflow convert")
        return cls(**{k: decode(v, known, k) for k, v in obj.items() if k != "__type__"})
    if isinstance(obj, list):
        items = [decode(x, known) for x in obj]
        if key == "padding":  # explicit ((top, bottom), (left, right))
            return tuple(tuple(x) for x in items)
        return tuple(items) if key in TUPLE_FIELDS else items
    return obj


def snn_json(snn: SNN) -> str:
    """The SNN IR as JSON text (hwflow.flow.save_snn writes it into a run folder)."""
    return json.dumps(encode(snn))


def load_snn(path: Path) -> SNN:
    """Read an SNN IR written by save_snn."""
    try:
        data = json.loads(Path(path).read_text())
    except (OSError, ValueError) as exc:
        raise HwflowError(f"cannot read the SNN IR {path} ({exc}); write it with hwflow convert") from None
    return decode(data, types())
