"""The SNN intermediate representation: integer synapses, IF neurons, bit-serial pooling.

Conventions. A spiking activation with T steps carries level k in [0, 2**T - 1] as T binary
planes, most significant first: plane t has weight 2**(T-1-t). A direct (analog) input is one
plane holding the signed integer input level. A synaptic layer integrates its input planes in
Horner form, v <- 2 v + W . s(t), adds its integer bias, and (unless it is the readout) fires T
spikes against threshold * 2**(T-1-t) with subtract reset. Membranes are integers in units of
2**-frac of the ANN's pre-activation value.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hwflow.quant import Grid


@dataclass
class InputEncoder:
    """How samples enter the SNN: levels on `grid`, sent analog (one plane) or as bit planes."""

    shape: tuple[int, ...]
    grid: Grid
    encoding: str  # 'direct' | 'bitplane'

    @property
    def steps(self) -> int:
        return int(np.log2(self.grid.hi + 1)) if self.encoding == "bitplane" else 1


@dataclass
class Neuron:
    """Integrate-then-fire neuron: T output steps, threshold 2**threshold_log2 membrane units.

    Its bias already includes bias_shift = threshold / 2, so floor(v / threshold) is the ANN's
    round-half-up; at the last step (least significant plane) the comparison is strict, which
    turns a tie onto an odd level into the even level below it: round half to even, as QKeras.
    """

    time_steps: int
    integer: int
    threshold_log2: int

    @property
    def threshold(self) -> int:
        return 1 << self.threshold_log2

    @property
    def bias_shift(self) -> int:
        return self.threshold // 2

    @property
    def grid(self) -> Grid:
        return Grid(0, 2**self.time_steps - 1, self.time_steps - self.integer)


@dataclass
class SynapticLayer:
    """A dense or 2-D convolution layer of IF neurons (or the membrane readout when neuron is None)."""

    name: str
    op: str  # 'dense' | 'conv2d'
    weight: np.ndarray  # int64 in units of 2**-weight_frac; dense [n_in, n_out], conv [kh, kw, c_in, c_out]
    weight_frac: int
    bias: np.ndarray  # int64 [n_out] in units of 2**-bias_frac (the ANN's bias, without the neuron's shift)
    bias_frac: int
    in_shape: tuple[int, ...]
    out_shape: tuple[int, ...]
    in_steps: int
    in_frac: int  # the input level k means k * 2**-in_frac
    analog_input: bool
    neuron: Neuron | None
    strides: tuple[int, int] = (1, 1)
    padding: str = "valid"
    natural_frac: int = 0  # the finest grid TensorFlow's float32 pass works on (set by AlignGrids)
    membrane_bound: int = 0  # max |membrane| over all inputs (set by BoundWidths)
    tf_float32_exact: bool = True

    @property
    def frac(self) -> int:
        """Membrane unit 2**-frac: after AlignGrids the weighted sum and the bias share it."""
        return self.in_frac + self.weight_frac

    @property
    def membrane_bias(self) -> int | np.ndarray:
        """Integer added to the membrane after integration: bias plus the half-threshold shift."""
        return self.bias + (self.neuron.bias_shift if self.neuron else 0)

    @property
    def is_readout(self) -> bool:
        return self.neuron is None

    @property
    def membrane_bits(self) -> int:
        """Two's-complement width that holds every membrane value this layer can reach."""
        return int(self.membrane_bound).bit_length() + 1

    @property
    def n_out(self) -> int:
        return int(np.prod(self.out_shape))


@dataclass
class MaxPool:
    """Max pooling on binary-coded spikes, computed bit-serially, most significant plane first."""

    name: str
    pool: tuple[int, int]
    strides: tuple[int, int]
    padding: str
    in_shape: tuple[int, ...]
    out_shape: tuple[int, ...]


@dataclass
class Flatten:
    """Reshape to one dimension (channels-last order, as Keras)."""

    name: str
    in_shape: tuple[int, ...]
    out_shape: tuple[int, ...]


Layer = SynapticLayer | MaxPool | Flatten
