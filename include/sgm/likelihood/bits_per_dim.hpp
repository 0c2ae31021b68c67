#pragma once
// Bits per dimension of quantized data (8-bit images: levels = 256), every term named.
//
// A datum is a vector of integer levels q ∈ {0, …, L−1}^D. Uniform dequantization
// gives v = q + u, u ~ U[0,1)^D, a continuous point in [0, L)^D; the model sees
//   y = lower + (upper − lower) · v / L          (its data range [lower, upper])
// and the change of variables gives the density of v,
//   log p_v(v) = log p_y(y) + D · log((upper − lower) / L).
// bits/dim is −log₂ p_v(v) / D:
//   bpd = −log p_y(y) / (D ln 2) + log₂ L − log₂(upper − lower)
//       = model term            + offset_bits.
// For data in [0, 1] and L = 256 the offset is 8 bits, for [−1, 1] it is 7. Because
// p_v is a density on [0, L)^D whose mass on the unit cube of q is the model's
// probability of q, E_u[bpd] ≥ −log₂ P(q) / D ≥ 0: averaged over dequantization draws
// bits/dim is never negative. log p_y is the probability-flow likelihood at eps
// (log_likelihood.hpp); the model term inherits its estimator's standard error.

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <vector>

#include "../batch.hpp"
#include "../concepts/backend.hpp"
#include "../concepts/score_model.hpp"
#include "../concepts/sde.hpp"
#include "../error.hpp"
#include "../random/philox_uniform.hpp"
#include "log_likelihood.hpp"

