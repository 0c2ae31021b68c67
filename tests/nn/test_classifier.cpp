// The image classifier: gradients with respect to the input and every parameter
// against finite differences (plain and time-conditioned), the features accessor,
// input-only passes, determinism across thread counts, and its description as a
// weights-file config.

#include <catch2/catch.hpp>

#include <sgm/models/classifier_model.hpp>
#include <sgm/nn/classifier.hpp>
#include <sgm/nn/classifier_guide.hpp>

#include <cmath>
#include <vector>

#include "support/gradient_check.hpp"

namespace {

using sgm::nn::gradients;

sgm::nn::classifier_config small_config(bool time_conditioned) {
    sgm::nn::classifier_config c;
    c.channels = 2;
    c.height = 8;
    c.width = 6;
    c.base_channels = 8;
    c.multipliers = {1, 2};
    c.blocks_per_level = 1;
    c.feature_size = 6;
    c.classes = 3;
    c.time_conditioned = time_conditioned;
    c.embedding_size = 8;
    c.time_scale = 10;
    c.seed = 3;
    return c;
}

void check_all_gradients(sgm::nn::classifier<double>& net) {
    const std::size_t n = 3, d = net.input_size(), k = net.classes();
    std::vector<double> x = sgm::test::random_vector(n * d, 21);
    const std::vector<double> t{0.1, 0.5, 0.9};
    const std::vector<double> w = sgm::test::random_vector(n * k, 22);
    const auto loss = [&] {
        std::vector<double> logits(n * k);
        net.forward(x.data(), t.data(), logits.data(), n);
        return sgm::test::weighted_sum(logits, w);
    };
    auto params = net.parameters();
    params.zero_grad();
    std::vector<double> logits(n * k), dx(n * d);
    net.forward(x.data(), t.data(), logits.data(), n);
    net.backward(w.data(), dx.data(), n, gradients::parameters_and_input);

    const auto input = sgm::test::check_gradient(loss, x, dx, 400);
    INFO("input: max error " << input.max_abs_error << " of max gradient " << input.max_abs_gradient);
    CHECK(input.checked == n * d);
    CHECK(input.max_abs_gradient > 0);
    CHECK(input.relative() < 1e-7);
    for (const auto& e : params) {
        if (!e.tensor->trainable) continue;
        const std::vector<double> analytic = e.tensor->grad;
        const auto r = sgm::test::check_gradient(loss, e.tensor->value, analytic);
        INFO(e.name << ": max error " << r.max_abs_error << " of max gradient " << r.max_abs_gradient);
        CHECK(r.max_abs_gradient > 0);
        CHECK(r.relative() < 1e-7);
    }
}

}  // namespace

TEST_CASE("classifier: input and parameter gradients match finite differences", "[nn][classifier]") {
    SECTION("plain") {
        sgm::nn::classifier<double> net(small_config(false));
        check_all_gradients(net);
    }
    SECTION("time-conditioned") {
        sgm::nn::classifier<double> net(small_config(true));
        const auto params = net.parameters();
        REQUIRE(params[0].name == "time.dense0.weight");
        REQUIRE(params.find("conv_in_embed.weight") != nullptr);
        REQUIRE(params.find("stages.2.embed.bias") != nullptr);
        check_all_gradients(net);
    }
    SECTION("time-conditioned, Gaussian Fourier embedding and two blocks per level") {
        auto config = small_config(true);
        config.embedding = sgm::nn::embedding_kind::gaussian_fourier;
        config.blocks_per_level = 2;
        sgm::nn::classifier<double> net(config);
        const auto params = net.parameters();
        REQUIRE(params[0].name == "time.embedding.frequencies");
        CHECK_FALSE(params[0].tensor->trainable);
        check_all_gradients(net);
    }
}

TEST_CASE("classifier: input-only passes give the same input gradient and touch no parameter", "[nn][classifier]") {
    sgm::nn::classifier<double> net(small_config(true));
    const std::size_t n = 2, d = net.input_size(), k = net.classes();
    const std::vector<double> x = sgm::test::random_vector(n * d, 5), t{0.3, 0.7};
    const std::vector<double> w = sgm::test::random_vector(n * k, 6);
    std::vector<double> logits(n * k), full(n * d), only(n * d);
    const auto params = net.parameters();
    params.zero_grad();
    net.forward(x.data(), t.data(), logits.data(), n);
    net.backward(w.data(), full.data(), n, gradients::parameters_and_input);
    params.zero_grad();
    net.forward(x.data(), t.data(), logits.data(), n);
    net.backward(w.data(), only.data(), n, gradients::input_only);
    CHECK(full == only);
    for (const auto& e : params)
        for (const double g : e.tensor->grad) REQUIRE(g == 0.0);
}

