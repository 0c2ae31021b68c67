// Training losses, Adam and EMA.
//
// Losses: for Gaussian data N(μ, Σ) the exact score s* of the perturbed data is the
// minimizer of every DSM loss, and its loss has a closed form. With x_t = m x0 + σ z,
// C = m²Σ + σ²I and s* = −C⁻¹(x_t − mμ):
//   E‖σ s* + z‖² = D − 2σ² tr C⁻¹ + σ² tr C⁻¹ = tr(m²Σ (m²Σ + σ²I)⁻¹) = Σ_k m²λ_k/(m²λ_k + σ²)
// (λ_k the eigenvalues of Σ), so the σ²-weighted loss (sum over D) is its t-average and the
// likelihood-weighted one, E‖s* + z/σ‖² g², is the t-average of (g²/σ²) times it. Adding a
// constant δ to the score adds 2λ(t)δ·(s* + z/σ) + λ(t)‖δ‖² per sample, whose mean is
// E_t[λ(t)]‖δ‖² (λ = σ² or g²), since E[s* + z/σ | t] = 0. Monte Carlo losses are compared
// with the quadrature values within 5 standard errors of the per-sample losses.

#include <catch2/catch.hpp>

#include <Eigen/Eigenvalues>
#include <boost/math/quadrature/gauss_kronrod.hpp>

#include <cmath>
#include <cstddef>
#include <cstdio>
#include <limits>
#include <string>
#include <vector>

#include <sgm/backend/serial.hpp>
#include <sgm/nn/mlp.hpp>
#include <sgm/nn/score_network.hpp>
#include <sgm/score/gaussian_mixture.hpp>
#include <sgm/score/mixture_score.hpp>
#include <sgm/sde/sub_vp.hpp>
#include <sgm/sde/ve.hpp>
#include <sgm/sde/vp.hpp>
#include <sgm/train/adam.hpp>
#include <sgm/train/batch_key.hpp>
#include <sgm/train/continuous_dsm_loss.hpp>
#include <sgm/train/ddpm_loss.hpp>
#include <sgm/train/ema.hpp>
#include <sgm/train/smld_loss.hpp>

#include "support/gradient_check.hpp"

namespace {

using serial = sgm::serial_backend<double>;
using sgm::train::batch_key;
using sgm::train::dsm_options;
using sgm::train::dsm_reduction;
using sgm::train::dsm_weighting;

// The exact score of Gaussian data, plus an optional constant shift δ.
template <class SDE>
struct exact_score_model {
    using value_type = double;
    sgm::mixture_score<serial, SDE> exact;
    std::vector<double> shift;

    [[nodiscard]] std::size_t dim() const { return exact.dim(); }
    void forward(const double* x, const double* t, double* out, std::size_t n) {
        exact.score(sgm::batch_view<const double>{x, n, dim()}, t, sgm::batch_view<double>{out, n, dim()});
        if (!shift.empty())
            for (std::size_t b = 0; b < n; ++b)
                for (std::size_t j = 0; j < dim(); ++j) out[b * dim() + j] += shift[j];
    }
    void backward(const double*, double*, std::size_t, sgm::nn::gradients) {
        throw sgm::error("exact_score_model has no parameters");
    }
};

// Returns what it was given (for determinism checks) and a score of zero, or NaN at one sample.
struct recording_model {
    using value_type = double;
    std::size_t d = 3;
    std::vector<double> x, t;
    std::uint64_t nan_at = std::numeric_limits<std::uint64_t>::max();  // batch position

