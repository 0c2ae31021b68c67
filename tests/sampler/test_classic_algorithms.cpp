// The predecessors of the SDE samplers come out as configurations of the PC
// sampler: NCSN's annealed Langevin dynamics (Song & Ermon 2019, Algorithm 1),
// DDPM's ancestral sampling (Ho et al. 2020, Algorithm 2), and the Langevin
// corrector alone. Each is written here from its own update formula, with the
// library's counter-based noise (draw 0 the prior, then one draw per stochastic
// update in order), and must give the PC sampler's samples to rounding.

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <vector>

#include <sgm/sgm.hpp>

#include "sampler_matrix.hpp"

namespace {

using backend = sgm::serial_backend<double>;
using vector = std::vector<double>;

constexpr std::size_t count = 64;
constexpr std::uint64_t seed = 31;

// The PC sampler's time grid t_i = linspace(T, eps, N)[i].
double grid_time(double t_end, double eps, std::size_t i, std::size_t n) {
    return t_end + (eps - t_end) * double(i) / double(n - 1);
}

// Draw `draw` of the batch, count × dim.
vector draw_noise(std::size_t dim, std::uint32_t draw) {
    const backend be;
    vector z(count * dim);
    sgm::random::fill_normal(be, z.data(), count, dim, sgm::random::noise_key{seed, 0}, draw);
    return z;
}

// The model's score of every sample at time t.
template <class Model>
vector score_at(Model& model, const vector& x, double t) {
    const std::size_t dim = model.dim();
    const vector times(count, t);
    vector out(count * dim);
    model.score(sgm::batch_view<const double>{x.data(), count, dim}, times.data(),
                sgm::batch_view<double>{out.data(), count, dim});
    return out;
}

double max_relative_difference(const vector& a, const vector& b) {
    double worst = 0;
    for (std::size_t i = 0; i < a.size(); ++i)
        worst = std::max(worst, std::abs(a[i] - b[i]) / std::max(1.0, std::abs(b[i])));
    return worst;
}

// Tweedie's formula E[x(0) | x(t)] = (x + s(t)² ∇log p_t(x)) / m(t), written out.
template <class SDE, class Model>
void tweedie(const SDE& sde, Model& model, vector& x, double t) {
    const vector s = score_at(model, x, t);
    const double m = sde.mean_coefficient(t), sd = sde.marginal_std(t);
    for (std::size_t i = 0; i < x.size(); ++i) x[i] = (x[i] + sd * sd * s[i]) / m;
}

// NCSN, Algorithm 1 of Song & Ermon (2019): for noise levels σ_1 > … > σ_L
// (geometric), step size α_i = ε σ_i² / σ_L², T updates per level
//   x ← x + (α_i / 2) s(x, σ_i) + sqrt(α_i) z.
// The prior is the library's N(0, σ_1² I) (draw 0) rather than NCSN's uniform
// noise; the score at σ_i is the model's at the time where the VE SDE has σ(t) = σ_i.
vector ncsn_by_hand(const sgm::ve_sde<double>& sde, sgm::mixture_score<backend, sgm::ve_sde<double>>& model,
                    double step_size, std::size_t updates_per_level, double eps) {
    const std::size_t levels = sde.steps(), dim = model.dim();
    const double sigma_first = sde.sigma_max(), sigma_last = sde.marginal_std(eps);
    vector x = draw_noise(dim, 0);
    for (double& v : x) v *= sigma_first;
    std::uint32_t draw = 1;
    for (std::size_t i = 0; i < levels; ++i) {
        const double sigma = sigma_first * std::pow(sigma_last / sigma_first, double(i) / double(levels - 1));
        const double alpha = step_size * sigma * sigma / (sigma_last * sigma_last);
        const double t = grid_time(sde.T(), eps, i, levels);
        for (std::size_t k = 0; k < updates_per_level; ++k) {
            const vector s = score_at(model, x, t);
            const vector z = draw_noise(dim, draw++);
            for (std::size_t j = 0; j < x.size(); ++j) x[j] += 0.5 * alpha * s[j] + std::sqrt(alpha) * z[j];
        }
    }
    return x;
}

// DDPM, Algorithm 2 of Ho et al. (2020) with σ_t² = β_t and ε_θ = −sqrt(1 − ᾱ_t) s:
//   x_{t−1} = (x_t + β_t s(x_t, t)) / sqrt(1 − β_t) + sqrt(β_t) z,
// from t = N down to 1 with β = linspace(β_min/N, β_max/N, N). DDPM takes z = 0
// at t = 1; `last_noise` keeps it (the PC sampler without denoising does), and
// `stop_before_last` stops after t = 2 (the PC sampler then applies Tweedie).
vector ddpm_by_hand(const sgm::vp_sde<double>& sde, sgm::mixture_score<backend, sgm::vp_sde<double>>& model, double eps,
                    bool last_noise, bool stop_before_last) {
    const std::size_t n = sde.steps(), dim = model.dim();
    const double beta_first = sde.beta_min() / double(n), beta_last = sde.beta_max() / double(n);
    vector x = draw_noise(dim, 0);
    for (std::size_t i = 0; i < n; ++i) {
        const std::size_t level = n - 1 - i;  // DDPM's t − 1
        if (level == 0 && stop_before_last) break;
        const double beta = beta_first + (beta_last - beta_first) * double(level) / double(n - 1);
        const vector s = score_at(model, x, grid_time(sde.T(), eps, i, n));
        const vector z = draw_noise(dim, std::uint32_t(i + 1));
        const double noise = level == 0 && !last_noise ? 0.0 : std::sqrt(beta);
        for (std::size_t j = 0; j < x.size(); ++j) x[j] = (x[j] + beta * s[j]) / std::sqrt(1 - beta) + noise * z[j];
    }
    return x;
}

}  // namespace

