#ifndef HWFLOW_IF_NEURON_H_
#define HWFLOW_IF_NEURON_H_

/*
 * hwflow: the integrate-then-fire neuron and the membrane readout.
 *
 *   if_neuron_fire    v[N] (integrated membrane, bias and half-threshold shift included) ->
 *                     T binary spike planes [T][N], MSB first. For t = 0..T-1 the threshold is
 *                     thr_t = threshold_scale * 2^(threshold_log2 + T-1-t) (a constant: a shift,
 *                     no multiplier; threshold_scale is 1 but for an average pool of odd area);
 *                     spike = v >= thr_t, except at the last step where spike = v > thr_t (a tie
 *                     onto an odd level rounds to the even level below: QKeras' round half to
 *                     even); subtract reset v -= spike ? thr_t : 0. Membranes above the top level
 *                     saturate (every step fires), negative membranes never fire (ReLU). A po2 neuron
 *                     (quantized_relu_po2) fires once: at the first step t with v >= po2_threshold(t), or at
 *                     the last step (po2_fire_step).
 *   membrane_readout  v[N] -> ap_fixed<W, W - frac> values v * 2^-frac (the readout layer):
 *                     a reinterpretation of the membrane's bits, no arithmetic.
 *
 * Loop structure and cycle model (T = out_steps, N = n_out; hwflow/ops/synaptic.py, CYCLES.md):
 *
 *   LoadMembrane for n  UNROLL                        0 cycles (the input register)
 *   FireSteps    for t in 0..T-1   PIPELINE II=1     T + 1 cycles (depth 1: one compare/subtract)
 *     FireNeurons  for n  UNROLL                      N comparators + N subtractors per cycle
 *
 *   if_neuron_fire: T + 1 cycles; dataflow style: one DATAFLOW process, II = T + 1.
 *   pipeline style:  T chained compare/subtract stages on membrane_t, scheduled at II = 1.
 *   membrane_readout: 0 cycles (wiring).
 *
 * Resources: N * T comparators/subtractors of membrane_t width in pipeline style, N of them
 * in dataflow style (reused over the T steps).
 */

#include "nnet_common.h"
#include "hwflow_spike_common.h"

namespace hwflow {

struct if_neuron_config {
    static const unsigned n_out = 10;
    static const unsigned out_steps = 4;       // T
    static const unsigned out_size = 40;       // T * n_out: length of the spike array
    static const unsigned threshold_log2 = 1;  // threshold = threshold_scale * 2^threshold_log2 membrane units
    static const unsigned threshold_scale = 1;
    static const bool po2 = false;  // a quantized_relu_po2 neuron: fires once, against po2_threshold(t)
    static long long po2_threshold(unsigned t) { return 0; }
    typedef ap_int<16> membrane_t;
    typedef ap_int<8> threshold_t;             // holds threshold_scale * 2^(threshold_log2 + T - 1)
};

// The threshold of fire step t: threshold_scale * 2^(threshold_log2 + T-1-t), a constant shifted; a po2
// neuron's step t threshold from its table (a ROM of T-1 constants).
template <typename CONFIG_T> inline typename CONFIG_T::threshold_t step_threshold(unsigned t) {
    #pragma HLS INLINE
    if (CONFIG_T::po2) {
        return typename CONFIG_T::threshold_t(CONFIG_T::po2_threshold(t));
    }
    return typename CONFIG_T::threshold_t(CONFIG_T::threshold_scale)
           << (CONFIG_T::threshold_log2 + CONFIG_T::out_steps - 1 - t);
}

// One fire step of one neuron: spike when u >= thr, strictly greater at the last step (a tie onto an
// odd level goes to the even level below: QKeras's round half to even); subtract reset.
template <class membrane_T, class threshold_T> inline bool fire_step(membrane_T &u, threshold_T thr, bool last) {
    #pragma HLS INLINE
    const bool spike = last ? (u > thr) : (u >= thr);
    if (spike) {
        u -= thr;
    }
    return spike;
}

// One fire step of a po2 neuron (quantized_relu_po2, hwflow/ops/po2.py): it fires once, at the first step whose
// threshold u reaches (they descend), or at the last step; then u is parked at the most negative value of its
// type, which no membrane reaches (the width holds -bound..bound), so no later step fires.
template <class membrane_T, class threshold_T> inline bool po2_fire_step(membrane_T &u, threshold_T thr, bool last) {
    #pragma HLS INLINE
    membrane_T parked = 0;
    parked[membrane_T::width - 1] = 1;
    const bool spike = last ? (u != parked) : (u >= thr);
    if (spike) {
        u = parked;
    }
    return spike;
}

// The neuron of CONFIG_T: the IF neuron's fire_step, or a po2 neuron's.
template <typename CONFIG_T, class membrane_T, class threshold_T>
inline bool neuron_step(membrane_T &u, threshold_T thr, bool last) {
    #pragma HLS INLINE
    return CONFIG_T::po2 ? po2_fire_step(u, thr, last) : fire_step(u, thr, last);
}

template <class res_T, typename CONFIG_T>
void if_neuron_fire(const typename CONFIG_T::membrane_t v[CONFIG_T::n_out], res_T spikes[CONFIG_T::out_size]) {
    #pragma HLS ARRAY_PARTITION variable=v complete

    typename CONFIG_T::membrane_t u[CONFIG_T::n_out];
    #pragma HLS ARRAY_PARTITION variable=u complete
LoadMembrane:
    for (unsigned n = 0; n < CONFIG_T::n_out; n++) {
        #pragma HLS UNROLL
        u[n] = v[n];
    }

FireSteps:
    for (unsigned t = 0; t < CONFIG_T::out_steps; t++) {
        #pragma HLS PIPELINE II=1
        HWFLOW_CYCLES(1);
        const typename CONFIG_T::threshold_t thr = step_threshold<CONFIG_T>(t);
        const bool last = (t == CONFIG_T::out_steps - 1);
    FireNeurons:
        for (unsigned n = 0; n < CONFIG_T::n_out; n++) {
            #pragma HLS UNROLL
            spikes[spike_index::plane<CONFIG_T::n_out>(t, n)] = neuron_step<CONFIG_T>(u[n], thr, last);
        }
    }
    HWFLOW_CYCLES(1); // drain
}

struct membrane_readout_config {
    static const unsigned n_out = 10;
    static const unsigned readout_width = 16;  // W of the ap_fixed<W, W - frac> result
    typedef ap_int<16> membrane_t;
};

template <class res_T, typename CONFIG_T>
void membrane_readout(const typename CONFIG_T::membrane_t v[CONFIG_T::n_out], res_T out[CONFIG_T::n_out]) {
    #pragma HLS ARRAY_PARTITION variable=v complete
Readout:
    for (unsigned n = 0; n < CONFIG_T::n_out; n++) {
        #pragma HLS UNROLL
        const ap_int<CONFIG_T::readout_width> wide = v[n]; // sign extension
        out[n].range(CONFIG_T::readout_width - 1, 0) = wide.range(CONFIG_T::readout_width - 1, 0);
    }
}

} // namespace hwflow

#endif
