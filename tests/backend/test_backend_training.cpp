// Training on a backend — backend_dsm_loss, backend_adam and backend_ema over
// backend_mlp / backend_unet — against the host training step (host loss,
// adam, ema over the Eigen networks): per-step losses, gradient norms, and the
// weights, moments and average after several steps agree to double rounding,
// with clipping and warm-up active and, for the U-Net, dropout on (the same
// masks). Thrust TBB repeats the serial backend exactly.
#include <catch2/catch.hpp>

#include "network_fixtures.hpp"

#include <sgm/backend/serial.hpp>
#include <sgm/backend/thrust.hpp>
#include <sgm/nn/backend_mlp.hpp>
#include <sgm/nn/backend_unet.hpp>
#include <sgm/nn/score_network.hpp>
#include <sgm/sgm.hpp>
#include <sgm/train/backend_adam.hpp>
#include <sgm/train/backend_dsm_loss.hpp>
#include <sgm/train/backend_ema.hpp>
#include <sgm/train/continuous_dsm_loss.hpp>
#include <sgm/train/ddpm_loss.hpp>
#include <sgm/train/smld_loss.hpp>
#include <sgm/train/trainer.hpp>

#include <cmath>
#include <cstddef>
#include <filesystem>
#include <limits>
#include <span>
#include <string>
#include <type_traits>
#include <vector>

namespace {

using namespace sgm_test;
using serial = sgm::serial_backend<double>;
using thrust_cpu = sgm::thrust_backend<double, sgm::thrust_tbb>;

// What some training steps leave behind.
struct training_record {
    std::vector<double> losses, norms, values, average, m, v;
};

sgm::train::adam_options clipped_adam() {
    sgm::train::adam_options o;
    o.learning_rate = 1e-3;
    o.warmup = 3;
    o.grad_clip = 0.05;  // below the gradient norms here: clipping acts on every step
    return o;
}
constexpr double ema_rate = 0.9;

sgm::nn::pass_mode training_mode(const sgm::train::batch_key& key) {
    return {true, key.seed, key.step, key.first_sample};
}

// `steps` steps of the host trainer's inner loop.
template <class Network, class SDE, class Loss>
training_record train_on_host(Network net, const SDE& sde, const Loss& loss, const std::vector<double>& data,
                              std::size_t n, std::size_t steps) {
    sgm::nn::score_network model(std::move(net), sde, sgm::nn::score_network_options{}, serial{});
    const auto params = model.network().parameters();
    sgm::train::adam<double> adam(params, clipped_adam());
    sgm::train::ema<double> average(params, ema_rate);
    training_record r;
    for (std::size_t s = 0; s < steps; ++s) {
        const sgm::train::batch_key key{5, s, s * n};
        params.zero_grad();
        model.network().set_mode(training_mode(key));
        r.losses.push_back(loss(model, data.data(), n, key, true));
        r.norms.push_back(adam.step(params));
        average.update(params);
    }
    r.values = params.flatten_values();
    r.average = average.shadow();
    r.m = adam.first_moment();
    r.v = adam.second_moment();
    return r;
}

// The same steps with the backend network, loss and optimizers.
template <class Backend, class Network, class SDE, class Loss>
training_record train_on_backend(Network net, const SDE& sde, const Loss& loss, const std::vector<double>& data,
                                 std::size_t n, std::size_t steps, const Backend& be = Backend{}) {
    sgm::nn::score_network model(std::move(net), sde, sgm::nn::score_network_options{}, be);
    const auto tensors = model.network().tensors();
    sgm::train::backend_adam<Backend> adam(tensors, clipped_adam(), be);
    sgm::train::backend_ema<Backend> average(tensors, ema_rate, be);
    sgm::train::backend_dsm_loss on_backend(loss, be);
    typename Backend::vector x0;
    be.copy_from_host(data, x0);
    training_record r;
    for (std::size_t s = 0; s < steps; ++s) {
        const sgm::train::batch_key key{5, s, s * n};
        model.network().zero_grad();
        model.network().set_mode(training_mode(key));
        r.losses.push_back(on_backend(model, Backend::data(x0), n, key, true));
        r.norms.push_back(adam.step());
        average.update();
    }
    model.network().download();
    r.values = model.network().host().parameters().flatten_values();
    r.average = average.shadow();
    r.m = adam.first_moment();
    r.v = adam.second_moment();
    return r;
}

void require_close_records(const training_record& a, const training_record& b) {
    require_close(a.losses, b.losses);
    require_close(a.norms, b.norms);
    require_close(a.values, b.values);
    require_close(a.average, b.average);
    require_close(a.m, b.m);
    require_close(a.v, b.v);
}

void require_equal_records(const training_record& a, const training_record& b) {
    REQUIRE(a.losses == b.losses);
    REQUIRE(a.norms == b.norms);
    REQUIRE(a.values == b.values);
    REQUIRE(a.average == b.average);
    REQUIRE(a.m == b.m);
    REQUIRE(a.v == b.v);
}

}  // namespace

