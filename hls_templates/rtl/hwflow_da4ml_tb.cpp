// Verilator testbench of da4ml_net_wrapper, the top module hwflow/rtl/da4ml_worker.py writes with da4ml.
//
// Reads inputs.txt  ("SAMPLES N_IN N_OUT", then one line of N_IN integers per sample)
// and writes outputs.txt (one line of N_OUT integers per sample).
//
// Compile-time parameters (from da4ml.json), passed with -CFLAGS (TB_ prefix: the
// CFLAGS reach Verilator's generated files too, so the names must not collide):
//   -DTB_IN_BITS=b -DTB_OUT_BITS=b -DTB_OUT_SIGNED=0|1 -DTB_OUT_SHIFT=output_lsb_shift
//   -DTB_LATENCY=cycles (0 = combinational)
// Value i sits at bits [i*BITS, (i+1)*BITS) of model_inp / model_out; an output value is
// its (sign-extended) field times 2^TB_OUT_SHIFT.
// A pipelined design is driven as a stream (one sample per clock, II = 1): sample s is
// applied before rising edge s+1 and read after rising edge s+TB_LATENCY.

#include <cstdint>
#include <cstdio>
#include <memory>
#include <type_traits>
#include <vector>

#include "verilated.h"
#include "Vda4ml_net_wrapper.h"

static_assert(TB_IN_BITS >= 1 && TB_IN_BITS <= 64 && TB_OUT_BITS >= 1 && TB_OUT_BITS + TB_OUT_SHIFT <= 64,
              "values must fit in 64 bits");

using Words = std::vector<uint32_t>;

// Port <-> little-endian 32-bit words, for scalar (C/S/I/QData) and VlWide ports.
template <typename P> void store(P &port, const Words &w) {
    if constexpr (std::is_integral_v<P>) {
        uint64_t v = w[0] | (w.size() > 1 ? uint64_t(w[1]) << 32 : 0);
        port = P(v);
    } else {
        for (size_t i = 0; i < w.size(); ++i) port[i] = w[i];
    }
}
template <typename P> Words load(const P &port, size_t n_words) {
    Words w(n_words, 0);
    if constexpr (std::is_integral_v<P>) {
        uint64_t v = port;
        for (size_t i = 0; i < n_words && i < 2; ++i) w[i] = uint32_t(v >> (32 * i));
    } else {
        for (size_t i = 0; i < n_words; ++i) w[i] = port[i];
    }
    return w;
}

static void put_bits(Words &w, size_t pos, size_t width, uint64_t v) {
    for (size_t b = 0; b < width; ++b)
        if ((v >> b) & 1) w[(pos + b) / 32] |= 1u << ((pos + b) % 32);
}
static int64_t get_bits(const Words &w, size_t pos, size_t width, bool is_signed) {
    uint64_t v = 0;
    for (size_t b = 0; b < width; ++b) v |= uint64_t((w[(pos + b) / 32] >> ((pos + b) % 32)) & 1) << b;
    if (is_signed && width < 64 && ((v >> (width - 1)) & 1)) v |= ~uint64_t(0) << width;  // sign-extend
    return int64_t(v);
}

int main(int argc, char **argv) {
    auto ctx = std::make_unique<VerilatedContext>();
    ctx->commandArgs(argc, argv);
    auto dut = std::make_unique<Vda4ml_net_wrapper>(ctx.get());

    FILE *fin = std::fopen("inputs.txt", "r");
    if (!fin) { std::perror("inputs.txt"); return 1; }
    size_t n_samples, n_in, n_out;
    if (std::fscanf(fin, "%zu %zu %zu", &n_samples, &n_in, &n_out) != 3) return 1;
    std::vector<Words> inp(n_samples, Words((n_in * TB_IN_BITS + 31) / 32, 0));
    for (auto &w : inp)
        for (size_t i = 0; i < n_in; ++i) {
            unsigned long long v;
            if (std::fscanf(fin, "%llu", &v) != 1) return 1;
            put_bits(w, i * TB_IN_BITS, TB_IN_BITS, v);
        }
    std::fclose(fin);

    const size_t out_words = (n_out * TB_OUT_BITS + 31) / 32;
    std::vector<Words> out(n_samples);
#if TB_LATENCY == 0
    for (size_t s = 0; s < n_samples; ++s) {
        store(dut->model_inp, inp[s]);
        dut->eval();
        out[s] = load(dut->model_out, out_words);
    }
#else
    dut->clk = 0;
    dut->eval();
    for (size_t t = 0; t < n_samples + TB_LATENCY - 1; ++t) {
        if (t < n_samples) store(dut->model_inp, inp[t]);
        dut->clk = 1;
        dut->eval();  // rising edge t+1
        if (t + 1 >= TB_LATENCY) out[t + 1 - TB_LATENCY] = load(dut->model_out, out_words);
        dut->clk = 0;
        dut->eval();
    }
#endif
    dut->final();

    FILE *fout = std::fopen("outputs.txt", "w");
    for (const auto &w : out) {
        for (size_t j = 0; j < n_out; ++j)
            std::fprintf(fout, j ? " %lld" : "%lld", (long long)(get_bits(w, j * TB_OUT_BITS, TB_OUT_BITS, TB_OUT_SIGNED) * (int64_t(1) << TB_OUT_SHIFT)));
        std::fprintf(fout, "\n");
    }
    std::fclose(fout);
    return 0;
}
