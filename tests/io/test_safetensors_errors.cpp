// safetensors: every malformed input is rejected with an sgm::error naming the problem.

#include <catch2/catch.hpp>

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <sgm/error.hpp>
#include <sgm/io/safetensors.hpp>

#include "io_test_support.hpp"

using Catch::Contains;
using sgm_test::bytes;
using sgm_test::to_bytes;

namespace {

// A file with this header text (unpadded) followed by `data_size` zero bytes.
bytes file_with(const std::string& json, std::size_t data_size = 0) {
    return sgm_test::concat({sgm_test::u64_le(json.size()), to_bytes(json), bytes(data_size)});
}

sgm::io::tensor_file parse(const bytes& b) { return sgm::io::parse_safetensors(b); }

// A valid file with two tensors and metadata.
bytes sample_file() {
    sgm::io::tensor_file f;
    f.put("weight", std::vector<float>{1, 2, 3, 4, 5, 6}, {2, 3});
    f.put("step", std::vector<std::int64_t>{42});
    f.metadata()["kind"] = "checkpoint";
    return sgm::io::serialize_safetensors(f);
}

}  // namespace

TEST_CASE("safetensors rejects a bad length prefix", "[io][safetensors][errors]") {
    REQUIRE_THROWS_WITH(parse(to_bytes({1, 2, 3, 4, 5})),
                        Contains("file is 5 bytes, shorter than the 8-byte header length prefix"));
    REQUIRE_THROWS_WITH(parse({}), Contains("file is 0 bytes"));
    REQUIRE_THROWS_WITH(parse(sgm_test::concat({sgm_test::u64_le(100), to_bytes("{}        ")})),
                        Contains("header length 100 exceeds the file: only 10 bytes follow"));
    REQUIRE_THROWS_WITH(parse(sgm_test::concat({sgm_test::u64_le(std::uint64_t{1} << 40), to_bytes("{}")})),
                        Contains("header length 1099511627776 is larger than the 100000000-byte limit"));
    REQUIRE_THROWS_WITH(parse(sgm_test::concat({sgm_test::u64_le(~std::uint64_t{0}), to_bytes("{}")})),
                        Contains("is larger than the 100000000-byte limit"));
    REQUIRE_THROWS_WITH(parse(sgm_test::u64_le(0)), Contains("header does not start with '{'"));
}

TEST_CASE("safetensors rejects invalid header JSON with its byte offset", "[io][safetensors][errors]") {
    REQUIRE_THROWS_WITH(parse(file_with(R"({"a":{"dtype":"F32" "shape":[1]}})")),
                        Contains("invalid JSON") && Contains("header byte 20 (file byte 28)") &&
                            Contains("expected ',' or '}' in a tensor entry"));
    REQUIRE_THROWS_WITH(parse(file_with("[]")), Contains("header does not start with '{'"));
    REQUIRE_THROWS_WITH(parse(file_with(" {}")), Contains("header does not start with '{'"));
    REQUIRE_THROWS_WITH(parse(file_with("{\"\xff\":1}")), Contains("header byte 2") && Contains("not valid UTF-8"));
    REQUIRE_THROWS_WITH(parse(file_with("{\"\xed\xa0\x80\":1}")), Contains("not valid UTF-8"));  // encoded surrogate
    REQUIRE_THROWS_WITH(parse(file_with(R"({"a)")), Contains("unterminated string"));
    REQUIRE_THROWS_WITH(parse(file_with(R"({"a\x":{}})")), Contains("invalid escape sequence"));
    REQUIRE_THROWS_WITH(parse(file_with(R"({"\u12":{}})")), Contains("needs 4 hex digits"));
    REQUIRE_THROWS_WITH(parse(file_with(R"({"\udc00":{}})")), Contains("lone low surrogate"));
    REQUIRE_THROWS_WITH(parse(file_with(R"({"\ud800x":{}})")), Contains("high surrogate not followed"));
    REQUIRE_THROWS_WITH(parse(file_with(R"({"\ud800\u0041":{}})")), Contains("high surrogate not followed"));
    REQUIRE_THROWS_WITH(parse(file_with("{\"a\tb\":{}}")), Contains("unescaped control character"));
    REQUIRE_THROWS_WITH(parse(file_with(R"({"a":{"dtype":"U8","shape":[01],"data_offsets":[0,1]}})", 1)),
                        Contains("leading zero"));
    REQUIRE_THROWS_WITH(parse(file_with(R"({"a":{"dtype":"U8","shape":[-1],"data_offsets":[0,1]}})", 1)),
                        Contains("expected a non-negative integer"));
    REQUIRE_THROWS_WITH(parse(file_with(R"({"a":{"dtype":"U8","shape":[1.0],"data_offsets":[0,1]}})", 1)),
                        Contains("fractional or exponent"));
    REQUIRE_THROWS_WITH(parse(file_with(R"({"a":{"dtype":"U8","shape":[18446744073709551616],"data_offsets":[0,1]}})")),
                        Contains("does not fit in 64 bits"));
    REQUIRE_THROWS_WITH(parse(file_with(R"({"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1,2]}})", 1)),
                        Contains("data_offsets holds two integers"));
    REQUIRE_THROWS_WITH(parse(file_with(R"({"a":{"dtype":"U8","shape":[1],"data_offsets":[0]}})", 1)),
                        Contains("data_offsets holds two integers"));
    REQUIRE_THROWS_WITH(parse(file_with("{} x")), Contains("unexpected bytes after the header object"));
    REQUIRE_THROWS_WITH(parse(file_with(std::string("{}\0  ", 5))), Contains("unexpected bytes after the header object"));
    REQUIRE_THROWS_WITH(parse(file_with(R"({"__metadata__":{},})")), Contains("expected a string"));
}

