// backend_mlp — the MLP score network with its weights and loops on a backend —
// against the host mlp (Eigen): forward, input gradient and parameter gradients
// agree to double rounding; every backend (serial, oneTBB, Thrust CPP and TBB)
// gives bit-identical numbers; and as a score model it samples and computes
// log-likelihoods as the host network does. The CUDA test runs the same
// comparisons on a GPU. The convolution, group-norm and upsampling kernels
// and the backend self-attention and residual blocks are checked the same way
// against the host layers, and backend_unet against the host unet.
#include <catch2/catch.hpp>

#include "network_fixtures.hpp"

#include <sgm/backend/serial.hpp>
#include <sgm/backend/tbb.hpp>
#include <sgm/backend/thrust.hpp>
#include <sgm/nn/backend_mlp.hpp>
#include <sgm/nn/backend_residual_block.hpp>
#include <sgm/nn/backend_self_attention.hpp>
#include <sgm/nn/backend_unet.hpp>
#include <sgm/nn/conv2d.hpp>
#include <sgm/nn/group_norm.hpp>
#include <sgm/nn/upsample.hpp>
#include <sgm/nn/init.hpp>
#include <sgm/nn/kernels/conv2d.hpp>
#include <sgm/nn/kernels/group_norm.hpp>
#include <sgm/nn/kernels/upsample.hpp>
#include <sgm/nn/mlp.hpp>
#include <sgm/nn/score_network.hpp>
#include <sgm/sgm.hpp>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <vector>

namespace {

using sgm::nn::gradients;
using namespace sgm_test;



// Forward output, then dx, then every parameter gradient, for one pass with
// upstream gradient dy.
struct pass_result {
    std::vector<double> y, dx, grads;
};

constexpr std::size_t batch_size = 37;

pass_result host_pass(sgm::nn::mlp<double> net) {
    const std::size_t d = net.input_size(), n = batch_size;
    const auto x = wave(n * d, 0.37, 0.2), c = wave(n, 1.3, 0.5), dy = wave(n * d, 0.91, 1.0);
    pass_result r{std::vector<double>(n * d), std::vector<double>(n * d), {}};
    net.parameters().zero_grad();
    net.forward(x.data(), c.data(), r.y.data(), n);
    net.backward(dy.data(), r.dx.data(), n, gradients::parameters_and_input);
    for (const auto& e : net.parameters())
        if (e.tensor->trainable) r.grads.insert(r.grads.end(), e.tensor->grad.begin(), e.tensor->grad.end());
    return r;
}

template <class Backend>
pass_result backend_pass(const sgm::nn::mlp<double>& host, const Backend& be = Backend{}) {
    sgm::nn::backend_mlp<double, Backend> net(host, be);
    const std::size_t d = net.input_size(), n = batch_size;
    typename Backend::vector x, c, dy, y = be.make_vector(n * d), dx = be.make_vector(n * d);
    be.copy_from_host(wave(n * d, 0.37, 0.2), x);
    be.copy_from_host(wave(n, 1.3, 0.5), c);
    be.copy_from_host(wave(n * d, 0.91, 1.0), dy);
    net.forward(Backend::data(x), Backend::data(c), Backend::data(y), n);
    net.backward(Backend::data(dy), Backend::data(dx), n, gradients::parameters_and_input);
    auto list = net.host().parameters();
    list.zero_grad();
    net.copy_gradients_to(list);
    pass_result r{be.to_host(y), be.to_host(dx), {}};
    for (const auto& e : list)
        if (e.tensor->trainable) r.grads.insert(r.grads.end(), e.tensor->grad.begin(), e.tensor->grad.end());
    return r;
}



// The serial backend agrees with the host layer to rounding, and Thrust TBB
// with the serial backend exactly (same kernels, same summation order).
void require_agreement(const pass_result& host, const pass_result& serial, const pass_result& thrust) {
    require_close(host.y, serial.y);
    require_close(host.dx, serial.dx);
    require_close(host.grads, serial.grads);
    REQUIRE(thrust.y == serial.y);
    REQUIRE(thrust.dx == serial.dx);
    REQUIRE(thrust.grads == serial.grads);
}
}  // namespace

