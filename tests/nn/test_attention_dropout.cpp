// Self-attention block and dropout: forward against a direct evaluation of the
// formulas, backward against central differences (double), mask statistics,
// and determinism across batch positions and thread counts.

#include <catch2/catch.hpp>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include <sgm/error.hpp>
#include <sgm/nn/dropout.hpp>
#include <sgm/nn/init.hpp>
#include <sgm/nn/self_attention.hpp>
#include <sgm/random/philox_uniform.hpp>

#include "support/gradient_check.hpp"

namespace {

using sgm::nn::cpu_context;
using sgm::nn::gradients;
using sgm::nn::pass_mode;

// Fills every parameter with O(1) random values (norm weight around 1), so that the
// output projection is not near zero and every path carries gradient.
void randomize(const sgm::nn::parameter_list<double>& params, std::uint64_t seed) {
    for (std::size_t i = 0; i < params.size(); ++i) {
        auto& p = *params[i].tensor;
        p.value = sgm::test::random_vector(p.size(), seed + i, 0.5);
        if (params[i].name.ends_with("norm.weight"))
            for (double& v : p.value) v += 1.0;
    }
}

// y = x + W_o softmax(qᵀk/√C) v + b_o, evaluated directly with loops.
std::vector<double> reference_attention(const sgm::nn::parameter_list<double>& params, const std::vector<double>& x,
                                        std::size_t n, std::size_t c, std::size_t p, std::size_t groups,
                                        double eps) {
    const auto& gamma = params.find("attn.norm.weight")->value;
    const auto& beta = params.find("attn.norm.bias")->value;
    auto project = [&](const std::string& name, const std::vector<double>& in) {
        const auto& w = params.find("attn." + name + ".weight")->value;
        const auto& bias = params.find("attn." + name + ".bias")->value;
        std::vector<double> out(c * p);
        for (std::size_t o = 0; o < c; ++o)
            for (std::size_t j = 0; j < p; ++j) {
                double s = bias[o];
                for (std::size_t i = 0; i < c; ++i) s += w[o * c + i] * in[i * p + j];
                out[o * p + j] = s;
            }
        return out;
    };
    std::vector<double> y(x.size());
    const std::size_t rows = c / groups;
    for (std::size_t b = 0; b < n; ++b) {
        const double* xs = x.data() + b * c * p;
        std::vector<double> h(c * p);
        for (std::size_t g = 0; g < groups; ++g) {
            double mean = 0, var = 0;
            for (std::size_t i = g * rows * p; i < (g + 1) * rows * p; ++i) mean += xs[i];
            mean /= double(rows * p);
            for (std::size_t i = g * rows * p; i < (g + 1) * rows * p; ++i) var += (xs[i] - mean) * (xs[i] - mean);
            var /= double(rows * p);
            for (std::size_t i = g * rows * p; i < (g + 1) * rows * p; ++i)
                h[i] = gamma[i / p] * (xs[i] - mean) / std::sqrt(var + eps) + beta[i / p];
        }
        const auto q = project("q", h), k = project("k", h), v = project("v", h);
        std::vector<double> o(c * p, 0.0);
        for (std::size_t i = 0; i < p; ++i) {
            std::vector<double> w(p);
            double total = 0;
            for (std::size_t j = 0; j < p; ++j) {
                double s = 0;
                for (std::size_t ch = 0; ch < c; ++ch) s += q[ch * p + i] * k[ch * p + j];
                w[j] = std::exp(s / std::sqrt(double(c)));
                total += w[j];
            }
            for (std::size_t j = 0; j < p; ++j)
                for (std::size_t ch = 0; ch < c; ++ch) o[ch * p + i] += w[j] / total * v[ch * p + j];
        }
        const auto out = project("out", o);
        for (std::size_t i = 0; i < c * p; ++i) y[b * c * p + i] = xs[i] + out[i];
    }
    return y;
}

// Central differences of L = Σ w_i y_i with respect to the input and every parameter.
void check_attention_gradients(std::size_t height, std::size_t width, std::size_t groups, bool skip_rescale) {
    const std::size_t c = 8, n = 2, size = n * c * height * width;
    sgm::nn::self_attention<double> attn(c, height, width, groups, 1e-6, skip_rescale);
    sgm::nn::parameter_list<double> params;
    attn.collect(params, "attn");
    randomize(params, 100);
    std::vector<double> x = sgm::test::random_vector(size, 1);
    const std::vector<double> w = sgm::test::random_vector(size, 2);
    std::vector<double> y(size), dx(size);
    const cpu_context ctx(1);
    auto loss = [&] {
        attn.forward(ctx, x.data(), y.data(), n);
        return sgm::test::weighted_sum(y, w);
    };
    loss();
    params.zero_grad();
    attn.backward(ctx, w.data(), dx.data(), n, gradients::parameters_and_input);

    const auto rx = sgm::test::check_gradient(loss, x, dx);
    INFO("input: error " << rx.max_abs_error << " of max gradient " << rx.max_abs_gradient);
    CHECK(rx.checked == std::min<std::size_t>(size, 200));
    CHECK(rx.relative() < 1e-7);
    for (const auto& entry : params) {
        const std::vector<double> analytic = entry.tensor->grad;
        const auto r = sgm::test::check_gradient(loss, entry.tensor->value, analytic);
        INFO(entry.name << ": error " << r.max_abs_error << " of max gradient " << r.max_abs_gradient);
        if (entry.name.ends_with("k.bias")) {
            // b_k adds q_iᵀb_k to a whole row of scores, which the softmax ignores;
            // the differences are then rounding only, judged on the input's scale.
            CHECK(r.max_abs_gradient < 1e-12);
            CHECK(r.max_abs_error < 1e-7 * rx.max_abs_gradient);
            continue;
        }
        CHECK(r.max_abs_gradient > 1e-3);  // every other parameter matters at this point
        CHECK(r.relative() < 1e-7);
    }
}

template <class Real>
std::vector<Real> to_real(const std::vector<double>& v) {
    return {v.begin(), v.end()};
}

}  // namespace

