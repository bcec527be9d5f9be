#ifndef HWFLOW_SPIKE_STREAM_H_
#define HWFLOW_SPIKE_STREAM_H_

/*
 * hwflow: io_stream, frame adapters and line buffers.
 *
 * Stream order. A stream carries an activation pixel by pixel in raster order and, per pixel, its
 * planes in order (MSB first): one stream word (hls4ml's packed nnet::array of the variable's last
 * dimension) per pixel and plane, holding the pixel's C values of that plane. A spiking image
 * [T][H][W][C] is H*W*T words of C bits; a 1-D activation [T][N] is one pixel, T words of N; an
 * analog input or readout [H][W][C] has one plane. Pixel-major order lets a convolution start as
 * soon as its window has arrived, whatever T is.
 *
 * Frame adapters (the latency strategy's blocks, dense layers, encode / flatten / decode): the block
 * reads its whole input stream into the io_parallel array ([planes][H][W][C], plane-major), runs its
 * io_parallel kernel and streams its output array back. The buffers hold one sample.
 *
 * Line buffers (the folded and event strategies' convolutions and pools, hwflow_if_layer.h and
 * hwflow_bitserial_pool.h): the block keeps the last `slots` input pixels, each with all its planes,
 * [slots][planes][C] values; `slots` is (k_h - 1) rows of in_w pixels plus k_w pixels (hls4ml's
 * line buffer: K - 1 rows plus K pixels), rounded up to a power of two so that raster pixel q sits in
 * slot q mod slots, its low bits. Before each output pixel it reads the input through the last pixel
 * of that pixel's window (line_reader::fill), computes the pixel and writes its planes (pixel_write); after
 * the last output pixel it reads the rest of the input. So the buffer holds (k_h - 1) * in_w + k_w
 * pixels of planes * C bits (T * C for spikes), not the frame's H * W; the output leaves pixel by pixel.
 *
 * Cycle model (E_in = input words, E_out = output words; hwflow/hls/cycles.py, CYCLES.md). The
 * stream loops are PIPELINE II=1, one word per cycle:
 *   stream_to_array / fill          "read"   E_in + 1 cycles (+ 1: the pipeline's depth, once)
 *   array_to_stream / pixel_write   "write"  E_out + 1 cycles
 * A frame adapter is its own DATAFLOW process; a line-buffered block counts its reads and writes as
 * the named processes "read" and "write" of its one call (HWFLOW_CYCLES_OF), so the two buffers cost
 * the same cycles in the model. The model adds the processes up: with a line buffer the reads and
 * writes overlap the block's computation in hardware, so its latency is an upper bound there.
 */

#include "hls_stream.h"
#include "nnet_common.h"
#include "hwflow_spike_common.h"
#include "nnet_types.h"