    [[nodiscard]] std::size_t dim() const { return d; }
    void forward(const double* xs, const double* ts, double* out, std::size_t n) {
        x.assign(xs, xs + n * d);
        t.assign(ts, ts + n);
        for (std::size_t i = 0; i < n * d; ++i) out[i] = 0;
        if (nan_at < n) out[nan_at * d] = std::numeric_limits<double>::quiet_NaN();
    }
    void backward(const double*, double*, std::size_t, sgm::nn::gradients) {}
};

// 2-d and 8-d Gaussians with full covariance.
sgm::gaussian_mixture<double> gaussian_data(std::size_t d) {
    if (d == 2) return sgm::gaussian_mixture<double>::gaussian({1.0, -2.0}, {1.0, 0.6, 0.6, 0.5});
    std::vector<double> a(d * d), mean(d), cov(d * d);
    for (std::size_t i = 0; i < d * d; ++i) a[i] = sgm::random::normal<double>(17, 0, 0, i);
    for (std::size_t i = 0; i < d; ++i) {
        mean[i] = 0.5 * double(i) - 1.5;
        for (std::size_t j = 0; j < d; ++j) {
            double s = i == j ? 0.05 : 0.0;
            for (std::size_t k = 0; k < d; ++k) s += a[i * d + k] * a[j * d + k] / double(d);
            cov[i * d + j] = s;
        }
    }
    return sgm::gaussian_mixture<double>::gaussian(mean, cov);
}

std::vector<double> eigenvalues(const sgm::gaussian_mixture<double>& g) {
    const auto d = static_cast<Eigen::Index>(g.dim());
    Eigen::MatrixXd c(d, d);
    for (Eigen::Index i = 0; i < d; ++i)
        for (Eigen::Index j = 0; j < d; ++j) c(i, j) = g.covariances()[std::size_t(i * d + j)];
    const Eigen::VectorXd l = Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd>(c).eigenvalues();
    return {l.data(), l.data() + l.size()};
}

// tr(m²Σ (m²Σ + σ²I)⁻¹).
double explained(const std::vector<double>& lambda, double m, double s) {
    double total = 0;
    for (const double l : lambda) total += m * m * l / (m * m * l + s * s);
    return total;
}

// (1/(T − eps)) ∫_eps^T f(t) dt, integrated in log t (the likelihood weight grows like 1/t).
template <class F>
double time_average(F f, double eps, double end) {
    auto g = [&](double u) {
        const double t = std::exp(u);
        return f(t) * t;
    };
    double error = 0;
    const double integral = boost::math::quadrature::gauss_kronrod<double, 61>::integrate(
        g, std::log(eps), std::log(end), 20, 1e-13, &error);
    return integral / (end - eps);
}

struct mc_estimate {
    double mean = 0, standard_error = 0;
    [[nodiscard]] double z(double expected) const { return (mean - expected) / standard_error; }
};

mc_estimate estimate(const std::vector<double>& values) {
    double mean = 0;
    for (const double v : values) mean += v;
    mean /= double(values.size());
    double var = 0;
    for (const double v : values) var += (v - mean) * (v - mean);
    var /= double(values.size() - 1);
    return {mean, std::sqrt(var / double(values.size()))};
}

constexpr std::size_t mc_samples = 100000;
constexpr std::size_t mc_batch = 10000;

// Per-sample losses of `model` over mc_samples samples of `data`, in batches of mc_batch
// (first_sample advancing), and their batch means' average (checked against the samples).
template <class Loss, class Model>
std::vector<double> per_sample_losses(const Loss& loss, Model& model, const std::vector<double>& x0, std::size_t d) {
    std::vector<double> out(mc_samples);
    double mean_of_means = 0;
    for (std::size_t first = 0; first < mc_samples; first += mc_batch) {
        const batch_key key{7, 3, first};
        mean_of_means += loss.evaluate(model, x0.data() + first * d, mc_batch, key, false, out.data() + first);
    }
    mean_of_means /= double(mc_samples / mc_batch);
    const mc_estimate e = estimate(out);
    CHECK(mean_of_means == Approx(e.mean).epsilon(1e-12));
    return out;
}

// Checks the exact score's loss against `minimum` and the shifted score's excess against
// `excess_per_unit` · ‖δ‖², with common random numbers.
template <class Loss, class SDE>
void check_minimum_and_shift(const std::string& label, const Loss& loss, SDE sde,
                             const sgm::gaussian_mixture<double>& data, const std::vector<double>& x0,
                             double minimum, double excess_per_unit) {
    const std::size_t d = data.dim();
    exact_score_model<SDE> model{sgm::mixture_score<serial, SDE>(data, sde), {}};
    const std::vector<double> exact = per_sample_losses(loss, model, x0, d);

    std::vector<double> delta(d);
    double delta_squared = 0;
    for (std::size_t j = 0; j < d; ++j) {
        delta[j] = (j % 2 == 0 ? 0.3 : -0.2) / std::sqrt(double(d));
        delta_squared += delta[j] * delta[j];
    }
    model.shift = delta;
    const std::vector<double> shifted = per_sample_losses(loss, model, x0, d);
    std::vector<double> difference(mc_samples);
    for (std::size_t b = 0; b < mc_samples; ++b) difference[b] = shifted[b] - exact[b];

    const mc_estimate at_minimum = estimate(exact), excess = estimate(difference);
    const double expected_excess = excess_per_unit * delta_squared;
    char line[256];
    std::snprintf(line, sizeof line, "%s D=%zu: minimum %.6g vs %.6g +- %.3g (z=%.2f); excess %.6g vs %.6g +- %.3g (z=%.2f)",
                  label.c_str(), d, minimum, at_minimum.mean, at_minimum.standard_error, at_minimum.z(minimum),
                  expected_excess, excess.mean, excess.standard_error, excess.z(expected_excess));
    INFO(line);
    CHECK(std::abs(at_minimum.z(minimum)) < 5);
    CHECK(std::abs(excess.z(expected_excess)) < 5);
    // The excess is a clear signal, not noise: the shift is detected.
    CHECK(excess.mean > 5 * excess.standard_error);
}

// Continuous DSM for one SDE: both weightings, D = 2 and 8, the likelihood weighting
// with eps = 1e-3 for VP-type SDEs (its 1/t weight makes the per-sample variance ∝ 1/eps).
template <class SDE>
void check_continuous(const std::string& name, SDE sde, double likelihood_eps) {
    for (const std::size_t d : {std::size_t{2}, std::size_t{8}}) {
        const auto data = gaussian_data(d);
        const auto lambda = eigenvalues(data);
        const std::vector<double> x0 = data.sample(mc_samples, 101);
        const double end = sde.T();
        {
            const dsm_options opts{dsm_weighting::sigma_squared, dsm_reduction::sum, 1e-5};
            const double minimum = time_average(
                [&](double t) { return explained(lambda, sde.mean_coefficient(t), sde.marginal_std(t)); },
                opts.eps, end);
            const double excess = time_average(
                [&](double t) { return std::pow(sde.marginal_std(t), 2); }, opts.eps, end);
            check_minimum_and_shift(name + " sigma^2/sum", sgm::train::continuous_dsm_loss<SDE>(sde, opts), sde,
                                    data, x0, minimum, excess);
        }
        {
            const dsm_options opts{dsm_weighting::likelihood, dsm_reduction::mean, likelihood_eps};
            const double dd = double(d);
            const double minimum = time_average(
                [&](double t) {
                    const double g = sde.diffusion(t), s = sde.marginal_std(t);
                    return g * g / (s * s) * explained(lambda, sde.mean_coefficient(t), s) / dd;
                },
                opts.eps, end);
            const double excess = time_average(
                [&](double t) { return std::pow(sde.diffusion(t), 2) / dd; }, opts.eps, end);
            check_minimum_and_shift(name + " likelihood/mean", sgm::train::continuous_dsm_loss<SDE>(sde, opts),
                                    sde, data, x0, minimum, excess);
        }
    }
}

}  // namespace