TEST_CASE("self_attention forward matches the formulas", "[nn][attention]") {
    const std::size_t c = 8, h = 3, w = 5, n = 3;
    for (const std::size_t groups : {std::size_t{1}, std::size_t{2}, std::size_t{8}}) {
        sgm::nn::self_attention<double> attn(c, h, w, groups);
        sgm::nn::parameter_list<double> params;
        attn.collect(params, "attn");
        randomize(params, 7);
        const auto x = sgm::test::random_vector(n * c * h * w, 3, 2.0);
        std::vector<double> y(x.size());
        attn.forward(cpu_context(1), x.data(), y.data(), n);
        const auto expected = reference_attention(params, x, n, c, h * w, groups, 1e-6);
        double err = 0;
        for (std::size_t i = 0; i < y.size(); ++i) err = std::max(err, std::abs(y[i] - expected[i]));
        INFO("groups " << groups);
        CHECK(err < 1e-12);
    }
}

TEST_CASE("self_attention gradients match central differences", "[nn][attention]") {
    SECTION("4x4, default groups (2)") { check_attention_gradients(4, 4, 0, false); }
    SECTION("3x5, 2 groups") { check_attention_gradients(3, 5, 2, false); }
    SECTION("3x5, 1 group") { check_attention_gradients(3, 5, 1, false); }
    SECTION("4x4, one group per channel, skip rescale") { check_attention_gradients(4, 4, 8, true); }
}