namespace hwflow {

// The whole stream of an activation of `planes` planes into its io_parallel array.
template <class packed_T, unsigned N, unsigned planes>
void stream_to_array(hls::stream<packed_T> &in, typename packed_T::value_type out[N]) {
    static const unsigned plane_size = N / planes;
ReadPixels:
    for (unsigned p = 0; p < plane_size / packed_T::size; p++) {
    ReadPlanes:
        for (unsigned t = 0; t < planes; t++) {
            #pragma HLS PIPELINE II=1
            HWFLOW_CYCLES(1);
            const packed_T chunk = in.read();
        ReadValues:
            for (unsigned j = 0; j < packed_T::size; j++) {
                #pragma HLS UNROLL
                out[spike_index::plane<plane_size>(t, spike_index::plane<packed_T::size>(p, j))] = chunk[j];
            }
        }
    }
    HWFLOW_CYCLES(1); // drain
}

// An io_parallel array of `planes` planes out as a stream.
template <class packed_T, unsigned N, unsigned planes>
void array_to_stream(const typename packed_T::value_type in[N], hls::stream<packed_T> &out) {
    static const unsigned plane_size = N / planes;
WritePixels:
    for (unsigned p = 0; p < plane_size / packed_T::size; p++) {
    WritePlanes:
        for (unsigned t = 0; t < planes; t++) {
            #pragma HLS PIPELINE II=1
            HWFLOW_CYCLES(1);
            packed_T chunk;
            PRAGMA_DATA_PACK(chunk)
        WriteValues:
            for (unsigned j = 0; j < packed_T::size; j++) {
                #pragma HLS UNROLL
                chunk[j] = in[spike_index::plane<plane_size>(t, spike_index::plane<packed_T::size>(p, j))];
            }
            out.write(chunk);
        }
    }
    HWFLOW_CYCLES(1); // drain
}

// How a block reads input value (t, iy, ix, c): from its whole input array (io_parallel, frame
// adapters) or from its line buffer (io_stream). `size` is the array the reader takes.
template <unsigned planes, unsigned rows, unsigned cols, unsigned chan> struct frame_reader {
    static const unsigned plane_size = rows * cols * chan;
    static const unsigned size = planes * plane_size;
    template <class data_T>
    static data_T at(const data_T x[size], unsigned t, unsigned iy, unsigned ix, unsigned c) {
        #pragma HLS INLINE
        return x[spike_index::plane<plane_size>(t, spike_index::pixel<cols, chan>(iy, ix, c))];
    }
};

template <unsigned planes, unsigned slots, unsigned cols, unsigned chan> struct line_reader {
    static const unsigned size = slots * planes * chan;
    template <class data_T>
    static data_T at(const data_T x[size], unsigned t, unsigned iy, unsigned ix, unsigned c) {
        #pragma HLS INLINE
        const unsigned slot = spike_index::line_slot<slots>(spike_index::plane<cols>(iy, ix));
        return x[spike_index::plane<chan>(spike_index::plane<planes>(slot, t), c)];
    }

    // Read the input stream into the line buffer through raster pixel `last` (next: the next pixel
    // to read; pixels: the image's, for the trip count).
    template <class packed_T, unsigned pixels>
    static void fill(hls::stream<packed_T> &in, typename packed_T::value_type buf[size], unsigned &next,
                     unsigned last) {
        #pragma HLS INLINE
    ReadPixels:
        for (; next <= last; next++) {
            #pragma HLS LOOP_TRIPCOUNT min=0 max=pixels
        ReadPlanes:
            for (unsigned t = 0; t < planes; t++) {
                #pragma HLS PIPELINE II=1
                HWFLOW_CYCLES_OF("read", 1);
                const packed_T chunk = in.read();
                const unsigned row = spike_index::plane<planes>(spike_index::line_slot<slots>(next), t);
            ReadValues:
                for (unsigned j = 0; j < chan; j++) {
                    #pragma HLS UNROLL
                    buf[spike_index::plane<chan>(row, j)] = chunk[j];
                }
            }
        }
    }
};

// One output pixel's planes [planes][packed_T::size] out as `planes` stream words.
template <class packed_T, unsigned planes>
void pixel_write(const typename packed_T::value_type px[], hls::stream<packed_T> &out) {
    #pragma HLS INLINE
WritePlanes:
    for (unsigned t = 0; t < planes; t++) {
        #pragma HLS PIPELINE II=1
        HWFLOW_CYCLES_OF("write", 1);
        packed_T chunk;
        PRAGMA_DATA_PACK(chunk)
    WriteValues:
        for (unsigned j = 0; j < packed_T::size; j++) {
            #pragma HLS UNROLL
            chunk[j] = px[spike_index::plane<packed_T::size>(t, j)];
        }
        out.write(chunk);
    }
}

// The pipeline depth of a line-buffered block's reads and writes, counted once each (as the frame
// adapters count their drain).
inline void line_drains() {
    #pragma HLS INLINE
    HWFLOW_CYCLES_OF("read", 1);
    HWFLOW_CYCLES_OF("write", 1);
}

} // namespace hwflow

#endif
