#pragma once
// Reading and writing the config entries of model files: typed lookups whose errors
// name the file, the key and the value, shared by every model description
// (image_model.hpp, classifier_model.hpp).

#include <cstddef>
#include <exception>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "../data/scaling.hpp"
#include "../error.hpp"
#include "../nn/time_embedding.hpp"
#include "../train/checkpoint.hpp"

namespace sgm::models {

// "1,2,2" from {1, 2, 2}.
[[nodiscard]] inline std::string join_sizes(const std::vector<std::size_t>& v) {
    std::string s;
    for (std::size_t i = 0; i < v.size(); ++i) s.append(i ? "," : "").append(std::to_string(v[i]));
    return s;
}

[[nodiscard]] inline std::string pixel_range_text(data::pixel_range r) {
    return r == data::pixel_range::unit ? "unit" : "symmetric";
}

[[nodiscard]] inline std::string embedding_text(nn::embedding_kind k) {
    return k == nn::embedding_kind::sinusoidal ? "sinusoidal" : "gaussian_fourier";
}

class config_reader {
public:
    // `what` completes "this file does not describe ..." when a key is missing.
    config_reader(const train::config_map& c, std::string source, std::string what)
        : c_(c), src_(std::move(source)), what_(std::move(what)) {}

    [[nodiscard]] const std::string& text(const std::string& key) const {
        const auto it = c_.find(key);
        if (it == c_.end())
            throw error(src_ + ": config key '" + key + "' is missing; this file does not describe " + what_);
        return it->second;
    }
    [[nodiscard]] std::size_t size(const std::string& key) const {
        const std::string& t = text(key);
        if (!is_integer(t)) throw error(src_ + ": config '" + key + "' = '" + t + "' is not a non-negative integer");
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
            if (!is_integer(item))
                throw error(src_ + ": config '" + key + "' = '" + t + "' is not a comma-separated list of integers");
            out.push_back(static_cast<std::size_t>(std::stoull(item)));
        }
        return out;
    }
    [[nodiscard]] data::pixel_range range(const std::string& key) const {
        const std::string& t = text(key);
        if (t == "unit") return data::pixel_range::unit;
        if (t == "symmetric") return data::pixel_range::symmetric;
        throw error(src_ + ": config '" + key + "' = '" + t + "'; expected unit or symmetric");
    }
    [[nodiscard]] nn::embedding_kind embedding(const std::string& key) const {
        const std::string& t = text(key);
        if (t == "sinusoidal") return nn::embedding_kind::sinusoidal;
        if (t == "gaussian_fourier") return nn::embedding_kind::gaussian_fourier;
        throw error(src_ + ": config '" + key + "' = '" + t + "'; expected sinusoidal or gaussian_fourier");
    }

private:
    // Decimal digits only, short enough for 64 bits.
    static bool is_integer(const std::string& t) {
        return !t.empty() && t.size() <= 18 && t.find_first_not_of("0123456789") == std::string::npos;
    }

    const train::config_map& c_;
    std::string src_, what_;
};

}  // namespace sgm::models
