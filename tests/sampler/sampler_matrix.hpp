#pragma once
// The sampler configurations the distribution tests cover, and how to run one:
// SDE ∈ {VE, VP, sub-VP} × predictor × corrector for the PC sampler, and the
// probability-flow ODE with RK45, Euler and Heun. Runtime names are turned into
// the compile-time policy types here, so a test can GENERATE over them.

#include <chrono>
#include <sstream>
#include <sgm/sgm.hpp>

#include "support/reference_mixture.hpp"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <type_traits>
#include <vector>

namespace sgm::test {

// Both cores of the test machine; results do not depend on the thread count.
using backend = tbb_backend<double>;

enum class predictor_kind { euler_maruyama, reverse_diffusion, ancestral_sampling, none };
enum class corrector_kind { langevin, annealed_langevin, none };

inline const char* name(predictor_kind p) {
    switch (p) {
        case predictor_kind::euler_maruyama:
            return "euler_maruyama";
        case predictor_kind::reverse_diffusion:
            return "reverse_diffusion";
        case predictor_kind::ancestral_sampling:
            return "ancestral_sampling";
        case predictor_kind::none:
            return "no_predictor";
    }
    return "?";
}

inline const char* name(corrector_kind c) {
    switch (c) {
        case corrector_kind::langevin:
            return "langevin";
        case corrector_kind::annealed_langevin:
            return "annealed_langevin";
        case corrector_kind::none:
            return "no_corrector";
    }
    return "?";
}

inline const char* name(ode_method m) {
    switch (m) {
        case ode_method::rk45:
            return "rk45";
        case ode_method::euler:
            return "euler";
        case ode_method::heun:
            return "heun";
    }
    return "?";
}

// Per-SDE facts: the paper's sampling eps, a name, and a constructor taking the
// number of levels N (and σ_max for VE).
template <class SDE>
struct sde_traits;

template <>
struct sde_traits<ve_sde<double>> {
    static constexpr const char* name = "ve";
    static constexpr double eps = 1e-5;
    static ve_sde<double> make(std::size_t n, double sigma_max) { return ve_sde<double>(0.01, sigma_max, n); }
};

template <>
struct sde_traits<vp_sde<double>> {
    static constexpr const char* name = "vp";
    static constexpr double eps = 1e-3;
    static vp_sde<double> make(std::size_t n, double) { return vp_sde<double>(0.1, 20, n); }
};

template <>
struct sde_traits<sub_vp_sde<double>> {
    static constexpr const char* name = "sub_vp";
    static constexpr double eps = 1e-3;
    static sub_vp_sde<double> make(std::size_t n, double) { return sub_vp_sde<double>(0.1, 20, n); }
};

// The PC configurations of the matrix for one SDE: every predictor × corrector
// pair except (none, none), and ancestral sampling only where the SDE has a chain.
template <class SDE>
std::vector<std::pair<predictor_kind, corrector_kind>> pc_configurations() {
    std::vector<std::pair<predictor_kind, corrector_kind>> out;
    for (auto p : {predictor_kind::euler_maruyama, predictor_kind::reverse_diffusion,
                   predictor_kind::ancestral_sampling, predictor_kind::none})
        for (auto c : {corrector_kind::langevin, corrector_kind::annealed_langevin, corrector_kind::none}) {
            if (p == predictor_kind::none && c == corrector_kind::none) continue;
            if (p == predictor_kind::ancestral_sampling && !ancestral_sde<SDE>) continue;
            out.emplace_back(p, c);
        }
    return out;
}

// How one configuration runs: number of samples, N levels, corrector steps and
// snr per level, and whether the Langevin corrector averages its norms over the batch.
struct pc_settings {
    std::size_t count = 0;
    std::size_t steps = 0;
    std::size_t corrector_steps = 1;
    double snr = 0.16;
    bool batch_averaged_norms = false;
};

// Calls f(predictor, corrector) with the policy objects named by p and c.
template <class SDE, class F>
void with_policies(predictor_kind p, corrector_kind c, const pc_settings& s, F&& f) {
    const auto with_corrector = [&](auto predictor) {
        switch (c) {
            case corrector_kind::langevin:
                f(predictor, langevin(s.snr, s.corrector_steps, s.batch_averaged_norms));
                return;
            case corrector_kind::annealed_langevin:
                f(predictor, annealed_langevin(s.snr, s.corrector_steps));
                return;
            case corrector_kind::none:
                f(predictor, no_corrector{});
                return;
        }
    };
    switch (p) {
        case predictor_kind::euler_maruyama:
            with_corrector(euler_maruyama{});
            return;
        case predictor_kind::reverse_diffusion:
            with_corrector(reverse_diffusion{});
            return;
        case predictor_kind::ancestral_sampling:
            if constexpr (ancestral_sde<SDE>) with_corrector(ancestral_sampling{});
            return;
        case predictor_kind::none:
            with_corrector(no_predictor{});
            return;
    }
}

// Runs the PC sampler for one configuration; returns the samples on the host.
template <class SDE, class Mixture>
std::vector<double> run_pc(const Mixture& mixture, double sigma_max, predictor_kind p, corrector_kind c,
                           const pc_settings& s, std::uint64_t seed, std::size_t* nfe = nullptr) {
    const backend be;
    const SDE sde = sde_traits<SDE>::make(s.steps, sigma_max);
    mixture_score<backend, SDE> model(mixture, sde, be);
    pc_options options;
    options.count = s.count;
    options.eps = sde_traits<SDE>::eps;
    options.seed = seed;
    std::vector<double> host;
    with_policies<SDE>(p, c, s, [&](auto predictor, auto corrector) {
        auto result = pc_sample(sde, model, predictor, corrector, options, be);
        if (nfe) *nfe = result.nfe;
        host = result.samples.to_host(be);
    });
    return host;
}

// Runs the probability-flow ODE sampler (fixed-step methods use `steps`).
template <class SDE, class Mixture>
std::vector<double> run_ode(const Mixture& mixture, double sigma_max, ode_method method, std::size_t steps,
                            std::size_t count, std::uint64_t seed, std::size_t* nfe = nullptr,
                            odeint::error_norm norm = odeint::error_norm::max) {
    const backend be;
    const SDE sde = sde_traits<SDE>::make(1000, sigma_max);
    mixture_score<backend, SDE> model(mixture, sde, be);
    ode_options options;
    options.count = count;
    options.method = method;
    options.steps = steps;
    options.error_norm = norm;
    options.eps = sde_traits<SDE>::eps;
    options.seed = seed;
    auto result = ode_sample(sde, model, options, be);
    if (nfe) *nfe = result.nfe;
    return result.samples.to_host(be);
}

// The largest distance between two of the rows (n × d host values): the paper's
// rule for VE's σ_max (Song & Ermon 2020, technique 1).
inline double max_pairwise_distance(const std::vector<double>& x, std::size_t n, std::size_t d) {
    double best = 0;
    for (std::size_t a = 0; a < n; ++a)
        for (std::size_t b = a + 1; b < n; ++b) {
            double sq = 0;
            for (std::size_t j = 0; j < d; ++j) sq += (x[a * d + j] - x[b * d + j]) * (x[a * d + j] - x[b * d + j]);
            best = std::max(best, sq);
        }
    return std::sqrt(best);
}

// The 2-D test data: three components on a circle of radius 4, their weighted mean moved to the
// origin (so that VE's prior N(0, σ_max² I) is centred on the data and its
// mismatch with p_T shifts the weights by < 0.1%, far below the tolerance).
// Neighbouring means are 6.9 apart, > 5.8 component standard deviations from
// the decision boundary: an exact sample is misassigned with probability ~1e-8.
struct mixture_2d {
    std::vector<double> weights{0.5, 0.3, 0.2};
    std::vector<double> means{0.2 * std::sqrt(3.0), 3.0, -1.8 * std::sqrt(3.0), -3.0, 2.2 * std::sqrt(3.0), -3.0};
    std::vector<double> covariances{0.5, 0.2, 0.2, 0.3, 0.3, -0.1, -0.1, 0.6, 0.4, 0.0, 0.0, 0.4};
    gaussian_mixture<double> mixture{weights, means, covariances};
    reference_mixture reference{weights, means, covariances, 2};
    // σ_max = the largest pairwise distance of 2000 exact samples.
    double sigma_max = max_pairwise_distance(mixture.sample(2000, 99), 2000, 2);
};

inline const mixture_2d& mixture_2d_target() {
    static const mixture_2d t;
    return t;
}

// "VE reverse_diffusion + langevin, N = 200, NFE = 400, 0.9 s": the INFO line of a run.
template <class SDE>
std::string describe(const std::string& sampler, std::size_t steps, std::size_t nfe, double seconds) {
    std::ostringstream out;
    out << sde_traits<SDE>::name << " " << sampler << ", N = " << steps << ", NFE = " << nfe << ", " << seconds << " s";
    return out.str();
}

inline double seconds_since(std::chrono::steady_clock::time_point start) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace sgm::test
