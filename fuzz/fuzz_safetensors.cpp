// libFuzzer target for the safetensors parser. Any input must either parse or
// throw sgm::error; what parses must survive a write and a read unchanged.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>

#include <sgm/error.hpp>
#include <sgm/io/safetensors.hpp>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const auto input = std::as_bytes(std::span(data, size));
    sgm::io::tensor_file file;
    try {
        file = sgm::io::parse_safetensors(input);
    } catch (const sgm::error&) {
        return 0;
    }
    // A parsed file is valid, so writing and re-reading it must not fail or change it.
    const auto again = sgm::io::parse_safetensors(sgm::io::serialize_safetensors(file));
    if (!(again == file)) std::abort();
    return 0;
}
