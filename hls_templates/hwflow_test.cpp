// hwflow self-checking testbench: written by hwflow.hls.write_testbench in place of hls4ml's
// myproject_test.cpp, with the same data files, results logs and build_prj.tcl.
//
// Every line of tb_data/tb_input_features.dat is one sample; the matching line of
// tb_data/tb_output_predictions.dat holds the Python model's exact outputs. Each expected value is
// converted to the top function's output type and its raw bits are compared with the firmware's;
// an expected value that the output type cannot hold exactly is a mismatch too. main() returns 1
// on any mismatch (or missing / malformed data), so csim_design and cosim_design pass only when
// the hardware equals the Python model. Arrays (io_parallel) and hls::stream of nnet::array
// packs (io_stream) are handled by overloads of load() and check().
#include <cstdlib>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "firmware/myproject.h"
#include "firmware/nnet_utils/nnet_helpers.h"

// hwflow insert bram

namespace nnet {
bool trace_enabled = true;
std::map<std::string, void *> *trace_outputs = NULL;
size_t trace_type_size = sizeof(double);
} // namespace nnet

namespace hwflow_tb {

const unsigned MAX_REPORTED = 10;
unsigned mismatches = 0;
std::ofstream results;

std::vector<double> parse(const std::string &line) {
    std::istringstream in(line);
    std::vector<double> values;
    double v;
    while (in >> v)
        values.push_back(v);
    return values;
}

template <class T> ap_uint<T::width> raw_bits(const T &v) { return v.range(T::width - 1, 0); }

template <class T> void compare(double expected, const T &got, unsigned sample, unsigned index) {
    T want = expected;
    bool representable = want.to_double() == expected;
    results << got << " ";
    if (representable && raw_bits(want) == raw_bits(got))
        return;
    if (++mismatches <= MAX_REPORTED)
        std::cout << std::setprecision(17) << "MISMATCH sample " << sample << " output " << index << ": expected "
                  << expected << " ("
                  << (representable ? raw_bits(want).to_string(16, false) : "not representable in the output type")
                  << "), got " << got << " (" << raw_bits(got).to_string(16, false) << ")" << std::endl;
}

template <class T, size_t N> void load(const double *x, T dst[N]) {
    for (size_t i = 0; i < N; i++)
        dst[i] = x[i];
}

template <class T, size_t N> void load(const double *x, hls::stream<T> &dst) {
    for (size_t i = 0; i < N / T::size; i++) {
        T pack;
        for (size_t j = 0; j < T::size; j++)
            pack[j] = x[i * T::size + j];
        dst.write(pack);
    }
}

template <class T, size_t N> void check(const double *expected, T res[N], unsigned sample) {
    for (size_t i = 0; i < N; i++)
        compare(expected[i], res[i], sample, i);
}

template <class T, size_t N> void check(const double *expected, hls::stream<T> &res, unsigned sample) {
    for (size_t i = 0; i < N / T::size; i++) {
        T pack = res.read();
        for (size_t j = 0; j < T::size; j++)
            compare(expected[i * T::size + j], pack[j], sample, i * T::size + j);
    }
}

} // namespace hwflow_tb

int main(int argc, char **argv) {
    // hwflow insert namespace
    // hwflow insert sizes
    std::ifstream fin("tb_data/tb_input_features.dat");
    std::ifstream fpr("tb_data/tb_output_predictions.dat");
#ifdef RTL_SIM
    std::string RESULTS_LOG = "tb_data/rtl_cosim_results.log";
#else
    std::string RESULTS_LOG = "tb_data/csim_results.log";
#endif
    hwflow_tb::results.open(RESULTS_LOG.c_str());
    hwflow_tb::results << std::setprecision(17);
    if (!fin.is_open() || !fpr.is_open()) {
        std::cout << "ERROR: cannot open tb_data/tb_input_features.dat and tb_data/tb_output_predictions.dat"
                  << std::endl;
        return 1;
    }

    unsigned samples = 0;
    std::string iline, pline;
    while (std::getline(fin, iline) && std::getline(fpr, pline)) {
        std::vector<double> in = hwflow_tb::parse(iline), expected = hwflow_tb::parse(pline);
        if (in.size() != N_IN || expected.size() != N_OUT) {
            std::cout << "ERROR: sample " << samples << " has " << in.size() << " inputs and " << expected.size()
                      << " expected outputs; the top function takes " << N_IN << " and gives " << N_OUT << std::endl;
            return 1;
        }
        // hwflow insert data

        // hwflow insert top-level-function

        // hwflow insert check

        hwflow_tb::results << std::endl;
        samples++;
    }
    if (std::getline(fin, iline) || std::getline(fpr, pline)) {
        std::cout << "ERROR: the two tb_data files have different numbers of lines" << std::endl;
        return 1;
    }
    hwflow_tb::results.close();
    std::cout << "hwflow testbench: " << samples << " samples, " << hwflow_tb::mismatches << " mismatches"
              << std::endl;
    return hwflow_tb::mismatches != 0 || samples == 0 ? 1 : 0;
}
