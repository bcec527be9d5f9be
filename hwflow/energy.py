"""Energy per inference from operation counts, with a named 45 nm model (Horowitz, ISSCC 2014).

Two models (config `energy.model`):
- `int45` (default): width-aware integer arithmetic. An add of b bits costs E_ADD32 * b / 32 and a
  multiply of a b1-bit by a b2-bit operand E_MUL32 * b1 * b2 / 32**2 (Horowitz's 32-bit integer add
  0.1 pJ and multiply 3.1 pJ, scaled: add energy grows with the width, multiply energy with the
  product of the widths; his 8-bit figures, 0.03 and 0.2 pJ, come out as 0.025 and 0.19). A
  multiply-accumulate is the multiply of the weight by the input level plus an add at the
  accumulator's width; a spiking layer's accumulate is one add of a weight into its partial sum.
  Per neuron and inference, the SNN also pays its S Horner adds and T fire compare-subtracts at the
  membrane's width, the ANN one requantizing add. The ANN's weights are counted at their own width
  (the SNN's membrane grid may have shifted them left).
- `fp32_45`: the paper's 32-bit floating-point figures whatever the widths: e_mac_pj (4.6 pJ, a
  3.7 pJ multiply and a 0.9 pJ add) per MAC and e_ac_pj (0.9 pJ) per accumulate.
"""
from __future__ import annotations

from dataclasses import dataclass

from hwflow.defaults import E_AC_PJ, E_ADD32_PJ, E_MAC_PJ, E_MUL32_PJ
from hwflow.numerics import signed_bits, symmetric_bits, unsigned_bits
from hwflow.ops.synaptic import SynapticLayer
from hwflow.passes import input_levels
from hwflow.quant import Grid
from hwflow.snn import SNN, RunStats

MODELS = ("int45", "fp32_45")


@dataclass(frozen=True)
class EnergyModel:
    """Energy per operation: which model, what it assumes, and its figures (pJ)."""

    name: str  # one of MODELS
    e_mac_pj: float = E_MAC_PJ  # fp32_45
    e_ac_pj: float = E_AC_PJ  # fp32_45
    e_add32_pj: float = E_ADD32_PJ  # int45
    e_mul32_pj: float = E_MUL32_PJ  # int45

    @property
    def assumption(self) -> str:
        if self.name == "fp32_45":
            return (f"45 nm 32-bit floating point whatever the widths (Horowitz, ISSCC 2014): {self.e_mac_pj:g} pJ "
                    f"per MAC, {self.e_ac_pj:g} pJ per accumulate")
        return (f"45 nm integer arithmetic at the layers' widths (Horowitz, ISSCC 2014, scaled): add "
                f"{self.e_add32_pj:g} pJ x bits/32, multiply {self.e_mul32_pj:g} pJ x bits1 x bits2/32^2")

    def mac_pj(self, weight_bits: int, level_bits: int, acc_bits: int) -> float:
        if self.name == "fp32_45":
            return self.e_mac_pj
        return self.e_mul32_pj * weight_bits * level_bits / 32**2 + self.e_add32_pj * acc_bits / 32

    def ac_pj(self, acc_bits: int) -> float:
        return self.e_ac_pj if self.name == "fp32_45" else self.e_add32_pj * acc_bits / 32

    @classmethod
    def from_config(cls, cfg: dict) -> EnergyModel:
        e = cfg["energy"]
        return cls(e["model"], e["e_mac_pj"], e["e_ac_pj"], e["e_add32_pj"], e["e_mul32_pj"])


@dataclass
class LayerEnergy:
    name: str
    ann_macs: float  # per inference
    snn_macs: float
    snn_acs: float  # synaptic accumulates (the neuron's own adds are in snn_pj, not counted here)
    ann_pj: float
    snn_pj: float


def level_bits(grid: Grid) -> int:
    """Width of a layer's input level (its activation or the input grid)."""
    return signed_bits(grid.lo, grid.hi) if grid.signed else unsigned_bits(grid.hi)


def widths(snn: SNN) -> dict[str, tuple[int, int, int]]:
    """Per synaptic layer: (weight bits, input level bits, partial-sum bits) of its arithmetic."""
    out, read = {}, input_levels(snn.encoder, snn.layers)
    for layer in snn.synaptic_layers:
        per_output = abs(layer.weight).reshape(-1, layer.weight.shape[-1]).sum(axis=0).max(initial=0)
        out[layer.name] = (layer.weight_bits, level_bits(read[layer.name][0]), symmetric_bits(int(per_output)))
    return out


def grid_shift(layer: SynapticLayer) -> int:
    """How many low bits every weight has zero: the membrane grid's shift over the weights' own grid."""
    nonzero = [int(abs(w)) for w in layer.weight.reshape(-1) if w]
    return min(((v & -v).bit_length() - 1 for v in nonzero), default=0)


def energy(snn: SNN, stats: RunStats, model: EnergyModel = EnergyModel("int45")) -> list[LayerEnergy]:
    """Per synaptic layer: ANN MACs vs SNN operations driven by the measured spikes.

    An analog (direct) first layer is counted as MACs in both; every other SNN layer performs one
    accumulate per (input spike, synapse) pair. The ANN's MACs multiply the weight by the multi-bit
    input level and accumulate at the membrane's width.
    """
    rows, width = [], widths(snn)
    for layer in snn.synaptic_layers:
        w_bits, in_bits, psum_bits = width[layer.name]
        shift = grid_shift(layer)
        ann_mac = model.mac_pj(w_bits - shift, in_bits, layer.membrane_bits - shift)
        snn_mac = model.mac_pj(w_bits, in_bits, layer.membrane_bits)
        macs = layer.ann_macs()
        ops = stats.synaptic_ops[layer.name] / stats.samples
        snn_macs, snn_acs = (ops, 0.0) if layer.analog_input else (0.0, ops)
        steps = layer.in_steps + (layer.neuron.time_steps if layer.neuron else 0)  # Horner adds, fire steps
        neuron_pj = layer.n_out * steps * model.ac_pj(layer.membrane_bits) if model.name == "int45" else 0.0
        ann_neuron_pj = layer.n_out * model.ac_pj(layer.membrane_bits - shift) if model.name == "int45" else 0.0
        rows.append(LayerEnergy(layer.name, macs, snn_macs, snn_acs, macs * ann_mac + ann_neuron_pj,
                                snn_macs * snn_mac + snn_acs * model.ac_pj(psum_bits) + neuron_pj))
    return rows