TEST_CASE("NCSN's annealed Langevin dynamics is no predictor + annealed Langevin on VE", "[sampler][pc][ncsn]") {
    const auto& target = sgm::test::mixture_2d_target();
    const double eps = 1e-5, step_size = 2e-5;  // NCSN's ε
    const std::size_t levels = 30, updates = 3;
    const sgm::ve_sde<double> sde(0.01, target.sigma_max, levels);
    const backend be;
    sgm::mixture_score<backend, sgm::ve_sde<double>> model(target.mixture, sde, be);
    sgm::mixture_score<backend, sgm::ve_sde<double>> hand_model(target.mixture, sde, be);

    // NCSN's α_i / 2 = 2 (snr σ_i)² when snr = sqrt(ε) / (2 σ_L).
    const double snr = std::sqrt(step_size) / (2 * sde.marginal_std(eps));
    sgm::pc_options options;
    options.count = count;
    options.eps = eps;
    options.seed = seed;
    const vector expected = ncsn_by_hand(sde, hand_model, step_size, updates, eps);

    SECTION("without the final denoising step") {
        options.denoise = false;
        const auto result =
            sgm::pc_sample(sde, model, sgm::no_predictor{}, sgm::annealed_langevin(snr, updates), options, be);
        CHECK(result.nfe == levels * updates);
        CHECK(max_relative_difference(result.samples.to_host(be), expected) < 1e-12);
    }
    SECTION("with NCSNv2's final denoising step x + σ_L² s(x, σ_L)") {
        const auto result =
            sgm::pc_sample(sde, model, sgm::no_predictor{}, sgm::annealed_langevin(snr, updates), options, be);
        vector denoised = expected;
        tweedie(sde, hand_model, denoised, eps);
        CHECK(result.nfe == levels * updates + 1);
        CHECK(max_relative_difference(result.samples.to_host(be), denoised) < 1e-12);
    }
}

TEST_CASE("DDPM ancestral sampling is ancestral sampling + no corrector on VP", "[sampler][pc][ddpm]") {
    const auto& target = sgm::test::mixture_2d_target();
    const double eps = 1e-3;
    const std::size_t n = 100;
    const sgm::vp_sde<double> sde(0.1, 20, n);
    const backend be;
    sgm::mixture_score<backend, sgm::vp_sde<double>> model(target.mixture, sde, be);
    sgm::mixture_score<backend, sgm::vp_sde<double>> hand_model(target.mixture, sde, be);
    sgm::pc_options options;
    options.count = count;
    options.eps = eps;
    options.seed = seed;

    SECTION("without denoising: DDPM with noise also at t = 1") {
        options.denoise = false;
        const auto result = sgm::pc_sample(sde, model, sgm::ancestral_sampling{}, sgm::no_corrector{}, options, be);
        const auto samples = result.samples.to_host(be);
        CHECK(result.nfe == n);
        CHECK(max_relative_difference(samples, ddpm_by_hand(sde, hand_model, eps, true, false)) < 1e-12);

        // Taking the last draw back out gives DDPM's Algorithm 2 exactly.
        const vector exact_ddpm = ddpm_by_hand(sde, hand_model, eps, false, false);
        const vector z = draw_noise(2, std::uint32_t(n));
        vector without_last_noise = samples;
        for (std::size_t j = 0; j < z.size(); ++j)
            without_last_noise[j] -= std::sqrt(sde.beta_min() / double(n)) * z[j];
        CHECK(max_relative_difference(without_last_noise, exact_ddpm) < 1e-12);
    }
    SECTION("with denoising: DDPM down to t = 2, then Tweedie at eps") {
        const auto result = sgm::pc_sample(sde, model, sgm::ancestral_sampling{}, sgm::no_corrector{}, options, be);
        vector expected = ddpm_by_hand(sde, hand_model, eps, true, true);
        tweedie(sde, hand_model, expected, eps);
        CHECK(result.nfe == n);
        CHECK(max_relative_difference(result.samples.to_host(be), expected) < 1e-12);
    }
}

