#ifndef NNET_SPIKE_COMMON_H_
#define NNET_SPIKE_COMMON_H_

/*
 * hwflow: shared helpers of the binary-coded integrate-and-fire (IF) blocks.
 *
 * Data layout (io_parallel). A spiking activation of T steps is T binary planes, most
 * significant first: plane t carries weight 2^(T-1-t). It is passed between layers as a flat
 * ap_uint<1> array [T][N] (plane-major; N = the activation's channels-last size), so element
 * (t, i) sits at t * N + i. Analog inputs (direct encoding) and readout membranes are the only
 * multi-bit activations: ap_fixed / ap_ufixed values whose raw bits are the integer level.
 *
 * Index arithmetic. Every product of two loop indices (or of a loop index and a shape
 * constant) lives in the spike_index helpers below. They take and return plain unsigned / int
 * loop indices only, never a weight, spike or membrane, so they synthesise to constant address
 * wiring in unrolled loops. The synaptic integration and neuron functions contain no '*' at
 * all (hwflow's tests check this in the generated project).
 *
 * Latency: the helpers are inlined and cost no cycles.
 */

#include "ap_fixed.h"
#include "ap_int.h"

namespace nnet {

namespace spike_index {

// Flat index of element i of plane t in a [planes][size] array.
template <unsigned size> inline unsigned plane(unsigned t, unsigned i) {
    #pragma HLS INLINE
    return t * size + i;
}

// Synapse handled by lane ib of reuse iteration ir: ir + R * ib (hls4ml's resource-style order,
// so that a block partition of the weights gives every lane its own bank).
template <unsigned reuse> inline unsigned synapse(unsigned ir, unsigned ib) {
    #pragma HLS INLINE
    return ir + reuse * ib;
}

// Input row (or column) read by output row o through kernel row k: o * stride + k - pad.
template <unsigned stride, unsigned pad> inline int window(unsigned o, unsigned k) {
    #pragma HLS INLINE
    return int(o * stride + k) - int(pad);
}

// Flat index of pixel (row, col), channel c in a channels-last [rows][cols][chan] image.
template <unsigned cols, unsigned chan> inline unsigned pixel(unsigned row, unsigned col, unsigned c) {
    #pragma HLS INLINE
    return (row * cols + col) * chan + c;
}

} // namespace spike_index

// The integer level k of a value on its fixed-point grid (value = k * 2^-frac): its raw bits,
// reinterpreted as the (signed or unsigned) integer type level_T of the same width.
template <class level_T, class data_T> inline level_T input_level(const data_T &x) {
    #pragma HLS INLINE
    level_T k;
    k.range(data_T::width - 1, 0) = x.range(data_T::width - 1, 0);
    return k;
}

} // namespace nnet

#endif
