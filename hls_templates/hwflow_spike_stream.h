#ifndef HWFLOW_SPIKE_STREAM_H_
#define HWFLOW_SPIKE_STREAM_H_

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
 * Cycle model (E_in = input elements / pack, E_out = output elements / pack, pack = the
 * variable's last dimension; hwflow/hls/cycles.py, CYCLES.md):
 *
 *   stream_to_array  ReadChunks   for i in 0..E_in-1   PIPELINE II=1   E_in + 1 cycles (depth 1)
 *   the block's io_parallel kernel(s)                                   see their headers
 *   array_to_stream  WriteChunks  for i in 0..E_out-1  PIPELINE II=1   E_out + 1 cycles (depth 1)
 *
 *   Every call is its own DATAFLOW process (io_stream is always dataflow style): the block's
 *   latency is the sum E_in + 1 + L_kernel + E_out + 1, its II the largest of the three, and the
 *   network II the largest process latency of all blocks.
 */

#include "hls_stream.h"
#include "nnet_common.h"
#include "hwflow_spike_common.h"
#include "nnet_types.h"

namespace hwflow {

template <class packed_T, unsigned N>
void stream_to_array(hls::stream<packed_T> &in, typename packed_T::value_type out[N]) {
ReadChunks:
    for (unsigned i = 0; i < N / packed_T::size; i++) {
        #pragma HLS PIPELINE II=1
        HWFLOW_CYCLES(1);
        const packed_T chunk = in.read();
    ReadValues:
        for (unsigned j = 0; j < packed_T::size; j++) {
            #pragma HLS UNROLL
            out[spike_index::plane<packed_T::size>(i, j)] = chunk[j];
        }
    }
    HWFLOW_CYCLES(1); // drain
}

template <class packed_T, unsigned N>
void array_to_stream(const typename packed_T::value_type in[N], hls::stream<packed_T> &out) {
WriteChunks:
    for (unsigned i = 0; i < N / packed_T::size; i++) {
        #pragma HLS PIPELINE II=1
        HWFLOW_CYCLES(1);
        packed_T chunk;
        PRAGMA_DATA_PACK(chunk)
    WriteValues:
        for (unsigned j = 0; j < packed_T::size; j++) {
            #pragma HLS UNROLL
            chunk[j] = in[spike_index::plane<packed_T::size>(i, j)];
        }
        out.write(chunk);
    }
    HWFLOW_CYCLES(1); // drain
}

} // namespace hwflow

#endif
