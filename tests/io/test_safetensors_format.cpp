// safetensors: the exact byte layout, round trips and the typed helpers.

#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include <sgm/error.hpp>
#include <sgm/io/safetensors.hpp>

#include "io_test_support.hpp"

using Catch::Contains;
using sgm_test::bytes;
using sgm_test::to_bytes;

namespace {

// 8-byte little-endian length, then the header text padded with spaces to `padded` bytes.
bytes prefix_and_header(const std::string& json, std::size_t padded) {
    REQUIRE(padded >= json.size());
    return sgm_test::concat({sgm_test::u64_le(padded), to_bytes(json + std::string(padded - json.size(), ' '))});
}

// 0, 1, 2, 3, 4, 5 as little-endian IEEE binary32, written out by hand.
const bytes floats_0_to_5 = to_bytes({0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x80, 0x3f, 0x00, 0x00, 0x00, 0x40,
                                      0x00, 0x00, 0x40, 0x40, 0x00, 0x00, 0x80, 0x40, 0x00, 0x00, 0xa0, 0x40});

}  // namespace

// The inputs of these cases are those of the reference implementation's own
// serialization tests; the expected bytes are built here from the format's rules.
TEST_CASE("safetensors layout is byte-exact", "[io][safetensors]") {
    const std::vector<float> v{0, 1, 2, 3, 4, 5};

    SECTION("one tensor, header already a multiple of 8") {
        sgm::io::tensor_file f;
        f.put("attn.0", v, {1, 2, 3});
        const std::string json = R"({"attn.0":{"dtype":"F32","shape":[1,2,3],"data_offsets":[0,24]}})";
        REQUIRE(json.size() == 64);
        const bytes expected = sgm_test::concat({prefix_and_header(json, 64), floats_0_to_5});
        CHECK(sgm::io::serialize_safetensors(f) == expected);
        CHECK(sgm::io::parse_safetensors(expected) == f);
    }
    SECTION("header padded with spaces to a multiple of 8") {
        sgm::io::tensor_file f;
        f.put("attn0", v, {1, 1, 2, 3});
        const std::string json = R"({"attn0":{"dtype":"F32","shape":[1,1,2,3],"data_offsets":[0,24]}})";
        REQUIRE(json.size() == 65);
        const bytes expected = sgm_test::concat({prefix_and_header(json, 72), floats_0_to_5});
        CHECK(sgm::io::serialize_safetensors(f) == expected);
    }
    SECTION("no tensors") {
        const sgm::io::tensor_file f;
        CHECK(sgm::io::serialize_safetensors(f) == to_bytes({8, 0, 0, 0, 0, 0, 0, 0, '{', '}', ' ', ' ', ' ', ' ', ' ', ' '}));
    }
    SECTION("metadata only") {
        sgm::io::tensor_file f;
        f.metadata()["framework"] = "pt";
        const std::string json = R"({"__metadata__":{"framework":"pt"}})";
        CHECK(sgm::io::serialize_safetensors(f) == prefix_and_header(json, 40));
    }
}

TEST_CASE("safetensors file on disk: metadata first, data aligned by element size", "[io][safetensors]") {
    const sgm_test::scratch_dir dir;
    sgm::io::tensor_file f;
    f.put("a", std::vector<std::uint8_t>{1, 2, 3});
    f.put("b", std::vector<double>{-2.25});
    f.put("c", std::vector<std::int32_t>{-1, 258});
    f.metadata()["step"] = "10";
    f.metadata()["note"] = "a\"b\n\x01";
    sgm::io::write_safetensors(dir / "m.safetensors", f);

    // Header in insertion order; data placed F64, I32, U8 so each is aligned.
    const std::string json =
        R"({"__metadata__":{"note":"a\"b\n\u0001","step":"10"},)"
        R"("a":{"dtype":"U8","shape":[3],"data_offsets":[16,19]},)"
        R"("b":{"dtype":"F64","shape":[1],"data_offsets":[0,8]},)"
        R"("c":{"dtype":"I32","shape":[2],"data_offsets":[8,16]}})";
    const std::size_t padded = (json.size() + 7) / 8 * 8;
    const bytes expected = sgm_test::concat({
        prefix_and_header(json, padded),
        to_bytes({0, 0, 0, 0, 0, 0, 0x02, 0xc0}),        // -2.25 as binary64
        to_bytes({0xff, 0xff, 0xff, 0xff, 2, 1, 0, 0}),  // -1, 258
        to_bytes({1, 2, 3}),
    });
    CHECK(sgm_test::read_file(dir / "m.safetensors") == expected);
    CHECK(sgm::io::read_safetensors(dir / "m.safetensors") == f);
}

