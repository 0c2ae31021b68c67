#pragma once
// STREAM-like memory bandwidth on 1 or 2 threads, over arrays far larger than
// the last-level cache. Bytes are counted as STREAM does (each array element
// read or written once; no write-allocate traffic).

#include <cstddef>

namespace sgm_bench {

struct bandwidth {
    double copy = 0;    // c = a:          8 bytes per float element
    double triad = 0;   // a = b + q c:   12 bytes
    double update = 0;  // x = x + q y:   12 bytes, in place (the sampler's pattern)
    [[nodiscard]] double best() const;
};

// Best of `repeats` passes of each kernel; bytes per second.
bandwidth measure_bandwidth(int threads, std::size_t elements, int repeats);

void register_bandwidth_benchmarks();

}  // namespace sgm_bench