// The Langevin corrector alone, by hand: per level k, `updates` times
//   ε_b = 2 α_k snr² D / ‖s_b‖²,  x_b ← x_b + ε_b s_b + sqrt(2 ε_b) z_b,
// α_k = 1 − β_k for VP; with batch-averaged norms the rule is the paper code's,
// ε = 2 α_k (snr mean‖z_b‖ / mean‖s_b‖)². Annealed Langevin: ε = 2 α_k (snr s(t))².
TEST_CASE("the Langevin correctors follow their update formulas", "[sampler][pc][langevin]") {
    const std::size_t dim = 16, n = 40, updates = 2;
    const double eps = 1e-3, snr = 0.16;
    std::vector<double> mean(dim), variances(dim);
    for (std::size_t j = 0; j < dim; ++j) {
        mean[j] = std::cos(double(j));
        variances[j] = 0.2 + 0.1 * double(j);
    }
    const auto data = sgm::gaussian_mixture<double>::diagonal_gaussian(mean, variances);
    const sgm::vp_sde<double> sde(0.1, 20, n);
    const backend be;
    sgm::mixture_score<backend, sgm::vp_sde<double>> model(data, sde, be), hand_model(data, sde, be);
    enum class rule { per_sample, batch_averaged, annealed };
    const rule r = GENERATE(rule::per_sample, rule::batch_averaged, rule::annealed);

    vector x = draw_noise(dim, 0);
    std::uint32_t draw = 1;
    for (std::size_t i = 0; i < n; ++i) {
        const std::size_t level = n - 1 - i;
        const double t = grid_time(sde.T(), eps, i, n);
        const double beta =
            sde.beta_min() / double(n) + (sde.beta_max() - sde.beta_min()) / double(n) * double(level) / double(n - 1);
        const double alpha = 1 - beta;
        for (std::size_t k = 0; k < updates; ++k) {
            const vector s = score_at(hand_model, x, t);
            const vector z = draw_noise(dim, draw++);
            vector step(count);
            if (r == rule::annealed) {
                const double sd = sde.marginal_std(t);
                std::fill(step.begin(), step.end(), 2 * alpha * snr * snr * sd * sd);
            } else {
                vector s_norm(count), z_norm(count);
                for (std::size_t b = 0; b < count; ++b) {
                    double ss = 0, zz = 0;
                    for (std::size_t j = 0; j < dim; ++j) {
                        ss += s[b * dim + j] * s[b * dim + j];
                        zz += z[b * dim + j] * z[b * dim + j];
                    }
                    s_norm[b] = std::sqrt(ss);
                    z_norm[b] = r == rule::per_sample ? std::sqrt(double(dim)) : std::sqrt(zz);
                }
                if (r == rule::batch_averaged) {
                    double s_mean = 0, z_mean = 0;
                    for (std::size_t b = 0; b < count; ++b) {
                        s_mean += s_norm[b] / double(count);
                        z_mean += z_norm[b] / double(count);
                    }
                    std::fill(s_norm.begin(), s_norm.end(), s_mean);
                    std::fill(z_norm.begin(), z_norm.end(), z_mean);
                }
                for (std::size_t b = 0; b < count; ++b) {
                    const double ratio = snr * z_norm[b] / s_norm[b];
                    step[b] = 2 * alpha * ratio * ratio;
                }
            }
            for (std::size_t b = 0; b < count; ++b)
                for (std::size_t j = 0; j < dim; ++j)
                    x[b * dim + j] += step[b] * s[b * dim + j] + std::sqrt(2 * step[b]) * z[b * dim + j];
        }
    }

    sgm::pc_options options;
    options.count = count;
    options.eps = eps;
    options.seed = seed;
    options.denoise = false;
    const auto run = [&](auto corrector) {
        const auto result = sgm::pc_sample(sde, model, sgm::no_predictor{}, corrector, options, be);
        CHECK(result.nfe == n * updates);
        return result.samples.to_host(be);
    };
    const vector samples = r == rule::annealed ? run(sgm::annealed_langevin(snr, updates))
                                               : run(sgm::langevin(snr, updates, r == rule::batch_averaged));
    CHECK(max_relative_difference(samples, x) < 1e-12);
}
