// After warm-up a training step allocates nothing: the networks, the losses, Adam
// and the EMA reuse their workspace. Nor do the backend networks' score and
// score-VJP evaluations (on the serial backend, where their memory is counted). Counted through the global operator new,
// which this test binary replaces (Eigen's GEMM packing buffers and oneTBB's task
// pools use their own allocators and are not counted).

#include <catch2/catch.hpp>

#include <sgm/backend/serial.hpp>
#include <sgm/nn/backend_mlp.hpp>
#include <sgm/nn/backend_unet.hpp>
#include <sgm/nn/mlp.hpp>
#include <sgm/nn/score_network.hpp>
#include <sgm/nn/unet.hpp>
#include <sgm/sde/ve.hpp>
#include <sgm/sde/vp.hpp>
#include <sgm/train/adam.hpp>
#include <sgm/train/backend_adam.hpp>
#include <sgm/train/backend_dsm_loss.hpp>
#include <sgm/train/backend_ema.hpp>
#include <sgm/train/continuous_dsm_loss.hpp>
#include <sgm/train/ddpm_loss.hpp>
#include <sgm/train/ema.hpp>
#include <sgm/train/trainer.hpp>

#include <atomic>
#include <cstdlib>
#include <new>
#include <vector>

namespace {
std::atomic<std::size_t> allocations{0};
std::atomic<std::size_t> allocated_bytes{0};  // through the throwing operator new and new[]
}  // namespace

void* operator new(std::size_t size) {
    allocations.fetch_add(1, std::memory_order_relaxed);
    allocated_bytes.fetch_add(size, std::memory_order_relaxed);
    if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
    throw std::bad_alloc();
}
void* operator new[](std::size_t size) {
    allocations.fetch_add(1, std::memory_order_relaxed);
    allocated_bytes.fetch_add(size, std::memory_order_relaxed);
    if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
    throw std::bad_alloc();
}
void* operator new(std::size_t size, const std::nothrow_t&) noexcept {
    allocations.fetch_add(1, std::memory_order_relaxed);
    return std::malloc(size == 0 ? 1 : size);
}
void* operator new[](std::size_t size, const std::nothrow_t&) noexcept {
    allocations.fetch_add(1, std::memory_order_relaxed);
    return std::malloc(size == 0 ? 1 : size);
}
// Every delete that can meet these blocks frees them the way they were allocated.
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }

namespace {

using Real = float;

sgm::nn::unet_config small_unet() {
    sgm::nn::unet_config c;
    c.height = 8;
    c.width = 8;
    c.base_channels = 8;
    c.multipliers = {1, 2};
    c.blocks_per_level = 1;
    c.attention_resolutions = {4};
    c.dropout = 0.1;
    return c;
}

std::vector<Real> images(std::size_t count, std::size_t dim) {
    std::vector<Real> v(count * dim);
    for (std::size_t i = 0; i < v.size(); ++i) v[i] = Real(std::sin(0.37 * double(i)));
    return v;
}

// Runs `step(k)` for k = 0, 1 (warm-up), then counts the allocations of k = 2..5.
template <class Step>
std::size_t allocations_after_warm_up(Step&& step) {
    step(0);
    step(1);
    const std::size_t before = allocations.load();
    for (std::uint64_t k = 2; k < 6; ++k) step(k);
    return allocations.load() - before;
}

// A trainer after a warm-up run: 2 more steps and 6 more steps allocate the same.
// Each train() call has a fixed overhead (its summary, clocks); per step there is none.
template <class Trainer>
void require_no_allocation_per_step(Trainer& trainer) {
    (void)trainer.train();  // warm-up
    auto count_to = [&](std::size_t steps) {
        trainer.set_total_steps(steps);
        const std::size_t before = allocations.load();
        (void)trainer.train();
        return allocations.load() - before;
    };
    const std::size_t two_steps = count_to(4), six_steps = count_to(10);
    INFO("allocations: " << two_steps << " for 2 steps, " << six_steps << " for 6 steps");
    CHECK(six_steps == two_steps);
}

}  // namespace

TEST_CASE("a U-Net training step allocates nothing after warm-up", "[train][allocation]") {
    const sgm::vp_sde<Real> sde;
    sgm::nn::score_network model(sgm::nn::unet<Real>(small_unet(), sgm::nn::cpu_context(2)), sde);
    const auto params = model.network().parameters();
    sgm::train::adam<Real> optimizer(params);
    sgm::train::ema<Real> average(params, 0.999);
    const sgm::train::continuous_dsm_loss<sgm::vp_sde<Real>> loss(sde);
    const std::size_t n = 6;
    const auto data = images(n, model.dim());
    const std::size_t counted = allocations_after_warm_up([&](std::uint64_t k) {
        model.network().set_mode({.training = true, .seed = 1, .step = k, .first_sample = k * n});
        params.zero_grad();
        const double value = loss(model, data.data(), n, {1, k, k * n}, true);
        REQUIRE(std::isfinite(value));
        optimizer.step(params);
        average.update(params);
    });
    CHECK(counted == 0);
}

