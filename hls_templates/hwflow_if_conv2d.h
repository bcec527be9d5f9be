#ifndef HWFLOW_IF_CONV2D_H_
#define HWFLOW_IF_CONV2D_H_

/*
 * hwflow: synaptic integration of a 2-D convolutional integrate-and-fire layer (channels last,
 * Keras 'valid' / 'same' zero padding, any stride, no dilation).
 *
 *   if_conv2d_spiking  input: S binary spike planes [S][H][W][C], MSB first. Horner accumulation
 *                      per output pixel p and filter f:
 *                        v[p][f] <- 2 v[p][f] + sum_{taps (kh, kw, c) with spike 1} W[kh][kw][c][f]
 *                      (conditional adds, no multiplier).
 *   if_conv2d_analog   input: one analog plane [H][W][C] of integer levels (direct encoding,
 *                      first layer only): v = sum W * k, a multiply-accumulate.
 *
 * Both end with v += b[f] and leave membranes v[Ho][Wo][F] (membrane_t) for the neuron
 * (hwflow_if_neuron.h). Weights: [kh][kw][C][F] row-major integers. Padded taps read nothing.
 *
 * Loop structure and cycle model (declared by hwflow/ops/synaptic.py, listed in CYCLES.md, counted
 * by HWFLOW_CYCLES in C simulation; S = in_steps, P = Ho * Wo output pixels, K = kh * kw * C taps,
 * F = filters, R = reuse_factor (divides K * F), B = block_factor = K * F / R, D = reuse_depth:
 * 1 stage (spike gate or multiplier) + ceil(log2(k + 1)) adder levels for the
 * k = K * F / lcm(R, F) weights one iteration adds into one partial sum):
 *
 *   if_conv2d_spiking:
 *   InputSteps     for t in 0..S-1                  sequential (Horner)
 *     OutRows/OutCols for the P output pixels        sequential; the weights are shared
 *       ReuseLoop      for ir in 0..R-1  PIPELINE II=1   R + D cycles
 *         SynapseLoop    for ib in 0..B-1 UNROLL     B adders
 *       Horner         for f UNROLL                  1 cycle
 *   Bias           for the P * F membranes UNROLL    1 cycle
 *   -> S * P * (R + D + 1) + 1 cycles
 *
 *   if_conv2d_analog:
 *   OutRows/OutCols for the P output pixels          sequential
 *     ReuseLoop      for ir in 0..R-1  PIPELINE II=1 R + D cycles (B multipliers)
 *     BiasAndStore   for f UNROLL                    1 cycle
 *   -> P * (R + D + 1) cycles
 *
 *   (InitMembrane, InitPlaneSum: register resets, 0 cycles.) dataflow style: one DATAFLOW
 *   process, II (one sample) = its latency. pipeline style (hls4ml io_parallel with R = 1): all
 *   loops unrolled in the top PIPELINE, S * P * F adder trees of depth ceil(log2(K)) chained by
 *   S shift-adds, II = 1 (the count above is then an estimate of the latency, see CYCLES.md).
 *
 * Resources: B adders (spiking) or B weight x level multipliers (analog) in dataflow style.
 */

#include "nnet_common.h"
#include "hwflow_spike_common.h"