TEST_CASE("dsm loss: exact score attains the closed-form minimum, shifted score pays E[lambda]|delta|^2 (VE)",
          "[train_losses]") {
    check_continuous("VE", sgm::ve_sde<double>(0.01, 50.0), 1e-5);
}

TEST_CASE("dsm loss: exact score attains the closed-form minimum, shifted score pays E[lambda]|delta|^2 (VP)",
          "[train_losses]") {
    check_continuous("VP", sgm::vp_sde<double>(), 1e-3);
}

TEST_CASE("dsm loss: exact score attains the closed-form minimum, shifted score pays E[lambda]|delta|^2 (sub-VP)",
          "[train_losses]") {
    check_continuous("sub-VP", sgm::sub_vp_sde<double>(), 1e-3);
}

TEST_CASE("smld and ddpm losses: exact score attains the closed-form minimum over the levels", "[train_losses]") {
    for (const std::size_t d : {std::size_t{2}, std::size_t{8}}) {
        const auto data = gaussian_data(d);
        const auto lambda = eigenvalues(data);
        const std::vector<double> x0 = data.sample(mc_samples, 101);
        const double dd = double(d);
        {
            const sgm::ve_sde<double> sde(0.01, 50.0);
            const sgm::train::smld_loss<double> loss(sde, dsm_reduction::sum);
            double minimum = 0, excess = 0;
            for (std::size_t i = 0; i < loss.levels(); ++i) {
                const double s = loss.sigma_of_level(i);
                minimum += explained(lambda, 1.0, s) / double(loss.levels());
                excess += s * s / double(loss.levels());
            }
            check_minimum_and_shift("SMLD sum", loss, sde, data, x0, minimum, excess);
        }
        {
            // The model is called at t_i, where m(t_i)² = ᾱ_i: the exact score there is the
            // score of the chain's x_i (the mapping itself is checked to rounding below).
            const sgm::vp_sde<double> sde;
            const sgm::train::ddpm_loss<double> loss(sde, dsm_reduction::mean);
            double minimum = 0, excess = 0;
            for (std::size_t i = 0; i < loss.levels(); ++i) {
                const double ab = loss.alpha_bar(i);
                minimum += explained(lambda, std::sqrt(ab), std::sqrt(1 - ab)) / dd / double(loss.levels());
                excess += (1 - ab) / dd / double(loss.levels());
            }
            check_minimum_and_shift("DDPM mean", loss, sde, data, x0, minimum, excess);
        }
    }
}