namespace sgm {

struct bits_per_dim_options {
    likelihood_options likelihood{};            // solver, divergence estimator, seed, first_sample
    std::size_t levels = 256;                   // L, quantization levels of the data
    double data_lower = 0, data_upper = 1;      // the model's data range [lower, upper]
    std::size_t dequantization_draws = 1;       // u draws per datum (≥ 2 for a spread over draws)
};

struct bits_per_dim_result {
    std::vector<double> bits_per_dim;  // per datum: mean over dequantization draws
    std::vector<double> std_error;     // per datum: over draws (≥ 2 draws), else over probes
    double mean = 0;                   // over the data
    double mean_std_error = 0;         // standard error of `mean` over the data (NaN for one datum)
    double offset_bits = 0;            // log₂ L − log₂(upper − lower)
    std::size_t nfe = 0;               // summed over draws
};

namespace detail {

// Dequantization draw j uses uniform noise draw dequantization_draw + j, kept apart
// from the normal draws samplers and probes use (0, 1, 2, …).
inline constexpr std::uint32_t dequantization_draw = 0x80000000u;

inline void check_bits_per_dim_options(const bits_per_dim_options& o) {
    require(o.levels >= 2, "bits_per_dim: levels = ", o.levels, "; expected at least 2");
    require(std::isfinite(o.data_lower) && std::isfinite(o.data_upper) && o.data_upper > o.data_lower,
            "bits_per_dim: data range [", o.data_lower, ", ", o.data_upper,
            "]; expected finite bounds with lower < upper");
    require(o.dequantization_draws >= 1, "bits_per_dim: dequantization_draws = 0; expected at least 1");
}

}  // namespace detail

// The model-range points y for dequantization draw `draw` of quantized data q (levels
// 0 … L−1 stored as reals). Checks that every value is an integer level.
template <backend Backend>
batch<Backend> dequantize(const batch<Backend>& quantized, std::size_t draw, const bits_per_dim_options& o,
                          const Backend& be = Backend{}) {
    using Real = typename Backend::value_type;
    detail::check_bits_per_dim_options(o);
    const std::size_t n = quantized.size() * quantized.dim(), d = quantized.dim();
    const Real* q = quantized.data();
    const Real top = Real(o.levels - 1);
    const std::size_t bad = be.find_first(n, [=] SGM_HOST_DEVICE(std::size_t i) {
        return !(q[i] >= Real(0) && q[i] <= top && std::floor(q[i]) == q[i]);
    });
    if (bad != n) {
        const std::vector<Real> host = quantized.to_host(be);
        throw error(detail::concat("bits_per_dim: sample ", o.likelihood.first_sample + bad / d, ", coordinate ",
                                   bad % d, " has value ", host[bad], "; expected an integer level in [0, ",
                                   o.levels - 1, "] (levels = ", o.levels, ")"));
    }
    batch<Backend> y(quantized.size(), d, be);
    Real* out = y.data();
    const random::noise_key key{o.likelihood.seed, o.likelihood.first_sample};
    const std::uint32_t noise_draw = detail::dequantization_draw + static_cast<std::uint32_t>(draw);
    const Real lower = Real(o.data_lower);
    const Real scale = Real((o.data_upper - o.data_lower) / double(o.levels));
    be.for_each_index(n, [=] SGM_HOST_DEVICE(std::size_t i) {
        const Real u = random::uniform<Real>(key.seed, key.first_sample + i / d, noise_draw, i % d);
        out[i] = lower + scale * (q[i] + u);
    });
    return y;
}

// Bits per dimension of quantized data (integer levels stored as reals) under the
// model, through the probability-flow likelihood. See the formula at the top.
template <backend Backend, sde SDE, score_model Model>
    requires std::same_as<typename Model::backend_type, Backend>
bits_per_dim_result bits_per_dim(const SDE& sde, Model& model, const batch<Backend>& quantized,
                                 const bits_per_dim_options& o, const Backend& be = Backend{}) {
    static_assert(differentiable_score_model<Model>,
                  "sgm::bits_per_dim needs a score model with input Jacobian products: give the model "
                  "score_vjp(x, t, v, score, vjp) or score_jvp(x, t, v, score, jvp) "
                  "(see docs/concepts/score_model.md)");
    static_assert(differentiable_drift_sde<SDE>,
                  "sgm::bits_per_dim needs the drift's derivative: give the SDE drift_derivative(x, t) or make "
                  "it affine (mean_coefficient and marginal_std)");
    detail::check_bits_per_dim_options(o);
    const std::size_t count = quantized.size(), d = quantized.dim();
    bits_per_dim_result result;
    result.offset_bits = std::log2(double(o.levels)) - std::log2(o.data_upper - o.data_lower);
    const double per_dim_bits = 1.0 / (double(d) * std::log(2.0));
    const std::size_t draws = o.dequantization_draws;
    const std::size_t probes = o.likelihood.divergence == divergence_estimator::exact ? 0 : o.likelihood.probes;
    std::vector<std::vector<double>> bits(count);
    std::vector<double> probe_error(count);
    if constexpr (differentiable_score_model<Model> && differentiable_drift_sde<SDE>) {
        for (std::size_t j = 0; j < draws; ++j) {
            const batch<Backend> y = dequantize(quantized, j, o, be);
            // Each draw has its own probes: draws 1 + j·K … (j+1)·K.
            const auto draw = detail::log_likelihood_impl(sde, model, y, o.likelihood, be,
                                                          static_cast<std::uint32_t>(1 + j * probes));
            result.nfe += draw.nfe;
            for (std::size_t b = 0; b < count; ++b) {
                bits[b].push_back(-draw.log_p[b] * per_dim_bits + result.offset_bits);
                probe_error[b] = draw.std_error[b] * per_dim_bits;
            }
        }
    }
    double total = 0;
    for (std::size_t b = 0; b < count; ++b) {
        double mean = 0;
        for (const double v : bits[b]) mean += v;
        mean /= double(draws);
        double se = probe_error[b];
        if (draws >= 2) {
            double ss = 0;
            for (const double v : bits[b]) ss += (v - mean) * (v - mean);
            se = std::sqrt(ss / double(draws - 1) / double(draws));
        }
        result.bits_per_dim.push_back(mean);
        result.std_error.push_back(se);
        total += mean;
    }
    result.mean = total / double(count);
    double ss = 0;
    for (const double v : result.bits_per_dim) ss += (v - result.mean) * (v - result.mean);
    result.mean_std_error =
        count >= 2 ? std::sqrt(ss / double(count - 1) / double(count)) : std::numeric_limits<double>::quiet_NaN();
    return result;
}

}  // namespace sgm
