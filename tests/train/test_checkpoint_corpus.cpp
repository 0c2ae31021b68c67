// Replays the checkpoint fuzzer's seed corpus (fuzz/corpus/checkpoint/) through
// the checkpoint and weights loaders, so every build checks it without clang:
// each file loads or throws sgm::error, never anything else. valid-checkpoint-*
// and valid-weights-* must load as such; every bad-* file is rejected by both
// loaders, the checkpoint loader with the message listed below.

#include <catch2/catch.hpp>

#include <algorithm>
#include <exception>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <sgm/error.hpp>
#include <sgm/io/safetensors.hpp>
#include <sgm/nn/mlp.hpp>
#include <sgm/train/checkpoint.hpp>

#include "io/io_test_support.hpp"

namespace {

const std::filesystem::path corpus =
    std::filesystem::path(__FILE__).parent_path() / ".." / ".." / "fuzz" / "corpus" / "checkpoint";

// The layout and config of fuzz/fuzz_checkpoint.cpp.
sgm::nn::mlp_config fuzz_network() {
    sgm::nn::mlp_config c;
    c.data_dim = 2;
    c.hidden = 8;
    c.depth = 1;
    c.embedding_size = 4;
    return c;
}
const sgm::train::config_map fuzz_config{{"network", "mlp 2-8x1-2 embedding 4"}};

// The error message (or nullopt when it loads); any other exception fails the test.
template <class Load>
std::optional<std::string> attempt(const std::string& name, Load load) {
    try {
        load();
        return std::nullopt;
    } catch (const sgm::error& e) {
        return std::string(e.what());
    } catch (const std::exception& e) {
        FAIL(name << " threw a non-sgm exception: " << e.what());
    } catch (...) {
        FAIL(name << " threw an unknown exception");
    }
    return std::nullopt;
}

}  // namespace

TEST_CASE("the checkpoint fuzz corpus loads or is rejected cleanly", "[train][checkpoint][fuzz-corpus]") {
    const std::map<std::string, std::string> expected_errors{
        {"bad-config-mismatch", "config mismatch for 'network'"},
        {"bad-data-flip", "data checksum mismatch"},
        {"bad-dtype", "has dtype F64, expected F32"},
        {"bad-extra-tensor", "unexpected tensor 'model.extra'"},
        {"bad-header-flip", "metadata checksum mismatch"},
        {"bad-missing-tensor", "missing tensor 'adam.m.layers.0.weight'"},
        {"bad-non-finite", "holds the non-finite value inf at element 1"},
        {"bad-not-sgm", "not an sgm file"},
        {"bad-step-text", "metadata 'step' = '-3' is not a non-negative 64-bit integer"},
        {"bad-truncated", "truncated file?"},
        {"bad-truncated-header", "truncated file?"},
        {"bad-version", "format_version 2 is not supported"},
        {"bad-wrong-shape", "has shape [9, 6], the network's parameter has shape [8, 6]"},
    };
    sgm::nn::mlp<float> net(fuzz_network());
    const auto layout = net.parameters();

    std::vector<std::filesystem::path> files;
    for (const auto& e : std::filesystem::directory_iterator(corpus))
        if (e.is_regular_file()) files.push_back(e.path());
    std::ranges::sort(files);
    REQUIRE(files.size() >= 10);
    std::size_t valid = 0, bad = 0;
    for (const auto& file : files) {
        const std::string name = file.filename().string();
        const std::string stem = file.stem().string();
        INFO(name);
        const auto bytes = sgm_test::read_file(file);
        const std::span<const std::byte> input(bytes);
        const auto as_checkpoint = attempt(name, [&] { (void)sgm::train::load_checkpoint(input, layout, fuzz_config); });
        const auto as_weights = attempt(name, [&] {
            (void)sgm::train::read_weights(sgm::io::parse_safetensors(input), layout, &fuzz_config, name);
        });
        if (stem.starts_with("valid-checkpoint")) {
            CHECK_FALSE(as_checkpoint.has_value());
            CHECK(as_weights.has_value());
            ++valid;
        } else if (stem.starts_with("valid-weights")) {
            CHECK(as_checkpoint.has_value());
            CHECK_FALSE(as_weights.has_value());
            ++valid;
        } else if (stem.starts_with("bad-")) {
            REQUIRE(as_checkpoint.has_value());
            CHECK(as_weights.has_value());
            const auto it = expected_errors.find(stem);
            REQUIRE(it != expected_errors.end());
            CHECK_THAT(*as_checkpoint, Catch::Contains(it->second));
            ++bad;
        }
    }
    CHECK(valid >= 3);
    CHECK(bad == expected_errors.size());
}