TEST_CASE("smld loss: level i is called at t_i = i/(N-1) T with sigma(t_i) = sigma_i", "[train_losses]") {
    for (const auto& sde : {sgm::ve_sde<double>(), sgm::ve_sde<double>(0.05, 20.0, 10, 2.0)}) {
        const sgm::train::smld_loss<double> loss(sde);
        double worst = 0;
        for (std::size_t i = 0; i < loss.levels(); ++i) {
            const double t = loss.time_of_level(i);
            CHECK(t == Approx(sde.T() * double(i) / double(sde.steps() - 1)).epsilon(1e-15).margin(1e-300));
            worst = std::max(worst, std::abs(sde.marginal_std(t) / loss.sigma_of_level(i) - 1));
        }
        INFO("max relative |sigma(t_i) - sigma_i| = " << worst);
        CHECK(worst < 1e-13);
        CHECK(loss.sigma_of_level(0) == Approx(sde.sigma_min()).epsilon(1e-15));
        CHECK(loss.sigma_of_level(loss.levels() - 1) == Approx(sde.sigma_max()).epsilon(1e-13));
    }
}

TEST_CASE("ddpm loss: level i is called at the t_i whose marginal std is sqrt(1 - alpha_bar_i)", "[train_losses]") {
    for (const auto& sde :
         {sgm::vp_sde<double>(), sgm::vp_sde<double>(0.1, 20.0, 100), sgm::vp_sde<double>(0.5, 10.0, 50, 2.0)}) {
        const sgm::train::ddpm_loss<double> loss(sde);
        const std::size_t n = loss.levels();
        double product = 1, worst_std = 0, worst_mean = 0, worst_alpha = 0;
        double shift_next = 0, shift_label = 0, std_next = 0, std_label = 0;
        double previous = 0;
        for (std::size_t i = 0; i < n; ++i) {
            product *= 1 - sde.discrete_beta(i);
            worst_alpha = std::max(worst_alpha, std::abs(loss.alpha_bar(i) / product - 1));
            const double t = loss.time_of_level(i), target = std::sqrt(1 - product);
            CHECK(t > previous);
            previous = t;
            worst_std = std::max(worst_std, std::abs(sde.marginal_std(t) / loss.std_of_level(i) - 1));
            worst_mean = std::max(worst_mean, std::abs(sde.mean_coefficient(t) / loss.mean_of_level(i) - 1));
            // How far the level's time is from the two obvious guesses, in time and in std.
            const double next = sde.T() * double(i + 1) / double(n), label = sde.T() * double(i) / double(n - 1);
            shift_next = std::max(shift_next, std::abs(t - next));
            shift_label = std::max(shift_label, std::abs(t - label));
            std_next = std::max(std_next, std::abs(sde.marginal_std(next) / target - 1));
            if (i > 0) std_label = std::max(std_label, std::abs(sde.marginal_std(label) / target - 1));
        }
        char line[320];
        std::snprintf(line, sizeof line,
                      "N=%zu: |t_i-(i+1)T/N| <= %.3g, |t_i-iT/(N-1)| <= %.3g; rel. std error at (i+1)T/N <= %.3g, at "
                      "iT/(N-1) (i>0) <= %.3g; at t_i <= %.3g; t_0=%.6g t_last=%.6g",
                      n, shift_next, shift_label, std_next, std_label, worst_std, loss.time_of_level(0),
                      loss.time_of_level(n - 1));
        INFO(line);
        CHECK(worst_alpha < 1e-12);
        CHECK(worst_std < 1e-12);
        CHECK(worst_mean < 1e-12);
        CHECK(loss.time_of_level(0) > 0);
    }
}

namespace {

using test_net = sgm::nn::mlp<double>;

template <class SDE>
auto small_network(SDE sde) {
    sgm::nn::mlp_config cfg;
    cfg.data_dim = 3;
    cfg.hidden = 8;
    cfg.depth = 2;
    cfg.embedding_size = 6;
    cfg.seed = 5;
    return sgm::nn::score_network(test_net(cfg, sgm::nn::cpu_context(1)), sde, {}, serial{});
}

std::vector<double> small_data(std::size_t n) { return sgm::test::random_vector(n * 3, 23, 1.5); }

// The loss with a fixed key is a function of θ: its backward must match central differences.
template <class Loss, class Net>
void check_loss_gradient(const std::string& label, const Loss& loss, Net& net) {
    const std::size_t n = 6;
    const std::vector<double> x0 = small_data(n);
    const batch_key key{11, 4, 20};
    auto params = net.network().parameters();
    params.zero_grad();
    const double value = loss(net, x0.data(), n, key, true);
    CHECK(std::isfinite(value));
    for (const auto& entry : params) {
        const std::vector<double> analytic = entry.tensor->grad;
        const auto r = sgm::test::check_gradient([&] { return loss(net, x0.data(), n, key, false); },
                                                 entry.tensor->value, analytic, 24);
        INFO(label << " " << entry.name << ": max error " << r.max_abs_error << ", max gradient "
                   << r.max_abs_gradient);
        CHECK(r.relative() < 1e-6);
        CHECK(r.max_abs_gradient > 0);
    }
    // backward added into grad: a second pass doubles it.
    const std::vector<double> once = params[0].tensor->grad;
    loss(net, x0.data(), n, key, true);
    for (std::size_t i = 0; i < once.size(); ++i) CHECK(params[0].tensor->grad[i] == Approx(2 * once[i]));
}

}  // namespace

