// libFuzzer target for the checkpoint and weights loaders. Any input must load
// or throw sgm::error; what loads must survive a save and a load unchanged.
//
// The expected layout is a tiny MLP (2-D data, one hidden layer of 8, a 4-value
// time embedding) with the config below; fuzz/corpus/checkpoint/ holds files
// written for it, and tests/train/test_checkpoint_corpus.cpp replays them.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>

#include <sgm/error.hpp>
#include <sgm/io/safetensors.hpp>
#include <sgm/nn/mlp.hpp>
#include <sgm/train/checkpoint.hpp>

namespace {

sgm::nn::mlp<float>& network() {
    static sgm::nn::mlp<float> net([] {
        sgm::nn::mlp_config c;
        c.data_dim = 2;
        c.hidden = 8;
        c.depth = 1;
        c.embedding_size = 4;
        return c;
    }());
    return net;
}

const sgm::train::config_map config{{"network", "mlp 2-8x1-2 embedding 4"}};

void fuzz_checkpoint(std::span<const std::byte> input, const sgm::nn::parameter_list<float>& layout) {
    sgm::train::training_state<float> state;
    try {
        state = sgm::train::load_checkpoint(input, layout, config);
    } catch (const sgm::error&) {
        return;
    }
    const auto bytes = sgm::io::serialize_safetensors(sgm::train::checkpoint_file(state, layout));
    if (!(sgm::train::load_checkpoint(std::span<const std::byte>(bytes), layout, config) == state)) std::abort();
}

void fuzz_weights(std::span<const std::byte> input, const sgm::nn::parameter_list<float>& layout) {
    std::vector<float> values;
    try {
        values = sgm::train::read_weights(sgm::io::parse_safetensors(input), layout, nullptr, "<fuzz>");
    } catch (const sgm::error&) {
        return;
    }
    const auto bytes = sgm::io::serialize_safetensors(sgm::train::weights_file(layout, values));
    if (sgm::train::read_weights(sgm::io::parse_safetensors(bytes), layout, nullptr, "<fuzz>") != values)
        std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const auto input = std::as_bytes(std::span(data, size));
    const auto layout = network().parameters();
    fuzz_checkpoint(input, layout);
    fuzz_weights(input, layout);
    return 0;
}
