#ifndef HWFLOW_IF_DENSE_H_
#define HWFLOW_IF_DENSE_H_

/*
 * hwflow: synaptic integration of a fully connected integrate-and-fire layer.
 *
 *   if_dense_spiking  input: S binary spike planes [S][N_in], MSB first. Horner accumulation
 *                     v <- 2 v + sum_{j : s_j(t) = 1} W[j][n]: per plane a conditional add of the
 *                     weight where the spike is 1 (no multiplier), then one shift-add per neuron.
 *   if_dense_analog   input: one analog plane of N_in signed/unsigned integer levels (direct
 *                     encoding, first layer only): v = sum_j W[j][n] * k_j, a multiply-accumulate.
 *
 * Both end with v += b (bias plus the neuron's half-threshold shift) and leave the membrane in
 * v[N_out] (membrane_t = ap_int<membrane_bits>, a proven bound on every membrane state, Horner
 * steps included). The neuron (hwflow_if_neuron.h) then fires T spike planes or reads v out.
 *
 * Weights are row-major [N_in][N_out] integers (weight_t = ap_int<bits of max |w| + 1>).
 *
 * Loop structure and cycle model (declared by hwflow/ops/synaptic.py, listed in CYCLES.md, counted
 * by HWFLOW_CYCLES in C simulation; S = in_steps, R = reuse_factor, B = block_factor =
 * N_in * N_out / R, D = reuse_depth: the ReuseLoop's pipeline depth, 1 stage (spike gate or
 * multiplier) + ceil(log2(k + 1)) adder levels for the k = N_in * N_out / lcm(R, N_out) weights one
 * iteration adds into one partial sum):
 *
 *   InputSteps   for t in 0..S-1                       sequential (Horner carries v)
 *     ReuseLoop    for ir in 0..R-1   PIPELINE II=1     R + D cycles (R issues, D to drain)
 *       SynapseLoop  for ib in 0..B-1 UNROLL            B adders (spiking) / B multipliers (analog)
 *     Horner       for n  UNROLL                        1 cycle: acc = (acc << 1) + psum
 *   Bias         for n  UNROLL                          1 cycle
 *   (InitMembrane, InitPlaneSum: register resets, 0 cycles)
 *
 *   if_dense_spiking: S * (R + D + 1) + 1 cycles;  if_dense_analog (S = 1, no Horner): R + D + 1.
 *   dataflow style: one DATAFLOW process, II (one sample) = its latency.
 *   pipeline style (hls4ml io_parallel with R = 1): every loop is unrolled inside the top-level
 *                    PIPELINE; S chained adder trees plus S shift-adds, scheduled by HLS at II = 1
 *                    (the count above is then an estimate of the latency, see CYCLES.md).
 *
 * Resources: B adders of psum_t width (spiking) or B weight x level multipliers (analog);
 * weights ARRAY_RESHAPE block factor=B (one bank per lane), membranes partitioned completely.
 */

#include "nnet_common.h"
#include "hwflow_spike_common.h"