TEST_CASE("backend_mlp computes the host mlp's forward and gradients on every CPU backend", "[backend][nn]") {
    for (const auto embedding : {sgm::nn::embedding_kind::sinusoidal, sgm::nn::embedding_kind::gaussian_fourier}) {
        const sgm::nn::mlp<double> host(config(embedding));
        const pass_result expected = host_pass(host);
        const pass_result serial = backend_pass<sgm::serial_backend<double>>(host);
        require_close(expected.y, serial.y);
        require_close(expected.dx, serial.dx);
        require_close(expected.grads, serial.grads);
        // Same kernels, sequential sums: identical on every backend.
        for (const pass_result& other : {backend_pass<sgm::tbb_backend<double>>(host),
                                         backend_pass<sgm::thrust_backend<double, sgm::thrust_cpp>>(host),
                                         backend_pass<sgm::thrust_backend<double, sgm::thrust_tbb>>(host)}) {
            REQUIRE(other.y == serial.y);
            REQUIRE(other.dx == serial.dx);
            REQUIRE(other.grads == serial.grads);
        }
    }
}

TEST_CASE("backend_mlp keeps gradients until zero_grad and rejects a mismatched backward", "[backend][nn]") {
    using be = sgm::thrust_backend<double, sgm::thrust_tbb>;
    const sgm::nn::mlp<double> host(config(sgm::nn::embedding_kind::sinusoidal));
    sgm::nn::backend_mlp<double, be> net(host);
    const std::size_t n = 5, d = net.input_size();
    auto x = be{}.make_vector(n * d), c = be{}.make_vector(n), y = be{}.make_vector(n * d);
    be{}.copy_from_host(wave(n * d, 0.3, 0.1), x);
    be{}.copy_from_host(wave(n, 0.7, 0.2), c);
    auto grads = [&] {
        auto list = net.host().parameters();
        net.copy_gradients_to(list);
        return list.find("layers.0.weight")->grad;
    };
    net.forward(be::data(x), be::data(c), be::data(y), n);
    net.backward(be::data(y), nullptr, n, gradients::parameters_only);
    const auto once = grads();
    net.forward(be::data(x), be::data(c), be::data(y), n);
    net.backward(be::data(y), nullptr, n, gradients::parameters_only);
    const auto twice = grads();
    REQUIRE(std::any_of(once.begin(), once.end(), [](double g) { return g != 0; }));
    for (std::size_t i = 0; i < once.size(); ++i) REQUIRE(twice[i] == 2 * once[i]);
    net.zero_grad();
    const auto zero = grads();
    REQUIRE(std::all_of(zero.begin(), zero.end(), [](double g) { return g == 0; }));

    REQUIRE_THROWS_WITH(net.backward(be::data(y), nullptr, n - 1, gradients::parameters_only),
                        Catch::Contains("batch 4 differs from the last forward's 5"));
}

TEST_CASE("a score_network over backend_mlp samples and computes likelihoods as the host network does",
          "[backend][nn]") {
    using host_backend = sgm::tbb_backend<double>;
    using thrust = sgm::thrust_backend<double, sgm::thrust_tbb>;
    const sgm::vp_sde<double> sde(0.1, 20, 50);
    const sgm::nn::mlp<double> host(config(sgm::nn::embedding_kind::sinusoidal));
    sgm::nn::score_network on_host(host, sde, sgm::nn::score_network_options{}, host_backend{});
    sgm::nn::score_network on_thrust(sgm::nn::backend_mlp<double, thrust>(host), sde,
                                     sgm::nn::score_network_options{}, thrust{});
    static_assert(sgm::score_model<decltype(on_thrust)> && sgm::vjp_score_model<decltype(on_thrust)>);

    sgm::pc_options pc;
    pc.count = 300;
    pc.seed = 4;
    const auto a = sgm::pc_sample(sde, on_host, sgm::euler_maruyama{}, sgm::langevin{}, pc, host_backend{});
    const auto b = sgm::pc_sample(sde, on_thrust, sgm::euler_maruyama{}, sgm::langevin{}, pc, thrust{});
    // 50 predictor and 50 corrector steps amplify the 1e-16 differences of one
    // evaluation by at most a few hundred.
    require_close(a.samples.to_host(), b.samples.to_host());

    const auto points = wave(200 * 3, 0.77, 0.1);
    sgm::likelihood_options o;
    o.divergence = sgm::divergence_estimator::exact;
    const auto lh = sgm::log_likelihood(sde, on_host, sgm::batch<host_backend>::from_host(points, 200, 3), o,
                                        host_backend{});
    const auto lt = sgm::log_likelihood(sde, on_thrust, sgm::batch<thrust>::from_host(points, 200, 3), o, thrust{});
    std::vector<double> ph(lh.log_p.begin(), lh.log_p.end()), pt(lt.log_p.begin(), lt.log_p.end());
    require_close(ph, pt);
    require_close(lh.latent.to_host(), lt.latent.to_host());
}