TEST_CASE("self_attention parameters, initialization and arguments", "[nn][attention]") {
    sgm::nn::self_attention<double> attn(16, 2, 3);
    CHECK(attn.groups() == 4);
    CHECK(sgm::nn::self_attention<float>::default_groups(128) == 32);
    CHECK(sgm::nn::self_attention<float>::default_groups(512) == 32);
    CHECK(sgm::nn::self_attention<float>::default_groups(2) == 1);
    sgm::nn::parameter_list<double> params;
    attn.collect(params, "attn");
    const std::vector<std::string> names{"attn.norm.weight", "attn.norm.bias", "attn.q.weight", "attn.q.bias",
                                         "attn.k.weight",    "attn.k.bias",    "attn.v.weight", "attn.v.bias",
                                         "attn.out.weight",  "attn.out.bias"};
    REQUIRE(params.size() == names.size());
    for (std::size_t i = 0; i < names.size(); ++i) CHECK(params[i].name == names[i]);
    CHECK(params.value_count() == 2 * 16 + 4 * (16 * 16 + 16));

    // The output projection starts near zero (|W_o| ≤ √(3·1e-10/16) ≈ 4e-6), so the
    // initialized block is the identity up to ~1e-5, and exactly with W_o = 0.
    sgm::nn::initialize(params, 11);
    auto& wo = params.find("attn.out.weight")->value;
    CHECK(params.find("attn.out.weight")->init.scale == Approx(std::sqrt(3e-10 / 16)));
    CHECK(params.find("attn.q.weight")->init.scale == Approx(std::sqrt(3.0 / 16)));
    const auto x = sgm::test::random_vector(2 * 16 * 6, 5);
    std::vector<double> y(x.size());
    auto max_change = [&] {
        attn.forward(cpu_context(1), x.data(), y.data(), 2);
        double diff = 0;
        for (std::size_t i = 0; i < x.size(); ++i) diff = std::max(diff, std::abs(y[i] - x[i]));
        return diff;
    };
    const double change = max_change();
    CHECK(change > 0);
    CHECK(change < 1e-4);
    std::fill(wo.begin(), wo.end(), 0.0);
    CHECK(max_change() == 0.0);

    CHECK_THROWS_AS(sgm::nn::self_attention<float>(12, 4, 4, 5), sgm::error);  // 12 channels, 5 groups
    CHECK_THROWS_AS(sgm::nn::self_attention<float>(0, 4, 4), sgm::error);
    CHECK_THROWS_AS(sgm::nn::self_attention<float>(8, 4, 4, 2, 0.0), sgm::error);
}

TEST_CASE("self_attention gradient modes agree", "[nn][attention]") {
    const std::size_t c = 8, h = 4, w = 4, n = 5, size = n * c * h * w;
    sgm::nn::self_attention<double> attn(c, h, w);
    sgm::nn::parameter_list<double> params;
    attn.collect(params, "");
    randomize(params, 21);
    const auto x = sgm::test::random_vector(size, 8);
    const auto dy = sgm::test::random_vector(size, 9);
    std::vector<double> y(size), dx_all(size), dx_input(size);
    const cpu_context ctx(2);
    attn.forward(ctx, x.data(), y.data(), n);
    params.zero_grad();
    attn.backward(ctx, dy.data(), dx_all.data(), n, gradients::parameters_and_input);
    const auto values = params.flatten_values();
    std::vector<std::vector<double>> full;
    for (const auto& e : params) full.push_back(e.tensor->grad);

    params.zero_grad();
    attn.backward(ctx, dy.data(), dx_input.data(), n, gradients::input_only);
    CHECK(dx_input == dx_all);
    for (const auto& e : params)
        for (const double g : e.tensor->grad) REQUIRE(g == 0.0);

    attn.backward(ctx, dy.data(), nullptr, n, gradients::parameters_only);
    for (std::size_t i = 0; i < params.size(); ++i) CHECK(params[i].tensor->grad == full[i]);
    CHECK(params.flatten_values() == values);  // backward leaves values alone

    CHECK_THROWS_AS(attn.backward(ctx, dy.data(), dx_all.data(), n - 1, gradients::input_only), sgm::error);
}

TEST_CASE("self_attention is bit-identical on 1 and 2 threads", "[nn][attention]") {
    const std::size_t c = 16, h = 4, w = 4, n = 11, size = n * c * h * w;
    auto run = [&](int threads, std::size_t first_batch) {
        sgm::nn::self_attention<float> attn(c, h, w);
        sgm::nn::parameter_list<float> params;
        attn.collect(params, "");
        sgm::nn::initialize(params, 3);
        params.find("out.weight")->value = to_real<float>(sgm::test::random_vector(c * c, 4, 0.3));
        const auto x = to_real<float>(sgm::test::random_vector(size, 5));
        const auto dy = to_real<float>(sgm::test::random_vector(size, 6));
        std::vector<float> y(size), dx(size);
        const cpu_context ctx(threads);
        // A larger first pass: the workspace then only shrinks in use, never reallocates.
        if (first_batch > n) {
            std::vector<float> big(first_batch * c * h * w, 0.5f), big_y(big.size());
            attn.forward(ctx, big.data(), big_y.data(), first_batch);
        }
        attn.forward(ctx, x.data(), y.data(), n);
        params.zero_grad();
        attn.backward(ctx, dy.data(), dx.data(), n, gradients::parameters_and_input);
        std::vector<float> out = y;
        out.insert(out.end(), dx.begin(), dx.end());
        for (const auto& e : params) out.insert(out.end(), e.tensor->grad.begin(), e.tensor->grad.end());
        return out;
    };
    const auto one = run(1, 0);
    CHECK(run(2, 0) == one);
    CHECK(run(2, 23) == one);
}