TEST_CASE("backend_mlp trains as the host mlp with each DSM loss, Adam and EMA", "[backend][train]") {
    const std::size_t n = 16, steps = 6;
    const auto data = wave(n * 3, 0.53, 0.3);
    sgm::nn::mlp<double> host(config(sgm::nn::embedding_kind::gaussian_fourier));
    const sgm::vp_sde<double> vp(0.1, 20, 1000);
    const sgm::ve_sde<double> ve(0.01, 20, 1000);

    const auto check = [&](const auto& sde, const auto& loss) {
        const auto expected = train_on_host(host, sde, loss, data, n, steps);
        // The weights moved, so the comparison below is about training, not initial values.
        REQUIRE(expected.values != host.parameters().flatten_values());
        require_close_records(expected,
                              train_on_backend<serial>(sgm::nn::backend_mlp<double, serial>(host), sde, loss, data,
                                                       n, steps));
    };
    SECTION("continuous, σ² weighting, mean over values") { check(vp, sgm::train::continuous_dsm_loss(vp)); }
    SECTION("continuous, likelihood weighting, sum over values") {
        sgm::train::dsm_options o;
        o.weighting = sgm::train::dsm_weighting::likelihood;
        o.reduction = sgm::train::dsm_reduction::sum;
        check(ve, sgm::train::continuous_dsm_loss(ve, o));
    }
    SECTION("discrete SMLD") { check(ve, sgm::train::smld_loss<double>(ve)); }
    SECTION("discrete DDPM") { check(vp, sgm::train::ddpm_loss<double>(vp)); }
}

TEST_CASE("backend_unet trains as the host unet, dropout masks included, and Thrust repeats serial exactly",
          "[backend][train]") {
    const std::size_t n = 4, steps = 3;
    const auto host = small_unet(sgm::nn::embedding_kind::sinusoidal);
    REQUIRE(host.config().dropout > 0);
    const auto data = wave(n * host.input_size(), 0.29, 0.8);
    const sgm::vp_sde<double> sde(0.1, 20, 1000);
    const sgm::train::continuous_dsm_loss loss(sde);

    const auto expected = train_on_host(host, sde, loss, data, n, steps);
    const auto on_serial = train_on_backend<serial>(sgm::nn::backend_unet<serial>(host), sde, loss, data, n, steps);
    require_close_records(expected, on_serial);
    require_equal_records(on_serial,
                          train_on_backend<thrust_cpu>(sgm::nn::backend_unet<thrust_cpu>(host), sde, loss, data, n, steps));

    // Without training mode the masks are off: the first step's loss changes.
    sgm::nn::score_network model(sgm::nn::backend_unet<serial>(host), sde, sgm::nn::score_network_options{},
                                 serial{});
    sgm::train::backend_dsm_loss on_backend(loss, serial{});
    const double evaluation_loss = on_backend(model, data.data(), n, {5, 0, 0}, false);
    REQUIRE(std::abs(evaluation_loss - expected.losses[0]) > 1e-6 * expected.losses[0]);
}

