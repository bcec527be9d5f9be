#ifndef NNET_SPIKE_STREAM_H_
#define NNET_SPIKE_STREAM_H_

/*
 * hwflow: io_stream adapters (frame-buffered streaming).
 *
 * With io_stream every hwflow block reads its whole input stream into a local array (the same
 * flat layout as io_parallel: [planes][H][W][C] for spikes, channels-last values otherwise),
 * runs the io_parallel kernel, and writes its output array back as a stream. Stream elements are
 * hls4ml's packed nnet::array of the variable's last dimension (C values of one pixel of one
 * plane, or a whole 1-D vector). This is a frame buffer, not a line buffer: the buffers hold
 * one sample (binary planes: T bits per neuron).
 *
 * Cycle model (E_in = input elements / pack, E_out = output elements / pack, L_kernel = the
 * block's io_parallel latency in dataflow style, see its header):
 *
 *   ReadChunks   for i in 0..E_in-1   PIPELINE II=1      E_in cycles
 *   kernel                                                L_kernel cycles
 *   WriteChunks  for i in 0..E_out-1  PIPELINE II=1      E_out cycles
 *
 *   latency = E_in + L_kernel + E_out (+ 2 pipeline fills); under DATAFLOW successive blocks
 *   overlap per sample, so the network II = max over blocks of that sum.
 */

#include "hls_stream.h"
#include "nnet_common.h"
#include "nnet_spike_common.h"
#include "nnet_types.h"

namespace nnet {

template <class packed_T, unsigned N>
void stream_to_array(hls::stream<packed_T> &in, typename packed_T::value_type out[N]) {
ReadChunks:
    for (unsigned i = 0; i < N / packed_T::size; i++) {
        #pragma HLS PIPELINE II=1
        const packed_T chunk = in.read();
    ReadValues:
        for (unsigned j = 0; j < packed_T::size; j++) {
            #pragma HLS UNROLL
            out[spike_index::plane<packed_T::size>(i, j)] = chunk[j];
        }
    }
}

template <class packed_T, unsigned N>
void array_to_stream(const typename packed_T::value_type in[N], hls::stream<packed_T> &out) {
WriteChunks:
    for (unsigned i = 0; i < N / packed_T::size; i++) {
        #pragma HLS PIPELINE II=1
        packed_T chunk;
        PRAGMA_DATA_PACK(chunk)
    WriteValues:
        for (unsigned j = 0; j < packed_T::size; j++) {
            #pragma HLS UNROLL
            chunk[j] = in[spike_index::plane<packed_T::size>(i, j)];
        }
        out.write(chunk);
    }
}

} // namespace nnet

#endif