TEST_CASE("dropout is the identity in evaluation and at rate 0", "[nn][dropout]") {
    const auto x = to_real<float>(sgm::test::random_vector(3 * 50, 1));
    const auto dy = to_real<float>(sgm::test::random_vector(3 * 50, 2));
    std::vector<float> y(x.size()), dx(x.size());
    const cpu_context ctx(1);
    sgm::nn::dropout<float> drop(0.5);
    drop.forward(ctx, x.data(), y.data(), 3, 50, pass_mode{false, 1, 2, 3});
    CHECK(y == x);
    drop.backward(ctx, dy.data(), dx.data(), 3, 50);
    CHECK(dx == dy);

    sgm::nn::dropout<float> none(0.0);
    none.forward(ctx, x.data(), y.data(), 3, 50, pass_mode{true, 1, 2, 3});
    CHECK(y == x);
    none.backward(ctx, dy.data(), dx.data(), 3, 50);
    CHECK(dx == dy);
}

TEST_CASE("dropout rejects rates outside the interval from 0 to 1", "[nn][dropout]") {
    CHECK_THROWS_AS(sgm::nn::dropout<float>(-0.1), sgm::error);
    CHECK_THROWS_AS(sgm::nn::dropout<float>(1.0), sgm::error);
    CHECK_THROWS_AS(sgm::nn::dropout<float>(2.0), sgm::error);
    CHECK_THROWS_AS(sgm::nn::dropout<float>(std::numeric_limits<double>::quiet_NaN()), sgm::error);
    CHECK_NOTHROW(sgm::nn::dropout<float>(0.0));
    CHECK_NOTHROW(sgm::nn::dropout<float>(0.999));
}

TEST_CASE("dropout masks have the right frequency and keep the mean", "[nn][dropout]") {
    const double rate = 0.3, keep = 1 - rate;
    // d is odd, so samples and work chunks start and end inside Philox's blocks of four.
    const std::size_t n = 1001, d = 999, count = n * d;
    const pass_mode mode{true, 42, 7, 1000};
    sgm::nn::dropout<double> drop(rate, 5);
    const auto x = sgm::test::random_vector(count, 3);
    std::vector<double> y(count);
    drop.forward(cpu_context(2), x.data(), y.data(), n, d, mode);

    std::size_t kept = 0;
    double diff = 0, variance = 0;
    for (std::size_t i = 0; i < count; ++i) {
        kept += y[i] != 0.0;
        diff += y[i] - x[i];
        variance += x[i] * x[i] * rate / keep;  // Var(y_i) given x_i
    }
    const double freq = double(kept) / double(count);
    const double se = std::sqrt(keep * rate / double(count));
    INFO("kept fraction " << freq << ", standard error " << se);
    CHECK(std::abs(freq - keep) < 5 * se);
    INFO("Σ(y − x) = " << diff << ", standard error " << std::sqrt(variance));
    CHECK(std::abs(diff) < 5 * std::sqrt(variance));

    // The documented mask: uniform(dropout_key(seed, step), sample, stream, element) < 1 − rate.
    const std::uint64_t key = sgm::nn::dropout_key(42, 7);
    std::size_t mismatches = 0;
    for (std::size_t b = 0; b < n; ++b)
        for (std::size_t e = 0; e < d; ++e) {
            const bool expect = sgm::random::uniform<double>(key, 1000 + b, 5, e) < keep;
            const double value = expect ? x[b * d + e] * (1 / keep) : 0.0;
            mismatches += y[b * d + e] != value;
        }
    CHECK(mismatches == 0);
}

