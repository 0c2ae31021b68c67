// The U-Net score network: gradients with respect to every parameter and to the
// input against finite differences (with dropout active, its masks fixed by the
// pass key), the skip wiring, thread determinism, float/double agreement, and
// its parameter count at the MNIST defaults.

#include <catch2/catch.hpp>

#include <sgm/backend/serial.hpp>
#include <sgm/concepts/differentiable_score_model.hpp>
#include <sgm/nn/score_network.hpp>
#include <sgm/nn/unet.hpp>
#include <sgm/sde/vp.hpp>

#include <cmath>
#include <vector>

#include "support/gradient_check.hpp"

namespace {

using sgm::nn::gradients;

static_assert(sgm::nn::network<sgm::nn::unet<float>>);
static_assert(sgm::vjp_score_model<
              sgm::nn::score_network<sgm::nn::unet<float>, sgm::vp_sde<float>, sgm::serial_backend<float>>>);

sgm::nn::unet_config tiny_config() {
    sgm::nn::unet_config c;
    c.channels = 2;
    c.height = 8;
    c.width = 4;
    c.base_channels = 8;
    c.multipliers = {1, 2};
    c.blocks_per_level = 1;
    c.attention_resolutions = {4};
    c.dropout = 0.25;
    c.seed = 3;
    return c;
}

// Near-zero initial layers (DDPM++'s last convolutions) would make most
// gradients vanish: give every parameter a random O(0.3) offset first.
void randomize(sgm::nn::unet<double>& net) {
    std::uint64_t k = 100;
    for (const auto& e : net.parameters()) {
        const auto noise = sgm::test::random_vector(e.tensor->size(), k++, 0.3);
        for (std::size_t j = 0; j < e.tensor->size(); ++j) e.tensor->value[j] += noise[j];
    }
}

}  // namespace

TEST_CASE("unet: every parameter and input gradient matches finite differences", "[nn][unet]") {
    sgm::nn::unet<double> net(tiny_config());
    randomize(net);
    net.set_mode({.training = true, .seed = 9, .step = 4, .first_sample = 0});
    const std::size_t n = 2, d = net.input_size();
    std::vector<double> x = sgm::test::random_vector(n * d, 21);
    const std::vector<double> c{3.0, 250.0};
    const std::vector<double> w = sgm::test::random_vector(n * d, 22);
    auto loss = [&] {
        std::vector<double> y(n * d);
        net.forward(x.data(), c.data(), y.data(), n);
        return sgm::test::weighted_sum(y, w);
    };
    const auto params = net.parameters();
    params.zero_grad();
    std::vector<double> y(n * d), dx(n * d);
    net.forward(x.data(), c.data(), y.data(), n);
    net.backward(w.data(), dx.data(), n, gradients::parameters_and_input);

    const auto input = sgm::test::check_gradient(loss, x, dx, 64);
    INFO("input: max error " << input.max_abs_error << " of " << input.max_abs_gradient);
    CHECK(input.relative() < 1e-6);
    std::size_t checked = 0;
    for (const auto& e : params) {
        if (!e.tensor->trainable) continue;
        const std::vector<double> analytic = e.tensor->grad;
        const auto r = sgm::test::check_gradient(loss, e.tensor->value, analytic, 24);
        INFO(e.name << ": max error " << r.max_abs_error << " of max gradient " << r.max_abs_gradient);
        if (e.name.ends_with("attention.k.bias")) {
            // Adding a bias to every key shifts each query's logits by a constant, which
            // the softmax ignores: the true gradient is zero, and the finite difference
            // must be zero up to rounding.
            CHECK(r.max_abs_gradient < 1e-12);
            CHECK(r.max_abs_error < 1e-6 * input.max_abs_gradient);
        } else {
            CHECK(r.max_abs_gradient > 0);
            CHECK(r.relative() < 1e-6);
        }
        ++checked;
    }
    CHECK(checked == params.size());
}

TEST_CASE("unet: input-only backward gives the same input gradient and no parameter grads", "[nn][unet]") {
    sgm::nn::unet<double> net(tiny_config());
    randomize(net);
    const std::size_t n = 3, d = net.input_size();
    const std::vector<double> x = sgm::test::random_vector(n * d, 5), w = sgm::test::random_vector(n * d, 6);
    const std::vector<double> c{1.0, 10.0, 100.0};
    std::vector<double> y(n * d), full(n * d), only(n * d);
    const auto params = net.parameters();
    params.zero_grad();
    net.forward(x.data(), c.data(), y.data(), n);
    net.backward(w.data(), full.data(), n, gradients::parameters_and_input);
    params.zero_grad();
    net.forward(x.data(), c.data(), y.data(), n);
    net.backward(w.data(), only.data(), n, gradients::input_only);
    CHECK(full == only);
    for (const auto& e : params)
        for (const double g : e.tensor->grad) REQUIRE(g == 0.0);
}

TEST_CASE("unet: each sample's output depends on its own input and time only", "[nn][unet]") {
    sgm::nn::unet<double> net(tiny_config());
    randomize(net);
    const std::size_t d = net.input_size();
    const std::vector<double> x = sgm::test::random_vector(3 * d, 8);
    const std::vector<double> c{2.0, 20.0, 200.0};
    std::vector<double> all(3 * d), one(d);
    net.forward(x.data(), c.data(), all.data(), 3);
    net.forward(x.data() + d, c.data() + 1, one.data(), 1);
    for (std::size_t j = 0; j < d; ++j) REQUIRE(one[j] == Approx(all[d + j]).epsilon(1e-12).margin(1e-12));
}

