#pragma once
// A trained image score model as a file: the U-Net's configuration, the SDE it was
// trained with, the pixel range of its data and how the network is conditioned,
// all stored as config entries of its weights file, so one file is enough to
// rebuild the model and sample from it.
//
//   with_image_model<float>("models/mnist_vp/weights.safetensors", threads, 0,
//                           [&](auto& model, const auto& sde, const image_model_spec& spec) {
//       auto r = pc_sample(sde, model, reverse_diffusion{}, langevin{}, opts, backend);
//   });
//
// Keys (config.<key> in the file's metadata): model, data, data.range, sde,
// score.conditioning, score.divide_by_std, unet.channels, unet.height, unet.width,
// unet.base_channels, unet.multipliers, unet.blocks_per_level,
// unet.attention_resolutions, unet.dropout, unet.embedding, unet.fourier_scale.
// unet.seed is not stored: the weights replace the initialization.

#include <cstddef>
#include <filesystem>
#include <sstream>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "../backend/tbb.hpp"
#include "../data/scaling.hpp"
#include "../error.hpp"
#include "../io/safetensors.hpp"
#include "../nn/score_network.hpp"
#include "../nn/unet.hpp"
#include "../train/checkpoint.hpp"
#include "config_reader.hpp"
#include "sde_spec.hpp"

namespace sgm::models {

struct image_model_spec {
    nn::unet_config network;
    sde_spec sde;
    data::pixel_range range = data::pixel_range::symmetric;
    nn::score_network_options score;
    std::string data;  // free text: which data it was trained on

    [[nodiscard]] std::size_t dim() const { return network.channels * network.height * network.width; }
};


[[nodiscard]] inline train::config_map to_config(const image_model_spec& s) {
    const auto& n = s.network;
    train::config_map c;
    c["model"] = "unet";
    c["data"] = s.data;
    c["data.range"] = pixel_range_text(s.range);
    c["sde"] = to_string(s.sde);
    const auto cond = s.score.conditioning;
    c["score.conditioning"] = cond == nn::time_input::automatic   ? "automatic"
                              : cond == nn::time_input::sigma     ? "sigma"
                              : cond == nn::time_input::log_sigma ? "log_sigma"
                                                                  : "scaled_time";
    c["score.divide_by_std"] = s.score.divide_by_std ? "true" : "false";
    c["unet.channels"] = std::to_string(n.channels);
    c["unet.height"] = std::to_string(n.height);
    c["unet.width"] = std::to_string(n.width);
    c["unet.base_channels"] = std::to_string(n.base_channels);
    c["unet.multipliers"] = join_sizes(n.multipliers);
    c["unet.blocks_per_level"] = std::to_string(n.blocks_per_level);
    c["unet.attention_resolutions"] = join_sizes(n.attention_resolutions);
    c["unet.dropout"] = number_text(n.dropout);
    c["unet.embedding"] = embedding_text(n.embedding);
    c["unet.fourier_scale"] = number_text(n.fourier_scale);
    return c;
}

[[nodiscard]] inline image_model_spec image_model_from_config(const train::config_map& c, const std::string& source) {
    const config_reader r(c, source, "an image model");
    if (r.text("model") != "unet")
        throw error(source + ": config 'model' = '" + r.text("model") + "'; this build reads 'unet' image models");
    image_model_spec s;
    s.data = r.text("data");
    s.range = r.range("data.range");
    try {
        s.sde = parse_sde_spec(r.text("sde"));
    } catch (const error& e) {
        throw error(source + ": config 'sde': " + e.what());
    }
    const std::string& cond = r.text("score.conditioning");
    if (cond == "automatic") s.score.conditioning = nn::time_input::automatic;
    else if (cond == "sigma") s.score.conditioning = nn::time_input::sigma;
    else if (cond == "log_sigma") s.score.conditioning = nn::time_input::log_sigma;
    else if (cond == "scaled_time") s.score.conditioning = nn::time_input::scaled_time;
    else throw error(source + ": config 'score.conditioning' = '" + cond + "' is not a known conditioning");
    s.score.divide_by_std = r.flag("score.divide_by_std");
    auto& n = s.network;
    n.channels = r.size("unet.channels");
    n.height = r.size("unet.height");
    n.width = r.size("unet.width");
    n.base_channels = r.size("unet.base_channels");
    n.multipliers = r.sizes("unet.multipliers");
    n.blocks_per_level = r.size("unet.blocks_per_level");
    n.attention_resolutions = r.sizes("unet.attention_resolutions");
    n.dropout = r.number("unet.dropout");
    n.embedding = r.embedding("unet.embedding");
    n.fourier_scale = r.number("unet.fourier_scale");
    return s;
}

// The model description stored in a weights file (checksums verified). Keys other
// than the ones above (e.g. training.* provenance) are allowed and ignored.
[[nodiscard]] inline image_model_spec read_image_model_spec(const std::filesystem::path& path) {
    const auto file = io::read_safetensors(path);
    return image_model_from_config(train::read_weights_config(file, path.string()), path.string());
}

// Reads the weights file at `path`, builds the U-Net it describes with its weights,
// wraps it as a score model on a oneTBB backend with `threads` threads (0 = all),
// and calls f(model, sampling_sde, spec): sampling_sde is the SDE the model was
// trained with, discretized with `sampling_steps` levels (0 = the training N).
template <class Real, class F>
decltype(auto) with_image_model(const std::filesystem::path& path, int threads, std::size_t sampling_steps, F&& f) {
    const auto file = io::read_safetensors(path);
    const image_model_spec spec = image_model_from_config(train::read_weights_config(file, path.string()), path.string());
    nn::unet<Real> net(spec.network, nn::cpu_context(threads));
    const auto params = net.parameters();
    params.assign_values(train::read_weights(file, params, nullptr, path.string()));
    return visit_sde<Real>(spec.sde, 0, [&](const auto& training_sde) -> decltype(auto) {
        using SDE = std::remove_cvref_t<decltype(training_sde)>;
        const SDE sampling = visit_sde<Real>(spec.sde, sampling_steps, [](const auto& s) -> SDE {
            if constexpr (std::is_same_v<std::remove_cvref_t<decltype(s)>, SDE>) return s;
            else throw error("with_image_model: the SDE kind changed between two reads");  // unreachable
        });
        nn::score_network model(std::move(net), training_sde, spec.score, tbb_backend<Real>(threads));
        return std::forward<F>(f)(model, sampling, spec);
    });
}

}  // namespace sgm::models