TEST_CASE("safetensors rejects bad tensor entries", "[io][safetensors][errors]") {
    REQUIRE_THROWS_WITH(parse(file_with(R"({"a":{"dtype":"F128","shape":[1],"data_offsets":[0,16]}})", 16)),
                        Contains("tensor 'a' has unknown dtype 'F128'") && Contains("expected one of BOOL, U8"));
    REQUIRE_THROWS_WITH(parse(file_with(R"({"a":{"dtype":3,"shape":[1],"data_offsets":[0,1]}})", 1)),
                        Contains("dtype is not a string"));
    REQUIRE_THROWS_WITH(parse(file_with(R"({"a":1})")), Contains("tensor 'a' is not an object"));
    REQUIRE_THROWS_WITH(parse(file_with(R"({"a":{"shape":[1],"data_offsets":[0,1]}})", 1)),
                        Contains("tensor 'a' has no dtype"));
    REQUIRE_THROWS_WITH(parse(file_with(R"({"a":{"dtype":"U8","data_offsets":[0,1]}})", 1)),
                        Contains("tensor 'a' has no shape"));
    REQUIRE_THROWS_WITH(parse(file_with(R"({"a":{"dtype":"U8","shape":[1]}})", 1)),
                        Contains("tensor 'a' has no data_offsets"));
    REQUIRE_THROWS_WITH(parse(file_with(R"({"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1],"x":1}})", 1)),
                        Contains("tensor 'a' has unexpected key 'x'"));
    REQUIRE_THROWS_WITH(parse(file_with(R"({"a":{"dtype":"U8","dtype":"U8","shape":[1],"data_offsets":[0,1]}})", 1)),
                        Contains("tensor 'a' has key 'dtype' twice"));
    REQUIRE_THROWS_WITH(
        parse(file_with(R"({"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"a":{"dtype":"U8","shape":[1],"data_offsets":[1,2]}})", 2)),
        Contains("duplicate tensor name 'a'"));
}

TEST_CASE("safetensors rejects bad metadata", "[io][safetensors][errors]") {
    REQUIRE_THROWS_WITH(parse(file_with(R"({"__metadata__":{"k":1}})")), Contains("metadata value of 'k' is not a string"));
    REQUIRE_THROWS_WITH(parse(file_with(R"({"__metadata__":["k"]})")), Contains("'__metadata__' must be an object"));
    REQUIRE_THROWS_WITH(parse(file_with(R"({"__metadata__":null})")), Contains("'__metadata__' must be an object"));
    REQUIRE_THROWS_WITH(parse(file_with(R"({"__metadata__":{"k":"a","k":"b"}})")), Contains("duplicate metadata key 'k'"));
    REQUIRE_THROWS_WITH(parse(file_with(R"({"__metadata__":{},"__metadata__":{}})")), Contains("duplicate '__metadata__'"));
}

