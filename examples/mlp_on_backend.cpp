// mlp_on_backend — run a trained MLP score network on another backend.
//
// The weights of train_2d's MLP are loaded into a host mlp, then copied into a
// backend_mlp whose weights, activations and loops live on the Thrust backend:
// the TBB system here, the CUDA one when this file is compiled with nvcc.
// Without a weights file, the MLP is first trained here, on the backend: the
// same trainer, with the loss, Adam and the EMA in backend memory. Both
// networks then draw the same 1,000 samples (reverse diffusion, N = 1000, same
// seed); the program prints the time of each and how far apart they are.
//
// usage: mlp_on_backend [WEIGHTS]   (default train_2d_output/ema_weights.safetensors,
//                                    from train_2d --sde vp)

#include <sgm/sgm.hpp>
#include <sgm/backend/thrust.hpp>
#include <sgm/data/toy_2d.hpp>
#include <sgm/nn/backend_mlp.hpp>
#include <sgm/nn/mlp.hpp>
#include <sgm/nn/score_network.hpp>
#include <sgm/train/checkpoint.hpp>
#include <sgm/train/continuous_dsm_loss.hpp>
#include <sgm/train/trainer.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <span>
#include <vector>

namespace {

using Real = float;
using host = sgm::serial_backend<Real>;  // the host mlp runs its own threads
#if SGM_CUDA_COMPILER
using device = sgm::thrust_backend<Real, sgm::thrust_cuda>;
#else
using device = sgm::thrust_backend<Real, sgm::thrust_tbb>;
#endif

// Trains the default mlp on the 2-D mixture for a short while, on the backend:
// enough to see the samples land on the modes.
void train_briefly(sgm::nn::mlp<Real>& net, const sgm::vp_sde<Real>& sde) {
    const auto data = sgm::data::sample_toy_2d<Real>(sgm::data::toy_2d::mixture, 20000, 2021);
    // A score_network over a backend network: the trainer keeps the weights,
    // gradients, Adam moments and the EMA in the backend's memory.
    sgm::nn::score_network model(sgm::nn::backend_mlp<Real, device>(net), sde, sgm::nn::score_network_options{},
                                 device{});
    sgm::train::trainer_options o;
    o.steps = 3000;
    o.batch_size = 256;
    o.adam.learning_rate = 1e-3;
    o.progress = true;
    sgm::train::trainer trainer(model, sgm::train::continuous_dsm_loss<sgm::vp_sde<Real>>(sde),
                                std::span<const Real>(data), data.size() / 2, o, {});
    trainer.train();
    // Sample with the EMA weights: into the host copy of the parameters (the
    // host mlp inside the backend network), which the samplers below start from.
    trainer.average().copy_to(trainer.parameters());
    net = model.network().host();
}

template <class Model, class Backend>
std::vector<Real> draw(const sgm::vp_sde<Real>& sde, Model& model, const char* where) {
    sgm::pc_options p;
    p.count = 1000;
    p.seed = 7;
    const auto start = std::chrono::steady_clock::now();
    auto samples = sgm::pc_sample(sde, model, sgm::reverse_diffusion{}, sgm::no_corrector{}, p, Backend{})
                       .samples.to_host();
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::printf("%-40s %6.2f s for %zu samples\n", where, seconds, p.count);
    return samples;
}

}  // namespace

int main(int argc, char** argv) try {
    const std::filesystem::path weights = argc > 1 ? argv[1] : "train_2d_output/ema_weights.safetensors";
    const sgm::vp_sde<Real> sde(0.1f, 20.0f, 1000);
    sgm::nn::mlp<Real> net{sgm::nn::mlp_config{}};
    if (std::filesystem::exists(weights)) {
        sgm::train::load_weights(weights, net.parameters());
        std::printf("loaded %s\n", weights.string().c_str());
    } else {
        std::printf("no %s: training the mlp briefly first\n", weights.string().c_str());
        train_briefly(net, sde);
    }

    // The same weights on the backend. Construct after loading (or call upload()).
    sgm::nn::score_network on_device(sgm::nn::backend_mlp<Real, device>(net), sde, sgm::nn::score_network_options{},
                                     device{});
    sgm::nn::score_network on_host(std::move(net), sde, sgm::nn::score_network_options{}, host{});

    const auto a = draw<decltype(on_host), host>(sde, on_host, "host mlp (Eigen):");
    const auto b = draw<decltype(on_device), device>(sde, on_device, "backend_mlp (Thrust):");
    double worst = 0, mean[2] = {0, 0};
    for (std::size_t i = 0; i < a.size(); ++i) {
        worst = std::max(worst, double(std::abs(a[i] - b[i])));
        mean[i % 2] += b[i] / double(a.size() / 2);
    }
    std::printf("largest difference between the two sets of samples: %.3g\n", worst);
    std::printf("sample mean (%.3f, %.3f)\n", mean[0], mean[1]);
    return 0;
} catch (const std::exception& e) {
    std::fprintf(stderr, "mlp_on_backend: %s\n", e.what());
    return 1;
}
