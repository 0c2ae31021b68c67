#pragma once
// A trained image classifier as a file: its configuration, the pixel range of
// its inputs and, for a time-conditioned one, the SDE whose noisy data it was
// trained on, stored as config entries of its weights file.
//
//   auto c = load_classifier<float>("models/mnist_classifier/weights.safetensors", threads);
//   c.network.forward(x, nullptr, logits, n);   // x in c.spec.range
//
// Keys (config.<key> in the file's metadata): model = classifier, data,
// data.range, sde (time-conditioned only), classifier.channels, .height, .width,
// .base_channels, .multipliers, .blocks_per_level, .feature_size, .classes,
// .time_conditioned, .embedding, .embedding_size, .time_scale, .fourier_scale.
// classifier.seed is not stored: the weights replace the initialization.

#include <cstddef>
#include <filesystem>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "../data/scaling.hpp"
#include "../error.hpp"
#include "../io/safetensors.hpp"
#include "../nn/classifier.hpp"
#include "../train/checkpoint.hpp"
#include "config_reader.hpp"
#include "sde_spec.hpp"

namespace sgm::models {

struct classifier_spec {
    nn::classifier_config network;
    data::pixel_range range = data::pixel_range::unit;
    std::optional<sde_spec> sde;  // the SDE of the noisy training inputs (time-conditioned only)
    std::string data;             // free text: which data it was trained on

    [[nodiscard]] std::size_t dim() const { return network.channels * network.height * network.width; }
};


[[nodiscard]] inline train::config_map to_config(const classifier_spec& s) {
    const auto& n = s.network;
    train::config_map c;
    c["model"] = "classifier";
    c["data"] = s.data;
    c["data.range"] = pixel_range_text(s.range);
    if (s.sde) c["sde"] = to_string(*s.sde);
    c["classifier.channels"] = std::to_string(n.channels);
    c["classifier.height"] = std::to_string(n.height);
    c["classifier.width"] = std::to_string(n.width);
    c["classifier.base_channels"] = std::to_string(n.base_channels);
    c["classifier.multipliers"] = join_sizes(n.multipliers);
    c["classifier.blocks_per_level"] = std::to_string(n.blocks_per_level);
    c["classifier.feature_size"] = std::to_string(n.feature_size);
    c["classifier.classes"] = std::to_string(n.classes);
    c["classifier.time_conditioned"] = n.time_conditioned ? "true" : "false";
    c["classifier.embedding"] = embedding_text(n.embedding);
    c["classifier.embedding_size"] = std::to_string(n.embedding_size);
    c["classifier.time_scale"] = number_text(n.time_scale);
    c["classifier.fourier_scale"] = number_text(n.fourier_scale);
    return c;
}

[[nodiscard]] inline classifier_spec classifier_from_config(const train::config_map& c, const std::string& source) {
    const config_reader r(c, source, "a classifier");
    if (r.text("model") != "classifier")
        throw error(source + ": config 'model' = '" + r.text("model") + "'; expected a classifier");
    classifier_spec s;
    s.data = r.text("data");
    s.range = r.range("data.range");
    auto& n = s.network;
    n.channels = r.size("classifier.channels");
    n.height = r.size("classifier.height");
    n.width = r.size("classifier.width");
    n.base_channels = r.size("classifier.base_channels");
    n.multipliers = r.sizes("classifier.multipliers");
    n.blocks_per_level = r.size("classifier.blocks_per_level");
    n.feature_size = r.size("classifier.feature_size");
    n.classes = r.size("classifier.classes");
    n.time_conditioned = r.flag("classifier.time_conditioned");
    n.embedding = r.embedding("classifier.embedding");
    n.embedding_size = r.size("classifier.embedding_size");
    n.time_scale = r.number("classifier.time_scale");
    n.fourier_scale = r.number("classifier.fourier_scale");
    if (n.time_conditioned) {
        try {
            s.sde = parse_sde_spec(r.text("sde"));
        } catch (const error& e) {
            throw error(source + ": config 'sde': " + e.what());
        }
    }
    return s;
}

// The classifier description stored in a weights file (checksums verified).
[[nodiscard]] inline classifier_spec read_classifier_spec(const std::filesystem::path& path) {
    const auto file = io::read_safetensors(path);
    return classifier_from_config(train::read_weights_config(file, path.string()), path.string());
}

template <class Real>
struct loaded_classifier {
    classifier_spec spec;
    nn::classifier<Real> network;
};

// Reads the weights file at `path` and rebuilds the classifier it describes, its
// loops on `threads` threads (0 = all).
template <class Real>
[[nodiscard]] loaded_classifier<Real> load_classifier(const std::filesystem::path& path, int threads = 0) {
    const auto file = io::read_safetensors(path);
    classifier_spec spec = classifier_from_config(train::read_weights_config(file, path.string()), path.string());
    loaded_classifier<Real> out{spec, nn::classifier<Real>(spec.network, nn::cpu_context(threads))};
    const auto params = out.network.parameters();
    params.assign_values(train::read_weights(file, params, nullptr, path.string()));
    return out;
}

}  // namespace sgm::models