TEST_CASE("safetensors round trips keep every value and the order", "[io][safetensors]") {
    const sgm_test::scratch_dir dir;
    const auto path = dir / "rt.safetensors";
    auto round_trip = [&](const sgm::io::tensor_file& f) {
        sgm::io::write_safetensors(path, f);
        const auto back = sgm::io::read_safetensors(path);
        CHECK(sgm::io::parse_safetensors(sgm_test::read_file(path)) == back);
        return back;
    };
    constexpr double inf = std::numeric_limits<double>::infinity();

    SECTION("float, double and int64 with extreme values") {
        const std::vector<float> fv{1.5f, -0.0f, std::numeric_limits<float>::denorm_min(),
                                    std::numeric_limits<float>::max(), -std::numeric_limits<float>::infinity(),
                                    std::numeric_limits<float>::quiet_NaN()};
        const std::vector<double> dv{3.141592653589793, -inf, 1e-310, -1e300};
        const std::vector<std::int64_t> iv{std::numeric_limits<std::int64_t>::min(), -1, 0,
                                           std::numeric_limits<std::int64_t>::max()};
        sgm::io::tensor_file f;
        f.put("w", fv, {2, 3});
        f.put("d", dv, {4});
        f.put("step", iv, {2, 2});
        const auto back = round_trip(f);
        CHECK(back == f);  // byte equality: NaN payloads and -0 survive
        const auto w = back.get<float>("w", {2, 3});
        CHECK(w[0] == 1.5f);
        CHECK(std::signbit(w[1]));
        CHECK(std::isnan(w[5]));
        CHECK(back.get<double>("d", {4}) == dv);
        CHECK(back.get<std::int64_t>("step", {2, 2}) == iv);
        CHECK(back.get<std::int64_t>("step") == iv);
        std::vector<double> into(4);
        back.get_to<double>("d", into, std::vector<std::uint64_t>{4});
        CHECK(into == dv);
    }
    SECTION("metadata with escapes and non-ASCII text; empty metadata is omitted") {
        sgm::io::tensor_file f;
        f.put("x", std::vector<float>{1});
        f.metadata()["format"] = "pt";
        f.metadata()["text"] = "tab\there \"quoted\" back\\slash \xc3\xa9 \xf0\x9f\x98\x80";
        f.metadata()[""] = "";
        CHECK(round_trip(f) == f);

        sgm::io::tensor_file plain;
        plain.put("x", std::vector<float>{1});
        CHECK(round_trip(plain).metadata().empty());
        const auto file = sgm_test::read_file(path);
        CHECK(std::string(reinterpret_cast<const char*>(file.data()), file.size()).find("__metadata__") ==
              std::string::npos);
    }
    SECTION("zero-size tensors and scalars") {
        sgm::io::tensor_file f;
        f.put("empty", std::vector<float>{}, {0, 3});
        f.put("scalar", std::vector<double>{2.5}, {});
        f.put("also_empty", std::vector<std::int64_t>{}, {5, 0});
        f.put("after", std::vector<float>{7});
        const auto back = round_trip(f);
        CHECK(back == f);
        CHECK(back.at("empty").shape == sgm::io::tensor_shape{0, 3});
        CHECK(back.get<double>("scalar", {}) == std::vector<double>{2.5});
        CHECK(back.get<float>("empty", {0, 3}).empty());
    }
    SECTION("many tensors of mixed dtypes") {
        sgm::io::tensor_file f;
        for (int i = 0; i < 300; ++i) {
            const auto name = "layer." + std::to_string(i) + (i % 2 ? ".weight" : ".bias");
            const std::size_t n = static_cast<std::size_t>(i % 7);
            switch (i % 4) {
                case 0: f.put(name, std::vector<float>(n, float(i)), {n}); break;
                case 1: f.put(name, std::vector<double>(n, -i), {1, n}); break;
                case 2: f.put(name, std::vector<std::uint8_t>(n, std::uint8_t(i)), {n, 1}); break;
                default: f.put(name, std::vector<std::int64_t>(n, i), {n}); break;
            }
        }
        f.metadata()["step"] = "123456";
        const auto back = round_trip(f);
        REQUIRE(back.size() == 300);
        CHECK(back == f);
        CHECK(back.tensors()[299].name == "layer.299.weight");
    }
}

