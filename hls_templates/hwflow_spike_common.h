#ifndef HWFLOW_SPIKE_COMMON_H_
#define HWFLOW_SPIKE_COMMON_H_

/*
 * hwflow: shared helpers of the binary-coded integrate-and-fire (IF) blocks (namespace hwflow,
 * so that no name can clash with hls4ml's nnet).
 *
 * Data layout (io_parallel; io_stream streams it pixel-major, hwflow_spike_stream.h). A spiking activation of T steps is T binary planes, most
 * significant first: plane t carries weight 2^(T-1-t). It is passed between layers as a flat
 * ap_uint<1> array [T][N] (plane-major; N = the activation's channels-last size), so element
 * (t, i) sits at t * N + i. Analog inputs (direct encoding) and readout membranes are the only
 * multi-bit activations: ap_fixed / ap_ufixed values whose raw bits are the integer level.
 *
 * Index arithmetic. Every product of two loop indices (or of a loop index and a shape
 * constant) lives in the spike_index helpers below. They take and return plain unsigned / int
 * loop indices only, never a weight, spike or membrane, so they synthesise to constant address
 * wiring in unrolled loops. The spiking integration functions, the neuron and the pools contain
 * no '*' at all (hwflow's tests check this in the generated project); only the analog variants
 * of the first layer (direct input encoding) multiply, weight x input level.
 *
 * Latency: the helpers are inlined and cost no cycles.
 *
 * C-simulation probes (compiled only without __SYNTHESIS__; the macros vanish in synthesis):
 *
 *   HWFLOW_CYCLES(n)            a block adds the cycles of its documented schedule as it executes
 *                               its loops (per pipelined iteration, per drain, per unrolled stage;
 *                               formulas in CYCLES.md, declared by the ops in hwflow/ops/).
 *   HWFLOW_CYCLES_OF(p, n)      the same for a named process p of the running call: a line-buffered
 *                               block counts its stream reads and writes as "read" and "write", as
 *                               the frame adapters' own calls do (hwflow_spike_stream.h).
 *   HWFLOW_STAGE(tag, a, n)     a block stages n values of its array a: "membrane_steps" (the Horner
 *                               membrane after each input plane, before the bias) and "membrane"
 *                               (after the bias, before firing). HWFLOW_STAGE_LANES: the same from
 *                               a [groups][lanes] array (the folded and event blocks, per pixel).
 *   spike_probe::commit(layer, process)  written after every block call of a trace build
 *                               (hwflow.hls.to_hls(..., trace=True)): files the staged arrays as
 *                               "<layer>_<tag>", the cycle count as "<layer>_cycles_<process>" and
 *                               each named count p as "<layer>_cycles_<p>", then restarts the counts. Records are kept only while hls4ml's Python
 *                               trace runs (hls_model.trace: trace_enabled with trace storage; not
 *                               in predict, nor in a testbench, which has no trace storage).
 *   hwflow_probe_name / hwflow_probe_read / hwflow_probe_clear: extern "C" readers for Python
 *                               (hwflow/hls/trace.py), one int64 list per record, samples appended.
 */

#include "ap_fixed.h"
#include "ap_int.h"

namespace hwflow {

namespace spike_index {

// Flat index of element i of plane t in a [planes][size] array (also: raster index of pixel
// (row, col) in an image `size` columns wide).
template <unsigned size> inline unsigned plane(unsigned t, unsigned i) {
    #pragma HLS INLINE
    return t * size + i;
}

// Synapse handled by lane ib of reuse iteration ir: ir + R * ib (hls4ml's resource-style order,
// so that a block partition of the weights gives every lane its own bank).
template <unsigned reuse> inline unsigned synapse(unsigned ir, unsigned ib) {
    #pragma HLS INLINE
    return ir + reuse * ib;
}

// Input row (or column) read by output row o through kernel row k: o * stride + k - pad.
template <unsigned stride, unsigned pad> inline int window(unsigned o, unsigned k) {
    #pragma HLS INLINE
    return int(o * stride + k) - int(pad);
}

// The last input row (or column) that output row o reads through a window of k: clipped to the image.
template <unsigned stride, unsigned pad, unsigned k, unsigned size> inline unsigned window_last(unsigned o) {
    #pragma HLS INLINE
    const int i = window<stride, pad>(o, k - 1);
    return i < int(size) ? unsigned(i) : size - 1;
}

// The slot of raster pixel q in a line buffer of `slots` pixels (a power of two): its low bits.
template <unsigned slots> inline unsigned line_slot(unsigned q) {
    #pragma HLS INLINE
    return q & (slots - 1);
}

// Flat index of pixel (row, col), channel c in a channels-last [rows][cols][chan] image.
template <unsigned cols, unsigned chan> inline unsigned pixel(unsigned row, unsigned col, unsigned c) {
    #pragma HLS INLINE
    return (row * cols + col) * chan + c;
}

} // namespace spike_index

// The integer level k of a value on its fixed-point grid (value = k * 2^-frac): its raw bits,
// reinterpreted as the (signed or unsigned) integer type level_T of the same width.
template <class level_T, class data_T> inline level_T input_level(const data_T &x) {
    #pragma HLS INLINE
    level_T k;
    k.range(data_T::width - 1, 0) = x.range(data_T::width - 1, 0);
    return k;
}

} // namespace hwflow

