#ifndef HWFLOW_BITSERIAL_POOL_H_
#define HWFLOW_BITSERIAL_POOL_H_

/*
 * hwflow: 2-D max pooling on binary-coded spikes, computed bit-serially, MSB plane first.
 *
 * Every window keeps one 'alive' flag per tap: the taps still tied for the maximum. At plane t
 * the output bit is the OR of the alive taps' bits; when it is 1, the alive taps whose bit is 0
 * drop out. After T planes the output planes are exactly the binary code of the window's
 * maximum level. Padded taps (Keras 'same') are skipped: they are zero and never the maximum.
 * Logic only: AND / OR gates, no arithmetic.
 *
 * Upsampling (up_height, up_width > 1; hwflow/ops/upsample.py): output pixel (oh, ow) is pooled
 * pixel (oh / up_height, ow / up_width), nearest upsampling after the pool. With a 1x1 window the
 * block copies every input pixel's planes to an up_height x up_width block: UpSampling2D.
 *
 * Loop structure and cycle model (T = steps, O = Ho * Wo * C output neurons, Q = pool_height *
 * pool_width taps per window; hwflow/ops/maxpool.py, CYCLES.md):
 *
 *   PoolSteps    for t in 0..T-1   PIPELINE II=1     T + 1 cycles (depth 1; alive flags carry)
 *     Windows      for the O outputs UNROLL          O Q-input OR gates + O * Q flag updates
 *
 *   dataflow style:  latency = T + 1 cycles, one DATAFLOW process, II = T + 1.
 *   pipeline style:  T chained gate levels (one Q-input OR + AND each), II = 1.
 *
 * bitserial_max_pool_lanes (hls.strategy 'folded' | 'event'): the same pooling on the RTL twin's
 * schedule (hls_templates/rtl/hwflow_maxpool.v): output pixels one after another, `word` channels
 * per cycle (the producer's lanes); per pixel, word and plane Q cycles read the taps and 1 writes:
 *   Ho * Wo * ceil(C / word) * T * (Q + 1) + 1 cycles (+ 1: done).
 * bitserial_max_pool_lanes_stream: the same on io_stream through a line buffer of (pool_height - 1)
 * rows plus pool_width pixels (hwflow_spike_stream.h; one row more when up_height > 1: the output
 * rows of one pooled row re-read its input rows), the same cycles plus its stream words.
 */

#include "nnet_common.h"
#include "hwflow_spike_common.h"
#include "hwflow_spike_stream.h"

