#ifndef HWFLOW_SPIKE_ENCODE_H_
#define HWFLOW_SPIKE_ENCODE_H_

/*
 * hwflow: conversions between values and spike planes, and the reshape.
 *
 *   spike_encode   bit-plane input encoding: an unsigned input x[N] on the grid ap_ufixed<S, I>
 *                  (level k = its raw bits) -> S binary planes [S][N], MSB first:
 *                  plane t = bit S-1-t of k.
 *   spike_decode   the network's last spiking layer: T planes [T][N] -> levels ap_ufixed<T, I>
 *                  (level k = sum_t s(t) 2^(T-1-t): the planes are the raw bits).
 *   spike_flatten  Flatten (channels-last reshape): [T][H][W][C] -> [T][H*W*C] (or an analog /
 *                  readout array [H][W][C] -> [H*W*C]): the same flat order, an element copy.
 *
 * Cycle model: all three are wiring (every loop UNROLL): 0 cycles, no logic (hwflow/ops/encoder.py, flatten.py).
 */

#include "nnet_common.h"
#include "hwflow_spike_common.h"

namespace hwflow {

struct spike_code_config {
    static const unsigned n_in = 10;   // values per plane
    static const unsigned steps = 4;   // S (encode) or T (decode)
    static const unsigned size = 40;   // steps * n_in
};

template <class data_T, class res_T, typename CONFIG_T>
void spike_encode(const data_T x[CONFIG_T::n_in], res_T spikes[CONFIG_T::size]) {
EncodeValues:
    for (unsigned i = 0; i < CONFIG_T::n_in; i++) {
        #pragma HLS UNROLL
        const ap_uint<CONFIG_T::steps> k = input_level<ap_uint<CONFIG_T::steps> >(x[i]);
    EncodePlanes:
        for (unsigned t = 0; t < CONFIG_T::steps; t++) {
            #pragma HLS UNROLL
            spikes[spike_index::plane<CONFIG_T::n_in>(t, i)] = k[CONFIG_T::steps - 1 - t];
        }
    }
}

template <class data_T, class res_T, typename CONFIG_T>
void spike_decode(const data_T spikes[CONFIG_T::size], res_T out[CONFIG_T::n_in]) {
DecodeValues:
    for (unsigned i = 0; i < CONFIG_T::n_in; i++) {
        #pragma HLS UNROLL
        ap_uint<CONFIG_T::steps> k = 0;
    DecodePlanes:
        for (unsigned t = 0; t < CONFIG_T::steps; t++) {
            #pragma HLS UNROLL
            k[CONFIG_T::steps - 1 - t] = spikes[spike_index::plane<CONFIG_T::n_in>(t, i)] != 0;
        }
        out[i].range(CONFIG_T::steps - 1, 0) = k;
    }
}

struct spike_flatten_config {
    static const unsigned size = 40;
};

template <class data_T, class res_T, typename CONFIG_T>
void spike_flatten(const data_T in[CONFIG_T::size], res_T out[CONFIG_T::size]) {
Copy:
    for (unsigned i = 0; i < CONFIG_T::size; i++) {
        #pragma HLS UNROLL
        out[i] = in[i];
    }
}

} // namespace hwflow

#endif
