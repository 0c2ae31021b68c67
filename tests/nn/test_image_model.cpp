// Model files that describe themselves: the U-Net configuration, SDE, pixel range
// and conditioning survive the round trip through config entries; a weights file
// rebuilds the same score model (bit-identical scores); bad entries, a corrupt file
// and weights of another shape are errors naming the problem.

#include <catch2/catch.hpp>

#include <sgm/backend/tbb.hpp>
#include <sgm/models/image_model.hpp>
#include <sgm/models/sde_spec.hpp>
#include <sgm/nn/score_network.hpp>
#include <sgm/nn/unet.hpp>
#include <sgm/train/checkpoint.hpp>

#include <filesystem>
#include <fstream>
#include <string>
#include <type_traits>
#include <vector>

namespace {

using sgm::models::image_model_spec;

image_model_spec tiny_spec() {
    image_model_spec s;
    s.network.channels = 1;
    s.network.height = 8;
    s.network.width = 8;
    s.network.base_channels = 8;
    s.network.multipliers = {1, 2};
    s.network.blocks_per_level = 1;
    s.network.attention_resolutions = {4};
    s.network.dropout = 0.125;
    s.network.embedding = sgm::nn::embedding_kind::gaussian_fourier;
    s.network.fourier_scale = 8;
    s.sde = sgm::models::parse_sde_spec("ve 0.01 25 1000 1");
    s.range = sgm::data::pixel_range::unit;
    s.score.conditioning = sgm::nn::time_input::log_sigma;
    s.score.divide_by_std = true;
    s.data = "test digits";
    return s;
}

std::filesystem::path temp_path(const std::string& name) {
    const auto dir = std::filesystem::temp_directory_path() / "sgm_image_model_test";
    std::filesystem::create_directories(dir);
    return dir / name;
}

// Writes a weights file of `spec` with random weights; returns the values.
std::vector<float> write_model(const image_model_spec& spec, const std::filesystem::path& path,
                               sgm::train::config_map extra = {}) {
    sgm::nn::unet<float> net(spec.network);
    const auto params = net.parameters();
    std::vector<float> values = params.flatten_values();
    for (std::size_t i = 0; i < values.size(); ++i) values[i] += 0.01f * float((i * 7919) % 13) - 0.06f;
    auto config = sgm::models::to_config(spec);
    config.insert(extra.begin(), extra.end());
    sgm::train::save_weights(path, params, values, config);
    return values;
}

}  // namespace

TEST_CASE("sde_spec: text round trip, short forms and the concrete SDE", "[models]") {
    using sgm::models::sde_kind;
    const auto vp = sgm::models::parse_sde_spec("vp 0.1 20");
    CHECK(vp.kind == sde_kind::vp);
    CHECK(vp.first == 0.1);
    CHECK(vp.second == 20);
    CHECK(vp.steps == 1000);
    CHECK(vp.end_time == 1);
    CHECK(sgm::models::to_string(vp) == "vp 0.1 20 1000 1");
    const auto sub = sgm::models::parse_sde_spec("subvp 0.5 10 250 2");
    CHECK(sub.kind == sde_kind::sub_vp);
    CHECK(sub.steps == 250);
    CHECK(sub.end_time == 2);
    CHECK(sgm::models::parse_sde_spec(sgm::models::to_string(sub)).second == 10);
    const double odd = 0.1 + 0.2;  // needs 17 digits
    sgm::models::sde_spec ve{sde_kind::ve, odd, 50, 7, 1};
    CHECK(sgm::models::parse_sde_spec(sgm::models::to_string(ve)).first == odd);

    sgm::models::visit_sde<double>(sub, 0, [](const auto& sde) {
        CHECK(std::is_same_v<std::remove_cvref_t<decltype(sde)>, sgm::sub_vp_sde<double>>);
        CHECK(sde.steps() == 250);
        CHECK(sde.T() == 2.0);
    });
    sgm::models::visit_sde<float>(ve, 40, [](const auto& sde) {
        CHECK(std::is_same_v<std::remove_cvref_t<decltype(sde)>, sgm::ve_sde<float>>);
        CHECK(sde.steps() == 40);
        CHECK(sde.marginal_std(1.0f) == Approx(50.0).epsilon(1e-6));
    });
}

TEST_CASE("sde_spec: malformed descriptions are errors naming the text", "[models]") {
    using Catch::Matchers::Contains;
    CHECK_THROWS_WITH(sgm::models::parse_sde_spec(""), Contains("is empty"));
    CHECK_THROWS_WITH(sgm::models::parse_sde_spec("ou 1 2"), Contains("unknown SDE 'ou'"));
    CHECK_THROWS_WITH(sgm::models::parse_sde_spec("vp 0.1"), Contains("lacks its two schedule parameters"));
    CHECK_THROWS_WITH(sgm::models::parse_sde_spec("vp 0.1 20 -5"), Contains("N = -5 must be a positive integer"));
    CHECK_THROWS_WITH(sgm::models::parse_sde_spec("vp 0.1 20 1000 1 extra"), Contains("extra text 'extra'"));
    CHECK_THROWS_WITH(sgm::models::parse_sde_spec("ve 0.01 inf 10"), Contains("'inf' is not a finite number"));
    CHECK_THROWS_WITH(sgm::models::parse_sde_spec("vp 0.1 20 2.5"), Contains("N = 2.5 must be a positive integer"));
    // Values the SDE itself rejects fail when the SDE is built.
    CHECK_THROWS_WITH(sgm::models::visit_sde<double>(sgm::models::parse_sde_spec("ve 5 1"), 0, [](const auto&) {}),
                      Contains("sigma_min"));
}