TEST_CASE("safetensors rejects sizes and offsets that do not fit", "[io][safetensors][errors]") {
    REQUIRE_THROWS_WITH(parse(file_with(R"({"a":{"dtype":"F32","shape":[2,3],"data_offsets":[0,20]}})", 20)),
                        Contains("tensor 'a' with dtype F32 and shape [2, 3] needs 24 bytes") &&
                            Contains("data_offsets [0, 20] span 20") && Contains("shape/offset mismatch"));
    REQUIRE_THROWS_WITH(
        parse(file_with(R"({"a":{"dtype":"U8","shape":[4294967296,4294967296],"data_offsets":[0,0]}})")),
        Contains("shape [4294967296, 4294967296] whose byte count overflows 64 bits"));
    REQUIRE_THROWS_WITH(parse(file_with(R"({"a":{"dtype":"F64","shape":[4611686018427387904],"data_offsets":[0,0]}})")),
                        Contains("overflows 64 bits"));
    REQUIRE_THROWS_WITH(parse(file_with(R"({"a":{"dtype":"U8","shape":[16],"data_offsets":[0,16]}})", 8)),
                        Contains("tensor 'a' has data_offsets [0, 16] out of range: the data buffer has 8 bytes"));
    REQUIRE_THROWS_WITH(
        parse(file_with(R"({"a":{"dtype":"U8","shape":[1],"data_offsets":[18446744073709551615,0]}})")),
        Contains("with end before begin"));
    REQUIRE_THROWS_WITH(
        parse(file_with(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})", 12)),
        Contains("tensor 'b' (data_offsets [4, 12]) overlaps tensor 'a' (data_offsets [0, 8])"));
    REQUIRE_THROWS_WITH(
        parse(file_with(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}})", 12)),
        Contains("not contiguous: tensor 'b' starts at byte 8 but tensor 'a' ends at byte 4"));
    REQUIRE_THROWS_WITH(parse(file_with(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})", 8)),
                        Contains("not contiguous") && Contains("starts at byte 4"));
    REQUIRE_THROWS_WITH(parse(file_with(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})", 7)),
                        Contains("3 trailing bytes after the tensor data"));
    REQUIRE_THROWS_WITH(parse(file_with("{}", 1)), Contains("1 trailing bytes"));
    // Two tensors with the same non-empty range overlap; empty ones may share an offset.
    REQUIRE_THROWS_WITH(
        parse(file_with(R"({"a":{"dtype":"U8","shape":[2],"data_offsets":[0,2]},"b":{"dtype":"U8","shape":[2],"data_offsets":[0,2]}})", 2)),
        Contains("overlaps"));
    CHECK(parse(file_with(R"({"a":{"dtype":"U8","shape":[0],"data_offsets":[0,0]},"b":{"dtype":"U8","shape":[2],"data_offsets":[0,2]},"c":{"dtype":"U8","shape":[0],"data_offsets":[2,2]}})", 2))
              .size() == 3);
}

TEST_CASE("every truncation of a valid checkpoint is rejected", "[io][safetensors][errors]") {
    const bytes full = sample_file();
    REQUIRE(parse(full).size() == 2);
    for (std::size_t n = 0; n < full.size(); ++n) {
        const bytes cut(full.begin(), full.begin() + static_cast<std::ptrdiff_t>(n));
        REQUIRE_THROWS_AS(parse(cut), sgm::error);
    }
    // A cut inside the data names the tensor that no longer fits.
    const bytes cut(full.begin(), full.end() - 3);
    REQUIRE_THROWS_WITH(parse(cut), Contains("out of range") && Contains("truncated file?"));
}

TEST_CASE("corrupted checkpoints either parse or throw sgm::error", "[io][safetensors][errors]") {
    const bytes full = sample_file();
    std::size_t rejected = 0;
    for (std::size_t i = 0; i < full.size(); ++i) {
        for (const int flip : {0x01, 0x20, 0x80, 0xff}) {
            bytes b = full;
            b[i] ^= static_cast<std::byte>(flip);
            try {
                (void)parse(b);
            } catch (const sgm::error&) {
                ++rejected;
            }
        }
    }
    // Flips in the prefix and the JSON structure must be caught; flips in
    // tensor data cannot be, they are just other values.
    CHECK(rejected > full.size());
}

TEST_CASE("read_safetensors names the path in its errors", "[io][safetensors][errors]") {
    const sgm_test::scratch_dir dir;
    const auto path = dir / "ckpt.safetensors";
    REQUIRE_THROWS_WITH(sgm::io::read_safetensors(path),
                        Contains("cannot open") && Contains(path.string()) && Contains("No such file"));
    REQUIRE_THROWS_WITH(sgm::io::read_safetensors(dir.path()), Contains("is not a regular file"));

    const bytes full = sample_file();
    sgm_test::write_file(path, bytes(full.begin(), full.end() - 5));
    REQUIRE_THROWS_WITH(sgm::io::read_safetensors(path),
                        Contains("safetensors '" + path.string() + "'") && Contains("out of range"));
    sgm_test::write_file(path, bytes(full.begin(), full.begin() + 20));
    REQUIRE_THROWS_WITH(sgm::io::read_safetensors(path), Contains("exceeds the file"));
    sgm_test::write_file(path, bytes(full.begin(), full.begin() + 6));
    REQUIRE_THROWS_WITH(sgm::io::read_safetensors(path), Contains("shorter than the 8-byte"));
    bytes extra = full;
    extra.push_back(std::byte{0});
    sgm_test::write_file(path, extra);
    REQUIRE_THROWS_WITH(sgm::io::read_safetensors(path), Contains("1 trailing bytes"));
    sgm_test::write_file(path, full);
    CHECK(sgm::io::read_safetensors(path) == parse(full));
}