namespace {

// y, dx, dW and db of one convolution pass through the kernels on a backend.
template <class Backend>
pass_result conv_kernels_pass(const sgm::nn::kernels::conv_geometry& g, const std::vector<double>& weight,
                              const std::vector<double>& bias, const std::vector<double>& x,
                              const std::vector<double>& dy, std::size_t n, const Backend& be = Backend{}) {
    namespace k = sgm::nn::kernels;
    typename Backend::vector w, b, xv, dyv;
    be.copy_from_host(weight, w);
    be.copy_from_host(bias, b);
    be.copy_from_host(x, xv);
    be.copy_from_host(dy, dyv);
    auto y = be.make_vector(dy.size()), dx = be.make_vector(x.size()), dw = be.make_vector(weight.size()),
         db = be.make_vector(bias.size());
    be.for_each_index(y.size(), k::conv2d_forward<double>{Backend::data(xv), Backend::data(w), Backend::data(b),
                                                          Backend::data(y), g});
    be.for_each_index(dx.size(), k::conv2d_input_grad<double>{Backend::data(dyv), Backend::data(w),
                                                              Backend::data(dx), g});
    be.for_each_index(dw.size(), k::conv2d_weight_grad<double>{Backend::data(dyv), Backend::data(xv),
                                                                Backend::data(dw), g, n});
    be.for_each_index(db.size(), k::conv2d_bias_grad<double>{Backend::data(dyv), Backend::data(db), g, n});
    pass_result r{be.to_host(y), be.to_host(dx), be.to_host(dw)};
    const auto bias_grad = be.to_host(db);
    r.grads.insert(r.grads.end(), bias_grad.begin(), bias_grad.end());
    return r;
}

}  // namespace

TEST_CASE("the convolution kernels compute the host conv2d's forward and gradients on every CPU backend",
          "[backend][nn]") {
    const std::size_t n = 3;
    // Same-size 3×3, strided 3×3 on odd and even sizes, pointwise, and a 5×5.
    for (const auto& g : {sgm::nn::kernels::conv_geometry{3, 5, 7, 6, 3, 1, 1},
                          sgm::nn::kernels::conv_geometry{4, 2, 7, 6, 3, 2, 1},
                          sgm::nn::kernels::conv_geometry{2, 3, 8, 8, 3, 2, 1},
                          sgm::nn::kernels::conv_geometry{6, 4, 5, 5, 1, 1, 0},
                          sgm::nn::kernels::conv_geometry{2, 3, 6, 7, 5, 1, 2}}) {
        INFO("in " << g.in_channels << " out " << g.out_channels << " " << g.height << "x" << g.width << " kernel "
                   << g.kernel << " stride " << g.stride);
        sgm::nn::conv2d<double> conv({g.in_channels, g.out_channels, g.height, g.width, g.kernel, g.stride, g.padding});
        sgm::nn::parameter_list<double> list;
        conv.collect(list, "conv");
        sgm::nn::initialize(list, 3);
        const auto x = wave(n * conv.input_size(), 0.41, 0.3), dy = wave(n * conv.output_size(), 0.83, 0.7);
        pass_result expected{std::vector<double>(dy.size()), std::vector<double>(x.size()), {}};
        const sgm::nn::cpu_context ctx(1);
        conv.forward(ctx, x.data(), expected.y.data(), n);
        conv.backward(ctx, dy.data(), expected.dx.data(), n, gradients::parameters_and_input);
        expected.grads = conv.weight().grad;
        expected.grads.insert(expected.grads.end(), conv.bias().grad.begin(), conv.bias().grad.end());

        require_agreement(expected,
                          conv_kernels_pass<sgm::serial_backend<double>>(g, conv.weight().value, conv.bias().value,
                                                                         x, dy, n),
                          conv_kernels_pass<sgm::thrust_backend<double, sgm::thrust_tbb>>(
                              g, conv.weight().value, conv.bias().value, x, dy, n));
    }
}