TEST_CASE("backend_adam names the tensor of a non-finite gradient and checks restored moments",
          "[backend][train]") {
    sgm::nn::backend_mlp<double, serial> net{sgm::nn::mlp<double>(config(sgm::nn::embedding_kind::sinusoidal))};
    const auto tensors = net.tensors();
    REQUIRE(tensors.size() == net.host().parameters().size());
    for (std::size_t i = 0; i < tensors.size(); ++i) REQUIRE(tensors[i].name == net.host().parameters()[i].name);
    sgm::train::backend_adam<serial> adam(tensors);
    net.zero_grad();
    tensors[2].grad[7] = std::numeric_limits<double>::quiet_NaN();  // serial: backend memory is host memory
    REQUIRE_THROWS_WITH(adam.step(), Catch::Contains("non-finite gradient nan in parameter '" + tensors[2].name +
                                                     "' at index 7 (update 0)"));

    const std::size_t count = adam.trainable_count();
    std::vector<double> m(count, 0.0), v(count, 0.0);
    REQUIRE_THROWS_WITH(adam.set_state(1, std::vector<double>(count - 1), v),
                        Catch::Contains("first moment has " + std::to_string(count - 1) + " values, expected " +
                                        std::to_string(count)));
    v[3] = -1;
    REQUIRE_THROWS_WITH(adam.set_state(1, m, v), Catch::Contains("second moment[3] = -1"));
    v[3] = 0.5;
    adam.set_state(4, m, v);
    REQUIRE(adam.steps() == 4);
    REQUIRE(adam.second_moment() == v);

    sgm::train::backend_ema<serial> average(tensors, 0.99);
    REQUIRE_THROWS_WITH(average.set_state(1, std::vector<double>(3)), Catch::Contains("shadow has 3 values"));
    // The average reaches the host list (copy_to) and the backend tensors (copy_to_tensors).
    const auto list = net.host().parameters();
    const std::vector<double> quarter(list.value_count(), 0.25), half(list.value_count(), 0.5);
    average.set_state(7, quarter);
    average.copy_to_tensors();
    net.download();
    REQUIRE(list.flatten_values() == quarter);
    average.set_state(8, half);
    average.copy_to(list);
    REQUIRE(list.flatten_values() == half);
    REQUIRE(average.updates() == 8);
    REQUIRE_THROWS_WITH(sgm::train::backend_ema<serial>(tensors, 1.5), Catch::Contains("rate = 1.5"));
}

TEST_CASE("the trainer trains a backend_unet as the host unet, and their checkpoints resume each other",
          "[backend][train]") {
    namespace fs = std::filesystem;
    const auto host = small_unet(sgm::nn::embedding_kind::sinusoidal);
    const std::size_t count = 20, d = host.input_size();
    const auto data = wave(count * d, 0.31, 0.6);
    const sgm::vp_sde<double> sde(0.1, 20, 1000);
    const sgm::train::continuous_dsm_loss loss(sde);
    const fs::path dir = fs::temp_directory_path() / "sgm_backend_trainer_test";
    fs::create_directories(dir);
    sgm::train::trainer_options o;
    o.batch_size = 4;
    o.seed = 9;
    o.ema_rate = ema_rate;
    o.adam = clipped_adam();

    const auto host_run = [&](std::size_t steps, const fs::path& resume_from) {
        sgm::nn::score_network model(host, sde, sgm::nn::score_network_options{}, serial{});
        auto options = o;
        options.steps = steps;
        sgm::train::trainer t(model, loss, std::span<const double>(data), count, options);
        if (!resume_from.empty()) t.resume(resume_from);
        t.train();
        return t.state();
    };
    const auto backend_run = [&](std::size_t steps, const fs::path& resume_from, const fs::path& save_to) {
        sgm::nn::score_network model(sgm::nn::backend_unet<serial>(host), sde, sgm::nn::score_network_options{},
                                     serial{});
        auto options = o;
        options.steps = steps;
        options.checkpoint_path = save_to;
        sgm::train::trainer t(model, loss, std::span<const double>(data), count, options);
        static_assert(std::is_same_v<std::remove_cvref_t<decltype(t.optimizer())>, sgm::train::backend_adam<serial>>);
        if (!resume_from.empty()) t.resume(resume_from);
        t.train();
        // train() leaves the trained weights in the host network too.
        REQUIRE(model.network().host().parameters().flatten_values() == t.state().model);
        return t.state();
    };
    const auto require_close_states = [](const auto& a, const auto& b) {
        REQUIRE(a.step == b.step);
        REQUIRE(a.ema_updates == b.ema_updates);
        REQUIRE(a.adam_steps == b.adam_steps);
        require_close(a.model, b.model);
        require_close(a.ema, b.ema);
        require_close(a.adam_m, b.adam_m);
        require_close(a.adam_v, b.adam_v);
    };

    const auto on_host = host_run(6, {});
    REQUIRE(on_host.model != sgm::nn::unet<double>(host).parameters().flatten_values());
    const auto on_backend = backend_run(6, {}, {});
    require_close_states(on_host, on_backend);

    // A backend checkpoint at step 3, resumed by the host trainer and by the backend trainer.
    const fs::path checkpoint = dir / "step3.safetensors";
    backend_run(3, {}, checkpoint);
    require_close_states(on_host, host_run(6, checkpoint));
    const auto resumed = backend_run(6, checkpoint, {});
    REQUIRE(resumed.model == on_backend.model);
    REQUIRE(resumed.ema == on_backend.ema);
    REQUIRE(resumed.adam_v == on_backend.adam_v);
    fs::remove_all(dir);
}
