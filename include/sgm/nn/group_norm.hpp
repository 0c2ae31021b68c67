#pragma once
// Group normalization (Wu & He 2018) on NCHW batches, as PyTorch's GroupNorm:
// the C channels of each sample split into G groups of C/G channels; each
// group is normalized by its own mean and (biased) variance over its C/G·H·W
// values, then scaled and shifted per channel:
//
//   y[b, c, ·] = γ_c · (x[b, c, ·] − μ_{b,g}) / √(σ²_{b,g} + ε) + β_c
//
// Statistics and the backward's reductions accumulate in double (two passes
// for the variance), so float activations lose nothing to cancellation.
// γ (weight) starts at ones and β (bias) at zeros.

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <string>
#include <vector>

#include "../error.hpp"
#include "cpu_context.hpp"
#include "layer.hpp"
#include "parameter.hpp"

namespace sgm::nn {

namespace detail {

// Σ term(i) for i < n in double, in a fixed order: 8 interleaved partial sums
// (vectorizable, and no long dependency chain), combined pairwise.
template <class F>
[[nodiscard]] double lane_accumulate(std::size_t n, F&& term) {
    constexpr std::size_t lanes = 8;
    double acc[lanes] = {};
    std::size_t i = 0;
    for (; i + lanes <= n; i += lanes)
        for (std::size_t l = 0; l < lanes; ++l) acc[l] += term(i + l);
    for (std::size_t l = 0; i < n; ++i, ++l) acc[l] += term(i);
    for (std::size_t width = lanes / 2; width > 0; width /= 2)
        for (std::size_t l = 0; l < width; ++l) acc[l] += acc[l + width];
    return acc[0];
}

}  // namespace detail

template <class Real>
class group_norm {
public:
    using value_type = Real;

    group_norm(std::size_t channels, std::size_t groups, std::size_t spatial, double eps = 1e-6)
        : c_(channels), g_(groups), hw_(spatial), eps_(eps),
          weight_("weight", {channels}, {init_rule::kind::ones}),
          bias_("bias", {channels}, {init_rule::kind::zeros}) {
        sgm::detail::require(channels > 0 && groups > 0 && spatial > 0, "group_norm: channels ", channels,
                             ", groups ", groups, " and spatial size ", spatial, " must be positive");
        sgm::detail::require(channels % groups == 0, "group_norm: ", channels, " channels do not split into ",
                             groups, " groups");
        sgm::detail::require(eps > 0 && std::isfinite(eps), "group_norm: eps ", eps, " must be positive");
        std::fill(weight_.value.begin(), weight_.value.end(), Real(1));
    }

    [[nodiscard]] std::size_t channels() const { return c_; }
    [[nodiscard]] std::size_t groups() const { return g_; }
    [[nodiscard]] std::size_t input_size() const { return c_ * hw_; }
    [[nodiscard]] std::size_t output_size() const { return c_ * hw_; }
    parameter<Real>& weight() { return weight_; }
    parameter<Real>& bias() { return bias_; }

    void collect(parameter_list<Real>& list, const std::string& prefix) {
        list.add(weight_, prefix);
        list.add(bias_, prefix);
    }

    void forward(const cpu_context& ctx, const Real* x, Real* y, std::size_t n) {
        input_ = x;
        batch_ = n;
        if (stats_.size() < 2 * n * g_) stats_.resize(2 * n * g_);
        const std::size_t per = c_ / g_, m = per * hw_;
        const chunking samples{n, sample_grain()};
        ctx.for_each(samples.count(), [&](std::size_t chunk) {
            for (std::size_t b = samples.begin(chunk); b < samples.end(chunk); ++b)
                for (std::size_t g = 0; g < g_; ++g) {
                    const Real* xg = x + (b * c_ + g * per) * hw_;
                    const double mean =
                        detail::lane_accumulate(m, [&](std::size_t i) { return static_cast<double>(xg[i]); }) /
                        static_cast<double>(m);
                    const double sq = detail::lane_accumulate(m, [&](std::size_t i) {
                        const double d = static_cast<double>(xg[i]) - mean;
                        return d * d;
                    });
                    const double rstd = 1.0 / std::sqrt(sq / static_cast<double>(m) + eps_);
                    stats_[2 * (b * g_ + g)] = mean;
                    stats_[2 * (b * g_ + g) + 1] = rstd;
                    for (std::size_t c = g * per; c < (g + 1) * per; ++c) {
                        const Real scale = static_cast<Real>(rstd * static_cast<double>(weight_.value[c]));
                        const Real shift = bias_.value[c], mu = static_cast<Real>(mean);
                        const Real* xc = x + (b * c_ + c) * hw_;
                        Real* yc = y + (b * c_ + c) * hw_;
                        for (std::size_t i = 0; i < hw_; ++i) yc[i] = (xc[i] - mu) * scale + shift;
                    }
                }
        });
    }