namespace {

// y, dx, then dγ and dβ of one group-norm pass through the kernels on a backend.
template <class Backend>
pass_result group_norm_kernels_pass(const sgm::nn::kernels::norm_geometry& g, const std::vector<double>& gamma,
                                    const std::vector<double>& beta, const std::vector<double>& x,
                                    const std::vector<double>& dy, std::size_t n, const Backend& be = Backend{}) {
    namespace k = sgm::nn::kernels;
    typename Backend::vector gv, bv, xv, dyv;
    be.copy_from_host(gamma, gv);
    be.copy_from_host(beta, bv);
    be.copy_from_host(x, xv);
    be.copy_from_host(dy, dyv);
    auto y = be.make_vector(x.size()), dx = be.make_vector(x.size()), stats = be.make_vector(2 * n * g.groups),
         sums = be.make_vector(2 * n * g.channels), dg = be.make_vector(g.channels), db = be.make_vector(g.channels);
    const auto d = [](auto& v) { return Backend::data(v); };
    be.for_each_index(n * g.groups, k::group_norm_stats<double>{d(xv), d(stats), g, 1e-6});
    be.for_each_index(x.size(), k::group_norm_forward<double>{d(xv), d(stats), d(gv), d(bv), d(y), g});
    be.for_each_index(n * g.channels, k::group_norm_channel_sums<double>{d(xv), d(dyv), d(stats), d(sums), g});
    be.for_each_index(x.size(), k::group_norm_input_grad<double>{d(xv), d(dyv), d(stats), d(sums), d(gv), d(dx), g});
    be.for_each_index(g.channels, k::group_norm_parameter_grad<double>{d(sums), d(dg), d(db), g.channels, n});
    pass_result r{be.to_host(y), be.to_host(dx), be.to_host(dg)};
    const auto beta_grad = be.to_host(db);
    r.grads.insert(r.grads.end(), beta_grad.begin(), beta_grad.end());
    return r;
}

}  // namespace

TEST_CASE("the group-norm and upsampling kernels compute the host layers' passes on every CPU backend",
          "[backend][nn]") {
    const std::size_t n = 3;
    const sgm::nn::cpu_context ctx(1);
    for (const auto& g : {sgm::nn::kernels::norm_geometry{8, 2, 30}, sgm::nn::kernels::norm_geometry{6, 6, 7},
                          sgm::nn::kernels::norm_geometry{5, 1, 16}}) {
        INFO("channels " << g.channels << " groups " << g.groups << " spatial " << g.spatial);
        sgm::nn::group_norm<double> norm(g.channels, g.groups, g.spatial);
        norm.weight().value = wave(g.channels, 0.7, 1.1);
        norm.bias().value = wave(g.channels, 1.9, 0.4);
        // An offset keeps the statistics honest: the mean is not near zero.
        auto x = wave(n * norm.input_size(), 0.29, 0.6);
        for (double& v : x) v = 3 + 2 * v;
        const auto dy = wave(x.size(), 0.53, 0.2);
        pass_result expected{std::vector<double>(x.size()), std::vector<double>(x.size()), {}};
        norm.forward(ctx, x.data(), expected.y.data(), n);
        norm.backward(ctx, dy.data(), expected.dx.data(), n, gradients::parameters_and_input);
        expected.grads = norm.weight().grad;
        expected.grads.insert(expected.grads.end(), norm.bias().grad.begin(), norm.bias().grad.end());
        require_agreement(expected,
                          group_norm_kernels_pass<sgm::serial_backend<double>>(g, norm.weight().value,
                                                                               norm.bias().value, x, dy, n),
                          group_norm_kernels_pass<sgm::thrust_backend<double, sgm::thrust_tbb>>(
                              g, norm.weight().value, norm.bias().value, x, dy, n));
    }

    sgm::nn::upsample_nearest<double> up(3, 5, 4);
    const auto x = wave(n * up.input_size(), 0.31, 0.1), dy = wave(n * up.output_size(), 0.67, 0.9);
    std::vector<double> y(dy.size()), dx(x.size());
    up.forward(ctx, x.data(), y.data(), n);
    up.backward(ctx, dy.data(), dx.data(), n);
    using be = sgm::thrust_backend<double, sgm::thrust_tbb>;
    be::vector xv, dyv;
    be{}.copy_from_host(x, xv);
    be{}.copy_from_host(dy, dyv);
    auto yv = be{}.make_vector(y.size()), dxv = be{}.make_vector(x.size());
    be{}.for_each_index(y.size(), sgm::nn::kernels::upsample_forward<double>{be::data(xv), be::data(yv), 5, 4});
    be{}.for_each_index(x.size(), sgm::nn::kernels::upsample_backward<double>{be::data(dyv), be::data(dxv), 5, 4});
    REQUIRE(be{}.to_host(yv) == y);
    REQUIRE(be{}.to_host(dxv) == dx);
}