namespace hwflow {

struct if_conv2d_config {
    static const unsigned in_height = 8;
    static const unsigned in_width = 8;
    static const unsigned n_chan = 1;
    static const unsigned out_height = 6;
    static const unsigned out_width = 6;
    static const unsigned n_filt = 4;
    static const unsigned filt_height = 3;
    static const unsigned filt_width = 3;
    static const unsigned stride_height = 1;
    static const unsigned stride_width = 1;
    static const unsigned pad_top = 0;        // Keras 'same': (total padding) / 2 before the data
    static const unsigned pad_left = 0;
    static const unsigned in_steps = 1;       // S
    static const unsigned in_plane = 64;      // H * W * C: one input plane
    static const unsigned in_size = 64;       // S * H * W * C
    static const unsigned out_plane = 144;    // Ho * Wo * F: membranes
    static const unsigned row_taps = 3;       // filt_width * n_chan
    static const unsigned n_synapses = 36;    // K * F with K = filt_height * filt_width * n_chan
    static const unsigned reuse_factor = 1;   // R: divides n_synapses
    static const unsigned block_factor = 36;  // n_synapses / R
    static const unsigned reuse_depth = 7;    // D: ReuseLoop pipeline depth (hwflow/hls/schedule.py)
    static const bool po2 = false;  // a quantized_relu_po2 neuron: fires once, against po2_threshold(t)
    static long long po2_threshold(unsigned t) { return 0; }
    typedef ap_int<8> weight_t;
    typedef ap_int<8> bias_t;
    typedef ap_int<16> membrane_t;
    typedef ap_int<16> psum_t;
    typedef ap_int<8> level_t;
};

namespace spike_index {
// The input pixel that synapse s (tap-major, filter-minor) of output pixel (oh, ow) reads, in i;
// false where the tap falls into the zero padding.
template <typename CONFIG_T> bool conv_input(unsigned oh, unsigned ow, unsigned s, unsigned &i) {
    #pragma HLS INLINE
    const unsigned tap = s / CONFIG_T::n_filt;
    const unsigned kh = tap / CONFIG_T::row_taps;
    const unsigned kw = (tap % CONFIG_T::row_taps) / CONFIG_T::n_chan;
    const int ih = window<CONFIG_T::stride_height, CONFIG_T::pad_top>(oh, kh);
    const int iw = window<CONFIG_T::stride_width, CONFIG_T::pad_left>(ow, kw);
    if (ih < 0 || ih >= int(CONFIG_T::in_height) || iw < 0 || iw >= int(CONFIG_T::in_width)) {
        return false;
    }
    i = pixel<CONFIG_T::in_width, CONFIG_T::n_chan>(ih, iw, tap % CONFIG_T::n_chan);
    return true;
}
} // namespace spike_index

// Spiking input: additions only.
template <class data_T, typename CONFIG_T>
void if_conv2d_spiking(const data_T spikes[CONFIG_T::in_size], typename CONFIG_T::membrane_t v[CONFIG_T::out_plane],
                       const typename CONFIG_T::weight_t w[CONFIG_T::n_synapses],
                       const typename CONFIG_T::bias_t b[CONFIG_T::n_filt]) {
    #pragma HLS ARRAY_RESHAPE variable=w block factor=CONFIG_T::block_factor
    #pragma HLS ARRAY_PARTITION variable=b complete
    #pragma HLS ARRAY_PARTITION variable=v complete

    typename CONFIG_T::membrane_t acc[CONFIG_T::out_plane];
    #pragma HLS ARRAY_PARTITION variable=acc complete
InitMembrane:
    for (unsigned i = 0; i < CONFIG_T::out_plane; i++) {
        #pragma HLS UNROLL
        acc[i] = 0;
    }

InputSteps:
    for (unsigned t = 0; t < CONFIG_T::in_steps; t++) {
    OutRows:
        for (unsigned oh = 0; oh < CONFIG_T::out_height; oh++) {
        OutCols:
            for (unsigned ow = 0; ow < CONFIG_T::out_width; ow++) {
                typename CONFIG_T::psum_t psum[CONFIG_T::n_filt];
                #pragma HLS ARRAY_PARTITION variable=psum complete
            InitPlaneSum:
                for (unsigned f = 0; f < CONFIG_T::n_filt; f++) {
                    #pragma HLS UNROLL
                    psum[f] = 0;
                }
            ReuseLoop:
                for (unsigned ir = 0; ir < CONFIG_T::reuse_factor; ir++) {
                    #pragma HLS PIPELINE II=1
                    HWFLOW_CYCLES(1);
                SynapseLoop:
                    for (unsigned ib = 0; ib < CONFIG_T::block_factor; ib++) {
                        #pragma HLS UNROLL
                        const unsigned s = spike_index::synapse<CONFIG_T::reuse_factor>(ir, ib);
                        const unsigned f = s % CONFIG_T::n_filt;
                        unsigned i;
                        if (spike_index::conv_input<CONFIG_T>(oh, ow, s, i) &&
                            spikes[spike_index::plane<CONFIG_T::in_plane>(t, i)] != 0) {
                            psum[f] += w[s]; // conditional add: the weight where the spike is 1
                        }
                    }
                }
                HWFLOW_CYCLES(CONFIG_T::reuse_depth);
            Horner:
                for (unsigned f = 0; f < CONFIG_T::n_filt; f++) {
                    #pragma HLS UNROLL
                    const unsigned o = spike_index::pixel<CONFIG_T::out_width, CONFIG_T::n_filt>(oh, ow, f);
                    acc[o] = (acc[o] << 1) + psum[f];
                }
                HWFLOW_CYCLES(1);
            }
        }
        HWFLOW_STAGE("membrane_steps", acc, CONFIG_T::out_plane);
    }

Bias:
    for (unsigned i = 0; i < CONFIG_T::out_plane; i++) {
        #pragma HLS UNROLL
        v[i] = acc[i] + b[i % CONFIG_T::n_filt];
    }
    HWFLOW_CYCLES(1);
    HWFLOW_STAGE("membrane", v, CONFIG_T::out_plane);
}

// Analog input (direct encoding, first layer only): one plane of integer levels, a MAC.
template <class data_T, typename CONFIG_T>
void if_conv2d_analog(const data_T x[CONFIG_T::in_plane], typename CONFIG_T::membrane_t v[CONFIG_T::out_plane],
                      const typename CONFIG_T::weight_t w[CONFIG_T::n_synapses],
                      const typename CONFIG_T::bias_t b[CONFIG_T::n_filt]) {
    #pragma HLS ARRAY_RESHAPE variable=w block factor=CONFIG_T::block_factor
    #pragma HLS ARRAY_PARTITION variable=b complete
    #pragma HLS ARRAY_PARTITION variable=v complete

OutRows:
    for (unsigned oh = 0; oh < CONFIG_T::out_height; oh++) {
    OutCols:
        for (unsigned ow = 0; ow < CONFIG_T::out_width; ow++) {
            typename CONFIG_T::membrane_t acc[CONFIG_T::n_filt];
            #pragma HLS ARRAY_PARTITION variable=acc complete
        InitMembrane:
            for (unsigned f = 0; f < CONFIG_T::n_filt; f++) {
                #pragma HLS UNROLL
                acc[f] = 0;
            }
        ReuseLoop:
            for (unsigned ir = 0; ir < CONFIG_T::reuse_factor; ir++) {
                #pragma HLS PIPELINE II=1
                HWFLOW_CYCLES(1);
            SynapseLoop:
                for (unsigned ib = 0; ib < CONFIG_T::block_factor; ib++) {
                    #pragma HLS UNROLL
                    const unsigned s = spike_index::synapse<CONFIG_T::reuse_factor>(ir, ib);
                    const unsigned f = s % CONFIG_T::n_filt;
                    unsigned i;
                    if (spike_index::conv_input<CONFIG_T>(oh, ow, s, i)) {
                        const typename CONFIG_T::level_t k = input_level<typename CONFIG_T::level_t>(x[i]);
                        acc[f] += w[s] * k; // the only multiplier of the network: weight x analog input level
                    }
                }
            }
            HWFLOW_CYCLES(CONFIG_T::reuse_depth);
            HWFLOW_STAGE("membrane_steps", acc, CONFIG_T::n_filt); // pixels in order: [Ho][Wo][F]
        BiasAndStore:
            for (unsigned f = 0; f < CONFIG_T::n_filt; f++) {
                #pragma HLS UNROLL
                v[spike_index::pixel<CONFIG_T::out_width, CONFIG_T::n_filt>(oh, ow, f)] = acc[f] + b[f];
            }
            HWFLOW_CYCLES(1);
        }
    }
    HWFLOW_STAGE("membrane", v, CONFIG_T::out_plane);
}

} // namespace hwflow

#endif