namespace hwflow {

struct bitserial_pool_config {
    static const unsigned in_height = 4;
    static const unsigned in_width = 4;
    static const unsigned n_chan = 1;
    static const unsigned out_height = 2;
    static const unsigned out_width = 2;
    static const unsigned pool_height = 2;
    static const unsigned pool_width = 2;
    static const unsigned stride_height = 2;
    static const unsigned stride_width = 2;
    static const unsigned pad_top = 0;
    static const unsigned pad_left = 0;
    static const unsigned steps = 1;        // T
    static const unsigned in_plane = 16;    // H * W * C
    static const unsigned out_plane = 4;    // Ho * Wo * C
    static const unsigned in_size = 16;     // T * in_plane
    static const unsigned out_size = 4;     // T * out_plane
    static const unsigned pool_size = 4;    // Q = pool_height * pool_width
    static const unsigned up_height = 1;    // output rows per pooled row (nearest upsampling)
    static const unsigned up_width = 1;     // output columns per pooled column
};

template <class data_T, class res_T, typename CONFIG_T>
void bitserial_max_pool(const data_T spikes[CONFIG_T::in_size], res_T out[CONFIG_T::out_size]) {
    bool alive[CONFIG_T::out_plane][CONFIG_T::pool_size];
    #pragma HLS ARRAY_PARTITION variable=alive complete dim=0
InitAlive:
    for (unsigned o = 0; o < CONFIG_T::out_plane; o++) {
        #pragma HLS UNROLL
        for (unsigned q = 0; q < CONFIG_T::pool_size; q++) {
            #pragma HLS UNROLL
            alive[o][q] = true;
        }
    }

PoolSteps:
    for (unsigned t = 0; t < CONFIG_T::steps; t++) {
        #pragma HLS PIPELINE II=1
        HWFLOW_CYCLES(1);
    OutRows:
        for (unsigned oh = 0; oh < CONFIG_T::out_height; oh++) {
            #pragma HLS UNROLL
        OutCols:
            for (unsigned ow = 0; ow < CONFIG_T::out_width; ow++) {
                #pragma HLS UNROLL
            Channels:
                for (unsigned c = 0; c < CONFIG_T::n_chan; c++) {
                    #pragma HLS UNROLL
                    const unsigned o = spike_index::pixel<CONFIG_T::out_width, CONFIG_T::n_chan>(oh, ow, c);
                    bool bit[CONFIG_T::pool_size];
                    bool valid[CONFIG_T::pool_size];
                    bool any = false;
                WindowOr:
                    for (unsigned q = 0; q < CONFIG_T::pool_size; q++) {
                        #pragma HLS UNROLL
                        const unsigned ph = q / CONFIG_T::pool_width;
                        const unsigned pw = q % CONFIG_T::pool_width;
                        const int ih = spike_index::window<CONFIG_T::stride_height, CONFIG_T::pad_top>(
                            oh / CONFIG_T::up_height, ph);
                        const int iw = spike_index::window<CONFIG_T::stride_width, CONFIG_T::pad_left>(
                            ow / CONFIG_T::up_width, pw);
                        valid[q] = ih >= 0 && ih < int(CONFIG_T::in_height) && iw >= 0 && iw < int(CONFIG_T::in_width);
                        bit[q] = false;
                        if (valid[q]) {
                            const unsigned i = spike_index::pixel<CONFIG_T::in_width, CONFIG_T::n_chan>(ih, iw, c);
                            bit[q] = spikes[spike_index::plane<CONFIG_T::in_plane>(t, i)] != 0;
                        }
                        any = any || (alive[o][q] && bit[q]);
                    }
                WindowUpdate:
                    for (unsigned q = 0; q < CONFIG_T::pool_size; q++) {
                        #pragma HLS UNROLL
                        alive[o][q] = alive[o][q] && (bit[q] || !any);
                    }
                    out[spike_index::plane<CONFIG_T::out_plane>(t, o)] = any;
                }
            }
        }
    }
    HWFLOW_CYCLES(1); // drain
}

struct lane_pool_config : bitserial_pool_config {
    static const unsigned word = 1;  // channels per cycle
    static const unsigned wpp = 1;   // words per pixel: ceil(n_chan / word)
    static const unsigned in_pixels = 16, line_slots = 8;  // input pixels; line buffer pixels (io_stream)
    static const unsigned pixel_size = 1;  // one output pixel's planes: steps * n_chan
};

// One output pixel (oh, ow) of the lane pool, its input read by `reader`, into out [T][plane_size] at
// output neuron offset o0 (a whole frame: plane_size = out_plane; one pixel: n_chan, o0 = 0).
template <class reader, class data_T, class res_T, typename CONFIG_T, unsigned plane_size>
void lane_pool_pixel(const data_T spikes[reader::size], res_T out[], unsigned oh,
                     unsigned ow, unsigned o0) {
    #pragma HLS INLINE
    bool alive[CONFIG_T::pool_size][CONFIG_T::word];
    #pragma HLS ARRAY_PARTITION variable=alive complete dim=0
    bool bit[CONFIG_T::pool_size][CONFIG_T::word];
    #pragma HLS ARRAY_PARTITION variable=bit complete dim=0
Words:
    for (unsigned j = 0; j < CONFIG_T::wpp; j++) {
        for (unsigned q = 0; q < CONFIG_T::pool_size; q++) {
            #pragma HLS UNROLL
            for (unsigned l = 0; l < CONFIG_T::word; l++) {
                #pragma HLS UNROLL
                alive[q][l] = true;
            }
        }
    Planes:
        for (unsigned t = 0; t < CONFIG_T::steps; t++) {
            bool any[CONFIG_T::word];
            #pragma HLS ARRAY_PARTITION variable=any complete
            for (unsigned l = 0; l < CONFIG_T::word; l++) {
                #pragma HLS UNROLL
                any[l] = false;
            }
        Taps:
            for (unsigned q = 0; q < CONFIG_T::pool_size; q++) {
                #pragma HLS PIPELINE II=1
                HWFLOW_CYCLES(1);
                const int ih = spike_index::window<CONFIG_T::stride_height, CONFIG_T::pad_top>(
                    oh / CONFIG_T::up_height, q / CONFIG_T::pool_width);
                const int iw = spike_index::window<CONFIG_T::stride_width, CONFIG_T::pad_left>(
                    ow / CONFIG_T::up_width, q % CONFIG_T::pool_width);
                const bool valid =
                    ih >= 0 && ih < int(CONFIG_T::in_height) && iw >= 0 && iw < int(CONFIG_T::in_width);
                for (unsigned l = 0; l < CONFIG_T::word; l++) {
                    #pragma HLS UNROLL
                    const unsigned c = spike_index::plane<CONFIG_T::word>(j, l);
                    bit[q][l] = valid && c < CONFIG_T::n_chan && reader::at(spikes, t, ih, iw, c) != 0;
                    any[l] = any[l] || (alive[q][l] && bit[q][l]);
                }
            }
            HWFLOW_CYCLES(1); // write the word, update the alive flags
            for (unsigned l = 0; l < CONFIG_T::word; l++) {
                #pragma HLS UNROLL
                const unsigned c = spike_index::plane<CONFIG_T::word>(j, l);
                for (unsigned q = 0; q < CONFIG_T::pool_size; q++) {
                    #pragma HLS UNROLL
                    alive[q][l] = alive[q][l] && (bit[q][l] || !any[l]);
                }
                if (c < CONFIG_T::n_chan) {
                    out[spike_index::plane<plane_size>(t, o0 + c)] = any[l];
                }
            }
        }
    }
}

// The lane pool on arrays (io_parallel).
template <class data_T, class res_T, typename CONFIG_T>
void bitserial_max_pool_lanes(const data_T spikes[CONFIG_T::in_size], res_T out[CONFIG_T::out_size]) {
    typedef frame_reader<CONFIG_T::steps, CONFIG_T::in_height, CONFIG_T::in_width, CONFIG_T::n_chan> reader;
OutRows:
    for (unsigned oh = 0; oh < CONFIG_T::out_height; oh++) {
    OutCols:
        for (unsigned ow = 0; ow < CONFIG_T::out_width; ow++) {
            lane_pool_pixel<reader, data_T, res_T, CONFIG_T, CONFIG_T::out_plane>(
                spikes, out, oh, ow, spike_index::pixel<CONFIG_T::out_width, CONFIG_T::n_chan>(oh, ow, 0));
        }
    }
    HWFLOW_CYCLES(1); // done
}

// The lane pool on streams through a line buffer (io_stream; hwflow_spike_stream.h).
template <class data_T, class res_T, typename CONFIG_T>
void bitserial_max_pool_lanes_stream(hls::stream<data_T> &spikes, hls::stream<res_T> &out) {
    typedef line_reader<CONFIG_T::steps, CONFIG_T::line_slots, CONFIG_T::in_width, CONFIG_T::n_chan> reader;
    typename data_T::value_type line[reader::size];
    #pragma HLS ARRAY_PARTITION variable=line cyclic factor=CONFIG_T::word
    typename res_T::value_type px[CONFIG_T::pixel_size];
    #pragma HLS ARRAY_PARTITION variable=px cyclic factor=CONFIG_T::word
    unsigned next = 0; // the next input pixel to read
OutRows:
    for (unsigned oh = 0; oh < CONFIG_T::out_height; oh++) {
    OutCols:
        for (unsigned ow = 0; ow < CONFIG_T::out_width; ow++) {
            reader::template fill<data_T, CONFIG_T::in_pixels>(
                spikes, line, next,
                spike_index::plane<CONFIG_T::in_width>(
                    spike_index::window_last<CONFIG_T::stride_height, CONFIG_T::pad_top, CONFIG_T::pool_height,
                                             CONFIG_T::in_height>(oh / CONFIG_T::up_height),
                    spike_index::window_last<CONFIG_T::stride_width, CONFIG_T::pad_left, CONFIG_T::pool_width,
                                             CONFIG_T::in_width>(ow / CONFIG_T::up_width)));
            lane_pool_pixel<reader, typename data_T::value_type, typename res_T::value_type, CONFIG_T,
                            CONFIG_T::n_chan>(line, px, oh, ow, 0);
            pixel_write<res_T, CONFIG_T::steps>(px, out);
        }
    }
    reader::template fill<data_T, CONFIG_T::in_pixels>(spikes, line, next, CONFIG_T::in_pixels - 1);
    line_drains();
    HWFLOW_CYCLES(1); // done
}

} // namespace hwflow

#endif