TEST_CASE("dsm losses: parameter gradients match finite differences", "[train_losses]") {
    {
        const sgm::ve_sde<double> sde(0.01, 10.0);
        auto net = small_network(sde);
        check_loss_gradient("VE sigma^2/mean", sgm::train::continuous_dsm_loss(sde, dsm_options{}), net);
        check_loss_gradient("VE likelihood/sum",
                            sgm::train::continuous_dsm_loss(sde, {dsm_weighting::likelihood, dsm_reduction::sum}),
                            net);
    }
    {
        const sgm::vp_sde<double> sde;
        auto net = small_network(sde);
        check_loss_gradient("VP likelihood/mean",
                            sgm::train::continuous_dsm_loss(sde, {dsm_weighting::likelihood, dsm_reduction::mean}),
                            net);
        check_loss_gradient("DDPM", sgm::train::ddpm_loss<double>(sde), net);
    }
    {
        const sgm::sub_vp_sde<double> sde;
        auto net = small_network(sde);
        check_loss_gradient("sub-VP sigma^2/sum",
                            sgm::train::continuous_dsm_loss(sde, {dsm_weighting::sigma_squared, dsm_reduction::sum}),
                            net);
    }
    {
        const sgm::ve_sde<double> sde(0.01, 10.0, 100);
        auto net = small_network(sde);
        check_loss_gradient("SMLD sum", sgm::train::smld_loss<double>(sde, dsm_reduction::sum), net);
    }
}

namespace {

// Runs a 6-sample batch and a 2-sample batch holding its samples 3 and 4 (first_sample
// moved accordingly): those samples must see the same x_t, t and loss.
template <class Loss>
void check_batch_independence(const Loss& loss) {
    recording_model model;
    const std::vector<double> x0 = small_data(6);
    std::vector<double> whole(6), part(2);
    const double full = loss.evaluate(model, x0.data(), 6, batch_key{9, 12, 100}, false, whole.data());
    const std::vector<double> x_full = model.x, t_full = model.t;
    CHECK(loss(model, x0.data(), 6, batch_key{9, 12, 100}, false) == full);  // same key, same loss

    loss.evaluate(model, x0.data() + 3 * 3, 2, batch_key{9, 12, 103}, false, part.data());
    for (std::size_t b = 0; b < 2; ++b) {
        CHECK(model.t[b] == t_full[3 + b]);
        CHECK(part[b] == whole[3 + b]);
        for (std::size_t j = 0; j < 3; ++j) CHECK(model.x[b * 3 + j] == x_full[(3 + b) * 3 + j]);
    }
    // Another step or seed draws other times and noise.
    loss(model, x0.data(), 6, batch_key{9, 13, 100}, false);
    CHECK(model.x != x_full);
    loss(model, x0.data(), 6, batch_key{10, 12, 100}, false);
    CHECK(model.x != x_full);

    // A non-finite loss names the step and the global sample index.
    model.nan_at = 4;
    CHECK_THROWS_WITH(loss(model, x0.data(), 6, batch_key{9, 12, 100}, false),
                      Catch::Contains("step 12") && Catch::Contains("sample 104"));
}

}  // namespace

