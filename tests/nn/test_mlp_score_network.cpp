// The MLP score network and the score_network adapter: gradients with respect to
// parameters and input against finite differences, the score-model concepts,
// conditioning, determinism across thread counts, and use by the samplers and
// the likelihood unchanged.

#include <catch2/catch.hpp>

#include <sgm/backend/serial.hpp>
#include <sgm/concepts/differentiable_score_model.hpp>
#include <sgm/likelihood/log_likelihood.hpp>
#include <sgm/nn/mlp.hpp>
#include <sgm/nn/score_network.hpp>
#include <sgm/predictor/euler_maruyama.hpp>
#include <sgm/corrector/no_corrector.hpp>
#include <sgm/sample/pc_sampler.hpp>
#include <sgm/sde/ve.hpp>
#include <sgm/sde/vp.hpp>

#include <cmath>
#include <vector>

#include "support/gradient_check.hpp"

namespace {

using sgm::nn::gradients;
using backend = sgm::serial_backend<double>;
using vp_network = sgm::nn::score_network<sgm::nn::mlp<double>, sgm::vp_sde<double>, backend>;
using ve_network = sgm::nn::score_network<sgm::nn::mlp<double>, sgm::ve_sde<double>, backend>;

static_assert(sgm::nn::network<sgm::nn::mlp<double>>);
static_assert(sgm::score_model<vp_network> && sgm::vjp_score_model<vp_network>);
static_assert(sgm::score_model<ve_network> && sgm::vjp_score_model<ve_network>);

sgm::nn::mlp_config small_config(std::size_t dim) {
    sgm::nn::mlp_config c;
    c.data_dim = dim;
    c.hidden = 12;
    c.depth = 2;
    c.embedding_size = 8;
    c.seed = 7;
    return c;
}

// Loss Σ w·score over a batch at fixed times, through the score_network.
template <class Model>
struct weighted_score_loss {
    Model& model;
    std::vector<double>& x;
    const std::vector<double>& t;
    const std::vector<double>& w;
    double operator()() const {
        std::vector<double> s(x.size());
        model.forward(x.data(), t.data(), s.data(), t.size());
        return sgm::test::weighted_sum(s, w);
    }
};

template <class Model>
void check_all_gradients(Model& model, std::size_t dim) {
    const std::size_t n = 3;
    std::vector<double> x = sgm::test::random_vector(n * dim, 11);
    const std::vector<double> t{0.05, 0.4, 0.9};
    const std::vector<double> w = sgm::test::random_vector(n * dim, 12);
    const weighted_score_loss<Model> loss{model, x, t, w};

    auto params = model.network().parameters();
    params.zero_grad();
    std::vector<double> s(n * dim), dx(n * dim);
    model.forward(x.data(), t.data(), s.data(), n);
    model.backward(w.data(), dx.data(), n, gradients::parameters_and_input);

    const auto input = sgm::test::check_gradient(loss, x, dx);
    INFO("input: max error " << input.max_abs_error << " of max gradient " << input.max_abs_gradient);
    CHECK(input.checked == n * dim);
    CHECK(input.relative() < 1e-7);

    for (const auto& e : params) {
        if (!e.tensor->trainable) continue;  // fixed buffers (Fourier frequencies) get no gradient
        const std::vector<double> analytic = e.tensor->grad;
        const auto r = sgm::test::check_gradient(loss, e.tensor->value, analytic);
        INFO(e.name << ": max error " << r.max_abs_error << " of max gradient " << r.max_abs_gradient);
        CHECK(r.max_abs_gradient > 0);
        CHECK(r.relative() < 1e-7);
    }
}

}  // namespace

TEST_CASE("mlp score network: parameter and input gradients match finite differences", "[nn][mlp]") {
    SECTION("VP, divided by the marginal std") {
        vp_network model(sgm::nn::mlp<double>(small_config(3)), sgm::vp_sde<double>{});
        check_all_gradients(model, 3);
    }
    SECTION("VE, Gaussian Fourier features of log sigma") {
        auto config = small_config(2);
        config.embedding = sgm::nn::embedding_kind::gaussian_fourier;
        ve_network model(sgm::nn::mlp<double>(config), sgm::ve_sde<double>{}, {sgm::nn::time_input::log_sigma, true});
        const auto params = model.network().parameters();
        REQUIRE(params[0].name == "embedding.frequencies");
        CHECK_FALSE(params[0].tensor->trainable);
        CHECK(params.trainable_count() + 4 == params.value_count());
        check_all_gradients(model, 2);
    }
    SECTION("VE, raw output, log-sigma conditioning") {
        ve_network model(sgm::nn::mlp<double>(small_config(2)), sgm::ve_sde<double>{},
                         {sgm::nn::time_input::log_sigma, false});
        check_all_gradients(model, 2);
    }
}

TEST_CASE("score_network: score_vjp is the input gradient of v·score", "[nn][mlp]") {
    vp_network model(sgm::nn::mlp<double>(small_config(2)), sgm::vp_sde<double>{});
    const std::size_t n = 4, d = 2;
    std::vector<double> x = sgm::test::random_vector(n * d, 3);
    const std::vector<double> t{0.01, 0.2, 0.5, 1.0};
    const std::vector<double> v = sgm::test::random_vector(n * d, 4);
    std::vector<double> score(n * d), vjp(n * d), plain(n * d);
    model.score_vjp({x.data(), n, d}, t.data(), {v.data(), n, d}, {score.data(), n, d}, {vjp.data(), n, d});
    model.score({x.data(), n, d}, t.data(), {plain.data(), n, d});
    CHECK(score == plain);
    const weighted_score_loss<vp_network> loss{model, x, t, v};
    const auto r = sgm::test::check_gradient(loss, x, vjp);
    CHECK(r.relative() < 1e-7);
    // A VJP must leave the parameter gradients alone.
    for (const auto& e : model.network().parameters())
        for (const double g : e.tensor->grad) REQUIRE(g == 0.0);
}