#ifndef __SYNTHESIS__
#include "nnet_helpers.h" // nnet::trace_enabled, nnet::trace_outputs
#include <algorithm>
#include <iterator>
#include <map>
#include <string>
#include <vector>

namespace hwflow {
namespace spike_probe {

typedef std::map<std::string, std::vector<long long> > records_t;
inline records_t &records() { static records_t r; return r; } // filed: "<layer>_<tag>"
inline records_t &staged() { static records_t r; return r; }  // of the running block: "<tag>"
inline unsigned long long &cycles() { static unsigned long long c = 0; return c; }
typedef std::map<std::string, unsigned long long> counts_t;
inline counts_t &named_cycles() { static counts_t c; return c; } // of the running call, by process
inline bool recording() { return nnet::trace_enabled && nnet::trace_outputs != NULL; } // hls_model.trace is running

template <class T> void stage(const char *tag, const T a[], unsigned n) {
    if (!recording())
        return;
    std::vector<long long> &r = staged()[tag];
    for (unsigned i = 0; i < n; i++)
        r.push_back(a[i].to_int64());
}

template <class T, unsigned lanes> void stage_lanes(const char *tag, const T a[][lanes], unsigned n) {
    if (!recording())
        return;
    std::vector<long long> &r = staged()[tag];
    for (unsigned i = 0; i < n; i++)
        r.push_back(a[i / lanes][i % lanes].to_int64());
}

inline void commit(const char *layer, const char *process) {
    if (recording()) {
        for (records_t::const_iterator i = staged().begin(); i != staged().end(); ++i) {
            std::vector<long long> &r = records()[std::string(layer) + "_" + i->first];
            r.insert(r.end(), i->second.begin(), i->second.end());
        }
        records()[std::string(layer) + "_cycles_" + process].push_back((long long)cycles());
        for (counts_t::const_iterator i = named_cycles().begin(); i != named_cycles().end(); ++i)
            records()[std::string(layer) + "_cycles_" + i->first].push_back((long long)i->second);
    }
    staged().clear();
    named_cycles().clear();
    cycles() = 0;
}

} // namespace spike_probe
} // namespace hwflow

// Weak: hls4ml's build includes this header in one translation unit, but two must not clash.
extern "C" {
__attribute__((weak)) const char *hwflow_probe_name(unsigned i) { // NULL past the last record
    hwflow::spike_probe::records_t &r = hwflow::spike_probe::records();
    if (i >= r.size())
        return 0;
    hwflow::spike_probe::records_t::const_iterator it = r.begin();
    std::advance(it, i);
    return it->first.c_str();
}
__attribute__((weak)) unsigned long hwflow_probe_read(const char *name, long long *out) { // out may be NULL
    const std::vector<long long> &r = hwflow::spike_probe::records()[name];
    if (out)
        std::copy(r.begin(), r.end(), out);
    return r.size();
}
__attribute__((weak)) void hwflow_probe_clear() { hwflow::spike_probe::records().clear(); }
}

#define HWFLOW_CYCLES(n) (hwflow::spike_probe::cycles() += (n))
#define HWFLOW_CYCLES_OF(p, n) (hwflow::spike_probe::named_cycles()[p] += (n))
#define HWFLOW_STAGE(tag, a, n) hwflow::spike_probe::stage(tag, a, n)
#define HWFLOW_STAGE_LANES(tag, a, n) hwflow::spike_probe::stage_lanes(tag, a, n)
#else
#define HWFLOW_CYCLES(n)
#define HWFLOW_CYCLES_OF(p, n)
#define HWFLOW_STAGE(tag, a, n)
#define HWFLOW_STAGE_LANES(tag, a, n)
#endif

#endif