TEST_CASE("unet: bit-identical on 1 and 2 threads and float agrees with double", "[nn][unet]") {
    auto config = tiny_config();
    config.height = 16;
    config.width = 16;
    config.attention_resolutions = {8};
    sgm::nn::unet<float> one(config, sgm::nn::cpu_context(1)), two(config, sgm::nn::cpu_context(2));
    sgm::nn::unet<double> ref(config);
    const std::size_t n = 9, d = one.input_size();
    std::vector<float> x(n * d), c(n), w(n * d);
    for (std::size_t i = 0; i < x.size(); ++i) x[i] = std::sin(0.1f * static_cast<float>(i));
    for (std::size_t i = 0; i < w.size(); ++i) w[i] = std::cos(0.3f * static_cast<float>(i));
    for (std::size_t b = 0; b < n; ++b) c[b] = 100.0f * static_cast<float>(b);
    std::vector<float> y1(n * d), y2(n * d), dx1(n * d), dx2(n * d);
    for (auto* net : {&one, &two}) net->set_mode({.training = true, .seed = 1, .step = 2});
    one.forward(x.data(), c.data(), y1.data(), n);
    two.forward(x.data(), c.data(), y2.data(), n);
    REQUIRE(y1 == y2);
    one.backward(w.data(), dx1.data(), n, gradients::parameters_and_input);
    two.backward(w.data(), dx2.data(), n, gradients::parameters_and_input);
    REQUIRE(dx1 == dx2);
    const auto p1 = one.parameters(), p2 = two.parameters();
    for (std::size_t i = 0; i < p1.size(); ++i) REQUIRE(p1[i].tensor->grad == p2[i].tensor->grad);

    // Same weights in double (eval mode): outputs agree to float rounding.
    one.set_mode({});
    one.forward(x.data(), c.data(), y1.data(), n);
    std::vector<double> xd(x.begin(), x.end()), cd(c.begin(), c.end()), yd(n * d);
    ref.forward(xd.data(), cd.data(), yd.data(), n);
    double scale = 0, err = 0;
    for (std::size_t i = 0; i < yd.size(); ++i) {
        scale = std::max(scale, std::abs(yd[i]));
        err = std::max(err, std::abs(yd[i] - static_cast<double>(y1[i])));
    }
    INFO("max |float − double| " << err << " of max |y| " << scale);
    CHECK(err < 1e-4 * scale);
}

TEST_CASE("unet: MNIST defaults have 1–3 M parameters and zero initial output", "[nn][unet]") {
    sgm::nn::unet<float> net(sgm::nn::unet_config{});
    const auto params = net.parameters();
    INFO("parameters: " << params.trainable_count());
    CHECK(params.trainable_count() > 1'000'000);
    CHECK(params.trainable_count() < 3'000'000);
    CHECK(params.find("down.0.block.conv0.weight") != nullptr);
    CHECK(params.find("middle.0.attention.q.weight") != nullptr);
    // conv_out starts with weights of std ~1e-6 (DDPM++'s init scale 1e-10), so the
    // untrained output is ~1e-5 instead of O(1).
    std::vector<float> x(784, 0.5f), c{10.0f}, y(784);
    net.forward(x.data(), c.data(), y.data(), 1);
    for (const float v : y) REQUIRE(std::abs(v) < 1e-3f);
}

TEST_CASE("unet: Gaussian Fourier time features are a fixed, saved buffer", "[nn][unet]") {
    auto config = tiny_config();
    config.embedding = sgm::nn::embedding_kind::gaussian_fourier;
    sgm::nn::unet<double> net(config);
    const auto params = net.parameters();
    const auto* frequencies = params.find("time.embedding.frequencies");
    REQUIRE(frequencies != nullptr);
    CHECK_FALSE(frequencies->trainable);
    CHECK(frequencies->size() == config.base_channels / 2);
    // Drawn from N(0, 16²): their spread is of that order.
    double squares = 0;
    for (const double f : frequencies->value) squares += f * f;
    CHECK(std::sqrt(squares / double(frequencies->size())) > 4.0);
    // Time enters the output: two conditioning values give different results.
    randomize(net);
    const std::size_t d = net.input_size();
    const std::vector<double> x = sgm::test::random_vector(2 * d, 31), c{-1.0, 2.0};
    std::vector<double> y(2 * d), y_same(2 * d);
    net.forward(x.data(), c.data(), y.data(), 2);
    const std::vector<double> c_same{2.0, 2.0};
    std::vector<double> x_same(x.begin() + std::ptrdiff_t(d), x.end());
    x_same.insert(x_same.end(), x.begin() + std::ptrdiff_t(d), x.end());
    net.forward(x_same.data(), c_same.data(), y_same.data(), 2);
    double change = 0;
    for (std::size_t j = 0; j < d; ++j) change = std::max(change, std::abs(y_same[j] - y[d + j]));
    CHECK(change < 1e-12);  // same input and time: same output
    double differs = 0;
    net.forward(x_same.data(), c.data(), y.data(), 2);
    for (std::size_t j = 0; j < d; ++j) differs = std::max(differs, std::abs(y[j] - y[d + j]));
    CHECK(differs > 1e-3);  // same input, different time
}

TEST_CASE("unet: bad configurations are errors naming the problem", "[nn][unet]") {
    auto c = tiny_config();
    c.height = 6;
    c.multipliers = {1, 2, 2};
    REQUIRE_THROWS_WITH(sgm::nn::unet<float>(c), Catch::Contains("must be divisible by 4"));
    c = tiny_config();
    c.multipliers = {};
    REQUIRE_THROWS_WITH(sgm::nn::unet<float>(c), Catch::Contains("at least one level"));
}
