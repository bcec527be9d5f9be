#ifndef HWFLOW_SPIKE_JOIN_H_
#define HWFLOW_SPIKE_JOIN_H_

/*
 * hwflow: spike_join, a Concatenate of branches along the channels (hwflow/ops/join.py).
 *
 *   spike_join   two arrays of spike planes [planes][pixels][n_chan1] and [planes][pixels][n_chan2]
 *                -> [planes][pixels][n_chan1 + n_chan2]: channel c of a pixel is channel c of the
 *                first input for c < n_chan1, else channel c - n_chan1 of the second.
 *
 * Cycle model: sequential = 0 (the latency strategy): wiring (every loop UNROLL), 0 cycles, no logic.
 * sequential = 1 (the folded and event strategies): the schedule of the RTL twin, hls_templates/rtl/hwflow_join.v:
 * per plane and pixel, max(WPP1, WPP2) cycles read a word of word1 (word2) channels of each input into
 * the pixel, then WPP cycles write it in words of `word` channels (WPPi = ceil(n_chani / wordi));
 * then 1: planes * pixels * (max(WPP1, WPP2) + WPP) + 1 cycles (hwflow/ops/join.py, join_cycles).
 * io_stream reads each input through a frame adapter (hwflow_spike_stream.h), the first whole before the second.
 */

#include "nnet_common.h"
#include "hwflow_spike_common.h"

namespace hwflow {

struct spike_join_config {
    static const unsigned planes = 4;     // T of both inputs
    static const unsigned pixels = 1;     // H * W (1 for a vector)
    static const unsigned n_chan1 = 8;    // channels of the first input
    static const unsigned n_chan2 = 8;    // channels of the second input
    static const unsigned sequential = 0; // 1: the RTL twin's word schedule (folded, event)
    static const unsigned word1 = 1;      // channels per word of the first input (sequential)
    static const unsigned word2 = 1;      // ... of the second
    static const unsigned word = 1;       // ... of the output
};

// The sequential schedule: per plane and pixel, the words of both inputs into the pixel, then its output words.
template <class data1_T, class data2_T, class res_T, typename CONFIG_T>
void spike_join_words(const data1_T a[CONFIG_T::planes * CONFIG_T::pixels * CONFIG_T::n_chan1],
                      const data2_T b[CONFIG_T::planes * CONFIG_T::pixels * CONFIG_T::n_chan2],
                      res_T out[CONFIG_T::planes * CONFIG_T::pixels * (CONFIG_T::n_chan1 + CONFIG_T::n_chan2)]) {
    static const unsigned n_out = CONFIG_T::n_chan1 + CONFIG_T::n_chan2;
    static const unsigned wpp1 = (CONFIG_T::n_chan1 + CONFIG_T::word1 - 1) / CONFIG_T::word1;
    static const unsigned wpp2 = (CONFIG_T::n_chan2 + CONFIG_T::word2 - 1) / CONFIG_T::word2;
    static const unsigned wpp = (n_out + CONFIG_T::word - 1) / CONFIG_T::word;
    static const unsigned reads = wpp1 > wpp2 ? wpp1 : wpp2;
    res_T pix[wpp * CONFIG_T::word];
    #pragma HLS ARRAY_PARTITION variable=pix complete
JoinPixels:
    for (unsigned q = 0; q < CONFIG_T::planes * CONFIG_T::pixels; q++) {
    JoinRead:
        for (unsigned r = 0; r < reads; r++) {
            #pragma HLS PIPELINE II=1
            HWFLOW_CYCLES(1);
        JoinReadFirst:
            for (unsigned n = 0; n < CONFIG_T::word1; n++) {
                #pragma HLS UNROLL
                const unsigned c = r * CONFIG_T::word1 + n;
                if (r < wpp1 && c < CONFIG_T::n_chan1) pix[c] = a[q * CONFIG_T::n_chan1 + c];
            }
        JoinReadSecond:
            for (unsigned n = 0; n < CONFIG_T::word2; n++) {
                #pragma HLS UNROLL
                const unsigned c = r * CONFIG_T::word2 + n;
                if (r < wpp2 && c < CONFIG_T::n_chan2) pix[CONFIG_T::n_chan1 + c] = b[q * CONFIG_T::n_chan2 + c];
            }
        }
    JoinWrite:
        for (unsigned j = 0; j < wpp; j++) {
            #pragma HLS PIPELINE II=1
            HWFLOW_CYCLES(1);
        JoinWriteWord:
            for (unsigned n = 0; n < CONFIG_T::word; n++) {
                #pragma HLS UNROLL
                const unsigned c = j * CONFIG_T::word + n;
                if (c < n_out) out[q * n_out + c] = pix[c];
            }
        }
    }
    HWFLOW_CYCLES(1); // done
}

template <class data1_T, class data2_T, class res_T, typename CONFIG_T>
void spike_join(const data1_T a[CONFIG_T::planes * CONFIG_T::pixels * CONFIG_T::n_chan1],
                const data2_T b[CONFIG_T::planes * CONFIG_T::pixels * CONFIG_T::n_chan2],
                res_T out[CONFIG_T::planes * CONFIG_T::pixels * (CONFIG_T::n_chan1 + CONFIG_T::n_chan2)]) {
    static const unsigned n_out = CONFIG_T::n_chan1 + CONFIG_T::n_chan2;
    if (CONFIG_T::sequential) {
        spike_join_words<data1_T, data2_T, res_T, CONFIG_T>(a, b, out);
        return;
    }
JoinPixels:
    for (unsigned q = 0; q < CONFIG_T::planes * CONFIG_T::pixels; q++) {
        #pragma HLS UNROLL
    JoinFirst:
        for (unsigned c = 0; c < CONFIG_T::n_chan1; c++) {
            #pragma HLS UNROLL
            out[q * n_out + c] = a[q * CONFIG_T::n_chan1 + c];
        }
    JoinSecond:
        for (unsigned c = 0; c < CONFIG_T::n_chan2; c++) {
            #pragma HLS UNROLL
            out[q * n_out + CONFIG_T::n_chan1 + c] = b[q * CONFIG_T::n_chan2 + c];
        }
    }
}

} // namespace hwflow

#endif