TEST_CASE("dsm losses: draws depend on (seed, step, global sample) only", "[train_losses]") {
    const sgm::vp_sde<double> vp;
    const sgm::ve_sde<double> ve;
    check_batch_independence(sgm::train::continuous_dsm_loss(vp, dsm_options{}));
    check_batch_independence(sgm::train::continuous_dsm_loss(ve, {dsm_weighting::likelihood}));
    check_batch_independence(sgm::train::smld_loss<double>(ve));
    check_batch_independence(sgm::train::ddpm_loss<double>(vp));

    // Times lie in [eps, T]; levels cover {0..N-1} about uniformly.
    const sgm::train::continuous_dsm_loss loss(vp, dsm_options{.eps = 0.25});
    const sgm::train::smld_loss<double> smld(sgm::ve_sde<double>(0.01, 50.0, 4));
    std::size_t counts[4] = {0, 0, 0, 0};
    const std::size_t draws = 4000;
    for (std::size_t b = 0; b < draws; ++b) {
        const double t = loss.time(batch_key{1, 2, 0}, b);
        CHECK((t >= 0.25 && t <= 1.0));
        ++counts[smld.level(batch_key{1, 2, 0}, b)];
    }
    for (const std::size_t c : counts) {
        // Binomial(4000, 1/4): sd = sqrt(750) ≈ 27.4.
        CHECK(std::abs(double(c) - 1000.0) < 5 * std::sqrt(750.0));
    }
    CHECK_THROWS_WITH(sgm::train::continuous_dsm_loss(vp, dsm_options{.eps = 1.0}), Catch::Contains("eps = 1"));
    CHECK_THROWS_WITH(sgm::train::continuous_dsm_loss(vp, dsm_options{.eps = -1e-3}), Catch::Contains("eps"));
}

// ---- Adam and EMA -----------------------------------------------------------------------

namespace {

// Two trainable tensors and a fixed buffer, with names like a network's.
struct toy_params {
    sgm::nn::parameter<double> w{"weight", {2}}, b{"bias", {1}}, buffer{"running", {1}, {}, false};
    sgm::nn::parameter_list<double> list;
    toy_params() {
        list.add(w, "layers.0");
        list.add(buffer, "layers.0");
        list.add(b, "layers.1");
        w.value = {1.0, -0.5};
        b.value = {2.0};
        buffer.value = {7.0};
    }
    void set_grad(double g0, double g1, double g2) {
        w.grad = {g0, g1};
        b.grad = {g2};
        buffer.grad = {100.0};  // ignored: not trainable
    }
};

}  // namespace

TEST_CASE("adam: two updates match the hand-computed values", "[train_adam]") {
    toy_params p;
    sgm::train::adam<double> opt(p.list, {.learning_rate = 0.1, .warmup = 0, .grad_clip = 0});
    REQUIRE(opt.first_moment().size() == 3);

    p.set_grad(0.5, -2.0, 1.0);
    CHECK(opt.step(p.list) == Approx(std::sqrt(0.25 + 4.0 + 1.0)).epsilon(1e-15));
    // Step 1: m̂ = g, v̂ = g², so θ moves by lr·g/(|g| + ε).
    CHECK(p.w.value[0] == Approx(1.0 - 0.1 * 0.5 / (0.5 + 1e-8)).epsilon(1e-15));
    CHECK(p.w.value[1] == Approx(-0.5 + 0.1 * 2.0 / (2.0 + 1e-8)).epsilon(1e-15));
    CHECK(p.b.value[0] == Approx(2.0 - 0.1 / (1.0 + 1e-8)).epsilon(1e-15));

    p.set_grad(-0.25, 1.0, 3.0);
    opt.step(p.list);
    // Step 2: m = 0.09 g1 + 0.1 g2, v = 0.000999 g1² + 0.001 g2², bias corrections 0.19 and 0.001999.
    // Values of these formulas evaluated independently (Python, double precision).
    CHECK(p.w.value[0] == Approx(0.8733662987078463).epsilon(1e-14));
    CHECK(p.w.value[1] == Approx(-0.37336629670243154).epsilon(1e-14));
    CHECK(p.b.value[0] == Approx(1.8082218895123323).epsilon(1e-14));
    CHECK(p.buffer.value[0] == 7.0);
    CHECK(opt.steps() == 2);
    CHECK(opt.first_moment()[0] == Approx(0.09 * 0.5 + 0.1 * -0.25).epsilon(1e-15));
    CHECK(opt.first_moment()[2] == Approx(0.09 * 1.0 + 0.1 * 3.0).epsilon(1e-15));
    CHECK(opt.second_moment()[1] == Approx(0.000999 * 4.0 + 0.001 * 1.0).epsilon(1e-14));
    // Grads are read, not changed.
    CHECK(p.w.grad[0] == -0.25);
}

