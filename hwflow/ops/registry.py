"""The op registry: which Keras layer kinds parse into which IR nodes, and which firmware blocks exist.

An op module registers, at import:
- one parse handler per Keras/QKeras layer class it converts (`@parses("QDense", ...)`, the
  pattern of hls4ml's converters), called as handler(parser, keras_layer);
- its IR node class (`@node`), found by class name when an SNN is loaded from JSON;
- its firmware blocks (`hls_block(HlsBlock(...))`).
hwflow.ops imports every op module, so importing it fills the registry.
"""
from __future__ import annotations

from typing import Callable

from hwflow.hls.block import HlsBlock
from hwflow.ir import Node

Handler = Callable[..., None]

HANDLERS: dict[str, Handler] = {}  # Keras class name -> parse handler
NOTES: dict[str, str] = {}  # Keras class name -> how hwflow converts it (for messages and docs)
OPENS_INPUT: set[str] = set()  # Keras classes that may come before the input quantizer
NODES: dict[str, type[Node]] = {}  # IR node class name -> class
HLS_BLOCKS: dict[str, HlsBlock] = {}  # hls4ml class name -> block


def parses(*class_names: str, note: str = "", opens_input: bool = False) -> Callable[[Handler], Handler]:
    """Register the decorated function as the parse handler of these Keras layer classes.

    opens_input: the handler may see the model's first layers, before an input quantizer is known.
    """
    def register(handler: Handler) -> Handler:
        for name in class_names:
            if name in HANDLERS:
                raise ValueError(f"two parse handlers for {name}: {HANDLERS[name].__module__} and {handler.__module__}")
            HANDLERS[name] = handler
            NOTES[name] = note
            if opens_input:
                OPENS_INPUT.add(name)
        return handler
    return register


def node(cls: type[Node]) -> type[Node]:
    """Register an IR node class (decorator)."""
    NODES[cls.__name__] = cls
    return cls


def hls_block(block: HlsBlock) -> HlsBlock:
    """Register a firmware block; returns it."""
    if block.class_name in HLS_BLOCKS:
        raise ValueError(f"two firmware blocks named {block.class_name}")
    HLS_BLOCKS[block.class_name] = block
    return block


def supported_layers() -> tuple[str, ...]:
    """'Class (note)' for every Keras layer class with a parse handler, in registration order."""
    return tuple(f"{name} ({note})" if note else name for name, note in NOTES.items())