TEST_CASE("classifier: features are the penultimate layer and time matters", "[nn][classifier]") {
    sgm::nn::classifier<double> net(small_config(true));
    const std::size_t n = 2, d = net.input_size(), k = net.classes(), f = net.feature_size();
    const std::vector<double> x = sgm::test::random_vector(n * d, 9);
    std::vector<double> logits(n * k), later(n * k);
    const std::vector<double> t{0.2, 0.2}, t2{0.6, 0.6};
    net.forward(x.data(), t.data(), logits.data(), n);
    const auto features = net.features();
    REQUIRE(features.size() == n * f);
    // logits = W·features + b
    const auto params = net.parameters();
    const auto* weight = params.find("logits.weight");
    const auto* bias = params.find("logits.bias");
    REQUIRE(weight != nullptr);
    REQUIRE(bias != nullptr);
    for (std::size_t b = 0; b < n; ++b)
        for (std::size_t c = 0; c < k; ++c) {
            double z = bias->value[c];
            for (std::size_t j = 0; j < f; ++j) z += weight->value[c * f + j] * features[b * f + j];
            CHECK(logits[b * k + c] == Approx(z).epsilon(1e-12));
        }
    net.forward(x.data(), t2.data(), later.data(), n);
    CHECK(later != logits);
    REQUIRE_THROWS_WITH(net.forward(x.data(), nullptr, logits.data(), n), Catch::Contains("time-conditioned"));
}

TEST_CASE("classifier: bit-identical on 1 and 2 threads", "[nn][classifier]") {
    sgm::nn::classifier_config config;  // the default 28×28 network
    config.time_conditioned = true;
    sgm::nn::classifier<float> one(config, sgm::nn::cpu_context(1)), two(config, sgm::nn::cpu_context(2));
    const std::size_t n = 40, d = one.input_size(), k = one.classes();
    std::vector<float> x(n * d), t(n), w(n * k);
    for (std::size_t i = 0; i < x.size(); ++i) x[i] = 0.5f + 0.5f * std::sin(0.37f * static_cast<float>(i));
    for (std::size_t b = 0; b < n; ++b) t[b] = static_cast<float>(b) / static_cast<float>(n);
    for (std::size_t i = 0; i < w.size(); ++i) w[i] = std::cos(0.11f * static_cast<float>(i));
    std::vector<float> y1(n * k), y2(n * k), dx1(n * d), dx2(n * d);
    one.forward(x.data(), t.data(), y1.data(), n);
    two.forward(x.data(), t.data(), y2.data(), n);
    REQUIRE(y1 == y2);
    REQUIRE(std::vector<float>(one.features().begin(), one.features().end()) ==
            std::vector<float>(two.features().begin(), two.features().end()));
    one.backward(w.data(), dx1.data(), n, gradients::parameters_and_input);
    two.backward(w.data(), dx2.data(), n, gradients::parameters_and_input);
    REQUIRE(dx1 == dx2);
    const auto p1 = one.parameters(), p2 = two.parameters();
    for (std::size_t i = 0; i < p1.size(); ++i) REQUIRE(p1[i].tensor->grad == p2[i].tensor->grad);
}

TEST_CASE("classifier: names, counts, seeds and bad configurations", "[nn][classifier]") {
    sgm::nn::classifier<float> a(sgm::nn::classifier_config{}), b(sgm::nn::classifier_config{});
    sgm::nn::classifier_config other;
    other.seed = 1;
    sgm::nn::classifier<float> c(other);
    CHECK(a.parameters().flatten_values() == b.parameters().flatten_values());
    CHECK(a.parameters().flatten_values() != c.parameters().flatten_values());
    const auto list = a.parameters();
    CHECK(list[0].name == "conv_in.weight");
    CHECK(list[list.size() - 1].name == "logits.bias");
    // conv_in 1→32: 320; stages (GN + conv): 32→32, 32→32 s2, 32→64, 64→64 s2, 64→64:
    // 9312 + 9312 + 18560 + 37056 + 37056; norm_out 128; feature 64·128 + 128; logits 128·10 + 10.
    CHECK(list.value_count() == 320 + 9312 + 9312 + 18560 + 37056 + 37056 + 128 + 8320 + 1290);
    sgm::nn::classifier_config bad;
    bad.classes = 1;
    REQUIRE_THROWS_WITH(sgm::nn::classifier<float>(bad), Catch::Contains("classes 1"));
    bad = {};
    bad.multipliers = {};
    REQUIRE_THROWS_WITH(sgm::nn::classifier<float>(bad), Catch::Contains("at least one level"));
}