TEST_CASE("adam: learning-rate warm-up ramps linearly to the base rate", "[train_adam]") {
    toy_params p;
    sgm::train::adam<double> opt(p.list, {.learning_rate = 2e-4, .warmup = 4});
    CHECK(opt.learning_rate(0) == Approx(5e-5).epsilon(1e-15));
    CHECK(opt.learning_rate(1) == Approx(1e-4).epsilon(1e-15));
    CHECK(opt.learning_rate(2) == Approx(1.5e-4).epsilon(1e-15));
    CHECK(opt.learning_rate(3) == Approx(2e-4).epsilon(1e-15));
    CHECK(opt.learning_rate(1000) == Approx(2e-4).epsilon(1e-15));
    // The first update uses learning_rate(0): θ moves by lr₀·g/(|g| + ε).
    p.set_grad(0.1, 0.2, 0.3);
    opt.step(p.list);
    CHECK(p.w.value[0] == Approx(1.0 - 5e-5 * 0.1 / (0.1 + 1e-8)).epsilon(1e-15));
    // The paper's defaults; warmup 0 disables the ramp.
    const sgm::train::adam<double> paper(p.list);
    CHECK(paper.options().learning_rate == 2e-4);
    CHECK(paper.options().warmup == 5000);
    CHECK(paper.options().grad_clip == 1.0);
    CHECK(paper.learning_rate(0) == Approx(2e-4 / 5000).epsilon(1e-15));
    const sgm::train::adam<double> flat(p.list, {.warmup = 0});
    CHECK(flat.learning_rate(0) == 2e-4);
}

TEST_CASE("adam: global-norm clipping scales the gradient the moments see", "[train_adam]") {
    for (const double clip : {1.0, 10.0, 0.0, std::numeric_limits<double>::infinity()}) {
        toy_params p;
        sgm::train::adam<double> opt(p.list, {.learning_rate = 0.1, .warmup = 0, .grad_clip = clip});
        p.set_grad(3.0, 0.0, 4.0);  // ‖g‖ = 5 (the buffer's grad does not count)
        CHECK(opt.step(p.list) == Approx(5.0).epsilon(1e-15));
        const double factor = clip > 0 && clip < 5 ? clip / 5.0 : 1.0;
        INFO("grad_clip " << clip);
        CHECK(opt.first_moment()[0] == Approx(0.1 * 3.0 * factor).epsilon(1e-15));
        CHECK(opt.first_moment()[2] == Approx(0.1 * 4.0 * factor).epsilon(1e-15));
        CHECK(opt.second_moment()[2] == Approx(0.001 * 16.0 * factor * factor).epsilon(1e-14));
        CHECK(p.w.grad[0] == 3.0);
        // Step 2 with a small gradient: the update depends on the clipped history.
        p.set_grad(0.3, 0.0, 0.4);
        const double m = 0.9 * 0.1 * 3.0 * factor + 0.1 * 0.3;
        const double v = 0.999 * 0.001 * 9.0 * factor * factor + 0.001 * 0.09;
        const double before = p.w.value[0];
        opt.step(p.list);
        CHECK(p.w.value[0] == Approx(before - 0.1 * (m / 0.19) / (std::sqrt(v / 0.001999) + 1e-8)).epsilon(1e-12));
    }
}

TEST_CASE("adam: a non-finite gradient is an error naming the parameter and state sizes are validated",
          "[train_adam]") {
    toy_params p;
    sgm::train::adam<double> opt(p.list);
    p.set_grad(0.1, 0.2, std::numeric_limits<double>::quiet_NaN());
    CHECK_THROWS_WITH(opt.step(p.list), Catch::Contains("layers.1.bias") && Catch::Contains("nan"));
    CHECK(p.w.value[0] == 1.0);  // nothing was updated
    CHECK(opt.steps() == 0);
    p.set_grad(std::numeric_limits<double>::infinity(), 0.2, 0.3);
    CHECK_THROWS_WITH(opt.step(p.list), Catch::Contains("layers.0.weight") && Catch::Contains("index 0"));

    CHECK_THROWS_WITH(opt.set_state(3, {0, 0}, {0, 0, 0}), Catch::Contains("first moment has 2"));
    CHECK_THROWS_WITH(opt.set_state(3, {0, 0, 0}, {0, 0, 0, 0}), Catch::Contains("second moment has 4"));
    CHECK_THROWS(opt.set_state(3, {0, 0, 0}, {0, -1, 0}));
    opt.set_state(3, {0.1, 0.2, 0.3}, {0.01, 0.02, 0.03});
    CHECK(opt.steps() == 3);
    CHECK(opt.second_moment()[1] == 0.02);
    CHECK_THROWS(sgm::train::adam<double>(p.list, {.beta1 = 1.0}));
    CHECK_THROWS(sgm::train::adam<double>(p.list, {.epsilon = 0.0}));
}

