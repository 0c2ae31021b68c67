#pragma once
// Small networks and comparisons shared by the backend network and training tests.
#include <catch2/catch.hpp>

#include <sgm/nn/mlp.hpp>
#include <sgm/nn/unet.hpp>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <string>
#include <vector>

namespace sgm_test {

inline sgm::nn::mlp_config config(sgm::nn::embedding_kind embedding) {
    sgm::nn::mlp_config c;
    c.data_dim = 3;
    c.hidden = 24;
    c.depth = 3;
    c.embedding_size = 10;
    c.embedding = embedding;
    c.fourier_scale = 4.0;
    c.seed = 11;
    return c;
}

inline std::vector<double> wave(std::size_t n, double a, double b) {
    std::vector<double> v(n);
    for (std::size_t i = 0; i < n; ++i) v[i] = std::sin(a * double(i) + b);
    return v;
}

// |a − b| ≤ 1e-13 · (1 + max |a|): sums of a few dozen products in another order.
inline void require_close(const std::vector<double>& a, const std::vector<double>& b) {
    REQUIRE(a.size() == b.size());
    double scale = 1, worst = 0;
    for (std::size_t i = 0; i < a.size(); ++i) {
        scale = std::max(scale, std::abs(a[i]));
        worst = std::max(worst, std::abs(a[i] - b[i]));
    }
    INFO("worst difference " << worst << " at scale " << scale);
    REQUIRE(worst <= 1e-13 * scale);
}

// A small U-Net (8×8, two levels, attention at 4×4) whose near-zero-initialized
// tensors (conv₁, attention and output projections: scale 1e-10, values ~1e-6)
// get real values, so that every path, dropout's included, carries gradient.
inline sgm::nn::unet<double> small_unet(sgm::nn::embedding_kind embedding) {
    sgm::nn::unet_config c;
    c.channels = 2;
    c.height = c.width = 8;
    c.base_channels = 8;
    c.multipliers = {1, 2};
    c.blocks_per_level = 1;
    c.attention_resolutions = {4};
    c.embedding = embedding;
    c.seed = 3;
    sgm::nn::unet<double> net(c);
    std::size_t k = 0;
    for (const auto& e : net.parameters()) {
        auto& v = e.tensor->value;
        if (std::all_of(v.begin(), v.end(), [](double x) { return std::abs(x) < 1e-4; }) &&
            e.name.find("weight") != std::string::npos) {
            v = wave(v.size(), 0.43, double(++k));
            for (double& x : v) x *= 0.1;
        }
    }
    return net;
}

}  // namespace sgm_test
