#ifndef HWFLOW_IF_LAYER_H_
#define HWFLOW_IF_LAYER_H_

/*
 * hwflow: a layer of integrate-then-fire neurons (or the membrane readout) on the folded and event
 * schedules (hls.strategy 'folded' | 'event'): the HLS twin of hls_templates/rtl/hwflow_if_layer.v,
 * the same schedule and the same cycle count, sample by sample.
 *
 * A 2-D convolution over a channels-last image, output pixels one after another, `lanes` output
 * channels per cycle (G = ceil(n_out / lanes) lane groups). A dense layer is its 1x1 case: one
 * window over the whole input image (after a Flatten, the image before it).
 *
 *   lane_integrate_spiking  S binary spike planes [S][in_h][in_w][c_in], MSB first. Per output pixel
 *                     the membrane starts at the bias (plus the half-threshold shift) and adds, for every
 *                     input spike that is 1, its weight row shifted by S-1-t (Horner's doubling moved
 *                     onto the weight: the same integer after the last plane, with additions only).
 *     folded: every plane, tap, input channel and group: one cycle each, a gated add of `lanes`
 *             weights.
 *     event:  per plane, tap and input word (in_word channels: the producer's lanes), the word's
 *             spikes are taken lowest channel first (a priority encoder); a word without spikes costs
 *             1 cycle, a word with k spikes k * G cycles (one weight row of G groups per spike).
 *             Its trip count follows the spikes: the regularizer's sparsity is latency here.
 *   lane_integrate_analog   one plane of integer levels (direct encoding, first layer): every tap,
 *                     input channel and group one cycle, `lanes` multiply-accumulates.
 *   Then per group the neuron fires T planes (spike when v >= thr << (T-1-t), strictly greater at the
 *   last step: QKeras's round half to even; subtract reset), or the readout keeps the membranes.
 *
 * Two drivers run these per output pixel: if_layer on arrays (io_parallel; io_stream behind the frame
 * adapters, for a dense layer) and if_layer_stream on streams through a line buffer of (k_h - 1) rows
 * plus k_w input pixels (io_stream convolutions; hwflow_spike_stream.h), which reads the input through
 * the pixel's window before each output pixel and writes the pixel's planes right after it.
 *
 * Weights: rows (tap * c_in + c) * G + g of `lanes` weights (zero-padded), one ROM word per row
 * (ARRAY_RESHAPE cyclic factor=lanes: the word a cycle reads). Spike and value arrays between the
 * blocks are partitioned cyclically by `lanes` (partition_factor), never completely.
 *
 * Cycle count (HWFLOW_CYCLES, hwflow/ops/synaptic.py folded_plan, the RTL twin's formula; P output
 * pixels, A = k_h * k_w taps):
 *   P * (G + 1 + F) + sum over pixels of I + 1     (per pixel: bias G, integrate I, last add 1, fire F;
 *                                                  then done 1)
 *   I = S * A * c_in * G (folded), A * c_in * G (analog), sum over planes, taps and input words of
 *   max(1, spikes * G) (event); F = T * G (spiking), 0 (readout).
 * if_layer_stream adds its stream words, counted as the frame adapters count theirs ("read" and
 * "write": E_in + 1 and E_out + 1). Every loop below that costs a cycle per iteration is PIPELINE
 * II=1; its depth is not counted (the RTL twin registers one stage per iteration as well).
 */

#include "nnet_common.h"
#include "hwflow_spike_common.h"
#include "hwflow_if_neuron.h"
#include "hwflow_spike_stream.h"

