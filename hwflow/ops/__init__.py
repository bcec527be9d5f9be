"""hwflow's operations, one module each; importing this package registers them all (hwflow.ops.registry).

    module      parses                                  firmware blocks (hls4ml classes)
    encoder     input levels <-> spike planes           HwflowSpikeEncode, HwflowSpikeDecode
    neuron      QActivation(quantized_relu): the IF neuron (fires inside the synaptic blocks)
    dense       QDense, QDenseBatchnorm                 HwflowIFDense
    conv2d      QConv2D, QConv2DBatchnorm               HwflowIFConv2D
    conv1d      QConv1D -> a Conv2D over a one-row image  HwflowIFConv2D
    depthwise   QDepthwiseConv2D(-Batchnorm), QSeparableConv2D -> one Conv2D   HwflowIFConv2D
    avgpool     (Q)AveragePooling2D, (Q)GlobalAveragePooling2D -> an identity Conv2D, the neuron divides
    zeropadding ZeroPadding2D/1D -> the explicit padding of the convolution or pool after it
    maxpool     MaxPooling2D, bit-serial                HwflowBitSerialMaxPool
    upsample    UpSampling2D/1D (nearest) -> a 1x1 max pool that upsamples (the max-pool blocks)
    flatten     Flatten                                 HwflowSpikeFlatten
    residual    Add()([f(a), a]) / Add()([f(a), p(a)]) -> identity (or p's) weights in f's last layer, a on
                pass-through channels of the layers between (their blocks)
    concatenate Concatenate of parallel one-layer branches over a (or a itself) -> one layer, weights side by side;
                of deeper branches -> their nodes and a join
    join        the planes of two branches side by side           HwflowSpikeJoin
    ternary     QActivation(ternary()) -> two sign neurons per unit, +-1 one spike (the synaptic blocks)
    po2         QActivation(quantized_relu_po2) -> a neuron that fires once, at its exponent's step (the synaptic blocks)
    passthrough Dropout (and the other inference identities), Activation("linear"); batch norm (folded first)
    output_function  a final softmax / sigmoid (Softmax, Activation, QActivation): TF on the exact logits

How to add one: CONTRIBUTING.md.
"""
from hwflow.ops import (avgpool, concatenate, conv1d, conv2d, dense, depthwise, encoder, flatten, join,  # noqa: F401
                        maxpool, neuron, output_function, passthrough, po2, residual, ternary, upsample, zeropadding)
from hwflow.ops.registry import HANDLERS, HLS_BLOCKS, NODES, OPENS_INPUT, supported_layers

__all__ = ["HANDLERS", "HLS_BLOCKS", "NODES", "OPENS_INPUT", "supported_layers"]
