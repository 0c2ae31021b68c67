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
#include "sde_spec.hpp"

namespace sgm::models {

struct classifier_spec {
    nn::classifier_config network;
    data::pixel_range range = data::pixel_range::unit;
    std::optional<sde_spec> sde;  // the SDE of the noisy training inputs (time-conditioned only)
    std::string data;             // free text: which data it was trained on

    [[nodiscard]] std::size_t dim() const { return network.channels * network.height * network.width; }
};

namespace classifier_detail {

[[nodiscard]] inline std::string number_text(double x) {
    std::ostringstream out;
    out.precision(17);
    out << x;
    return out.str();
}

class reader {
public:
    reader(const train::config_map& c, std::string source) : c_(c), src_(std::move(source)) {}

    [[nodiscard]] const std::string& text(const std::string& key) const {
        const auto it = c_.find(key);
        if (it == c_.end())
            throw error(src_ + ": config key '" + key + "' is missing; this file does not describe a classifier");
        return it->second;
    }
    [[nodiscard]] std::size_t size(const std::string& key) const {
        const std::string& t = text(key);
        if (t.empty() || t.size() > 18 || t.find_first_not_of("0123456789") != std::string::npos)
            throw error(src_ + ": config '" + key + "' = '" + t + "' is not a non-negative integer");
        return static_cast<std::size_t>(std::stoull(t));
    }
    [[nodiscard]] double number(const std::string& key) const {
        const std::string& t = text(key);
        std::size_t used = 0;
        double v = 0;
        try {
            v = std::stod(t, &used);
        } catch (const std::exception&) {
            used = 0;
        }
        if (used != t.size() || t.empty()) throw error(src_ + ": config '" + key + "' = '" + t + "' is not a number");
        return v;
    }
    [[nodiscard]] bool flag(const std::string& key) const {
        const std::string& t = text(key);
        if (t != "true" && t != "false")
            throw error(src_ + ": config '" + key + "' = '" + t + "'; expected true or false");
        return t == "true";
    }
    [[nodiscard]] std::vector<std::size_t> sizes(const std::string& key) const {
        const std::string& t = text(key);
        std::vector<std::size_t> out;
        std::stringstream in(t);
        std::string item;
        while (std::getline(in, item, ',')) {
            if (item.empty() || item.size() > 18 || item.find_first_not_of("0123456789") != std::string::npos)
                throw error(src_ + ": config '" + key + "' = '" + t + "' is not a comma-separated list of integers");
            out.push_back(static_cast<std::size_t>(std::stoull(item)));
        }
        return out;
    }

private:
    const train::config_map& c_;
    std::string src_;
};

}  // namespace classifier_detail

[[nodiscard]] inline train::config_map to_config(const classifier_spec& s) {
    const auto& n = s.network;
    train::config_map c;
    c["model"] = "classifier";
    c["data"] = s.data;
    c["data.range"] = s.range == data::pixel_range::unit ? "unit" : "symmetric";
    if (s.sde) c["sde"] = to_string(*s.sde);
    c["classifier.channels"] = std::to_string(n.channels);
    c["classifier.height"] = std::to_string(n.height);
    c["classifier.width"] = std::to_string(n.width);
    c["classifier.base_channels"] = std::to_string(n.base_channels);
    std::string multipliers;
    for (std::size_t i = 0; i < n.multipliers.size(); ++i) multipliers += (i ? "," : "") + std::to_string(n.multipliers[i]);
    c["classifier.multipliers"] = multipliers;
    c["classifier.blocks_per_level"] = std::to_string(n.blocks_per_level);
    c["classifier.feature_size"] = std::to_string(n.feature_size);
    c["classifier.classes"] = std::to_string(n.classes);
    c["classifier.time_conditioned"] = n.time_conditioned ? "true" : "false";
    c["classifier.embedding"] = n.embedding == nn::embedding_kind::sinusoidal ? "sinusoidal" : "gaussian_fourier";
    c["classifier.embedding_size"] = std::to_string(n.embedding_size);
    c["classifier.time_scale"] = classifier_detail::number_text(n.time_scale);
    c["classifier.fourier_scale"] = classifier_detail::number_text(n.fourier_scale);
    return c;
}

[[nodiscard]] inline classifier_spec classifier_from_config(const train::config_map& c, const std::string& source) {
    const classifier_detail::reader r(c, source);
    if (r.text("model") != "classifier")
        throw error(source + ": config 'model' = '" + r.text("model") + "'; expected a classifier");
    classifier_spec s;
    s.data = r.text("data");
    const std::string& range = r.text("data.range");
    if (range == "unit") s.range = data::pixel_range::unit;
    else if (range == "symmetric") s.range = data::pixel_range::symmetric;
    else throw error(source + ": config 'data.range' = '" + range + "'; expected unit or symmetric");
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
    const std::string& emb = r.text("classifier.embedding");
    if (emb == "sinusoidal") n.embedding = nn::embedding_kind::sinusoidal;
    else if (emb == "gaussian_fourier") n.embedding = nn::embedding_kind::gaussian_fourier;
    else throw error(source + ": config 'classifier.embedding' = '" + emb + "'; expected sinusoidal or gaussian_fourier");
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
