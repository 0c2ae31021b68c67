#pragma once
// STREAM-like memory bandwidth on 1 or 2 threads, over arrays far larger than
// the last-level cache. Bytes are counted as STREAM does (each array element
// read or written once; write-allocate traffic is not counted).

#include <cstddef>

namespace sgm_bench {

struct bandwidth {
    double copy = 0;    // c = a:          8 bytes per float element
    double triad = 0;   // a = b + q c:   12 bytes
    double update = 0;  // x = x + q y:   12 bytes, in place (the pattern of a sampler step)
    [[nodiscard]] double best() const;
};

// Bytes per second: the best over `repeats` passes of the time of each of eight
// slices of a pass (so a slice during which another process ran is discarded).
bandwidth measure_bandwidth(int threads, int repeats);

}  // namespace sgm_bench