TEST_CASE("ema: decay schedule, averaging, buffers copied, state validation", "[train_ema]") {
    using sgm::train::ema;
    CHECK(ema<double>::decay(0.999, 1) == Approx(2.0 / 11.0).epsilon(1e-15));
    CHECK(ema<double>::decay(0.999, 2) == Approx(3.0 / 12.0).epsilon(1e-15));
    CHECK(ema<double>::decay(0.999, 8990) == Approx(0.999).epsilon(1e-15));
    CHECK(ema<double>::decay(0.999, 100000) == 0.999);
    CHECK(ema<double>::decay(0.9999, 100) == Approx(101.0 / 110.0).epsilon(1e-15));
    CHECK(ema<double>::decay(0.9999, 89990) == Approx(0.9999).epsilon(1e-14));
    CHECK(ema<double>::decay(0.9999, 89989) < 0.9999);

    toy_params p;
    ema<double> avg(p.list, 0.999);
    CHECK(avg.shadow() == std::vector<double>{1.0, -0.5, 7.0, 2.0});  // list order: weight, running, bias
    CHECK(avg.next_decay() == Approx(2.0 / 11.0));
    p.w.value = {3.0, 0.5};
    p.buffer.value = {8.0};
    avg.update(p.list);
    const double d1 = 2.0 / 11.0;
    CHECK(avg.shadow()[0] == Approx(d1 * 1.0 + (1 - d1) * 3.0).epsilon(1e-15));
    CHECK(avg.shadow()[1] == Approx(d1 * -0.5 + (1 - d1) * 0.5).epsilon(1e-15));
    CHECK(avg.shadow()[2] == 8.0);  // fixed buffer: copied
    CHECK(avg.shadow()[3] == Approx(2.0).epsilon(1e-15));
    p.w.value = {-1.0, 0.5};
    avg.update(p.list);
    const double d2 = 3.0 / 12.0;
    CHECK(avg.shadow()[0] == Approx(d2 * (d1 * 1.0 + (1 - d1) * 3.0) + (1 - d2) * -1.0).epsilon(1e-15));
    CHECK(avg.updates() == 2);
    CHECK(avg.rate() == 0.999);

    avg.copy_to(p.list);
    CHECK(p.w.value[0] == avg.shadow()[0]);
    CHECK(p.b.value[0] == avg.shadow()[3]);

    CHECK_THROWS_WITH(avg.set_state(5, {1.0, 2.0}), Catch::Contains("shadow has 2") && Catch::Contains("expected 4"));
    avg.set_state(5, {0.0, 0.0, 0.0, 0.0});
    CHECK(avg.updates() == 5);
    CHECK(avg.next_decay() == Approx(7.0 / 16.0));
    CHECK_THROWS(ema<double>(p.list, 1.5));
}

TEST_CASE("float: loss, Adam and EMA together lower a held-out DSM loss", "[train_losses]") {
    // A few hundred Adam steps on 2-d Gaussian data; the held-out loss (fixed key, fixed
    // data) must fall by more than 5 standard errors of the per-sample differences.
    const sgm::vp_sde<float> sde;
    sgm::nn::mlp_config cfg;
    cfg.data_dim = 2;
    cfg.hidden = 32;
    cfg.depth = 2;
    cfg.embedding_size = 16;
    cfg.seed = 3;
    sgm::nn::score_network net(sgm::nn::mlp<float>(cfg, sgm::nn::cpu_context(1)), sde, {},
                               sgm::serial_backend<float>{});
    const auto params = net.network().parameters();
    const sgm::train::continuous_dsm_loss loss(sde, dsm_options{});
    sgm::train::adam<float> opt(params, {.learning_rate = 3e-3, .warmup = 20});
    sgm::train::ema<float> average(params, 0.99);

    const auto data = gaussian_data(2);
    const std::size_t held_out = 4096, batch = 128, steps = 300;
    const auto to_float = [](const std::vector<double>& v) { return std::vector<float>(v.begin(), v.end()); };
    const std::vector<float> validation = to_float(data.sample(held_out, 1000));
    const std::vector<float> train = to_float(data.sample(batch * steps, 2000));
    const batch_key validation_key{77, 0, 0};

    std::vector<double> before(held_out), after(held_out);
    loss.evaluate(net, validation.data(), held_out, validation_key, false, before.data());
    for (std::size_t step = 0; step < steps; ++step) {
        params.zero_grad();
        const double value = loss(net, train.data() + step * batch * 2, batch, batch_key{5, step, 0}, true);
        REQUIRE(std::isfinite(value));
        CHECK(std::isfinite(opt.step(params)));
        average.update(params);
    }
    CHECK(opt.steps() == steps);
    average.copy_to(params);
    loss.evaluate(net, validation.data(), held_out, validation_key, false, after.data());
    std::vector<double> gain(held_out);
    for (std::size_t b = 0; b < held_out; ++b) gain[b] = before[b] - after[b];
    const mc_estimate e = estimate(gain), start = estimate(before);
    INFO("held-out loss " << start.mean << " -> " << start.mean - e.mean << " (gain " << e.mean << " +- "
                          << e.standard_error << ")");
    CHECK(e.mean > 5 * e.standard_error);
}