TEST_CASE("dropout backward applies the forward's mask", "[nn][dropout]") {
    const std::size_t n = 4, d = 300, count = n * d;
    const pass_mode mode{true, 9, 1, 0};
    sgm::nn::dropout<double> drop(0.25, 2);
    std::vector<double> x = sgm::test::random_vector(count, 4);
    const auto w = sgm::test::random_vector(count, 5);
    std::vector<double> y(count), dx(count);
    const cpu_context ctx(1);
    auto loss = [&] {
        drop.forward(ctx, x.data(), y.data(), n, d, mode);
        return sgm::test::weighted_sum(y, w);
    };
    loss();
    drop.backward(ctx, w.data(), dx.data(), n, d);
    std::size_t dropped = 0;
    for (std::size_t i = 0; i < count; ++i) {
        REQUIRE(dx[i] == (y[i] == 0.0 ? 0.0 : w[i] * (1 / 0.75)));
        dropped += y[i] == 0.0;
    }
    CHECK(dropped > 0);
    const auto r = sgm::test::check_gradient(loss, x, dx, count);
    CHECK(r.relative() < 1e-8);
    const std::vector<double> wide(n * (d + 1));
    std::vector<double> wide_dx(wide.size());
    CHECK_THROWS_AS(drop.backward(ctx, wide.data(), wide_dx.data(), n, d + 1), sgm::error);
}

TEST_CASE("dropout masks depend on the global sample, not the batch position or threads", "[nn][dropout]") {
    const std::size_t n = 8, d = 9999, count = n * d;  // several work chunks
    const auto x = to_real<float>(sgm::test::random_vector(count, 6));
    sgm::nn::dropout<float> drop(0.5, 1);
    auto run = [&](int threads, pass_mode mode, std::size_t first, std::size_t samples) {
        std::vector<float> y(samples * d);
        drop.forward(cpu_context(threads), x.data() + first * d, y.data(), samples, d, mode);
        return y;
    };
    const auto all = run(1, {true, 3, 4, 100}, 0, n);
    CHECK(run(2, {true, 3, 4, 100}, 0, n) == all);
    // Samples 5..7 alone, with first_sample moved so that their global indices stay 105..107.
    const auto tail = run(2, {true, 3, 4, 105}, 5, 3);
    CHECK(std::vector<float>(all.begin() + 5 * d, all.end()) == tail);
    // The same data at another global index gets another mask.
    CHECK(run(1, {true, 3, 4, 0}, 0, n) != all);
}

TEST_CASE("dropout masks of different steps, streams and seeds are independent", "[nn][dropout]") {
    const std::size_t n = 10, d = 10000, count = n * d;
    const double rate = 0.4, keep = 1 - rate;
    const std::vector<float> x(count, 1.0f);
    auto mask = [&](std::uint32_t stream, pass_mode mode) {
        sgm::nn::dropout<float> drop(rate, stream);
        std::vector<float> y(count);
        drop.forward(cpu_context(1), x.data(), y.data(), n, d, mode);
        std::vector<bool> m(count);
        for (std::size_t i = 0; i < count; ++i) m[i] = y[i] != 0.0f;
        return m;
    };
    // Two independent masks agree on a value with probability keep² + rate².
    const double p = keep * keep + rate * rate, se = std::sqrt(p * (1 - p) / double(count));
    auto agreement = [&](const std::vector<bool>& a, const std::vector<bool>& b) {
        std::size_t same = 0;
        for (std::size_t i = 0; i < count; ++i) same += a[i] == b[i];
        return double(same) / double(count);
    };
    const auto base = mask(0, {true, 1, 10, 0});
    CHECK(mask(0, {true, 1, 10, 0}) == base);
    for (const auto& other : {mask(0, {true, 1, 11, 0}), mask(1, {true, 1, 10, 0}), mask(0, {true, 2, 10, 0})}) {
        const double a = agreement(base, other);
        INFO("agreement " << a << ", expected " << p << " ± " << se);
        CHECK(std::abs(a - p) < 5 * se);
    }
}