TEST_CASE("backend_self_attention computes the host block's forward and gradients on every CPU backend",
          "[backend][nn]") {
    const std::size_t n = 3;
    const sgm::nn::cpu_context ctx(1);
    for (const bool rescale : {false, true}) {
        // 8 channels in 2 groups over 5×4 positions; a real output projection
        // (the default init starts it near zero, which would hide its gradient).
        sgm::nn::self_attention<double> host(8, 5, 4, 2, 1e-6, rescale);
        sgm::nn::parameter_list<double> list;
        host.collect(list, "");
        sgm::nn::initialize(list, 5);
        list.find("out.weight")->value = wave(64, 0.61, 0.3);
        list.find("norm.bias")->value = wave(8, 1.7, 0.2);
        auto x = wave(n * host.input_size(), 0.23, 0.4);
        for (double& v : x) v = 1 + 2 * v;
        const auto dy = wave(x.size(), 0.71, 0.8);
        pass_result expected{std::vector<double>(x.size()), std::vector<double>(x.size()), {}};
        host.forward(ctx, x.data(), expected.y.data(), n);
        host.backward(ctx, dy.data(), expected.dx.data(), n, gradients::parameters_and_input);
        for (const auto& e : list) expected.grads.insert(expected.grads.end(), e.tensor->grad.begin(), e.tensor->grad.end());

        const auto run = [&](auto be) {
            using Backend = decltype(be);
            sgm::nn::backend_self_attention<Backend> block(host);
            typename Backend::vector xv, dyv;
            be.copy_from_host(x, xv);
            be.copy_from_host(dy, dyv);
            auto y = be.make_vector(x.size()), dx = be.make_vector(x.size());
            block.forward(Backend::data(xv), Backend::data(y), n);
            block.backward(Backend::data(dyv), Backend::data(dx), n, gradients::parameters_and_input);
            sgm::nn::parameter_list<double> grads;
            sgm::nn::self_attention<double> copy = host;
            copy.collect(grads, "");
            block.parameters().copy_gradients_to(grads);
            pass_result r{be.to_host(y), be.to_host(dx), {}};
            for (const auto& e : grads) r.grads.insert(r.grads.end(), e.tensor->grad.begin(), e.tensor->grad.end());
            return r;
        };
        require_agreement(expected, run(sgm::serial_backend<double>{}),
                          run(sgm::thrust_backend<double, sgm::thrust_tbb>{}));
    }
}

TEST_CASE("backend_residual_block computes the host block's forward and gradients on every CPU backend",
          "[backend][nn]") {
    const std::size_t n = 3, embedding = 6;
    const sgm::nn::cpu_context ctx(1);
    // Same channels (identity skip) and a channel change (1×1 skip); dropout is
    // set but the passes are in evaluation mode, where it is the identity.
    for (const auto& [in, out] : {std::pair<std::size_t, std::size_t>{8, 8}, {4, 8}}) {
        INFO("channels " << in << " -> " << out);
        sgm::nn::residual_block<double> host({in, out, 5, 6, embedding, 0.1, 0});
        sgm::nn::parameter_list<double> list;
        host.collect(list, "block");
        sgm::nn::initialize(list, 9);
        // conv₁ starts near zero, which would hide everything behind it.
        auto& conv1 = list.find("block.conv1.weight")->value;
        conv1 = wave(conv1.size(), 0.37, 0.5);
        for (double& v : conv1) v *= 0.2;
        auto x = wave(n * host.input_size(), 0.19, 0.3);
        for (double& v : x) v = 0.5 + 1.5 * v;
        const auto e = wave(n * embedding, 0.87, 0.1), dy = wave(n * host.output_size(), 0.57, 0.6);
        pass_result expected{std::vector<double>(dy.size()), std::vector<double>(x.size()), {}};
        std::vector<double> de_expected(e.size(), 0.25);
        host.forward(ctx, x.data(), e.data(), expected.y.data(), n, sgm::nn::pass_mode{});
        host.backward(ctx, dy.data(), expected.dx.data(), de_expected.data(), n, gradients::parameters_and_input);
        for (const auto& entry : list)
            expected.grads.insert(expected.grads.end(), entry.tensor->grad.begin(), entry.tensor->grad.end());
        expected.grads.insert(expected.grads.end(), de_expected.begin(), de_expected.end());

        const auto run = [&](auto be) {
            using Backend = decltype(be);
            sgm::nn::backend_residual_block<Backend> block(host);
            typename Backend::vector xv, ev, dyv, de;
            be.copy_from_host(x, xv);
            be.copy_from_host(e, ev);
            be.copy_from_host(dy, dyv);
            be.copy_from_host(std::vector<double>(e.size(), 0.25), de);  // backward adds into de
            auto y = be.make_vector(dy.size()), dx = be.make_vector(x.size());
            block.forward(Backend::data(xv), Backend::data(ev), Backend::data(y), n);
            block.backward(Backend::data(dyv), Backend::data(dx), Backend::data(de), n, gradients::parameters_and_input);
            sgm::nn::residual_block<double> copy = host;
            sgm::nn::parameter_list<double> grads;
            copy.collect(grads, "block");
            block.parameters().copy_gradients_to(grads);
            pass_result r{be.to_host(y), be.to_host(dx), {}};
            for (const auto& entry : grads) r.grads.insert(r.grads.end(), entry.tensor->grad.begin(), entry.tensor->grad.end());
            const auto de_host = be.to_host(de);
            r.grads.insert(r.grads.end(), de_host.begin(), de_host.end());
            return r;
        };
        require_agreement(expected, run(sgm::serial_backend<double>{}),
                          run(sgm::thrust_backend<double, sgm::thrust_tbb>{}));
    }
}


