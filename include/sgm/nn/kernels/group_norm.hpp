#pragma once
// Element kernels of group normalization (group_norm.hpp) on NCHW batches, for
// backend loops. C channels split into G groups of C/G; each (sample, group)
// is normalized by its own mean and biased variance over (C/G)·HW values, then
// scaled by γ_c and shifted by β_c. Sums run in double, in a fixed order; the
// statistics are stored in the activations' type.
//
// A pass is: group_norm_stats (n·G), then group_norm_forward (n·C·HW). The
// backward: group_norm_channel_sums (n·C), then group_norm_input_grad
// (n·C·HW) and group_norm_parameter_grad (C).

#include <cmath>
#include <cstddef>

#include "../../config.hpp"

namespace sgm::nn::kernels {

struct norm_geometry {
    std::size_t channels, groups, spatial;  // C, G, H·W
    [[nodiscard]] SGM_HOST_DEVICE std::size_t per_group() const { return channels / groups; }
};

// stats[2·(b·G + g)] = mean, stats[2·(b·G + g) + 1] = 1/√(var + ε); index b·G + g.
template <class Real>
struct group_norm_stats {
    const Real* x;
    Real* stats;
    norm_geometry g;
    double eps;
    SGM_HOST_DEVICE void operator()(std::size_t index) const {
        const std::size_t b = index / g.groups, grp = index % g.groups, m = g.per_group() * g.spatial;
        const Real* xg = x + (b * g.channels + grp * g.per_group()) * g.spatial;
        double sum = 0;
        for (std::size_t i = 0; i < m; ++i) sum += static_cast<double>(xg[i]);
        const double mean = sum / static_cast<double>(m);
        double sq = 0;
        for (std::size_t i = 0; i < m; ++i) {
            const double d = static_cast<double>(xg[i]) - mean;
            sq += d * d;
        }
        stats[2 * index] = static_cast<Real>(mean);
        stats[2 * index + 1] = static_cast<Real>(1.0 / std::sqrt(sq / static_cast<double>(m) + eps));
    }
};

// y = (x − μ)·(rstd·γ_c) + β_c; index (b·C + c)·HW + i.
template <class Real>
struct group_norm_forward {
    const Real* x;
    const Real* stats;
    const Real* gamma;
    const Real* beta;
    Real* y;
    norm_geometry g;
    SGM_HOST_DEVICE void operator()(std::size_t index) const {
        const std::size_t c = (index / g.spatial) % g.channels, b = index / (g.spatial * g.channels);
        const std::size_t s = b * g.groups + c / g.per_group();
        const Real scale = static_cast<Real>(static_cast<double>(stats[2 * s + 1]) * static_cast<double>(gamma[c]));
        y[index] = (x[index] - stats[2 * s]) * scale + beta[c];
    }
};

// sums[2·(b·C + c)] = Σ dy, sums[2·(b·C + c) + 1] = Σ dy·x̂ over the plane; index b·C + c.
template <class Real>
struct group_norm_channel_sums {
    const Real* x;
    const Real* dy;
    const Real* stats;
    Real* sums;
    norm_geometry g;
    SGM_HOST_DEVICE void operator()(std::size_t index) const {
        const std::size_t b = index / g.channels, c = index % g.channels;
        const std::size_t s = b * g.groups + c / g.per_group();
        const double mean = static_cast<double>(stats[2 * s]), rstd = static_cast<double>(stats[2 * s + 1]);
        const Real* xc = x + index * g.spatial;
        const Real* dyc = dy + index * g.spatial;
        double sdy = 0, sdyx = 0;
        for (std::size_t i = 0; i < g.spatial; ++i) {
            sdy += static_cast<double>(dyc[i]);
            sdyx += static_cast<double>(dyc[i]) * (static_cast<double>(xc[i]) - mean);
        }
        sums[2 * index] = static_cast<Real>(sdy);
        sums[2 * index + 1] = static_cast<Real>(rstd * sdyx);
    }
};

// dx = rstd·(γ·dy − A − x̂·B), A = mean over the group of γ·dy, B = mean of γ·dy·x̂;
// index (b·C + c)·HW + i.
template <class Real>
struct group_norm_input_grad {
    const Real* x;
    const Real* dy;
    const Real* stats;
    const Real* sums;
    const Real* gamma;
    Real* dx;
    norm_geometry g;
    SGM_HOST_DEVICE void operator()(std::size_t index) const {
        const std::size_t c = (index / g.spatial) % g.channels, b = index / (g.spatial * g.channels);
        const std::size_t per = g.per_group(), first = c / per * per, s = b * g.groups + c / per;
        double a = 0, bb = 0;
        for (std::size_t k = first; k < first + per; ++k) {
            a += static_cast<double>(gamma[k]) * static_cast<double>(sums[2 * (b * g.channels + k)]);
            bb += static_cast<double>(gamma[k]) * static_cast<double>(sums[2 * (b * g.channels + k) + 1]);
        }
        const double m = static_cast<double>(per * g.spatial), rstd = static_cast<double>(stats[2 * s + 1]);
        const double xhat = (static_cast<double>(x[index]) - static_cast<double>(stats[2 * s])) * rstd;
        dx[index] = static_cast<Real>(
            rstd * (static_cast<double>(gamma[c]) * static_cast<double>(dy[index]) - a / m - xhat * bb / m));
    }
};

// dγ_c += Σ_b Σ dy·x̂, dβ_c += Σ_b Σ dy, in sample order; index c.
template <class Real>
struct group_norm_parameter_grad {
    const Real* sums;
    Real* gamma_grad;
    Real* beta_grad;
    std::size_t channels, n;
    SGM_HOST_DEVICE void operator()(std::size_t c) const {
        double sdy = 0, sdyx = 0;
        for (std::size_t b = 0; b < n; ++b) {
            sdy += static_cast<double>(sums[2 * (b * channels + c)]);
            sdyx += static_cast<double>(sums[2 * (b * channels + c) + 1]);
        }
        gamma_grad[c] += static_cast<Real>(sdyx);
        beta_grad[c] += static_cast<Real>(sdy);
    }
};

}  // namespace sgm::nn::kernels