    // With x̂ the normalized input and, per group, A = mean(γ·dy), B = mean(γ·dy·x̂):
    //   dx = rstd · (γ·dy − A − x̂·B),  dγ_c = Σ dy·x̂,  dβ_c = Σ dy.
    void backward(const cpu_context& ctx, const Real* dy, Real* dx, std::size_t n, gradients g) {
        sgm::detail::require(n == batch_, "group_norm::backward: batch ", n, " differs from the last forward's ",
                             batch_);
        if (sums_.size() < 2 * n * c_) sums_.resize(2 * n * c_);
        const std::size_t per = c_ / g_;
        const double m = static_cast<double>(per * hw_);
        const chunking samples{n, sample_grain()};
        ctx.for_each(samples.count(), [&](std::size_t chunk) {
            for (std::size_t b = samples.begin(chunk); b < samples.end(chunk); ++b)
                for (std::size_t grp = 0; grp < g_; ++grp) {
                    const double mean = stats_[2 * (b * g_ + grp)], rstd = stats_[2 * (b * g_ + grp) + 1];
                    double a = 0, bb = 0;
                    for (std::size_t c = grp * per; c < (grp + 1) * per; ++c) {
                        const Real* xc = input_ + (b * c_ + c) * hw_;
                        const Real* dyc = dy + (b * c_ + c) * hw_;
                        const double sdy =
                            detail::lane_accumulate(hw_, [&](std::size_t i) { return static_cast<double>(dyc[i]); });
                        const double sdyx = rstd * detail::lane_accumulate(hw_, [&](std::size_t i) {
                            return static_cast<double>(dyc[i]) * (static_cast<double>(xc[i]) - mean);
                        });
                        sums_[2 * (b * c_ + c)] = sdy;
                        sums_[2 * (b * c_ + c) + 1] = sdyx;
                        const double gamma = static_cast<double>(weight_.value[c]);
                        a += gamma * sdy;
                        bb += gamma * sdyx;
                    }
                    if (dx == nullptr) continue;
                    a /= m;
                    bb /= m;
                    for (std::size_t c = grp * per; c < (grp + 1) * per; ++c) {
                        const double gamma = static_cast<double>(weight_.value[c]);
                        const Real* xc = input_ + (b * c_ + c) * hw_;
                        const Real* dyc = dy + (b * c_ + c) * hw_;
                        Real* dxc = dx + (b * c_ + c) * hw_;
                        // The coefficients are exact to double; the per-element work is in Real.
                        const Real k1 = static_cast<Real>(rstd * gamma), k2 = static_cast<Real>(rstd * rstd * bb);
                        const Real k0 = static_cast<Real>(rstd * a), mu = static_cast<Real>(mean);
                        for (std::size_t i = 0; i < hw_; ++i) dxc[i] = k1 * dyc[i] - k0 - k2 * (xc[i] - mu);
                    }
                }
        });
        if (!wants_parameter_grads(g)) return;
        // Per-sample sums added in sample order: the same on any thread count.
        for (std::size_t c = 0; c < c_; ++c) {
            double sdy = 0, sdyx = 0;
            for (std::size_t b = 0; b < n; ++b) {
                sdy += sums_[2 * (b * c_ + c)];
                sdyx += sums_[2 * (b * c_ + c) + 1];
            }
            weight_.grad[c] += static_cast<Real>(sdyx);
            bias_.grad[c] += static_cast<Real>(sdy);
        }
    }

private:
    // Whole samples per task, about 32k values each.
    [[nodiscard]] std::size_t sample_grain() const { return std::max<std::size_t>(1, (1 << 15) / (c_ * hw_)); }

    std::size_t c_, g_, hw_;
    double eps_;
    parameter<Real> weight_, bias_;
    const Real* input_ = nullptr;
    std::size_t batch_ = 0;
    std::vector<double> stats_, sums_;  // (mean, 1/std) per sample and group; (Σdy, Σdy·x̂) per sample and channel
};

}  // namespace sgm::nn