TEST_CASE("image_model_spec: every field survives the config round trip", "[models]") {
    const auto spec = tiny_spec();
    const auto back = sgm::models::image_model_from_config(sgm::models::to_config(spec), "round trip");
    CHECK(back.network.channels == 1);
    CHECK(back.network.height == 8);
    CHECK(back.network.width == 8);
    CHECK(back.network.base_channels == 8);
    CHECK(back.network.multipliers == std::vector<std::size_t>{1, 2});
    CHECK(back.network.blocks_per_level == 1);
    CHECK(back.network.attention_resolutions == std::vector<std::size_t>{4});
    CHECK(back.network.dropout == 0.125);
    CHECK(back.network.embedding == sgm::nn::embedding_kind::gaussian_fourier);
    CHECK(back.network.fourier_scale == 8);
    CHECK(back.sde.kind == sgm::models::sde_kind::ve);
    CHECK(back.sde.second == 25);
    CHECK(back.range == sgm::data::pixel_range::unit);
    CHECK(back.score.conditioning == sgm::nn::time_input::log_sigma);
    CHECK(back.score.divide_by_std);
    CHECK(back.data == "test digits");
    CHECK(back.dim() == 64);
    // No attention at all is an empty list.
    auto none = spec;
    none.network.attention_resolutions.clear();
    CHECK(sgm::models::image_model_from_config(sgm::models::to_config(none), "x").network.attention_resolutions.empty());
}

TEST_CASE("image_model_spec: missing or malformed entries are errors naming the key", "[models]") {
    using Catch::Matchers::Contains;
    const auto good = sgm::models::to_config(tiny_spec());
    const auto fails_with = [&](const std::string& key, const std::string& value, const std::string& message) {
        auto c = good;
        if (value.empty()) c.erase(key);
        else c[key] = value;
        CHECK_THROWS_WITH(sgm::models::image_model_from_config(c, "model.safetensors"),
                          Contains("model.safetensors") && Contains(message));
    };
    fails_with("unet.base_channels", "", "config key 'unet.base_channels' is missing");
    fails_with("model", "mlp", "this build reads 'unet' image models");
    fails_with("unet.base_channels", "eight", "'unet.base_channels' = 'eight' is not a non-negative integer");
    fails_with("unet.base_channels", "-8", "is not a non-negative integer");
    fails_with("unet.multipliers", "1,,2", "not a comma-separated list of integers");
    fails_with("unet.dropout", "0.1x", "'unet.dropout' = '0.1x' is not a number");
    fails_with("data.range", "bytes", "expected unit or symmetric");
    fails_with("sde", "vp 0.1", "config 'sde'");
    fails_with("score.conditioning", "time", "not a known conditioning");
    fails_with("score.divide_by_std", "yes", "expected true or false");
    fails_with("unet.embedding", "learned", "expected sinusoidal or gaussian_fourier");
}

TEST_CASE("with_image_model: a weights file rebuilds the same score model", "[models]") {
    const auto spec = tiny_spec();
    const auto path = temp_path("tiny.safetensors");
    const auto values = write_model(spec, path, {{"training.command", "sgm-train --steps 1"}});
    CHECK(sgm::models::read_image_model_spec(path).network.base_channels == 8);

    // The reference: the same network, weights and SDE, built by hand.
    sgm::nn::unet<float> net(spec.network, sgm::nn::cpu_context(1));
    net.parameters().assign_values(values);
    sgm::nn::score_network reference(std::move(net), sgm::ve_sde<float>(0.01f, 25.0f, 1000), spec.score,
                                     sgm::tbb_backend<float>(1));
    const std::size_t n = 3, d = spec.dim();
    std::vector<float> x(n * d), t{0.9f, 0.3f, 0.01f}, want(n * d), got(n * d);
    for (std::size_t i = 0; i < x.size(); ++i) x[i] = float((i * 37) % 17) / 17.0f;
    reference.score({x.data(), n, d}, t.data(), {want.data(), n, d});

    const std::size_t steps = sgm::models::with_image_model<float>(
        path, 1, 100, [&](auto& model, const auto& sde, const image_model_spec& loaded) {
            CHECK(loaded.network.multipliers == spec.network.multipliers);
            model.score({x.data(), n, d}, t.data(), {got.data(), n, d});
            return sde.steps();
        });
    CHECK(steps == 100);  // the sampling SDE has the requested levels...
    CHECK(got == want);   // ...and the network keeps the training SDE's conditioning
}

TEST_CASE("with_image_model: corrupt files and mismatched weights are errors", "[models]") {
    using Catch::Matchers::Contains;
    const auto spec = tiny_spec();
    const auto none = [](auto&, const auto&, const auto&) { return 0; };
    CHECK_THROWS_WITH(sgm::models::with_image_model<float>(temp_path("missing.safetensors"), 1, 0, none),
                      Contains("missing.safetensors"));

    // A file whose config says base 16 but whose tensors are base 8.
    const auto path = temp_path("mismatch.safetensors");
    {
        sgm::nn::unet<float> net(spec.network);
        auto config = sgm::models::to_config(spec);
        config["unet.base_channels"] = "16";
        sgm::train::save_weights(path, net.parameters(), config);
    }
    CHECK_THROWS_WITH(sgm::models::with_image_model<float>(path, 1, 0, none), Contains("mismatch.safetensors"));

    // One flipped byte in the tensor data.
    const auto corrupt = temp_path("corrupt.safetensors");
    write_model(spec, corrupt);
    {
        std::fstream f(corrupt, std::ios::in | std::ios::out | std::ios::binary);
        f.seekp(-5, std::ios::end);
        f.put('\x7f');
    }
    CHECK_THROWS_WITH(sgm::models::read_image_model_spec(corrupt), Contains("checksum mismatch"));
}