namespace hwflow {

struct if_layer_config {
    static const unsigned c_in = 4, n_out = 4, in_h = 1, in_w = 1, out_h = 1, out_w = 1;
    static const unsigned k_h = 1, k_w = 1, s_h = 1, s_w = 1, pad_t = 0, pad_l = 0;
    static const unsigned lanes = 1, groups = 4, in_word = 1, in_wpp = 4;
    static const unsigned in_steps = 1, out_steps = 1, threshold_log2 = 1, threshold_scale = 1, readout_width = 16;
    static const bool event = true, analog = false;
    static const bool po2 = false;  // a quantized_relu_po2 neuron: fires once, against po2_threshold(t)
    static long long po2_threshold(unsigned t) { return 0; }
    static const unsigned in_plane = 4, in_size = 4, out_plane = 4, out_size = 4, weight_rows = 16;
    static const unsigned weight_size = 16, bias_size = 4;  // weight_rows and groups, times lanes
    static const unsigned pixels = 1, taps = 1;  // output pixels (for trip counts), kernel taps
    static const unsigned in_pixels = 1, line_slots = 1;  // input pixels; line buffer pixels (io_stream)
    static const unsigned pixel_planes = 1, pixel_size = 4;  // one output pixel: max(1, T) planes of n_out
    typedef ap_int<8> weight_t;
    typedef ap_int<16> bias_t;
    typedef ap_int<16> membrane_t;
    typedef ap_int<8> level_t;
    typedef ap_int<8> threshold_t;
};

// The lane groups' membranes of one output pixel start at the bias: G cycles, one group each.
template <typename CONFIG_T>
void lane_bias(typename CONFIG_T::membrane_t v[CONFIG_T::groups][CONFIG_T::lanes],
               const typename CONFIG_T::bias_t b[CONFIG_T::bias_size]) {
    #pragma HLS INLINE
LaneBias:
    for (unsigned g = 0; g < CONFIG_T::groups; g++) {
        #pragma HLS PIPELINE II=1
        HWFLOW_CYCLES(1);
        for (unsigned l = 0; l < CONFIG_T::lanes; l++) {
            #pragma HLS UNROLL
            v[g][l] = b[spike_index::plane<CONFIG_T::lanes>(g, l)];
        }
    }
}

// Gated add of weight row `row` into group g, shifted by `shift` (the plane's Horner weight).
template <typename CONFIG_T>
void lane_add(typename CONFIG_T::membrane_t v[CONFIG_T::groups][CONFIG_T::lanes],
              const typename CONFIG_T::weight_t w[CONFIG_T::weight_size], unsigned row, unsigned g,
              unsigned shift) {
    #pragma HLS INLINE
    for (unsigned l = 0; l < CONFIG_T::lanes; l++) {
        #pragma HLS UNROLL
        v[g][l] += typename CONFIG_T::membrane_t(w[spike_index::plane<CONFIG_T::lanes>(row, l)]) << shift;
    }
}

// What a pixel's membranes become: T spike planes per group (fire), or readout values (readout), into
// y [T][plane_size] at pixel p of the plane (a whole frame: plane_size = out_plane; one pixel: n_out, p = 0).
template <bool readout> struct lane_output;

template <> struct lane_output<false> {
    template <class res_T, typename CONFIG_T, unsigned plane_size>
    static void emit(typename CONFIG_T::membrane_t v[CONFIG_T::groups][CONFIG_T::lanes],
                     res_T y[], unsigned p) {
        #pragma HLS INLINE
    FireGroups:
        for (unsigned g = 0; g < CONFIG_T::groups; g++) {
        FireSteps:
            for (unsigned t = 0; t < CONFIG_T::out_steps; t++) {
                #pragma HLS PIPELINE II=1
                HWFLOW_CYCLES(1);
                const typename CONFIG_T::threshold_t thr = step_threshold<CONFIG_T>(t);
                const bool last = (t == CONFIG_T::out_steps - 1);
                for (unsigned l = 0; l < CONFIG_T::lanes; l++) {
                    #pragma HLS UNROLL
                    const unsigned n = spike_index::plane<CONFIG_T::lanes>(g, l);
                    const bool spike = neuron_step<CONFIG_T>(v[g][l], thr, last); // hwflow_if_neuron.h
                    if (n < CONFIG_T::n_out) {
                        y[spike_index::plane<plane_size>(t, spike_index::plane<CONFIG_T::n_out>(p, n))] = spike;
                    }
                }
            }
        }
    }
};

template <> struct lane_output<true> {
    template <class res_T, typename CONFIG_T, unsigned plane_size>
    static void emit(typename CONFIG_T::membrane_t v[CONFIG_T::groups][CONFIG_T::lanes], res_T y[], unsigned p) {
        #pragma HLS INLINE
    Readout:
        for (unsigned n = 0; n < CONFIG_T::n_out; n++) {
            #pragma HLS UNROLL factor=CONFIG_T::lanes
            const ap_int<CONFIG_T::readout_width> wide = v[n / CONFIG_T::lanes][n % CONFIG_T::lanes];
            y[spike_index::plane<CONFIG_T::n_out>(p, n)].range(CONFIG_T::readout_width - 1, 0) =
                wide.range(CONFIG_T::readout_width - 1, 0);
        }
    }
};

// After a pixel's integration: the last add, the membranes staged for the trace, then fire or read out.
template <class res_T, typename CONFIG_T, unsigned plane_size>
void lane_pixel_out(typename CONFIG_T::membrane_t v[CONFIG_T::groups][CONFIG_T::lanes], res_T y[], unsigned p) {
    #pragma HLS INLINE
    HWFLOW_CYCLES(1); // the last add
    HWFLOW_STAGE_LANES("membrane", v, CONFIG_T::n_out);
    lane_output<(CONFIG_T::out_steps == 0)>::template emit<res_T, CONFIG_T, plane_size>(v, y, p);
}

// Input value (t, c) through tap (ky, kx) of output pixel (oy, ox), read by `reader`; 0 in the padding.
template <class reader, class data_T, typename CONFIG_T>
data_T tap_at(const data_T x[reader::size], unsigned t, unsigned oy, unsigned ox, unsigned ky, unsigned kx,
              unsigned c) {
    #pragma HLS INLINE
    const int iy = spike_index::window<CONFIG_T::s_h, CONFIG_T::pad_t>(oy, ky);
    const int ix = spike_index::window<CONFIG_T::s_w, CONFIG_T::pad_l>(ox, kx);
    if (iy < 0 || ix < 0 || iy >= int(CONFIG_T::in_h) || ix >= int(CONFIG_T::in_w) || c >= CONFIG_T::c_in)
        return data_T(0);
    return reader::at(x, t, iy, ix, c);
}

// One output pixel of the spiking layer on the folded or event schedule (CONFIG_T::event): additions only.
template <class reader, class data_T, typename CONFIG_T>
void lane_integrate_spiking(const data_T x[reader::size], typename CONFIG_T::membrane_t v[CONFIG_T::groups][CONFIG_T::lanes],
                            const typename CONFIG_T::weight_t w[CONFIG_T::weight_size], unsigned oy, unsigned ox) {
    #pragma HLS INLINE
Planes:
    for (unsigned t = 0; t < CONFIG_T::in_steps; t++) {
        const unsigned shift = CONFIG_T::in_steps - 1 - t;
    TapRows:
        for (unsigned ky = 0; ky < CONFIG_T::k_h; ky++) {
        TapCols:
            for (unsigned kx = 0; kx < CONFIG_T::k_w; kx++) {
                const unsigned tap = spike_index::plane<CONFIG_T::k_w>(ky, kx);
                if (!CONFIG_T::event) {
                Synapses:
                    for (unsigned c = 0; c < CONFIG_T::c_in; c++) {
                        const bool spike = tap_at<reader, data_T, CONFIG_T>(x, t, oy, ox, ky, kx, c) != 0;
                        const unsigned row0 = spike_index::plane<CONFIG_T::groups>(
                            spike_index::plane<CONFIG_T::c_in>(tap, c), 0);
                    FoldedGroups:
                        for (unsigned g = 0; g < CONFIG_T::groups; g++) {
                            #pragma HLS PIPELINE II=1
                            HWFLOW_CYCLES(1);
                            if (spike)
                                lane_add<CONFIG_T>(v, w, row0 + g, g, shift);
                        }
                    }
                } else {
                Words:
                    for (unsigned j = 0; j < CONFIG_T::in_wpp; j++) {
                        ap_uint<CONFIG_T::in_word> bits = 0; // the input word's spikes
                        for (unsigned l = 0; l < CONFIG_T::in_word; l++) {
                            #pragma HLS UNROLL
                            bits[l] = tap_at<reader, data_T, CONFIG_T>(
                                          x, t, oy, ox, ky, kx, spike_index::plane<CONFIG_T::in_word>(j, l)) != 0;
                        }
                        if (bits == 0) {
                            HWFLOW_CYCLES(1); // a word without spikes: one cycle
                            continue;
                        }
                    ActiveSpikes:
                        while (bits != 0) {
                            #pragma HLS LOOP_TRIPCOUNT min=1 max=CONFIG_T::in_word
                            unsigned first = 0; // priority encoder: the lowest channel that spiked
                            for (int l = CONFIG_T::in_word - 1; l >= 0; l--) {
                                #pragma HLS UNROLL
                                if (bits[l])
                                    first = l;
                            }
                            bits[first] = 0;
                            const unsigned c = spike_index::plane<CONFIG_T::in_word>(j, first);
                            const unsigned row0 = spike_index::plane<CONFIG_T::groups>(
                                spike_index::plane<CONFIG_T::c_in>(tap, c), 0);
                        EventGroups:
                            for (unsigned g = 0; g < CONFIG_T::groups; g++) {
                                #pragma HLS PIPELINE II=1
                                HWFLOW_CYCLES(1);
                                lane_add<CONFIG_T>(v, w, row0 + g, g, shift);
                            }
                        }
                    }
                }
            }
        }
    }
}

// One output pixel of the analog first layer (direct encoding): a folded multiply-accumulate.
template <class reader, class data_T, typename CONFIG_T>
void lane_integrate_analog(const data_T x[reader::size], typename CONFIG_T::membrane_t v[CONFIG_T::groups][CONFIG_T::lanes],
                           const typename CONFIG_T::weight_t w[CONFIG_T::weight_size], unsigned oy, unsigned ox) {
    #pragma HLS INLINE
TapRows:
    for (unsigned ky = 0; ky < CONFIG_T::k_h; ky++) {
    TapCols:
        for (unsigned kx = 0; kx < CONFIG_T::k_w; kx++) {
        Channels:
            for (unsigned c = 0; c < CONFIG_T::c_in; c++) {
                const typename CONFIG_T::level_t k =
                    input_level<typename CONFIG_T::level_t>(tap_at<reader, data_T, CONFIG_T>(x, 0, oy, ox, ky, kx, c));
                const unsigned row0 = spike_index::plane<CONFIG_T::groups>(
                    spike_index::plane<CONFIG_T::c_in>(spike_index::plane<CONFIG_T::k_w>(ky, kx), c), 0);
            MacGroups:
                for (unsigned g = 0; g < CONFIG_T::groups; g++) {
                    #pragma HLS PIPELINE II=1
                    HWFLOW_CYCLES(1);
                    for (unsigned l = 0; l < CONFIG_T::lanes; l++) {
                        #pragma HLS UNROLL
                        v[g][l] += w[spike_index::plane<CONFIG_T::lanes>(row0 + g, l)] * k; // weight x level
                    }
                }
            }
        }
    }
}

// One output pixel: its membranes start at the bias, then integrate (spiking or analog input).
template <bool analog> struct lane_pixel;

template <> struct lane_pixel<false> {
    template <class reader, class data_T, typename CONFIG_T>
    static void integrate(const data_T x[reader::size], typename CONFIG_T::membrane_t v[CONFIG_T::groups][CONFIG_T::lanes],
                          const typename CONFIG_T::weight_t w[CONFIG_T::weight_size],
                          const typename CONFIG_T::bias_t b[CONFIG_T::bias_size], unsigned oy, unsigned ox) {
        #pragma HLS INLINE
        lane_bias<CONFIG_T>(v, b);
        lane_integrate_spiking<reader, data_T, CONFIG_T>(x, v, w, oy, ox);
    }
};

template <> struct lane_pixel<true> {
    template <class reader, class data_T, typename CONFIG_T>
    static void integrate(const data_T x[reader::size], typename CONFIG_T::membrane_t v[CONFIG_T::groups][CONFIG_T::lanes],
                          const typename CONFIG_T::weight_t w[CONFIG_T::weight_size],
                          const typename CONFIG_T::bias_t b[CONFIG_T::bias_size], unsigned oy, unsigned ox) {
        #pragma HLS INLINE
        lane_bias<CONFIG_T>(v, b);
        lane_integrate_analog<reader, data_T, CONFIG_T>(x, v, w, oy, ox);
    }
};

// The layer on arrays: io_parallel, and io_stream behind the frame adapters (a dense layer, whose
// window is its whole input).
template <class data_T, class res_T, typename CONFIG_T>
void if_layer(const data_T x[CONFIG_T::in_size], res_T y[CONFIG_T::out_size],
              const typename CONFIG_T::weight_t w[CONFIG_T::weight_size],
              const typename CONFIG_T::bias_t b[CONFIG_T::bias_size]) {
    #pragma HLS ARRAY_RESHAPE variable=w cyclic factor=CONFIG_T::lanes
    #pragma HLS ARRAY_RESHAPE variable=b cyclic factor=CONFIG_T::lanes
    typedef frame_reader<CONFIG_T::in_steps, CONFIG_T::in_h, CONFIG_T::in_w, CONFIG_T::c_in> reader;
    typename CONFIG_T::membrane_t v[CONFIG_T::groups][CONFIG_T::lanes];
    #pragma HLS ARRAY_PARTITION variable=v complete dim=2
PixelRows:
    for (unsigned oy = 0; oy < CONFIG_T::out_h; oy++) {
    PixelCols:
        for (unsigned ox = 0; ox < CONFIG_T::out_w; ox++) {
            lane_pixel<CONFIG_T::analog>::template integrate<reader, data_T, CONFIG_T>(x, v, w, b, oy, ox);
            lane_pixel_out<res_T, CONFIG_T, CONFIG_T::out_plane>(v, y, spike_index::plane<CONFIG_T::out_w>(oy, ox));
        }
    }
    HWFLOW_CYCLES(1); // done
}

// The layer on streams through a line buffer (io_stream convolutions; hwflow_spike_stream.h): each
// output pixel as soon as its window has arrived, its planes out at once.
template <class data_T, class res_T, typename CONFIG_T>
void if_layer_stream(hls::stream<data_T> &x, hls::stream<res_T> &y,
                     const typename CONFIG_T::weight_t w[CONFIG_T::weight_size],
                     const typename CONFIG_T::bias_t b[CONFIG_T::bias_size]) {
    #pragma HLS ARRAY_RESHAPE variable=w cyclic factor=CONFIG_T::lanes
    #pragma HLS ARRAY_RESHAPE variable=b cyclic factor=CONFIG_T::lanes
    typedef line_reader<CONFIG_T::in_steps, CONFIG_T::line_slots, CONFIG_T::in_w, CONFIG_T::c_in> reader;
    typename data_T::value_type line[reader::size];
    #pragma HLS ARRAY_PARTITION variable=line cyclic factor=CONFIG_T::in_word
    typename res_T::value_type px[CONFIG_T::pixel_size];
    #pragma HLS ARRAY_PARTITION variable=px cyclic factor=CONFIG_T::lanes
    typename CONFIG_T::membrane_t v[CONFIG_T::groups][CONFIG_T::lanes];
    #pragma HLS ARRAY_PARTITION variable=v complete dim=2
    unsigned next = 0; // the next input pixel to read
PixelRows:
    for (unsigned oy = 0; oy < CONFIG_T::out_h; oy++) {
    PixelCols:
        for (unsigned ox = 0; ox < CONFIG_T::out_w; ox++) {
            reader::template fill<data_T, CONFIG_T::in_pixels>(
                x, line, next,
                spike_index::plane<CONFIG_T::in_w>(
                    spike_index::window_last<CONFIG_T::s_h, CONFIG_T::pad_t, CONFIG_T::k_h, CONFIG_T::in_h>(oy),
                    spike_index::window_last<CONFIG_T::s_w, CONFIG_T::pad_l, CONFIG_T::k_w, CONFIG_T::in_w>(ox)));
            lane_pixel<CONFIG_T::analog>::template integrate<reader, typename data_T::value_type, CONFIG_T>(
                line, v, w, b, oy, ox);
            lane_pixel_out<typename res_T::value_type, CONFIG_T, CONFIG_T::n_out>(v, px, 0);
            pixel_write<res_T, CONFIG_T::pixel_planes>(px, y);
        }
    }
    reader::template fill<data_T, CONFIG_T::in_pixels>(x, line, next, CONFIG_T::in_pixels - 1);
    line_drains();
    HWFLOW_CYCLES(1); // done
}

} // namespace hwflow

#endif