TEST_CASE("a U-Net that only evaluates holds no gradient buffers", "[train][allocation]") {
    // Sampling runs forwards only: the gradient buffers (as large as the
    // activations) are allocated by the first backward, not by the first forward.
    sgm::nn::unet<Real> net(small_unet(), sgm::nn::cpu_context(1));
    const std::size_t n = 16, d = net.input_size();
    const auto x = images(n, d);
    const std::vector<Real> c(n, Real(0.5));
    std::vector<Real> y(n * d), dx(n * d);
    const std::size_t at_start = allocated_bytes.load();
    net.forward(x.data(), c.data(), y.data(), n);
    const std::size_t forward_bytes = allocated_bytes.load() - at_start;
    net.forward(x.data(), c.data(), y.data(), n);
    const std::size_t second_forward_bytes = allocated_bytes.load() - at_start - forward_bytes;
    net.backward(y.data(), dx.data(), n, sgm::nn::gradients::parameters_and_input);
    const std::size_t backward_bytes = allocated_bytes.load() - at_start - forward_bytes - second_forward_bytes;
    INFO("bytes allocated: first forward " << forward_bytes << ", second " << second_forward_bytes
                                           << ", first backward " << backward_bytes);
    CHECK(second_forward_bytes == 0);
    CHECK(backward_bytes > forward_bytes / 2);
}

TEST_CASE("MLP steps with the DDPM loss allocate nothing after warm-up", "[train][allocation]") {
    const sgm::vp_sde<Real> sde;
    sgm::nn::mlp_config config;
    config.data_dim = 3;
    sgm::nn::score_network model(sgm::nn::mlp<Real>(config, sgm::nn::cpu_context(2)), sde);
    const auto params = model.network().parameters();
    sgm::train::adam<Real> optimizer(params);
    const sgm::train::ddpm_loss<Real> loss(sde);
    const std::size_t n = 600;
    const auto data = images(n, 3);
    const std::size_t counted = allocations_after_warm_up([&](std::uint64_t k) {
        params.zero_grad();
        (void)loss(model, data.data(), n, {2, k, k * n}, true);
        optimizer.step(params);
    });
    CHECK(counted == 0);
}

TEST_CASE("the trainer's allocations do not grow with the number of steps", "[train][allocation]") {
    const sgm::ve_sde<Real> sde(0.01f, 5.0f, 100);
    sgm::nn::score_network model(sgm::nn::unet<Real>(small_unet(), sgm::nn::cpu_context(1)), sde);
    const auto data = images(40, model.dim());
    sgm::train::trainer_options o;
    o.batch_size = 4;
    o.steps = 2;
    sgm::train::trainer trainer(model, sgm::train::continuous_dsm_loss<sgm::ve_sde<Real>>(sde),
                                std::span<const Real>(data), 40, o);
    require_no_allocation_per_step(trainer);
}

TEST_CASE("backend networks evaluate scores and VJPs without allocating after warm-up", "[train][allocation]") {
    using backend = sgm::serial_backend<Real>;
    const sgm::vp_sde<Real> sde;
    const std::size_t n = 5;
    sgm::nn::mlp_config config;
    config.data_dim = 3;
    sgm::nn::score_network mlp(sgm::nn::backend_mlp<Real, backend>(sgm::nn::mlp<Real>(config)), sde,
                               sgm::nn::score_network_options{}, backend{});
    sgm::nn::score_network unet(sgm::nn::backend_unet<backend>(sgm::nn::unet<Real>(small_unet())), sde,
                                sgm::nn::score_network_options{}, backend{});
    const auto check = [&](auto& model) {
        const std::size_t d = model.dim();
        const auto x = images(n, d);
        std::vector<Real> t(n, 0.5f), score(n * d), vjp(n * d);
        const std::size_t counted = allocations_after_warm_up([&](std::uint64_t) {
            model.score_vjp({x.data(), n, d}, t.data(), {x.data(), n, d}, {score.data(), n, d}, {vjp.data(), n, d});
            model.score({x.data(), n, d}, t.data(), {score.data(), n, d});
        });
        CHECK(counted == 0);
    };
    check(mlp);
    check(unet);
}

TEST_CASE("training steps on a backend network allocate nothing after warm-up", "[train][allocation]") {
    using backend = sgm::serial_backend<Real>;
    const sgm::vp_sde<Real> sde;
    const std::size_t n = 4;
    sgm::nn::score_network model(sgm::nn::backend_unet<backend>(sgm::nn::unet<Real>(small_unet())), sde,
                                 sgm::nn::score_network_options{}, backend{});
    const auto tensors = model.network().tensors();
    sgm::train::backend_adam<backend> optimizer(tensors);
    sgm::train::backend_ema<backend> average(tensors, 0.999);
    sgm::train::backend_dsm_loss loss(sgm::train::continuous_dsm_loss<sgm::vp_sde<Real>>(sde), backend{});
    const auto data = images(n, model.dim());
    const std::size_t counted = allocations_after_warm_up([&](std::uint64_t k) {
        model.network().set_mode({.training = true, .seed = 1, .step = k, .first_sample = k * n});
        model.network().zero_grad();
        REQUIRE(std::isfinite(loss(model, data.data(), n, {1, k, k * n}, true)));
        optimizer.step();
        average.update();
    });
    CHECK(counted == 0);

    // The trainer over the backend network: no allocation per step either.
    const auto pixels = images(40, model.dim());
    sgm::train::trainer_options o;
    o.batch_size = 4;
    o.steps = 2;
    sgm::train::trainer trainer(model, sgm::train::continuous_dsm_loss(sde), std::span<const Real>(pixels), 40, o);
    require_no_allocation_per_step(trainer);
}