TEST_CASE("backend_unet computes the host unet's forward and gradients on every CPU backend", "[backend][nn]") {
    const std::size_t n = 3;
    for (const auto embedding : {sgm::nn::embedding_kind::sinusoidal, sgm::nn::embedding_kind::gaussian_fourier}) {
        auto host = small_unet(embedding);
        const std::size_t d = host.input_size();
        const auto x = wave(n * d, 0.21, 0.4), dy = wave(n * d, 0.63, 0.9);
        const std::vector<double> c{3.0, 250.0, 900.0};
        pass_result expected{std::vector<double>(n * d), std::vector<double>(n * d), {}};
        host.parameters().zero_grad();
        host.forward(x.data(), c.data(), expected.y.data(), n);
        host.backward(dy.data(), expected.dx.data(), n, gradients::parameters_and_input);
        for (const auto& e : host.parameters())
            expected.grads.insert(expected.grads.end(), e.tensor->grad.begin(), e.tensor->grad.end());
        host.parameters().zero_grad();

        const auto run = [&](auto be) {
            using Backend = decltype(be);
            sgm::nn::backend_unet<Backend> net(host, be);
            typename Backend::vector xv, cv, dyv;
            be.copy_from_host(x, xv);
            be.copy_from_host(c, cv);
            be.copy_from_host(dy, dyv);
            auto y = be.make_vector(n * d), dx = be.make_vector(n * d);
            net.forward(Backend::data(xv), Backend::data(cv), Backend::data(y), n);
            net.backward(Backend::data(dyv), Backend::data(dx), n, gradients::parameters_and_input);
            const auto list = net.host().parameters();
            net.copy_gradients_to(list);
            pass_result r{be.to_host(y), be.to_host(dx), {}};
            for (const auto& e : list) r.grads.insert(r.grads.end(), e.tensor->grad.begin(), e.tensor->grad.end());
            return r;
        };
        require_agreement(expected, run(sgm::serial_backend<double>{}),
                          run(sgm::thrust_backend<double, sgm::thrust_tbb>{}));
    }
}

TEST_CASE("a score_network over backend_unet samples as the host unet does", "[backend][nn]") {
    using thrust = sgm::thrust_backend<double, sgm::thrust_tbb>;
    const sgm::vp_sde<double> sde(0.1, 20, 30);
    const auto host = small_unet(sgm::nn::embedding_kind::sinusoidal);
    sgm::nn::score_network on_host(host, sde, sgm::nn::score_network_options{}, sgm::tbb_backend<double>{});
    sgm::nn::score_network on_thrust(sgm::nn::backend_unet<thrust>(host), sde, sgm::nn::score_network_options{},
                                     thrust{});
    static_assert(sgm::score_model<decltype(on_thrust)> && sgm::vjp_score_model<decltype(on_thrust)>);
    sgm::pc_options pc;
    pc.count = 6;
    pc.seed = 2;
    const auto a = sgm::pc_sample(sde, on_host, sgm::reverse_diffusion{}, sgm::langevin{}, pc, sgm::tbb_backend<double>{});
    const auto b = sgm::pc_sample(sde, on_thrust, sgm::reverse_diffusion{}, sgm::langevin{}, pc, thrust{});
    require_close(a.samples.to_host(), b.samples.to_host());
}