TEST_CASE("score_network: conditioning follows the SDE", "[nn][mlp]") {
    const sgm::ve_sde<double> ve;
    const sgm::vp_sde<double> vp;
    ve_network a(sgm::nn::mlp<double>(small_config(2)), ve);
    vp_network b(sgm::nn::mlp<double>(small_config(2)), vp);
    CHECK(a.conditioning(0.3) == Approx(ve.marginal_std(0.3)).epsilon(1e-15));
    CHECK(b.conditioning(0.3) == Approx(999 * 0.3).epsilon(1e-15));
    ve_network c(sgm::nn::mlp<double>(small_config(2)), ve, {sgm::nn::time_input::log_sigma, true});
    CHECK(c.conditioning(0.3) == Approx(std::log(ve.marginal_std(0.3))).epsilon(1e-15));
}

TEST_CASE("mlp: outputs and gradients are bit-identical on 1 and 2 threads", "[nn][mlp]") {
    auto config = small_config(2);
    config.hidden = 64;
    sgm::nn::mlp<float> one(config, sgm::nn::cpu_context(1));
    sgm::nn::mlp<float> two(config, sgm::nn::cpu_context(2));
    const std::size_t n = 700;  // several row chunks
    std::vector<float> x(n * 2), c(n), w(n * 2);
    for (std::size_t i = 0; i < x.size(); ++i) x[i] = std::sin(0.37f * static_cast<float>(i));
    for (std::size_t i = 0; i < w.size(); ++i) w[i] = std::cos(0.11f * static_cast<float>(i));
    for (std::size_t b = 0; b < n; ++b) c[b] = static_cast<float>(b % 1000);
    std::vector<float> y1(n * 2), y2(n * 2), dx1(n * 2), dx2(n * 2);
    one.forward(x.data(), c.data(), y1.data(), n);
    two.forward(x.data(), c.data(), y2.data(), n);
    REQUIRE(y1 == y2);
    one.backward(w.data(), dx1.data(), n, gradients::parameters_and_input);
    two.backward(w.data(), dx2.data(), n, gradients::parameters_and_input);
    REQUIRE(dx1 == dx2);
    const auto p1 = one.parameters(), p2 = two.parameters();
    for (std::size_t i = 0; i < p1.size(); ++i) REQUIRE(p1[i].tensor->grad == p2[i].tensor->grad);
}

TEST_CASE("mlp: same seed same weights, parameter names and counts", "[nn][mlp]") {
    sgm::nn::mlp<float> a(small_config(2)), b(small_config(2));
    auto other = small_config(2);
    other.seed = 8;
    sgm::nn::mlp<float> c(other);
    CHECK(a.parameters().flatten_values() == b.parameters().flatten_values());
    CHECK(a.parameters().flatten_values() != c.parameters().flatten_values());
    const auto list = a.parameters();
    REQUIRE(list.size() == 6);
    CHECK(list[0].name == "layers.0.weight");
    CHECK(list[5].name == "layers.2.bias");
    // (2 + 8)·12 + 12 + 12·12 + 12 + 12·2 + 2
    CHECK(list.value_count() == 314);
}

TEST_CASE("score_network: bad shapes are errors naming the sizes", "[nn][mlp]") {
    vp_network model(sgm::nn::mlp<double>(small_config(2)), sgm::vp_sde<double>{});
    std::vector<double> x(6), t(2), out(6);
    REQUIRE_THROWS_WITH(model.score({x.data(), 2, 3}, t.data(), {out.data(), 2, 3}),
                        Catch::Contains("samples have 3 values, the network takes 2"));
    REQUIRE_THROWS_WITH(model.score({x.data(), 2, 2}, t.data(), {out.data(), 3, 2}),
                        Catch::Contains("output is 3 × 2, expected 2 × 2"));
    REQUIRE_THROWS_WITH(sgm::nn::mlp<double>(sgm::nn::mlp_config{.data_dim = 0}),
                        Catch::Contains("data_dim must be positive"));
}

TEST_CASE("score_network works unchanged with the PC sampler and the likelihood", "[nn][mlp]") {
    vp_network model(sgm::nn::mlp<double>(small_config(2)), sgm::vp_sde<double>{});
    sgm::pc_options options;
    options.count = 8;
    options.seed = 5;
    const auto result = sgm::pc_sample(model.sde(), model, sgm::euler_maruyama{}, sgm::no_corrector{}, options);
    CHECK(result.nfe == 1000);
    for (const double v : result.samples.to_host()) REQUIRE(std::isfinite(v));

    // Exact-trace likelihood of an untrained network: finite, and the exact
    // divergence equals the Hutchinson estimate's mean over many probes.
    auto data = sgm::batch<backend>::from_host(std::vector<double>{0.2, -0.1, 0.5, 0.4}, 2, 2);
    sgm::likelihood_options exact;
    exact.divergence = sgm::divergence_estimator::exact;
    const auto r = sgm::log_likelihood(model.sde(), model, data, exact);
    for (const double v : r.log_p) REQUIRE(std::isfinite(v));
    sgm::likelihood_options hutch;
    hutch.probes = 200;
    hutch.seed = 3;
    const auto h = sgm::log_likelihood(model.sde(), model, data, hutch);
    for (std::size_t i = 0; i < 2; ++i) {
        INFO("sample " << i << ": exact " << r.log_p[i] << ", Hutchinson " << h.log_p[i] << " ± " << h.std_error[i]);
        CHECK(std::abs(h.log_p[i] - r.log_p[i]) < 5 * h.std_error[i] + 1e-3);
    }
}