namespace hwflow {

struct if_dense_config {
    static const unsigned n_in = 10;
    static const unsigned n_out = 10;
    static const unsigned in_steps = 1;      // S: input planes (1 for the analog layer)
    static const unsigned in_size = 10;      // S * n_in: length of the input array
    static const unsigned n_synapses = 100;  // n_in * n_out
    static const unsigned reuse_factor = 1;  // R: divides n_synapses
    static const unsigned block_factor = 100; // n_synapses / R: synapses processed per cycle
    static const unsigned reuse_depth = 8;   // D: ReuseLoop pipeline depth (hwflow/hls/schedule.py)
    static const bool po2 = false;  // a quantized_relu_po2 neuron: fires once, against po2_threshold(t)
    static long long po2_threshold(unsigned t) { return 0; }
    typedef ap_int<8> weight_t;
    typedef ap_int<8> bias_t;
    typedef ap_int<16> membrane_t;  // Horner state and integrated membrane
    typedef ap_int<16> psum_t;      // sum of the weights of one input plane
    typedef ap_int<8> level_t;      // analog input level (direct encoding)
};

// Spiking input: additions only. spikes[t * n_in + j] is input j's bit of plane t (MSB first).
template <class data_T, typename CONFIG_T>
void if_dense_spiking(const data_T spikes[CONFIG_T::in_size], typename CONFIG_T::membrane_t v[CONFIG_T::n_out],
                      const typename CONFIG_T::weight_t w[CONFIG_T::n_synapses],
                      const typename CONFIG_T::bias_t b[CONFIG_T::n_out]) {
    #pragma HLS ARRAY_RESHAPE variable=w block factor=CONFIG_T::block_factor
    #pragma HLS ARRAY_PARTITION variable=b complete
    #pragma HLS ARRAY_PARTITION variable=v complete

    typename CONFIG_T::membrane_t acc[CONFIG_T::n_out];
    #pragma HLS ARRAY_PARTITION variable=acc complete
InitMembrane:
    for (unsigned n = 0; n < CONFIG_T::n_out; n++) {
        #pragma HLS UNROLL
        acc[n] = 0;
    }

InputSteps:
    for (unsigned t = 0; t < CONFIG_T::in_steps; t++) {
        typename CONFIG_T::psum_t psum[CONFIG_T::n_out];
        #pragma HLS ARRAY_PARTITION variable=psum complete
    InitPlaneSum:
        for (unsigned n = 0; n < CONFIG_T::n_out; n++) {
            #pragma HLS UNROLL
            psum[n] = 0;
        }
    ReuseLoop:
        for (unsigned ir = 0; ir < CONFIG_T::reuse_factor; ir++) {
            #pragma HLS PIPELINE II=1
            HWFLOW_CYCLES(1);
        SynapseLoop:
            for (unsigned ib = 0; ib < CONFIG_T::block_factor; ib++) {
                #pragma HLS UNROLL
                const unsigned s = spike_index::synapse<CONFIG_T::reuse_factor>(ir, ib);
                const unsigned j = s / CONFIG_T::n_out;
                const unsigned n = s % CONFIG_T::n_out;
                if (spikes[spike_index::plane<CONFIG_T::n_in>(t, j)] != 0) {
                    psum[n] += w[s]; // conditional add: the weight where the spike is 1
                }
            }
        }
        HWFLOW_CYCLES(CONFIG_T::reuse_depth);
    Horner:
        for (unsigned n = 0; n < CONFIG_T::n_out; n++) {
            #pragma HLS UNROLL
            acc[n] = (acc[n] << 1) + psum[n];
        }
        HWFLOW_CYCLES(1);
        HWFLOW_STAGE("membrane_steps", acc, CONFIG_T::n_out);
    }

Bias:
    for (unsigned n = 0; n < CONFIG_T::n_out; n++) {
        #pragma HLS UNROLL
        v[n] = acc[n] + b[n];
    }
    HWFLOW_CYCLES(1);
    HWFLOW_STAGE("membrane", v, CONFIG_T::n_out);
}

// Analog input (direct encoding, first layer only): one plane of integer levels, a MAC.
template <class data_T, typename CONFIG_T>
void if_dense_analog(const data_T x[CONFIG_T::n_in], typename CONFIG_T::membrane_t v[CONFIG_T::n_out],
                     const typename CONFIG_T::weight_t w[CONFIG_T::n_synapses],
                     const typename CONFIG_T::bias_t b[CONFIG_T::n_out]) {
    #pragma HLS ARRAY_RESHAPE variable=w block factor=CONFIG_T::block_factor
    #pragma HLS ARRAY_PARTITION variable=b complete
    #pragma HLS ARRAY_PARTITION variable=v complete

    typename CONFIG_T::membrane_t acc[CONFIG_T::n_out];
    #pragma HLS ARRAY_PARTITION variable=acc complete
InitMembrane:
    for (unsigned n = 0; n < CONFIG_T::n_out; n++) {
        #pragma HLS UNROLL
        acc[n] = 0;
    }

ReuseLoop:
    for (unsigned ir = 0; ir < CONFIG_T::reuse_factor; ir++) {
        #pragma HLS PIPELINE II=1
        HWFLOW_CYCLES(1);
    SynapseLoop:
        for (unsigned ib = 0; ib < CONFIG_T::block_factor; ib++) {
            #pragma HLS UNROLL
            const unsigned s = spike_index::synapse<CONFIG_T::reuse_factor>(ir, ib);
            const unsigned j = s / CONFIG_T::n_out;
            const unsigned n = s % CONFIG_T::n_out;
            const typename CONFIG_T::level_t k = input_level<typename CONFIG_T::level_t>(x[j]);
            acc[n] += w[s] * k; // the only multiplier of the network: weight x analog input level
        }
    }
    HWFLOW_CYCLES(CONFIG_T::reuse_depth);
    HWFLOW_STAGE("membrane_steps", acc, CONFIG_T::n_out);

Bias:
    for (unsigned n = 0; n < CONFIG_T::n_out; n++) {
        #pragma HLS UNROLL
        v[n] = acc[n] + b[n];
    }
    HWFLOW_CYCLES(1);
    HWFLOW_STAGE("membrane", v, CONFIG_T::n_out);
}

} // namespace hwflow

#endif
