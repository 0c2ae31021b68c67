#pragma once
// Options of the denoising score-matching losses, and the part every one of them
// shares: given perturbed inputs x_b, times t_b and noise z_b, run the model and
// return the batch mean of
//
//   loss_b = w_b · reduce_j (a_b s_bj + c_b z_bj)²,   reduce = mean or sum over the D values,
//
// adding the exact gradient of that mean into the parameters' grad on request.
// Each loss picks (a, c, w): σ² weighting (σ, 1, 1), likelihood weighting
// (1, 1/σ, g²), SMLD (σ_i, 1, 1), DDPM (sqrt(1 − ᾱ_i), 1, 1).

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <type_traits>
#include <vector>

#include "../error.hpp"
#include "../nn/layer.hpp"
#include "../random/philox_normal.hpp"
#include "../random/philox_uniform.hpp"
#include "batch_key.hpp"

namespace sgm::train {

enum class dsm_weighting {
    sigma_squared,  // λ(t) = σ(t)²: every noise level weighs alike (the paper's default)
    likelihood      // λ(t) = g(t)²: the loss bounds the negative log-likelihood (Song et al. 2021b)
};

enum class dsm_reduction {
    mean,  // mean over a sample's D values (the paper's reduce_mean = True)
    sum    // sum over them (reduce_mean = False, the paper's continuous-training configs)
};

struct dsm_options {
    using enum dsm_weighting;
    using enum dsm_reduction;
    dsm_weighting weighting = dsm_weighting::sigma_squared;
    dsm_reduction reduction = dsm_reduction::mean;
    double eps = 1e-5;  // t is uniform on [eps, T]
};

namespace detail {

// Uniform on (0, 1) for one sample of a batch: the time or the noise level.
[[nodiscard]] inline double draw_uniform(const batch_key& key, std::size_t b) {
    return random::uniform<double>(step_seed(key), key.first_sample + b, time_draw, 0);
}

// Noise level in {0, ..., levels − 1}, uniform.
[[nodiscard]] inline std::size_t draw_level(const batch_key& key, std::size_t b, std::size_t levels) {
    const auto i = static_cast<std::size_t>(draw_uniform(key, b) * double(levels));
    return i < levels ? i : levels - 1;
}

}  // namespace detail

// What a loss draws for one sample: its time t (the network's input), the
// perturbation x = mean·x0 + std·z, and the residual's a, c and weight w.
template <class Real>
struct dsm_coefficients {
    Real t, mean, std, a, c;
    double w;
};

namespace detail {

// One batch's buffers; a, c, w as in the header comment.
template <class Real>
struct dsm_batch {
    std::vector<Real> x, t, z, score, dscore, a, c;
    std::vector<double> w;

    // Sizes the buffers for n samples of d values; capacity only grows, so the
    // losses allocate nothing after their first batch of the largest size.
    void prepare(std::size_t n, std::size_t d) {
        for (auto* v : {&x, &z, &score}) v->resize(n * d);
        for (auto* v : {&t, &a, &c}) v->resize(n);
        w.resize(n);
    }

    // z_b = the standard normals of draw noise_draw for sample first_sample + b.
    void draw_noise(const batch_key& key, std::size_t n, std::size_t d) {
        const std::uint64_t seed = step_seed(key);
        for (std::size_t b = 0; b < n; ++b)
            for (std::size_t first = 0; first < d; first += 4) {
                Real block[4];
                random::normal_block<Real>(seed, key.first_sample + b, noise_draw,
                                           static_cast<std::uint32_t>(first / 4), block);
                for (std::size_t k = 0; k < 4 && first + k < d; ++k) z[b * d + first + k] = block[k];
            }
    }
};

inline void require_batch(const char* name, const void* x0, std::size_t n, std::size_t d) {
    sgm::detail::require(n > 0, name, ": empty batch; expected at least one sample");
    sgm::detail::require(d > 0, name, ": the model has no values per sample");
    sgm::detail::require(x0 != nullptr, name, ": no data (x0 is null)");
}

// The shared body of the losses' evaluate(): perturb x0 with each sample's
// coefficients (loss.coefficients(key, b)), then residual_loss.
template <class Loss, class Model, class Real>
double evaluate_dsm(const Loss& loss, dsm_batch<Real>& batch, Model& model, const Real* x0, std::size_t n,
                    const batch_key& key, bool compute_gradients, double* per_sample, const char* name) {
    const std::size_t d = model.dim();
    require_batch(name, x0, n, d);
    batch.prepare(n, d);
    batch.draw_noise(key, n, d);
    for (std::size_t b = 0; b < n; ++b) {
        const dsm_coefficients<Real> k = loss.coefficients(key, b);
        batch.t[b] = k.t;
        for (std::size_t j = 0; j < d; ++j) batch.x[b * d + j] = k.mean * x0[b * d + j] + k.std * batch.z[b * d + j];
        batch.a[b] = k.a;
        batch.c[b] = k.c;
        batch.w[b] = k.w;
    }
    return residual_loss(model, batch, n, d, loss.reduction(), key, compute_gradients, per_sample, name);
}

template <class Model, class Real>
double residual_loss(Model& model, dsm_batch<Real>& batch, std::size_t n, std::size_t d, dsm_reduction reduction,
                     const batch_key& key, bool compute_gradients, double* per_sample, const char* name) {
    static_assert(std::is_same_v<typename Model::value_type, Real>,
                  "DSM loss: the model's value type must be the SDE's");
    model.forward(batch.x.data(), batch.t.data(), batch.score.data(), n);
    const double rho = reduction == dsm_reduction::mean ? 1.0 / double(d) : 1.0;
    if (compute_gradients) batch.dscore.resize(n * d);
    double total = 0;
    for (std::size_t b = 0; b < n; ++b) {
        const Real a = batch.a[b], c = batch.c[b];
        double squares = 0;
        for (std::size_t j = 0; j < d; ++j) {
            const double r = double(a * batch.score[b * d + j] + c * batch.z[b * d + j]);
            squares += r * r;
        }
        const double loss = batch.w[b] * rho * squares;
        if (!std::isfinite(loss))
            throw sgm::error(sgm::detail::concat(name, ": non-finite loss ", loss, " at step ", key.step,
                                                 ", sample ", key.first_sample + b, " (t = ", batch.t[b], ")"));
        if (per_sample != nullptr) per_sample[b] = loss;
        total += loss;
        if (compute_gradients) {
            // d(mean_b loss_b)/ds_bj = (2 w_b ρ a_b / n) r_bj
            const double factor = 2 * batch.w[b] * rho * double(a) / double(n);
            for (std::size_t j = 0; j < d; ++j) {
                const double r = double(a * batch.score[b * d + j] + c * batch.z[b * d + j]);
                batch.dscore[b * d + j] = Real(factor * r);
            }
        }
    }
    if (compute_gradients) model.backward(batch.dscore.data(), nullptr, n, nn::gradients::parameters_only);
    return total / double(n);
}

}  // namespace detail
}  // namespace sgm::train
