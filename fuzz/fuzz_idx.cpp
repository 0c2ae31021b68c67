// libFuzzer target for the IDX parser (plain and gzipped). Any input must
// either parse or throw sgm::error; what parses must be self-consistent.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>

#include <sgm/data/idx.hpp>
#include <sgm/error.hpp>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    try {
        const auto a = sgm::data::parse_idx(std::as_bytes(std::span(data, size)));
        std::size_t n = 1;
        for (const auto d : a.dims) n *= d;
        if (a.dims.empty() || n != a.size() || a.to_double().size() != n) std::abort();
    } catch (const sgm::error&) {
    }
    return 0;
}
