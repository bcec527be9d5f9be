// Verilator testbench of hwflow_top: streams every sample of inputs.txt through the design and
// writes outputs.txt (one line of output beats per sample) and cycles.txt (ap_start -> ap_done).
// inputs.txt: "samples n_in n_out", then one line of n_in integer levels per sample.
// +trace passes through to the design's $display trace (V and S lines on stdout, per sample "N k").
#include <cstdint>
#include <cstdio>
#include <memory>
#include <vector>
#include "Vhwflow_top.h"
#include "verilated.h"

static long long sign_extend(unsigned long long v, int bits) {
    if (bits >= 64) return (long long)v;
    unsigned long long m = 1ULL << (bits - 1);
    v &= (m << 1) - 1;
    return (long long)((v ^ m) - m);
}

int main(int argc, char** argv) {
    auto ctx = std::make_unique<VerilatedContext>();
    ctx->commandArgs(argc, argv);
    auto top = std::make_unique<Vhwflow_top>(ctx.get());
    FILE* in = std::fopen("inputs.txt", "r");
    if (!in) { std::fprintf(stderr, "cannot open inputs.txt\n"); return 2; }
    long samples, n_in, n_out;
    int out_bits;
    if (std::fscanf(in, "%ld %ld %ld %d", &samples, &n_in, &n_out, &out_bits) != 4) return 2;
    FILE* out = std::fopen("outputs.txt", "w");
    FILE* cyc = std::fopen("cycles.txt", "w");
    std::vector<long long> x(n_in);
    auto tick = [&]() { top->ap_clk = 1; top->eval(); top->ap_clk = 0; top->eval(); };
    top->ap_clk = 0; top->ap_rst = 1; top->ap_start = 0; top->s_axis_tvalid = 0; top->m_axis_tready = 1;
    top->eval();
    for (int i = 0; i < 4; ++i) tick();
    top->ap_rst = 0;
    tick();
    const long long timeout = 2000000000LL;
    for (long s = 0; s < samples; ++s) {
        for (long i = 0; i < n_in; ++i)
            if (std::fscanf(in, "%lld", &x[i]) != 1) return 2;
        std::printf("N %ld\n", s);
        std::fflush(stdout);  // the progress bar counts these lines
        long sent = 0, got = 0;
        long long cycle = 0;
        bool done = false;
        top->ap_start = 1;
        while (!done) {
            top->s_axis_tvalid = sent < n_in;
            top->s_axis_tdata = (uint64_t)x[sent < n_in ? sent : 0];
            top->eval();
            bool beat_in = top->s_axis_tvalid && top->s_axis_tready;
            if (top->m_axis_tvalid && top->m_axis_tready) {
                std::fprintf(out, got ? " %lld" : "%lld", sign_extend(top->m_axis_tdata, out_bits));
                ++got;
            }
            done = top->ap_done;
            if (done) std::fprintf(cyc, "%lld\n", cycle);
            tick();
            top->ap_start = 0;
            if (beat_in) ++sent;
            if (++cycle > timeout) { std::fprintf(stderr, "sample %ld: no ap_done\n", s); return 3; }
        }
        std::fprintf(out, "\n");
        if (got != n_out) { std::fprintf(stderr, "sample %ld: %ld output beats, expected %ld\n", s, got, n_out); return 3; }
    }
    std::fclose(out);
    std::fclose(cyc);
    top->final();
    return 0;
}