TEST_CASE("safetensors reads headers other writers may produce", "[io][safetensors]") {
    // Whitespace, keys in another order, tensors listed out of offset order,
    // \u escapes (a surrogate pair too) and an escaped slash in names.
    const std::string json = "{ \"b\\u00e9\" : {\"data_offsets\" : [4, 8], \"shape\": [ 1 ], \"dtype\":\"I32\"},\n"
                             "  \"a\\/\\ud83d\\ude00\": {\"dtype\": \"U16\", \"shape\": [2], \"data_offsets\": [0,4]},\n"
                             "  \"__metadata__\": {\"k\\n\": \"v\\u0041\"} }";
    const bytes file = sgm_test::concat({sgm_test::u64_le(json.size()), to_bytes(json),
                                         to_bytes({1, 0, 2, 0, 0xfe, 0xff, 0xff, 0xff})});
    const auto f = sgm::io::parse_safetensors(file);
    REQUIRE(f.size() == 2);
    CHECK(f.tensors()[0].name == "b\xc3\xa9");
    CHECK(f.tensors()[1].name == "a/\xf0\x9f\x98\x80");
    CHECK(f.get<std::int32_t>("b\xc3\xa9", {1}) == std::vector<std::int32_t>{-2});
    CHECK(f.get<std::uint16_t>("a/\xf0\x9f\x98\x80", {2}) == std::vector<std::uint16_t>{1, 2});
    CHECK(f.metadata().at("k\n") == "vA");
    // Written back, then read again: the same content.
    CHECK(sgm::io::parse_safetensors(sgm::io::serialize_safetensors(f)) == f);
}

TEST_CASE("typed helpers check dtype, shape and name", "[io][safetensors]") {
    sgm::io::tensor_file f;
    f.put("x", std::vector<double>(12, 1.0), {3, 4});
    REQUIRE_THROWS_WITH(f.get<float>("x", {3, 4}), Contains("tensor 'x' has dtype F64, expected F32"));
    REQUIRE_THROWS_WITH(f.get<float>("x"), Contains("tensor 'x' has dtype F64, expected F32"));
    REQUIRE_THROWS_WITH(f.get<double>("x", {4, 3}), Contains("tensor 'x' has shape [3, 4], expected [4, 3]"));
    REQUIRE_THROWS_WITH(f.get<double>("x", {12}), Contains("has shape [3, 4], expected [12]"));
    REQUIRE_THROWS_WITH(f.get<double>("y"), Contains("no tensor named 'y'"));
    REQUIRE_THROWS_WITH(f.at("y"), Contains("no tensor named 'y'"));
    std::vector<double> small(5);
    REQUIRE_THROWS_WITH(f.get_to<double>("x", small, std::vector<std::uint64_t>{3, 4}),
                        Contains("output has 5 elements"));
    CHECK(f.get<double>("x", {3, 4}).size() == 12);
    CHECK(f.contains("x"));
    CHECK_FALSE(f.contains("y"));

    REQUIRE_THROWS_WITH(f.put("x", std::vector<float>{1}), Contains("duplicate tensor name 'x'"));
    REQUIRE_THROWS_WITH(f.put("z", std::vector<float>(5), {2, 3}), Contains("has 5 values, shape [2, 3] needs 6"));
    REQUIRE_THROWS_WITH(f.put("__metadata__", std::vector<float>{1}), Contains("reserved"));
    REQUIRE_THROWS_WITH(f.add({"r", sgm::io::dtype::F32, {2}, bytes(7)}), Contains("needs 8 bytes, got 7"));
    REQUIRE_THROWS_WITH(f.add({"big", sgm::io::dtype::F64, {std::uint64_t{1} << 62}, bytes{}}),
                        Contains("too many elements"));
    CHECK(f.size() == 1);  // nothing half-added

    sgm::io::tensor_file bad_name;
    bad_name.put("\xff", std::vector<float>{1});
    REQUIRE_THROWS_WITH(sgm::io::serialize_safetensors(bad_name), Contains("not valid UTF-8"));
    sgm::io::tensor_file bad_meta;
    bad_meta.metadata()["k"] = "\xc0\x80";  // overlong NUL
    REQUIRE_THROWS_WITH(sgm::io::serialize_safetensors(bad_meta), Contains("metadata value of 'k' is not valid UTF-8"));
}

TEST_CASE("dtype names and sizes follow the format", "[io][safetensors]") {
    using sgm::io::dtype;
    CHECK(sgm::io::dtype_name(dtype::BF16) == "BF16");
    CHECK(sgm::io::dtype_size(dtype::F8_E4M3) == 1);
    CHECK(sgm::io::dtype_size(dtype::U64) == 8);
    CHECK(sgm::io::dtype_from_name("I64") == dtype::I64);
    CHECK_FALSE(sgm::io::dtype_from_name("f32").has_value());
    CHECK(sgm::io::dtype_of<float> == dtype::F32);
    CHECK(sgm::io::dtype_of<std::uint32_t> == dtype::U32);
    // Raw dtypes without a C++ type still round-trip as bytes.
    sgm::io::tensor_file f;
    f.add({"h", dtype::BF16, {2}, to_bytes({0x80, 0x3f, 0x00, 0x40})});
    CHECK(sgm::io::parse_safetensors(sgm::io::serialize_safetensors(f)) == f);
}