TEST_CASE("classifier model: the config round-trips and rejects other models", "[nn][classifier]") {
    sgm::models::classifier_spec spec;
    spec.network = small_config(true);
    spec.network.multipliers = {1, 2, 4};
    spec.range = sgm::data::pixel_range::symmetric;
    spec.sde = sgm::models::default_sde_spec(sgm::models::sde_kind::vp);
    spec.data = "test digits";
    const auto config = sgm::models::to_config(spec);
    CHECK(config.at("model") == "classifier");
    CHECK(config.at("classifier.multipliers") == "1,2,4");
    const auto back = sgm::models::classifier_from_config(config, "memory");
    CHECK(back.network.multipliers == spec.network.multipliers);
    CHECK(back.network.time_conditioned);
    CHECK(back.network.time_scale == spec.network.time_scale);
    CHECK(back.network.height == 8);
    CHECK(back.network.width == 6);
    CHECK(back.range == sgm::data::pixel_range::symmetric);
    REQUIRE(back.sde.has_value());
    CHECK(back.sde->second == 20);
    CHECK(sgm::models::to_config(back) == config);

    auto wrong = config;
    wrong["model"] = "unet";
    REQUIRE_THROWS_WITH(sgm::models::classifier_from_config(wrong, "f"), Catch::Contains("expected a classifier"));
    wrong = config;
    wrong.erase("classifier.classes");
    REQUIRE_THROWS_WITH(sgm::models::classifier_from_config(wrong, "f"),
                        Catch::Contains("'classifier.classes' is missing"));
    wrong = config;
    wrong["classifier.time_conditioned"] = "yes";
    REQUIRE_THROWS_WITH(sgm::models::classifier_from_config(wrong, "f"), Catch::Contains("expected true or false"));
}

TEST_CASE("classifier guide: ∇ₓ log p(y | x, t) matches finite differences of log-softmax", "[nn][classifier][guidance]") {
    sgm::nn::classifier<double> net(small_config(true));
    sgm::nn::classifier_guide<double> guide(net);
    CHECK(guide.classes() == 3);
    CHECK(guide.dim() == net.input_size());
    const std::size_t n = 3, d = net.input_size(), k = net.classes();
    std::vector<double> x = sgm::test::random_vector(n * d, 31);
    const std::vector<double> t{0.05, 0.4, 0.95};
    const std::vector<std::size_t> labels{2, 0, 1};
    // Σ_b log softmax(logits_b)[labels[b]]: its gradient in x_b is the guide's row b.
    const auto log_prob = [&] {
        std::vector<double> logits(n * k);
        net.forward(x.data(), t.data(), logits.data(), n);
        double total = 0;
        for (std::size_t b = 0; b < n; ++b) {
            double top = logits[b * k], sum = 0;
            for (std::size_t c = 1; c < k; ++c) top = std::max(top, logits[b * k + c]);
            for (std::size_t c = 0; c < k; ++c) sum += std::exp(logits[b * k + c] - top);
            total += logits[b * k + labels[b]] - top - std::log(sum);
        }
        return total;
    };
    std::vector<double> gradient(n * d);
    guide.log_prob_gradient({x.data(), n, d}, t.data(), labels, {gradient.data(), n, d});
    // An untrained classifier's log-probabilities are flat (gradients ~3e-3) while
    // the sum itself is ~3: at h = 1e-6 the difference quotient's rounding, about
    // 3e-16·3/1e-6 = 1e-9, is 3e-7 of the gradient. h = 1e-4 brings rounding and
    // the O(h²) truncation both to ~1e-11.
    const auto r = sgm::test::check_gradient(log_prob, x, gradient, 400, 1e-4);
    INFO("max error " << r.max_abs_error << " of max gradient " << r.max_abs_gradient);
    CHECK(r.checked == n * d);
    CHECK(r.max_abs_gradient > 0);
    CHECK(r.relative() < 1e-7);

    const std::vector<std::size_t> bad{0, 3, 1};
    CHECK_THROWS_WITH(guide.log_prob_gradient({x.data(), n, d}, t.data(), bad, {gradient.data(), n, d}),
                      Catch::Contains("label[1] = 3") && Catch::Contains("[0, 3)"));
    sgm::nn::classifier<double> plain(small_config(false));
    CHECK_THROWS_WITH(sgm::nn::classifier_guide<double>(plain), Catch::Contains("not time-conditioned"));
}
