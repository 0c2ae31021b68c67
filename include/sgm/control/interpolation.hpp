#pragma once
// Interpolation and temperature through the probability-flow ODE (Song et al.
// 2021, section 4.3): encode two data points to latents at T, walk the great
// circle between their directions (latents of a Gaussian prior concentrate on a
// sphere, so spherical interpolation keeps intermediate latents typical where a
// straight line would shrink them), optionally scale the latents' norms (temperature), and
// decode. The ODE is deterministic: decoding the encoded end points returns the
// inputs up to the solver tolerance.

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <span>
#include <utility>
#include <vector>

#include "../batch.hpp"
#include "../concepts/backend.hpp"
#include "../concepts/score_model.hpp"
#include "../concepts/sde.hpp"
#include "../error.hpp"
#include "../sample/ode_sampler.hpp"

namespace sgm {

// The point a fraction u ∈ [0, 1] of the way from a to b: its direction walks
// the great circle from a/|a| to b/|b| (equal angles for equal fractions) and its
// norm goes linearly from |a| to |b|. Scaling the directions' slerp this way keeps
// the norm between the end points' even when a and b are nearly opposite, where
// the unnormalized formula sin((1−u)θ)/sin θ · a + sin(uθ)/sin θ · b blows up
// unless |a| = |b|. Falls back to linear mixing when a or b is zero or the two are
// exactly (anti)parallel.
template <class Real>
std::vector<Real> slerp(std::span<const Real> a, std::span<const Real> b, double u) {
    detail::require(a.size() == b.size() && !a.empty(), "slerp: end points of sizes ", a.size(), " and ", b.size(),
                    "; expected two non-empty vectors of one size");
    detail::require(std::isfinite(u) && u >= 0 && u <= 1, "slerp: fraction u = ", u, "; expected a value in [0, 1]");
    double ab = 0, aa = 0, bb = 0;
    for (std::size_t i = 0; i < a.size(); ++i) {
        ab += double(a[i]) * double(b[i]);
        aa += double(a[i]) * double(a[i]);
        bb += double(b[i]) * double(b[i]);
    }
    double wa = 1 - u, wb = u;
    if (aa > 0 && bb > 0) {
        const double na = std::sqrt(aa), nb = std::sqrt(bb);
        const double theta = std::acos(std::clamp(ab / (na * nb), -1.0, 1.0));
        if (std::sin(theta) > 1e-6) {
            const double norm = (1 - u) * na + u * nb;
            wa = norm * std::sin((1 - u) * theta) / (std::sin(theta) * na);
            wb = norm * std::sin(u * theta) / (std::sin(theta) * nb);
        }
    }
    std::vector<Real> out(a.size());
    for (std::size_t i = 0; i < a.size(); ++i) out[i] = Real(wa * double(a[i]) + wb * double(b[i]));
    return out;
}

// `frames` equally spaced points from a (first) to b (last), one after another.
template <class Real>
std::vector<Real> slerp_path(std::span<const Real> a, std::span<const Real> b, std::size_t frames) {
    detail::require(frames >= 2, "slerp_path: frames = ", frames, "; expected at least 2 (the two end points)");
    std::vector<Real> out;
    out.reserve(frames * a.size());
    for (std::size_t f = 0; f < frames; ++f) {
        const auto point = slerp(a, b, double(f) / double(frames - 1));
        out.insert(out.end(), point.begin(), point.end());
    }
    return out;
}

template <backend Backend>
struct interpolation_result {
    batch<Backend> latents;  // frames × D at T, after the temperature
    batch<Backend> frames;   // frames × D decoded at eps
    std::size_t nfe = 0;     // encoding and decoding together
};

// Encodes a and b (D values each, host), slerps `frames` latents between them,
// multiplies them by `temperature` and decodes. Temperature 1 keeps the path's
// own norms; < 1 moves towards the prior's mode (smoother, more typical images).
template <backend Backend, sde SDE, score_model Model>
    requires std::same_as<typename Model::backend_type, Backend>
interpolation_result<Backend> ode_interpolate(const SDE& sde, Model& model,
                                              std::span<const typename Backend::value_type> a,
                                              std::span<const typename Backend::value_type> b, std::size_t frames,
                                              const ode_options& options, double temperature = 1.0,
                                              const Backend& be = Backend{}) {
    using Real = typename Backend::value_type;
    detail::require(a.size() == model.dim() && b.size() == model.dim(), "ode_interpolate: end points of sizes ",
                    a.size(), " and ", b.size(), "; the score model expects dim ", model.dim());
    detail::require(std::isfinite(temperature) && temperature > 0, "ode_interpolate: temperature = ", temperature,
                    "; expected a finite value > 0");
    std::vector<Real> ends(a.begin(), a.end());
    ends.insert(ends.end(), b.begin(), b.end());
    auto encoded = batch<Backend>::from_host(std::span<const Real>(ends), 2, a.size(), be);
    interpolation_result<Backend> result;
    result.nfe = ode_encode(sde, model, encoded, options, be).nfe;
    const auto z = encoded.to_host(be);
    const std::size_t d = a.size();
    auto path = slerp_path(std::span<const Real>(z.data(), d), std::span<const Real>(z.data() + d, d), frames);
    for (Real& v : path) v *= Real(temperature);
    result.latents = batch<Backend>::from_host(std::span<const Real>(path), frames, d, be);
    result.frames = result.latents;
    result.nfe += ode_decode(sde, model, result.frames, options, be).nfe;
    return result;
}

}  // namespace sgm
