// Runs the fuzzers' seed corpora through the parsers, so every build checks
// them without clang: each file must parse or throw sgm::error, nothing else.
// Files named valid-* must parse; files named bad-* must be rejected.

#include <catch2/catch.hpp>

#include <algorithm>
#include <exception>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include <sgm/data/idx.hpp>
#include <sgm/error.hpp>
#include <sgm/io/safetensors.hpp>

#include "io_test_support.hpp"

namespace {

const std::filesystem::path corpus_root = std::filesystem::path(__FILE__).parent_path() / ".." / ".." / "fuzz" / "corpus";

std::vector<std::filesystem::path> corpus_files(const std::string& name) {
    std::vector<std::filesystem::path> files;
    for (const auto& e : std::filesystem::directory_iterator(corpus_root / name))
        if (e.is_regular_file()) files.push_back(e.path());
    std::ranges::sort(files);
    return files;
}

enum class outcome { parsed, rejected };

// Parses one file; any exception other than sgm::error fails the test.
outcome run(const std::filesystem::path& file, const std::function<void(const sgm_test::bytes&)>& parse) {
    const auto content = sgm_test::read_file(file);
    try {
        parse(content);
        return outcome::parsed;
    } catch (const sgm::error&) {
        return outcome::rejected;
    } catch (const std::exception& e) {
        FAIL(file.filename().string() << " threw a non-sgm exception: " << e.what());
    } catch (...) {
        FAIL(file.filename().string() << " threw an unknown exception");
    }
    return outcome::rejected;
}

void check_corpus(const std::string& name, const std::function<void(const sgm_test::bytes&)>& parse) {
    const auto files = corpus_files(name);
    REQUIRE(files.size() >= 5);
    std::size_t valid = 0, bad = 0;
    for (const auto& file : files) {
        INFO(name << "/" << file.filename().string());
        const auto stem = file.filename().string();
        const auto result = run(file, parse);
        if (stem.starts_with("valid-")) {
            CHECK(result == outcome::parsed);
            ++valid;
        } else if (stem.starts_with("bad-")) {
            CHECK(result == outcome::rejected);
            ++bad;
        }
    }
    CHECK(valid >= 2);
    CHECK(bad >= 2);
}

}  // namespace

TEST_CASE("the safetensors fuzz corpus parses or is rejected cleanly", "[io][fuzz-corpus]") {
    check_corpus("safetensors", [](const sgm_test::bytes& b) {
        const auto f = sgm::io::parse_safetensors(b);
        // What parses must survive a write and a read unchanged.
        CHECK(sgm::io::parse_safetensors(sgm::io::serialize_safetensors(f)) == f);
    });
}

TEST_CASE("the IDX fuzz corpus parses or is rejected cleanly", "[io][fuzz-corpus]") {
    check_corpus("idx", [](const sgm_test::bytes& b) {
        const auto a = sgm::data::parse_idx(b);
        std::size_t n = 1;
        for (const auto d : a.dims) n *= d;
        CHECK(a.size() == n);
    });
}
