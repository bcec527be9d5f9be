"""Energy per inference from operation counts (45 nm figures, hwflow.defaults: Horowitz, ISSCC 2014)."""
from __future__ import annotations

from dataclasses import dataclass

from hwflow.defaults import E_AC_PJ, E_MAC_PJ
from hwflow.snn import SNN, RunStats


@dataclass
class LayerEnergy:
    name: str
    ann_macs: float  # per inference
    snn_macs: float
    snn_acs: float
    ann_pj: float
    snn_pj: float


def energy(snn: SNN, stats: RunStats, e_mac_pj: float = E_MAC_PJ, e_ac_pj: float = E_AC_PJ) -> list[LayerEnergy]:
    """Per synaptic layer: ANN MACs vs SNN operations driven by the measured spikes.

    An analog (direct) first layer is counted as MACs in both; every other SNN layer performs one
    accumulate per (input spike, synapse) pair.
    """
    rows = []
    for layer in snn.synaptic_layers:
        macs = layer.ann_macs()
        ops = stats.synaptic_ops[layer.name] / stats.samples
        snn_macs, snn_acs = (ops, 0.0) if layer.analog_input else (0.0, ops)
        rows.append(LayerEnergy(layer.name, macs, snn_macs, snn_acs, macs * e_mac_pj,
                                snn_macs * e_mac_pj + snn_acs * e_ac_pj))
    return rows
