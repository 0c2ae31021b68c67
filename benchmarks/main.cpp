// sgm_bench_sampler: time per sampler step against the memory-traffic bound.
// Measures the memory bandwidth first (1 and 2 threads), then runs the
// registered benchmarks; Google Benchmark's flags (--benchmark_filter, ...) apply.

#include <benchmark/benchmark.h>

#include <cstdio>
#include <string>

#include "bench_support.hpp"
#include "memory_bandwidth.hpp"

namespace sgm_bench {

namespace {
double reference[3] = {0, 0, 0};
}

double reference_bandwidth(int threads) { return reference[threads >= 2 ? 2 : 1]; }

std::string bench_name(const std::string& what, const char* backend, const char* real, std::size_t dim,
                       std::size_t batch, int threads) {
    return what + "/" + backend + "/" + real + "/d:" + std::to_string(dim) + "/B:" + std::to_string(batch) +
           "/threads:" + std::to_string(threads);
}

void register_serial_tbb();
void register_thrust();
void register_prototypes();
void register_tbb_copy();

#ifndef SGM_BENCH_THRUST
void register_thrust() {}  // built without the CCCL headers
#endif

}  // namespace sgm_bench

int main(int argc, char** argv) {
    using namespace sgm_bench;
    benchmark::Initialize(&argc, argv);
    for (int threads : {1, 2}) {
        const bandwidth bw = measure_bandwidth(threads, 20);
        reference[threads] = bw.best();
        char line[160];
        std::snprintf(line, sizeof line, "copy %.2f, triad %.2f, update %.2f GB/s; reference %.2f GB/s",
                      bw.copy * 1e-9, bw.triad * 1e-9, bw.update * 1e-9, bw.best() * 1e-9);
        const std::string key = "bandwidth_threads_" + std::to_string(threads);
        benchmark::AddCustomContext(key, line);
        benchmark::AddCustomContext(key + "_reference_GBps", std::to_string(bw.best() * 1e-9));
        std::fprintf(stderr, "memory bandwidth, %d thread(s): %s\n", threads, line);
    }
    register_serial_tbb();
    register_thrust();
    register_prototypes();
    register_tbb_copy();
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}
