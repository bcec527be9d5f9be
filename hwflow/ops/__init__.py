"""hwflow's operations, one module each; importing this package registers them all (hwflow.ops.registry).

    encoder     input levels <-> spike planes          SpikeEncode, SpikeDecode
    neuron      QActivation(quantized_relu): the IF neuron (fires inside the synaptic blocks)
    dense       QDense, QDenseBatchnorm                 IFDense
    conv2d      QConv2D, QConv2DBatchnorm               IFConv2D
    avgpool     AveragePooling2D -> an identity Conv2D  IFConv2D
    maxpool     MaxPooling2D, bit-serial                BitSerialMaxPool
    flatten     Flatten                                 SpikeFlatten
    passthrough Dropout, Activation('linear'); BatchNormalization (folded before parsing)

How to add one: CONTRIBUTING.md.
"""
from hwflow.ops import avgpool, conv2d, dense, encoder, flatten, maxpool, neuron, passthrough  # noqa: F401
from hwflow.ops.registry import HANDLERS, HLS_BLOCKS, NODES, OPENS_INPUT, supported_layers

__all__ = ["HANDLERS", "HLS_BLOCKS", "NODES", "OPENS_INPUT", "supported_layers"]
